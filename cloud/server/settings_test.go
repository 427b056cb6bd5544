package server

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/cloud/settingsstore"
)

func TestImportDetectSettings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := hub.Open(ctx, hub.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	store, err := settingsstore.Open(ctx, h.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := func(name, doc string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("acme.yaml", "speeding:\n  threshold_kph: 90\n")
	truck := file("truck.yaml", "speeding:\n  threshold_kph: 80\n")
	bad := file("bad.yaml", "speeding:\n  threshold_kph: -3\n")
	cases := []struct {
		name string
		list []DetectSettings
		want string // in the error; "" for success
	}{
		{"bad file stores nothing", []DetectSettings{{Account: "acme", File: good}, {Account: "acme", Vehicle: "truck-7", File: bad}}, "detect_settings[1] (acme/truck-7): detectconfig: config: " + bad + ": speeding.threshold_kph = -3"},
		{"missing file", []DetectSettings{{Account: "acme", File: filepath.Join(dir, "nope.yaml")}}, "detect_settings[0]: open"},
		{"bad vehicle", []DetectSettings{{Account: "acme", Vehicle: "a.b", File: good}}, "detect_settings[0].vehicle"},
		{"twice", []DetectSettings{{Account: "acme", File: good}, {Account: "acme", File: truck}}, "detect_settings[1]"},
		{"good", []DetectSettings{{Account: "acme", File: good}, {Account: "acme", Vehicle: "truck-7", File: truck}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := importDetectSettings(ctx, store, c.list, slog.Default())
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v, want one containing %q", err, c.want)
				}
				if _, err := store.Get(ctx, "acme", ""); !errors.Is(err, settingsstore.ErrNotFound) {
					t.Fatalf("a refused import stored the account's settings: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, err := store.Get(ctx, "acme", "truck-7"); err != nil || !strings.Contains(string(got), "80") {
				t.Fatalf("truck-7 settings %q, %v", got, err)
			}
		})
	}
}
