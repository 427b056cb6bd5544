package server_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetwire/fleetwire/cloud/server"
	"github.com/fleetwire/fleetwire/shared/config"
)

// TestExampleConfigLoads keeps deploy/cloud.yaml valid.
func TestExampleConfigLoads(t *testing.T) {
	cfg := server.Default()
	if err := config.Load(&cfg, config.Options{File: "../../deploy/cloud.yaml", EnvPrefix: "FLEETWIRE_", Environ: []string{}}); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Subscriptions) != 1 || cfg.Subscriptions[0].ID != "dispatch-board" {
		t.Fatalf("subscriptions = %+v", cfg.Subscriptions)
	}
}

// TestInvalidConfigNamesKey: a wrong value fails at start with the key and
// what is allowed, whichever source it came from.
func TestInvalidConfigNamesKey(t *testing.T) {
	cases := []struct {
		name, yaml string
		env        []string
		wantKey    string
	}{
		{"negative retry wait", "dispatch:\n  retry_schedule: [5m, -1s]\n", nil, "dispatch.retry_schedule[1]"},
		{"not a duration", "events:\n  max_age: a week\n", nil, "events.max_age"},
		{"replicas", "events:\n  replicas: 2\n", nil, "events.replicas"},
		{"typo", "dispatch:\n  timout: 5s\n", nil, "dispatch.timout"},
		{"lease shorter than a second", "dispatch:\n  lease_ttl: 500ms\n", nil, "dispatch.lease_ttl"},
		{"http receiver", "subscriptions:\n  - {id: s, account: a, url: 'http://x.example', secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n", nil, "subscriptions[0]"},
		{"env log level", "", []string{"FLEETWIRE_LOG_LEVEL=loud"}, "log_level"},
		{"nkey file on the embedded hub", "hub:\n  nkey_file: /etc/fleetwire/service.nk\n", nil, "hub.nkey_file"},
		{"creds and nkey", "hub:\n  url: nats://h:4222\n  credentials: a.creds\n  nkey_file: b.nk\n", nil, "hub.nkey_file"},
		{"callout without hub.auth", "hub:\n  url: nats://h:4222\n  callout:\n    issuer_file: i.nk\n", nil, "hub.callout.issuer_file"},
		{"system key without issuer", "hub:\n  url: nats://h:4222\n  auth: true\n  callout:\n    system_key_file: s.nk\n", nil, "hub.callout.system_key_file"},
		{"short session", "hub:\n  url: nats://h:4222\n  auth: true\n  callout:\n    issuer_file: i.nk\n    session_ttl: 5s\n", nil, "hub.callout.session_ttl"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "cloud.yaml")
			if err := os.WriteFile(file, []byte(c.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := server.Default()
			err := config.Load(&cfg, config.Options{File: file, EnvPrefix: "FLEETWIRE_", Environ: c.env})
			if err == nil {
				t.Fatal("invalid configuration accepted")
			}
			if !errors.Is(err, config.ErrInvalid) && !errors.Is(err, config.ErrUnknownKey) {
				t.Fatalf("error %v is neither ErrInvalid nor ErrUnknownKey", err)
			}
			if !strings.Contains(err.Error(), c.wantKey) {
				t.Fatalf("error %q does not name %q", err, c.wantKey)
			}
		})
	}
}
