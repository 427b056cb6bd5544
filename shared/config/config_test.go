package config_test

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/fleetwire/fleetwire/shared/config"
)

type hubConfig struct {
	StoreDir string            `koanf:"store_dir" doc:"Directory of the JetStream store."`
	Port     uint16            `koanf:"port" doc:"TCP port of the API."`
	Replicas int               `koanf:"replicas" doc:"Replicas of each stream."`
	Ratio    float64           `koanf:"ratio" doc:"Sampling ratio | 0 to 1."`
	Debug    bool              `koanf:"debug" doc:"Log at debug level."`
	Timeout  time.Duration     `koanf:"timeout" doc:"Timeout of API requests."`
	Peers    []string          `koanf:"peers" doc:"Cluster peers."`
	Labels   map[string]string `koanf:"labels" doc:"Labels of this hub."`
	Token    string            `koanf:"token" doc:"API token." secret:"true"`
	PIN      int               `koanf:"pin" doc:"Unlock PIN." secret:"true"`
}

type positionConfig struct {
	Interval time.Duration `koanf:"interval" doc:"Time between position reports."`
}

type edgeConfig struct {
	Position positionConfig `koanf:"position"`
}

type subscription struct {
	ID          string   `koanf:"id" doc:"Subscription id."`
	URL         string   `koanf:"url" doc:"Receiver URL."`
	Secret      string   `koanf:"secret" doc:"Signing secret." secret:"true"`
	Events      []string `koanf:"events" doc:"Event types delivered."`
	MaxAttempts int      `koanf:"max_attempts" doc:"Delivery attempts."`
}

type testConfig struct {
	Name          string         `koanf:"name" doc:"Instance name."`
	Hub           hubConfig      `koanf:"hub"`
	Edge          edgeConfig     `koanf:"edge"`
	Subscriptions []subscription `koanf:"subscriptions" doc:"Webhook subscriptions."`
	NotConfig     string         // no koanf tag: ignored
}

func defaults() testConfig {
	return testConfig{
		Name: "fleetwire",
		Hub: hubConfig{
			StoreDir: "/var/lib/fleetwire",
			Port:     4222,
			Replicas: 1,
			Ratio:    0.5,
			Timeout:  10 * time.Second,
			Peers:    []string{"a", "b"},
			Labels:   map[string]string{"k": "v"},
			Token:    "default-token",
		},
		Edge:          edgeConfig{Position: positionConfig{Interval: 5 * time.Second}},
		Subscriptions: []subscription{{ID: "default", URL: "http://default", MaxAttempts: 3}},
	}
}

// source is the input of one Load: a YAML file (none if empty), environment
// variables and command-line arguments for flags made by RegisterFlags.
type source struct {
	yaml    string
	env     []string
	args    []string
	flagsFn func(*pflag.FlagSet) // defines more flags before parsing
}

// load loads src over the defaults. The file, if any, is named cloud.yaml.
func load(t *testing.T, src source) (testConfig, error) {
	t.Helper()
	cfg := defaults()
	o := config.Options{EnvPrefix: "FLEETWIRE_", Environ: src.env}
	if o.Environ == nil {
		o.Environ = []string{}
	}
	if src.yaml != "" {
		o.File = writeFile(t, "cloud.yaml", src.yaml)
	}
	o.Flags = pflag.NewFlagSet("test", pflag.ContinueOnError)
	config.RegisterFlags(o.Flags, &cfg)
	if src.flagsFn != nil {
		src.flagsFn(o.Flags)
	}
	if err := o.Flags.Parse(src.args); err != nil {
		t.Fatalf("parse flags %q: %v", src.args, err)
	}
	err := config.Load(&cfg, o)
	return cfg, err
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadPrecedence(t *testing.T) {
	const file = `
name: from-file
hub:
  port: 1000
  ratio: 0.25
  debug: true
  timeout: 1m
  peers: [f1, f2, f3]
  labels: {zone: file}
edge:
  position:
    interval: 30s
`
	tests := []struct {
		name string
		src  source
		want func(*testConfig)
	}{
		{
			name: "defaults",
			want: func(*testConfig) {},
		},
		{
			name: "file over defaults",
			src:  source{yaml: file},
			want: func(c *testConfig) {
				c.Name = "from-file"
				c.Hub.Port, c.Hub.Ratio, c.Hub.Debug, c.Hub.Timeout = 1000, 0.25, true, time.Minute
				c.Hub.Peers = []string{"f1", "f2", "f3"}
				c.Hub.Labels = map[string]string{"zone": "file"}
				c.Edge.Position.Interval = 30 * time.Second
			},
		},
		{
			name: "env over file",
			src: source{yaml: file, env: []string{
				"FLEETWIRE_HUB_PORT=2000",
				"FLEETWIRE_HUB_RATIO=0.75",
				"FLEETWIRE_HUB_DEBUG=false",
				"FLEETWIRE_HUB_TIMEOUT=2m",
				"FLEETWIRE_HUB_PEERS=e1, e2",
				"FLEETWIRE_HUB_LABELS=zone=env,rack=7",
				"FLEETWIRE_HUB_STORE_DIR=/env",
				"FLEETWIRE_EDGE_POSITION_INTERVAL=1s",
				"HOME=/root",
				"OTHER_HUB_PORT=1",
			}},
			want: func(c *testConfig) {
				c.Name = "from-file"
				c.Hub.Port, c.Hub.Ratio, c.Hub.Debug, c.Hub.Timeout = 2000, 0.75, false, 2*time.Minute
				c.Hub.Peers = []string{"e1", "e2"}
				c.Hub.Labels = map[string]string{"zone": "env", "rack": "7"}
				c.Hub.StoreDir = "/env"
				c.Edge.Position.Interval = time.Second
			},
		},
		{
			name: "flags over env",
			src: source{
				yaml: file,
				env:  []string{"FLEETWIRE_HUB_PORT=2000", "FLEETWIRE_HUB_TIMEOUT=2m", "FLEETWIRE_HUB_PEERS=e1", "FLEETWIRE_HUB_DEBUG=false"},
				args: []string{"--hub.port=3000", "--hub.timeout", "3m", "--hub.peers", "p1,p2", "--hub.peers=p3", "--hub.debug", "--hub.labels", "zone=flag", "--name", "from-flag"},
			},
			want: func(c *testConfig) {
				c.Name = "from-flag"
				c.Hub.Port, c.Hub.Ratio, c.Hub.Debug, c.Hub.Timeout = 3000, 0.25, true, 3*time.Minute
				c.Hub.Peers = []string{"p1", "p2", "p3"}
				c.Hub.Labels = map[string]string{"zone": "flag"}
				c.Edge.Position.Interval = 30 * time.Second
			},
		},
		{
			name: "flags over defaults",
			src:  source{args: []string{"--hub.store_dir", "/tmp/x", "--edge.position.interval=250ms", "--hub.ratio", "1e-3"}},
			want: func(c *testConfig) {
				c.Hub.StoreDir = "/tmp/x"
				c.Edge.Position.Interval = 250 * time.Millisecond
				c.Hub.Ratio = 0.001
			},
		},
		{
			name: "dotted keys in the file",
			src:  source{yaml: "hub.store_dir: /dotted\nedge.position: {interval: 2s}\n"},
			want: func(c *testConfig) {
				c.Hub.StoreDir = "/dotted"
				c.Edge.Position.Interval = 2 * time.Second
			},
		},
		{
			name: "null keeps the default",
			src:  source{yaml: "name: ~\nhub:\n  # store_dir: /commented\nedge:\n  position:\n    interval:\n"},
			want: func(*testConfig) {},
		},
		{
			name: "empty variable empties a list",
			src:  source{env: []string{"FLEETWIRE_HUB_PEERS=", "FLEETWIRE_HUB_LABELS="}},
			want: func(c *testConfig) {
				c.Hub.Peers = []string{}
				c.Hub.Labels = map[string]string{}
			},
		},
		{
			name: "zero duration without unit",
			src:  source{yaml: "hub: {timeout: 0}\n"},
			want: func(c *testConfig) { c.Hub.Timeout = 0 },
		},
		{
			name: "integers and booleans as strings",
			src:  source{yaml: "name: 42\nhub: {store_dir: true}\n"},
			want: func(c *testConfig) {
				c.Name = "42"
				c.Hub.StoreDir = "true"
			},
		},
		{
			name: "flags the caller defined",
			src: source{
				flagsFn: func(fs *pflag.FlagSet) {
					fs.String("config", "", "configuration file")
					fs.Int("unrelated", 0, "not a key")
				},
				args: []string{"--config", "/etc/fleetwire.yaml", "--unrelated=5"},
			},
			want: func(*testConfig) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := load(t, tt.src)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := defaults()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestLoadPflagFlags covers flags the caller defined with pflag's own types
// under the names of keys.
func TestLoadPflagFlags(t *testing.T) {
	cfg := defaults()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.Int("hub.replicas", 0, "")
	fs.Duration("hub.timeout", 0, "")
	fs.StringSlice("hub.peers", nil, "")
	fs.StringToString("hub.labels", nil, "")
	fs.Int("hub.port", 0, "") // an int for a uint16 key
	fs.String("edge.position.interval", "", "")
	args := []string{"--hub.replicas=3", "--hub.timeout=1h", "--hub.peers=x,y", "--hub.labels=a=1", "--hub.port=99", "--edge.position.interval=3s"}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := config.Load(&cfg, config.Options{Flags: fs}); err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := defaults()
	want.Hub.Replicas, want.Hub.Timeout, want.Hub.Port = 3, time.Hour, 99
	want.Hub.Peers, want.Hub.Labels = []string{"x", "y"}, map[string]string{"a": "1"}
	want.Edge.Position.Interval = 3 * time.Second
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestLoadSubscriptions(t *testing.T) {
	got, err := load(t, source{yaml: `
subscriptions:
  - id: demo
    url: "http://localhost:9000/hook"
    secret: whsec_abc
    events: [position, "trip.started"]
  - id: audit
    url: http://audit
    events: position,geofence.entered
    max_attempts: 10
`})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []subscription{
		{ID: "demo", URL: "http://localhost:9000/hook", Secret: "whsec_abc", Events: []string{"position", "trip.started"}},
		{ID: "audit", URL: "http://audit", Events: []string{"position", "geofence.entered"}, MaxAttempts: 10},
	}
	if !reflect.DeepEqual(got.Subscriptions, want) {
		t.Errorf("subscriptions:\n got %+v\nwant %+v", got.Subscriptions, want)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		src     source
		wantIs  error
		wantMsg []string           // substrings of the error message
		wantErr *config.FieldError // if set, the FieldError: Key, Source (suffix) and Allowed (substring)
	}{
		{
			name:    "unknown file key",
			src:     source{yaml: "hub:\n  stor_dir: /x\n"},
			wantIs:  config.ErrUnknownKey,
			wantMsg: []string{`cloud.yaml: unknown key "hub.stor_dir" (did you mean "hub.store_dir"?)`},
		},
		{
			name:    "unknown file key, nothing close",
			src:     source{yaml: "colour: red\n"},
			wantIs:  config.ErrUnknownKey,
			wantMsg: []string{`cloud.yaml: unknown key "colour"`},
		},
		{
			name:    "unknown section",
			src:     source{yaml: "hbu: {port: 1}\n"},
			wantIs:  config.ErrUnknownKey,
			wantMsg: []string{`unknown key "hbu" (did you mean "hub"?)`},
		},
		{
			name:    "unknown key in a list element",
			src:     source{yaml: "subscriptions: [{id: a, secrett: x}]\n"},
			wantIs:  config.ErrUnknownKey,
			wantMsg: []string{`unknown key "subscriptions[0].secrett" (did you mean "subscriptions[0].secret"?)`},
		},
		{
			name:    "every unknown key at once",
			src:     source{yaml: "hub: {stor_dir: /x, prot: 1}\n"},
			wantIs:  config.ErrUnknownKey,
			wantMsg: []string{`"hub.stor_dir"`, `"hub.prot" (did you mean "hub.port"?)`},
		},
		{
			name:    "unknown variable",
			src:     source{env: []string{"FLEETWIRE_HUB_STOR_DIR=/x"}},
			wantIs:  config.ErrUnknownKey,
			wantMsg: []string{`config: environment: unknown key FLEETWIRE_HUB_STOR_DIR (did you mean FLEETWIRE_HUB_STORE_DIR for "hub.store_dir"?)`},
		},
		{
			name:    "unknown variable, nothing close",
			src:     source{env: []string{"FLEETWIRE_CONFIG=/etc/x.yaml"}},
			wantIs:  config.ErrUnknownKey,
			wantMsg: []string{"unknown key FLEETWIRE_CONFIG"},
		},
		{
			name:    "bad duration in the file",
			src:     source{yaml: "hub:\n  timeout: abc\n"},
			wantMsg: []string{`cloud.yaml: hub.timeout = "abc": time: invalid duration "abc" (allowed: a duration such as "10s" or "1m30s")`},
			wantErr: &config.FieldError{Key: "hub.timeout", Source: "cloud.yaml", Allowed: "duration"},
		},
		{
			name:    "duration without a unit in the file",
			src:     source{yaml: "edge: {position: {interval: 5}}\n"},
			wantMsg: []string{"missing unit"},
			wantErr: &config.FieldError{Key: "edge.position.interval", Source: "cloud.yaml", Allowed: "duration"},
		},
		{
			name:    "bad duration in a variable",
			src:     source{env: []string{"FLEETWIRE_EDGE_POSITION_INTERVAL=soon"}},
			wantMsg: []string{`config: FLEETWIRE_EDGE_POSITION_INTERVAL: edge.position.interval = "soon"`},
			wantErr: &config.FieldError{Key: "edge.position.interval", Source: "FLEETWIRE_EDGE_POSITION_INTERVAL", Allowed: "duration"},
		},
		{
			name:    "bad int in the file",
			src:     source{yaml: "hub: {replicas: many}\n"},
			wantMsg: []string{`hub.replicas = "many": invalid syntax (allowed: an integer)`},
			wantErr: &config.FieldError{Key: "hub.replicas", Source: "cloud.yaml", Allowed: "an integer"},
		},
		{
			name:    "fractional int in the file",
			src:     source{yaml: "hub: {replicas: 1.5}\n"},
			wantErr: &config.FieldError{Key: "hub.replicas", Source: "cloud.yaml", Allowed: "an integer"},
		},
		{
			name:    "bad int in a variable",
			src:     source{env: []string{"FLEETWIRE_HUB_REPLICAS=3x"}},
			wantErr: &config.FieldError{Key: "hub.replicas", Source: "FLEETWIRE_HUB_REPLICAS", Allowed: "an integer"},
		},
		{
			name:    "int out of range",
			src:     source{yaml: "hub: {port: 70000}\n"},
			wantMsg: []string{"hub.port = 70000: value out of range (allowed: an integer from 0 to 65535)"},
			wantErr: &config.FieldError{Key: "hub.port", Source: "cloud.yaml", Allowed: "0 to 65535"},
		},
		{
			name:    "bad bool in a variable",
			src:     source{env: []string{"FLEETWIRE_HUB_DEBUG=yes please"}},
			wantErr: &config.FieldError{Key: "hub.debug", Source: "FLEETWIRE_HUB_DEBUG", Allowed: "true or false"},
		},
		{
			name:    "unquoted number for a string",
			src:     source{yaml: "name: 1.10\n"},
			wantMsg: []string{"name = 1.1: number must be quoted (allowed: a string)"},
			wantErr: &config.FieldError{Key: "name", Source: "cloud.yaml", Allowed: "a string"},
		},
		{
			name:    "list for a string",
			src:     source{yaml: "name: [a, b]\n"},
			wantErr: &config.FieldError{Key: "name", Source: "cloud.yaml", Allowed: "a string"},
		},
		{
			name:    "value for a section",
			src:     source{yaml: "hub: /x\n"},
			wantMsg: []string{`hub = "/x": invalid value (allowed: a mapping of hub.* keys)`},
			wantErr: &config.FieldError{Key: "hub", Source: "cloud.yaml", Allowed: "mapping"},
		},
		{
			name:    "bad list element",
			src:     source{yaml: "hub: {peers: [a, [b]]}\n"},
			wantErr: &config.FieldError{Key: "hub.peers[1]", Source: "cloud.yaml", Allowed: "a string"},
		},
		{
			name:    "bad pair in a variable",
			src:     source{env: []string{"FLEETWIRE_HUB_LABELS=a=1,b"}},
			wantMsg: []string{`"b" is not a key=value pair`},
			wantErr: &config.FieldError{Key: "hub.labels", Source: "FLEETWIRE_HUB_LABELS", Allowed: "key=value"},
		},
		{
			name:    "bad field of a list element",
			src:     source{yaml: "subscriptions: [{id: a}, {id: b, max_attempts: lots}]\n"},
			wantErr: &config.FieldError{Key: "subscriptions[1].max_attempts", Source: "cloud.yaml", Allowed: "an integer"},
		},
		{
			name:    "list element that is not a mapping",
			src:     source{yaml: "subscriptions: [demo]\n"},
			wantErr: &config.FieldError{Key: "subscriptions[0]", Source: "cloud.yaml", Allowed: "a mapping of id, url, secret, events, max_attempts"},
		},
		{
			name:    "list of structs in a variable",
			src:     source{env: []string{"FLEETWIRE_SUBSCRIPTIONS=demo"}},
			wantErr: &config.FieldError{Key: "subscriptions", Source: "FLEETWIRE_SUBSCRIPTIONS", Allowed: "in the configuration file"},
		},
		{
			name:    "file errors before environment errors",
			src:     source{yaml: "hub: {port: x}\n", env: []string{"FLEETWIRE_HUB_PORT=y"}},
			wantErr: &config.FieldError{Key: "hub.port", Source: "cloud.yaml"},
		},
		{
			name:    "YAML syntax error",
			src:     source{yaml: "name: x\nhub:\n  port: 1\n   store_dir: /x\n"},
			wantMsg: []string{"cloud.yaml: yaml: line 4:"},
		},
		{
			name:    "YAML that is not a mapping",
			src:     source{yaml: "- a\n- b\n"},
			wantMsg: []string{"cloud.yaml: yaml: unmarshal errors:", "line 1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.src)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			t.Log(err)
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			for _, msg := range tt.wantMsg {
				if !strings.Contains(err.Error(), msg) {
					t.Errorf("error %q does not contain %q", err, msg)
				}
			}
			if tt.wantErr == nil {
				return
			}
			var fe *config.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			if !errors.Is(err, config.ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			if fe.Key != tt.wantErr.Key || !strings.HasSuffix(fe.Source, tt.wantErr.Source) || !strings.Contains(fe.Allowed, tt.wantErr.Allowed) {
				t.Errorf("FieldError{Key: %q, Source: %q, Allowed: %q}, want key %q, source ending %q, allowed containing %q",
					fe.Key, fe.Source, fe.Allowed, tt.wantErr.Key, tt.wantErr.Source, tt.wantErr.Allowed)
			}
		})
	}
}

func TestLoadBadValueInStringFlag(t *testing.T) {
	cfg := defaults()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.String("hub.timeout", "", "")
	fs.String("hub.replicas", "", "")
	if err := fs.Parse([]string{"--hub.timeout=abc", "--hub.replicas=many"}); err != nil {
		t.Fatal(err)
	}
	err := config.Load(&cfg, config.Options{Flags: fs})
	for _, want := range []string{
		`config: --hub.timeout: hub.timeout = "abc": time: invalid duration "abc"`,
		`config: --hub.replicas: hub.replicas = "many": invalid syntax (allowed: an integer)`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load error %v, want one containing %q", err, want)
		}
	}
}

func TestRegisterFlagsRejectsBadValues(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--hub.timeout", "abc"}, `invalid argument "abc" for "--hub.timeout" flag: time: invalid duration "abc" (allowed: a duration such as "10s" or "1m30s")`},
		{[]string{"--hub.replicas=many"}, `"--hub.replicas" flag: invalid syntax (allowed: an integer)`},
		{[]string{"--hub.port=70000"}, `"--hub.port" flag: value out of range (allowed: an integer from 0 to 65535)`},
		{[]string{"--hub.debug=maybe"}, `"--hub.debug" flag: invalid syntax (allowed: true or false)`},
		{[]string{"--hub.labels=a"}, `"--hub.labels" flag: "a" is not a key=value pair`},
	}
	for _, tt := range tests {
		cfg := defaults()
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		fs.SetOutput(new(strings.Builder))
		config.RegisterFlags(fs, &cfg)
		err := fs.Parse(tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.yaml")
	cfg := defaults()
	err := config.Load(&cfg, config.Options{File: path})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("Load = %v, want fs.ErrNotExist naming %s", err, path)
	}
}

// validated is a configuration that checks itself.
type validated struct {
	Interval time.Duration `koanf:"interval"`
	Token    string        `koanf:"token" secret:"true"`
}

func (v *validated) Validate() error {
	switch {
	case v.Interval <= 0:
		return config.Invalid("interval", v.Interval, `a positive duration such as "10s"`)
	case len(v.Token) < 8:
		return config.Invalid("token", v.Token, "at least 8 characters")
	}
	return nil
}

func TestLoadValidate(t *testing.T) {
	tests := []struct {
		env     []string
		wantErr string
	}{
		{[]string{"APP_INTERVAL=1s", "APP_TOKEN=long enough"}, ""},
		{[]string{"APP_INTERVAL=-5s"}, `config: interval = "-5s": invalid value (allowed: a positive duration such as "10s")`},
		{[]string{"APP_INTERVAL=1s", "APP_TOKEN=short"}, `config: token = ***: invalid value (allowed: at least 8 characters)`},
	}
	for _, tt := range tests {
		cfg := validated{Interval: time.Second, Token: "default-token"}
		before := cfg
		err := config.Load(&cfg, config.Options{EnvPrefix: "APP_", Environ: tt.env})
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("Load with %q: %v", tt.env, err)
			}
			continue
		}
		var fe *config.FieldError
		if err == nil || err.Error() != tt.wantErr || !errors.As(err, &fe) || !errors.Is(err, config.ErrInvalid) {
			t.Errorf("Load with %q = %v, want the FieldError %q", tt.env, err, tt.wantErr)
		}
		if cfg != before {
			t.Errorf("Load with %q changed the configuration to %+v despite its error", tt.env, cfg)
		}
	}
}

func TestLoadValidateErrorAsIs(t *testing.T) {
	want := errors.New("cross-field check failed")
	cfg := &selfCheck{err: want}
	if err := config.Load(cfg, config.Options{}); err != want {
		t.Errorf("Load = %v, want the error of Validate as is", err)
	}
}

type selfCheck struct {
	Name string `koanf:"name"`
	err  error
}

func (s selfCheck) Validate() error { return s.err }

func TestLoadLeavesDestinationOnError(t *testing.T) {
	cfg := defaults()
	o := config.Options{
		File:      writeFile(t, "cloud.yaml", "name: changed\nhub: {peers: [x]}\n"),
		EnvPrefix: "FLEETWIRE_",
		Environ:   []string{"FLEETWIRE_HUB_PORT=nope"},
	}
	if err := config.Load(&cfg, o); err == nil {
		t.Fatal("Load succeeded")
	}
	if !reflect.DeepEqual(cfg, defaults()) {
		t.Errorf("Load changed the configuration to %+v despite its error", cfg)
	}
}

func TestLoadFlagsKeepDefaultsIntact(t *testing.T) {
	cfg := defaults()
	peers := cfg.Hub.Peers
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	config.RegisterFlags(fs, &cfg)
	if err := fs.Parse([]string{"--hub.peers=x", "--hub.peers=y"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Hub.Peers, []string{"a", "b"}) {
		t.Errorf("parsing flags changed the configuration: peers = %q", cfg.Hub.Peers)
	}
	if err := config.Load(&cfg, config.Options{Flags: fs}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Hub.Peers, []string{"x", "y"}) || !slices.Equal(peers, []string{"a", "b"}) {
		t.Errorf("peers = %q, old default = %q; want [x y] and [a b]", cfg.Hub.Peers, peers)
	}
}

func TestLoadRejectsBadStructs(t *testing.T) {
	type collision struct {
		StoreDir string `koanf:"store_dir"`
		Store    struct {
			Dir string `koanf:"dir"`
		} `koanf:"store"`
	}
	type unsupported struct {
		Next *int `koanf:"next"`
	}
	type twice struct {
		A string `koanf:"a"`
		B string `koanf:"a"`
	}
	tests := []struct {
		dst  any
		want string
	}{
		{testConfig{}, "non-nil pointer to a struct"},
		{(*testConfig)(nil), "non-nil pointer to a struct"},
		{new(int), "non-nil pointer to a struct"},
		{&collision{}, `keys "store.dir" and "store_dir" share an environment variable`},
		{&unsupported{}, `key "next": unsupported type *int`},
		{&twice{}, `key "a" is defined twice`},
	}
	for _, tt := range tests {
		err := config.Load(tt.dst, config.Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%T) = %v, want an error containing %q", tt.dst, err, tt.want)
		}
	}
}

func TestKeys(t *testing.T) {
	cfg := defaults()
	cfg.Hub.PIN = 1234
	keys := config.Keys(&cfg, "FLEETWIRE_")

	var names []string
	byName := map[string]config.KeyDoc{}
	for _, k := range keys {
		names = append(names, k.Key)
		byName[k.Key] = k
	}
	wantNames := []string{
		"edge.position.interval",
		"hub.debug", "hub.labels", "hub.peers", "hub.pin", "hub.port", "hub.ratio",
		"hub.replicas", "hub.store_dir", "hub.timeout", "hub.token",
		"name",
		"subscriptions",
		"subscriptions[].events", "subscriptions[].id", "subscriptions[].max_attempts",
		"subscriptions[].secret", "subscriptions[].url",
	}
	if !slices.Equal(names, wantNames) {
		t.Errorf("keys:\n got %q\nwant %q", names, wantNames)
	}

	for _, want := range []config.KeyDoc{
		{Key: "hub.store_dir", Type: "string", Default: "/var/lib/fleetwire", Doc: "Directory of the JetStream store.", Env: "FLEETWIRE_HUB_STORE_DIR"},
		{Key: "hub.port", Type: "uint", Default: "4222", Doc: "TCP port of the API.", Env: "FLEETWIRE_HUB_PORT"},
		{Key: "hub.ratio", Type: "float", Default: "0.5", Doc: "Sampling ratio | 0 to 1.", Env: "FLEETWIRE_HUB_RATIO"},
		{Key: "hub.debug", Type: "bool", Default: "false", Doc: "Log at debug level.", Env: "FLEETWIRE_HUB_DEBUG"},
		{Key: "hub.timeout", Type: "duration", Default: "10s", Doc: "Timeout of API requests.", Env: "FLEETWIRE_HUB_TIMEOUT"},
		{Key: "hub.peers", Type: "[]string", Default: "a,b", Doc: "Cluster peers.", Env: "FLEETWIRE_HUB_PEERS"},
		{Key: "hub.labels", Type: "map[string]string", Default: "k=v", Doc: "Labels of this hub.", Env: "FLEETWIRE_HUB_LABELS"},
		{Key: "hub.token", Type: "string", Default: "***", Doc: "API token.", Env: "FLEETWIRE_HUB_TOKEN"},
		{Key: "hub.pin", Type: "int", Default: "***", Doc: "Unlock PIN.", Env: "FLEETWIRE_HUB_PIN"},
		{Key: "edge.position.interval", Type: "duration", Default: "5s", Doc: "Time between position reports.", Env: "FLEETWIRE_EDGE_POSITION_INTERVAL"},
		{Key: "subscriptions", Type: "[]object", Default: "(1 entry)", Doc: "Webhook subscriptions."},
		{Key: "subscriptions[].secret", Type: "string", Doc: "Signing secret."},
		{Key: "subscriptions[].events", Type: "[]string", Doc: "Event types delivered."},
	} {
		if got := byName[want.Key]; got != want {
			t.Errorf("key %s:\n got %+v\nwant %+v", want.Key, got, want)
		}
	}

	if k := config.Keys(defaults(), ""); k[0].Env != "" {
		t.Errorf("Keys without a prefix: %+v has an environment variable", k[0])
	}
}

func TestMarkdown(t *testing.T) {
	md := config.Markdown(defaults(), "FLEETWIRE_")
	for _, want := range []string{
		"| Key | Type | Default | Environment variable | Description |\n| --- | --- | --- | --- | --- |\n",
		"| `edge.position.interval` | duration | `5s` | `FLEETWIRE_EDGE_POSITION_INTERVAL` | Time between position reports. |\n",
		"| `hub.ratio` | float | `0.5` | `FLEETWIRE_HUB_RATIO` | Sampling ratio \\| 0 to 1. |\n",
		"| `hub.token` | string | `***` | `FLEETWIRE_HUB_TOKEN` | API token. |\n",
		"| `hub.pin` | int | `0` | `FLEETWIRE_HUB_PIN` | Unlock PIN. |\n",
		"| `subscriptions[].url` | string |  |  | Receiver URL. |\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown does not contain %q:\n%s", want, md)
		}
	}
	if got, want := strings.Count(md, "\n"), 2+len(config.Keys(defaults(), "")); got != want {
		t.Errorf("Markdown has %d lines, want %d", got, want)
	}
}

func TestRegisterFlagsHelp(t *testing.T) {
	cfg := defaults()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	config.RegisterFlags(fs, &cfg)
	help := fs.FlagUsages()
	t.Log("\n" + help)

	for _, k := range config.Keys(&cfg, "") {
		registered := fs.Lookup(k.Key) != nil
		if wantFlag := k.Type != "[]object" && !strings.Contains(k.Key, "[]"); registered != wantFlag {
			t.Errorf("flag --%s registered: %t, want %t", k.Key, registered, wantFlag)
		}
		if registered && !strings.Contains(help, k.Doc) {
			t.Errorf("help does not document --%s with %q", k.Key, k.Doc)
		}
	}
	for _, want := range []string{
		`--hub.store_dir string `,
		`(default "/var/lib/fleetwire")`,
		`--hub.timeout duration `,
		`Timeout of API requests. (default 10s)`,
		`--hub.peers []string `,
		`Cluster peers. (default a,b)`,
		`--hub.debug[=true|false] `,
		`API token. (default "***")`,
	} {
		if !strings.Contains(help, want) {
			t.Errorf("help does not contain %q", want)
		}
	}
	if strings.Contains(help, "default-token") {
		t.Error("help shows the default token")
	}
}

func TestSecretsMasked(t *testing.T) {
	secretFlag := func(*testing.T) error {
		cfg := defaults()
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		fs.String("hub.pin", "", "")
		if err := fs.Parse([]string{"--hub.pin=hunter2"}); err != nil {
			return err
		}
		return config.Load(&cfg, config.Options{Flags: fs})
	}
	fromSource := func(src source) func(*testing.T) error {
		return func(t *testing.T) error {
			_, err := load(t, src)
			return err
		}
	}
	tests := []struct {
		name string
		load func(*testing.T) error
	}{
		{"secret int in a variable", fromSource(source{env: []string{"FLEETWIRE_HUB_PIN=hunter2"}})},
		{"secret int in the file", fromSource(source{yaml: "hub: {pin: hunter2}\n"})},
		{"secret in a list element", fromSource(source{yaml: "subscriptions: [{id: a, secret: [hunter2]}]\n"})},
		{"secret int in a string flag", secretFlag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.load(t)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			t.Log(err)
			if msg := err.Error(); strings.Contains(msg, "hunter2") || !strings.Contains(msg, "***") {
				t.Errorf("error %q shows the secret or does not mask it", msg)
			}
		})
	}
}

type logging struct {
	Level slog.Level `koanf:"log_level" doc:"Least level logged."`
}

type route struct {
	URL     string        `koanf:"url" doc:"Where to send."`
	Timeout time.Duration `koanf:"timeout"`
}

type textConfig struct {
	logging                          // inlined, though unexported
	Listen  netip.AddrPort           `koanf:"listen" doc:"Address to listen on."`
	Allowed []netip.Prefix           `koanf:"allowed" doc:"Networks allowed in."`
	Routes  map[string]route         `koanf:"routes" doc:"Routes by name."`
	Limits  map[string]time.Duration `koanf:"limits"`
	Skipped string                   `koanf:"-"`
}

func TestLoadEmbeddedTextAndMapTypes(t *testing.T) {
	cfg := textConfig{Listen: netip.MustParseAddrPort("127.0.0.1:80")}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	config.RegisterFlags(fs, &cfg)
	if err := fs.Parse([]string{"--listen", "[::1]:8080"}); err != nil {
		t.Fatal(err)
	}
	err := config.Load(&cfg, config.Options{
		File:      writeFile(t, "edge.yaml", "log_level: debug\nroutes:\n  a: {url: http://a, timeout: 1s}\n  b: {url: http://b}\nlimits: {x: 1m}\n"),
		EnvPrefix: "FLEETWIRE_",
		Environ:   []string{"FLEETWIRE_ALLOWED=10.0.0.0/8, 192.168.0.0/16", "FLEETWIRE_LIMITS=y=2s"},
		Flags:     fs,
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := textConfig{
		logging: logging{Level: slog.LevelDebug},
		Listen:  netip.MustParseAddrPort("[::1]:8080"),
		Allowed: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.0.0/16")},
		Routes:  map[string]route{"a": {URL: "http://a", Timeout: time.Second}, "b": {URL: "http://b"}},
		Limits:  map[string]time.Duration{"y": 2 * time.Second},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", cfg, want)
	}

	err = config.Load(&cfg, config.Options{File: writeFile(t, "edge.yaml", "routes: {a: {url: http://a, timeout: soon}}\nlisten: nowhere\n")})
	for _, msg := range []string{
		`listen = "nowhere": not an ip:port (allowed: a valid netip.AddrPort)`,
		`routes.a.timeout = "soon"`,
	} {
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("Load error %v, want one containing %q", err, msg)
		}
	}

	var got []string
	for _, k := range config.Keys(textConfig{}, "APP_") {
		got = append(got, k.Key+" "+k.Type+" "+k.Default+" "+k.Env)
	}
	wantKeys := []string{
		"allowed []string  APP_ALLOWED",
		"limits map[string]duration  APP_LIMITS",
		"listen string  APP_LISTEN",
		"log_level string INFO APP_LOG_LEVEL",
		"routes map[string]object  ",
		"routes.*.timeout duration  ",
		"routes.*.url string  ",
	}
	if !slices.Equal(got, wantKeys) {
		t.Errorf("Keys:\n got %q\nwant %q", got, wantKeys)
	}
}

func TestDocsPanicOnBadStructs(t *testing.T) {
	for _, dst := range []any{42, &struct {
		C chan int `koanf:"c"`
	}{}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Keys(%T) did not panic", dst)
				}
			}()
			config.Keys(dst, "")
		}()
	}
}
