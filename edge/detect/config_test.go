package detect

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/shared/config"
)

func TestDefaultIsValidAndDocumented(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, k := range config.Keys(&cfg, "FLEETWIRE_") {
		keys[k.Key] = true
		if k.Doc == "" {
			t.Errorf("key %s has no doc tag", k.Key)
		}
	}
	for _, k := range []string{"speeding.threshold_kph", "posted_speed.tolerance_kph", "geofence.enter_distance_m", "gnss.max_hdop", "harsh.max_gap"} {
		if !keys[k] {
			t.Errorf("key %s missing from %v", k, keys)
		}
	}
}

func TestValidateNamesTheKey(t *testing.T) {
	cases := []struct {
		key    string
		change func(*Config)
	}{
		{"gnss.min_fix_quality", func(c *Config) { c.GNSS.MinFixQuality = 0 }},
		{"gnss.max_hdop", func(c *Config) { c.GNSS.MaxHDOP = math.NaN() }},
		{"motion.moving_kph", func(c *Config) { c.Motion.MovingKph = 1 }},
		{"motion.stopped_after", func(c *Config) { c.Motion.StoppedAfter = -time.Second }},
		{"trip.end_after", func(c *Config) { c.Trip.EndAfter = 0 }},
		{"speeding.hysteresis_kph", func(c *Config) { c.Speeding.HysteresisKph = 200 }},
		{"geofence.enter_after", func(c *Config) { c.Geofence.EnterAfter, c.Geofence.EnterDistanceM = 0, 0 }},
		{"voltage.low_v", func(c *Config) { c.Voltage.SystemV = 24 }}, // 11.8 V on a 24 V truck
		{"voltage.system_v", func(c *Config) { c.Voltage.SystemV = 48 }},
		{"temperature.signal", func(c *Config) { c.Temperature.Signal = "rpm" }},
		{"temperature.min_c", func(c *Config) { c.Temperature.MinC = 120 }},
		{"service.odometer_interval_km", func(c *Config) { c.Service.OdometerIntervalKm = -1 }},
		{"harsh.max_gap", func(c *Config) { c.Harsh.MaxGap = 0 }},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			cfg := Default()
			c.change(&cfg)
			_, err := New(cfg)
			var fe *config.FieldError
			if !errors.As(err, &fe) || fe.Key != c.key {
				t.Fatalf("error %v, want one naming %s", err, c.key)
			}
		})
	}
}

func TestConfigLoads(t *testing.T) {
	file := filepath.Join(t.TempDir(), "detect.yaml")
	yaml := "speeding:\n  threshold_kph: 110\ntemperature:\n  signal: ambient\n  min_c: -30\n  max_c: 45\nharsh:\n  max_gap: 1s\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	if err := config.Load(&cfg, config.Options{File: file, Environ: []string{"FLEETWIRE_IDLE_AFTER=3m"}, EnvPrefix: "FLEETWIRE_"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Speeding.ThresholdKph != 110 || cfg.Temperature.Signal != "ambient" || cfg.Harsh.MaxGap != time.Second || cfg.Idle.After != 3*time.Minute {
		t.Fatalf("loaded %+v", cfg)
	}
	if cfg.Motion != Default().Motion {
		t.Fatalf("unset keys changed: %+v", cfg.Motion)
	}
}
