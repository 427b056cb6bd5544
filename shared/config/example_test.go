package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/fleetwire/fleetwire/shared/config"
)

// EdgeConfig is the configuration of a small edge agent.
type EdgeConfig struct {
	Vehicle  string `koanf:"vehicle" doc:"Vehicle id, as registered in the cloud."`
	Position struct {
		Interval time.Duration `koanf:"interval" doc:"Time between position reports; > 0."`
	} `koanf:"position"`
	Hub struct {
		URLs  []string `koanf:"urls" doc:"NATS URLs of the hub."`
		Token string   `koanf:"token" doc:"Hub credentials." secret:"true"`
	} `koanf:"hub"`
}

// Validate checks what the types alone do not.
func (c *EdgeConfig) Validate() error {
	if c.Position.Interval <= 0 {
		return config.Invalid("position.interval", c.Position.Interval, `a positive duration such as "10s"`)
	}
	return nil
}

// defaultEdgeConfig returns the defaults of EdgeConfig.
func defaultEdgeConfig() EdgeConfig {
	var c EdgeConfig
	c.Position.Interval = 10 * time.Second
	c.Hub.URLs = []string{"nats://localhost:4222"}
	return c
}

func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "fleetwire")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "edge.yaml")
	_ = os.WriteFile(file, []byte("vehicle: truck-7\nposition:\n  interval: 30s\n"), 0o600)

	cfg := defaultEdgeConfig()
	flags := pflag.NewFlagSet("fleetwire-edge run", pflag.ContinueOnError)
	config.RegisterFlags(flags, &cfg)
	_ = flags.Parse([]string{"--position.interval", "5s"})

	err := config.Load(&cfg, config.Options{
		File:      file,
		EnvPrefix: "FLEETWIRE_",
		Environ:   []string{"FLEETWIRE_HUB_URLS=nats://a:4222,nats://b:4222", "FLEETWIRE_HUB_TOKEN=s3cr3t"},
		Flags:     flags,
	})
	fmt.Println(err)
	fmt.Println(cfg.Vehicle, cfg.Position.Interval, cfg.Hub.URLs, cfg.Hub.Token)

	cfg = defaultEdgeConfig()
	fmt.Println(config.Load(&cfg, config.Options{
		EnvPrefix: "FLEETWIRE_",
		Environ:   []string{"FLEETWIRE_POSITION_INTERVAL=-5s"},
	}))
	fmt.Println(config.Load(&cfg, config.Options{
		EnvPrefix: "FLEETWIRE_",
		Environ:   []string{"FLEETWIRE_POSITION_INTERVL=5s"},
	}))
	// Output:
	// <nil>
	// truck-7 5s [nats://a:4222 nats://b:4222] s3cr3t
	// config: position.interval = "-5s": invalid value (allowed: a positive duration such as "10s")
	// config: environment: unknown key FLEETWIRE_POSITION_INTERVL (did you mean FLEETWIRE_POSITION_INTERVAL for "position.interval"?)
}

func ExampleMarkdown() {
	fmt.Print(config.Markdown(defaultEdgeConfig(), "FLEETWIRE_"))
	// Output:
	// | Key | Type | Default | Environment variable | Description |
	// | --- | --- | --- | --- | --- |
	// | `hub.token` | string |  | `FLEETWIRE_HUB_TOKEN` | Hub credentials. |
	// | `hub.urls` | []string | `nats://localhost:4222` | `FLEETWIRE_HUB_URLS` | NATS URLs of the hub. |
	// | `position.interval` | duration | `10s` | `FLEETWIRE_POSITION_INTERVAL` | Time between position reports; > 0. |
	// | `vehicle` | string |  | `FLEETWIRE_VEHICLE` | Vehicle id, as registered in the cloud. |
}
