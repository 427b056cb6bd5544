package detectconfig

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/shared/config"
)

func TestApply(t *testing.T) {
	cases := []struct {
		name    string
		doc     string
		wantKey string // the key the error names; "" for success
		unknown bool   // the error is an unknown key
		check   func(t *testing.T, c Config)
	}{
		{name: "override", doc: "speeding:\n  threshold_kph: 90\n  min_duration: 5s\nidle:\n  after: 3m\n", check: func(t *testing.T, c Config) {
			if c.Speeding.ThresholdKph != 90 || c.Speeding.MinDuration != 5*time.Second || c.Idle.After != 3*time.Minute {
				t.Fatalf("applied %+v %+v", c.Speeding, c.Idle)
			}
			if c.Motion != Default().Motion || c.Speeding.HysteresisKph != Default().Speeding.HysteresisKph {
				t.Fatalf("keys the document leaves out changed: %+v %+v", c.Motion, c.Speeding)
			}
		}},
		{name: "empty document", doc: "", check: func(t *testing.T, c Config) {
			if c != Default() {
				t.Fatalf("an empty document changed %+v", c)
			}
		}},
		{name: "comments only", doc: "# nothing yet\n", check: func(t *testing.T, c Config) {
			if c != Default() {
				t.Fatalf("a document of comments changed %+v", c)
			}
		}},
		{name: "turn a detector off", doc: "speeding: {threshold_kph: 0}\n", check: func(t *testing.T, c Config) {
			if c.Speeding.ThresholdKph != 0 {
				t.Fatalf("speeding %+v", c.Speeding)
			}
		}},
		{name: "negative threshold", doc: "speeding:\n  threshold_kph: -5\n", wantKey: "speeding.threshold_kph"},
		{name: "not a number", doc: "speeding:\n  threshold_kph: fast\n", wantKey: "speeding.threshold_kph"},
		{name: "not a duration", doc: "idle:\n  after: soon\n", wantKey: "idle.after"},
		{name: "hysteresis above threshold", doc: "speeding:\n  threshold_kph: 50\n  hysteresis_kph: 60\n", wantKey: "speeding.hysteresis_kph"},
		{name: "unknown temperature signal", doc: "temperature:\n  signal: rpm\n", wantKey: "temperature.signal"},
		{name: "typo", doc: "speeding:\n  treshold_kph: 90\n", wantKey: "speeding.treshold_kph", unknown: true},
		{name: "unknown section", doc: "speed:\n  threshold_kph: 90\n", wantKey: "speed", unknown: true},
		{name: "whole edge config", doc: "detect:\n  speeding:\n    threshold_kph: 90\n", wantKey: "detect", unknown: true},
		{name: "not YAML", doc: "speeding: [\n", wantKey: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := Default()
			err := cfg.Apply([]byte(c.doc), "test document")
			if c.check != nil {
				if err != nil {
					t.Fatal(err)
				}
				c.check(t, cfg)
				return
			}
			if err == nil {
				t.Fatalf("document %q accepted", c.doc)
			}
			if cfg != Default() {
				t.Fatalf("a refused document changed the configuration: %+v", cfg)
			}
			if !strings.Contains(err.Error(), "test document") {
				t.Errorf("error %q does not name the document", err)
			}
			if c.wantKey == "" {
				return
			}
			if !strings.Contains(err.Error(), c.wantKey) {
				t.Errorf("error %q does not name %s", err, c.wantKey)
			}
			var fe *config.FieldError
			switch {
			case c.unknown && !errors.Is(err, config.ErrUnknownKey):
				t.Errorf("error %v, want an unknown key", err)
			case !c.unknown && (!errors.As(err, &fe) || fe.Key != c.wantKey):
				t.Errorf("error %v, want a *config.FieldError for %s", err, c.wantKey)
			}
		})
	}
}

func TestCheckUsesDefaults(t *testing.T) {
	if err := Check([]byte("speeding: {threshold_kph: 90}"), "doc"); err != nil {
		t.Fatal(err)
	}
	err := Check([]byte("voltage: {system_v: 24}"), "acme") // 11.8 V low on a 24 V truck
	var fe *config.FieldError
	if !errors.As(err, &fe) || fe.Key != "voltage.low_v" || fe.Source != "acme" {
		t.Fatalf("error %v, want voltage.low_v named, from acme", err)
	}
}

func TestKeys(t *testing.T) {
	cases := []struct {
		account, vehicle, key string
	}{
		{"acme", "", "acme.detect"},
		{"acme", "truck-7", "acme.truck-7.detect"},
		{"acme", "detect", "acme.detect.detect"},
		{"fleet_1", "München#2", "fleet_1.M=C3=BCnchen=232.detect"},
		{"a=b", "x/y", "a=3Db.x=2Fy.detect"},
	}
	for _, c := range cases {
		key := AccountKey(c.account)
		if c.vehicle != "" {
			key = VehicleKey(c.account, c.vehicle)
		}
		if key != c.key {
			t.Errorf("key of %q/%q = %q, want %q", c.account, c.vehicle, key, c.key)
		}
		account, vehicle, ok := ParseKey(key)
		if !ok || account != c.account || vehicle != c.vehicle {
			t.Errorf("ParseKey(%q) = %q, %q, %v", key, account, vehicle, ok)
		}
	}
	for _, k := range []string{"acme", "acme.fences", "acme.v1.v2.detect", "acme.v1.fences"} {
		if _, _, ok := ParseKey(k); ok {
			t.Errorf("ParseKey(%q) accepted", k)
		}
	}
}

func TestAcceptsFix(t *testing.T) {
	g := Default().GNSS // quality >= 1, HDOP <= 5, satellites >= 4
	cases := []struct {
		quality, satellites int
		hdop                float64
		want                bool
	}{
		{1, 8, 1.2, true},
		{0, 8, 1.2, false},
		{1, 3, 1.2, false},
		{1, 8, 6, false},
		{1, 0, 0, true}, // neither reported
	}
	for _, c := range cases {
		if got := g.AcceptsFix(c.quality, c.hdop, c.satellites); got != c.want {
			t.Errorf("AcceptsFix(%d, %v, %d) = %v", c.quality, c.hdop, c.satellites, got)
		}
	}
}
