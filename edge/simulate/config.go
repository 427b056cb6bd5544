package simulate

import (
	"time"

	"github.com/fleetwire/fleetwire/edge/agent"
	"github.com/fleetwire/fleetwire/edge/detect"
	"github.com/fleetwire/fleetwire/shared/config"
	"github.com/fleetwire/fleetwire/shared/event"
)

// Config is the simulator's configuration (fleetwire-edge simulate).
type Config struct {
	Hub      agent.HubConfig `koanf:"hub"`
	Account  string          `koanf:"account" doc:"account of the simulated vehicles (subject token); their ids are <account>-00001…"`
	Vehicles int             `koanf:"vehicles" doc:"number of simulated vehicles, > 0"`
	PerLeaf  int             `koanf:"per_leaf" doc:"vehicles sharing one leaf node and its JetStream store (1: a leaf per vehicle, as on real gateways)"`
	Drive    string          `koanf:"drive" doc:"NMEA 0183 log of a real drive that every vehicle replays, each from its own offset and shifted in position"`
	Speed    float64         `koanf:"speed" doc:"replay pace: 1 real time, 60 an hour of driving per minute, > 0"`
	Duration time.Duration   `koanf:"duration" doc:"wall time the fleet drives, > 0; then the backlog is drained and the simulator stops"`
	// DriveTime bounds the device time each vehicle drives.
	DriveTime      time.Duration        `koanf:"drive_time" doc:"device time each vehicle drives (0: until duration ends), e.g. 1h with speed 60 and duration 2m"`
	Drain          time.Duration        `koanf:"drain" doc:"longest wait after the drive for every recorded event to reach the hub, > 0"`
	Verify         bool                 `koanf:"verify" doc:"after the drain, read the hub's EVENTS stream and check each vehicle's events are gap-free and in order"`
	Store          StoreConfig          `koanf:"store"`
	Position       agent.PositionConfig `koanf:"position"`
	HeartbeatEvery time.Duration        `koanf:"heartbeat_every" doc:"period of each vehicle's heartbeat events (wall clock), > 0"`
	Detect         detect.Config        `koanf:"detect"`
	ProgressEvery  time.Duration        `koanf:"progress_every" doc:"period of the progress log lines (0: none)"`
	LogLevel       string               `koanf:"log_level" doc:"debug, info, warn or error (the vehicles log at warn at most)"`
}

// StoreConfig places and bounds the leaf nodes' stores.
type StoreConfig struct {
	Dir      string `koanf:"dir" doc:"directory of the leaf nodes' JetStream stores, one subdirectory per leaf (empty: a temporary directory, removed at the end)"`
	MaxBytes int64  `koanf:"max_bytes" doc:"each vehicle's outbox size limit in bytes (>= 1 MiB); a leaf reserves per_leaf times this"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	a := agent.Default()
	return Config{
		Hub:            a.Hub,
		Account:        "sim",
		Vehicles:       100,
		PerLeaf:        100,
		Drive:          "testdata/nmea/genivi/20100403_Z205_Switzerland.txt",
		Speed:          1,
		Duration:       time.Minute,
		Drain:          2 * time.Minute,
		Store:          StoreConfig{MaxBytes: 16 << 20},
		Position:       a.Position,
		HeartbeatEvery: a.HeartbeatEvery,
		Detect:         a.Detect,
		ProgressEvery:  10 * time.Second,
		LogLevel:       "info",
	}
}

// Validate reports the first invalid setting, naming its key.
func (c *Config) Validate() error {
	if err := event.ValidToken("account", c.Account); err != nil {
		return config.Invalid("account", c.Account, "a non-empty subject token without '.', '*', '>' or whitespace")
	}
	if c.Vehicles <= 0 {
		return config.Invalid("vehicles", c.Vehicles, "> 0")
	}
	if c.PerLeaf <= 0 {
		return config.Invalid("per_leaf", c.PerLeaf, "> 0")
	}
	if c.Drive == "" {
		return config.Invalid("drive", c.Drive, "an NMEA 0183 log file")
	}
	if c.Speed <= 0 {
		return config.Invalid("speed", c.Speed, "> 0")
	}
	if c.Duration <= 0 {
		return config.Invalid("duration", c.Duration, "a positive duration such as 1m")
	}
	if c.DriveTime < 0 {
		return config.Invalid("drive_time", c.DriveTime, ">= 0")
	}
	if c.Drain <= 0 {
		return config.Invalid("drain", c.Drain, "a positive duration such as 2m")
	}
	if c.ProgressEvery < 0 {
		return config.Invalid("progress_every", c.ProgressEvery, ">= 0")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return config.Invalid("log_level", c.LogLevel, "debug, info, warn or error")
	}
	// Everything a vehicle needs is checked by the agent's own validation.
	ac := c.agentConfig("x")
	return ac.Validate()
}

// agentConfig is the configuration of vehicle id.
func (c *Config) agentConfig(id string) agent.Config {
	a := agent.Default()
	a.Vehicle = agent.VehicleConfig{Account: c.Account, ID: id, Name: "simulated " + id}
	a.Hub = c.Hub
	a.Store.Dir = "shared" // not used on a shared leaf
	a.Store.MaxBytes = c.Store.MaxBytes
	a.GNSS = agent.GNSSConfig{Replay: c.Drive, Speed: c.Speed}
	a.Position = c.Position
	a.HeartbeatEvery = c.HeartbeatEvery
	a.Detect = c.Detect
	a.LogLevel = c.LogLevel
	return a
}
