package agent_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetwire/fleetwire/edge/agent"
	"github.com/fleetwire/fleetwire/shared/config"
)

// TestExampleConfigLoads keeps deploy/edge.yaml valid.
func TestExampleConfigLoads(t *testing.T) {
	cfg := agent.Default()
	if err := config.Load(&cfg, config.Options{File: "../../deploy/edge.yaml", EnvPrefix: "FLEETWIRE_", Environ: []string{}}); err != nil {
		t.Fatal(err)
	}
	if cfg.Vehicle.ID != "truck-042" {
		t.Fatalf("vehicle.id = %q", cfg.Vehicle.ID)
	}
}

func TestInvalidConfigNamesKey(t *testing.T) {
	cases := []struct {
		name, yaml, wantKey string
	}{
		{"dotted vehicle id", "vehicle:\n  id: truck.42\ngnss:\n  replay: x.nmea\n", "vehicle.id"},
		{"policy", "store:\n  policy: drop-newest\ngnss:\n  replay: x.nmea\n", "store.policy"},
		{"tiny store", "store:\n  max_bytes: 10\ngnss:\n  replay: x.nmea\n", "store.max_bytes"},
		{"no source", "", "gnss.replay"},
		{"zero interval", "position:\n  every: 0s\ngnss:\n  replay: x.nmea\n", "position.every"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "edge.yaml")
			if err := os.WriteFile(file, []byte(c.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := agent.Default()
			err := config.Load(&cfg, config.Options{File: file, EnvPrefix: "FLEETWIRE_", Environ: []string{}})
			if err == nil || !strings.Contains(err.Error(), c.wantKey) {
				t.Fatalf("error %v does not name %q", err, c.wantKey)
			}
		})
	}
}

// TestMissingReplayFile: a wrong path fails at start, naming the file.
func TestMissingReplayFile(t *testing.T) {
	cfg := agent.Default()
	cfg.GNSS.Replay = filepath.Join(t.TempDir(), "nope.nmea")
	_, err := agent.New(cfg)
	if err == nil || !strings.Contains(err.Error(), "nope.nmea") {
		t.Fatalf("error %v does not name the missing file", err)
	}
}
