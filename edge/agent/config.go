package agent

import (
	"time"

	"github.com/fleetwire/fleetwire/edge/outbox"
	"github.com/fleetwire/fleetwire/shared/config"
	"github.com/fleetwire/fleetwire/shared/event"
)

// Config is the edge agent's configuration (fleetwire-edge run --config edge.yaml).
type Config struct {
	Vehicle  VehicleConfig  `koanf:"vehicle"`
	Hub      HubConfig      `koanf:"hub"`
	Store    StoreConfig    `koanf:"store"`
	GNSS     GNSSConfig     `koanf:"gnss"`
	Position PositionConfig `koanf:"position"`
	// HeartbeatEvery is the heartbeat period.
	HeartbeatEvery time.Duration `koanf:"heartbeat_every" doc:"period of heartbeat events (wall clock), > 0"`
	LogLevel       string        `koanf:"log_level" doc:"debug, info, warn or error"`
}

// VehicleConfig names the vehicle.
type VehicleConfig struct {
	Account      string `koanf:"account" doc:"account that owns the vehicle (subject token: no '.', '*', '>' or spaces)"`
	ID           string `koanf:"id" doc:"vehicle id, unique within the account (subject token)"`
	Registration string `koanf:"registration" doc:"licence plate, copied into every event"`
	Name         string `koanf:"name" doc:"display name, copied into every event"`
}

// HubConfig says how to reach the hub.
type HubConfig struct {
	URL    string `koanf:"url" doc:"the hub's leaf-node URL, nats-leaf://host:7422"`
	Domain string `koanf:"domain" doc:"the hub's JetStream domain"`
}

// StoreConfig bounds the local store.
type StoreConfig struct {
	Dir      string        `koanf:"dir" doc:"directory of the local JetStream store (events wait here while offline)"`
	MaxBytes int64         `koanf:"max_bytes" doc:"local store size limit in bytes (>= 1 MiB)"`
	MaxAge   time.Duration `koanf:"max_age" doc:"oldest event kept locally while offline (>= 1m)"`
	Policy   string        `koanf:"policy" doc:"when a limit is hit: drop-oldest (keep recording) or reject-new (keep the oldest)"`
}

// GNSSConfig selects the position source.
type GNSSConfig struct {
	Replay string  `koanf:"replay" doc:"NMEA 0183 log file to replay (the only source in this version)"`
	Speed  float64 `koanf:"speed" doc:"replay pace: 1 real time, 10 ten times faster, 0 as fast as possible"`
	Loop   bool    `koanf:"loop" doc:"replay the file again when it ends"`
}

// PositionConfig decides when a position event is sent.
type PositionConfig struct {
	Every     time.Duration `koanf:"every" doc:"send a position at least this often while fixes arrive (device time), > 0"`
	DistanceM float64       `koanf:"distance_m" doc:"also send one after moving this many metres (0: off)"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Vehicle:        VehicleConfig{Account: "demo", ID: "vehicle-1"},
		Hub:            HubConfig{URL: "nats-leaf://127.0.0.1:7422", Domain: "hub"},
		Store:          StoreConfig{Dir: "fleetwire-edge-data", MaxBytes: 256 << 20, MaxAge: 30 * 24 * time.Hour, Policy: string(outbox.PolicyDropOldest)},
		GNSS:           GNSSConfig{Speed: 1},
		Position:       PositionConfig{Every: 10 * time.Second, DistanceM: 500},
		HeartbeatEvery: time.Minute,
		LogLevel:       "info",
	}
}

// Validate reports the first invalid setting, naming its key.
func (c *Config) Validate() error {
	if err := event.ValidToken("account", c.Vehicle.Account); err != nil {
		return config.Invalid("vehicle.account", c.Vehicle.Account, "a non-empty subject token without '.', '*', '>' or whitespace")
	}
	if err := event.ValidToken("vehicle", c.Vehicle.ID); err != nil {
		return config.Invalid("vehicle.id", c.Vehicle.ID, "a non-empty subject token without '.', '*', '>' or whitespace")
	}
	if c.Hub.URL == "" {
		return config.Invalid("hub.url", c.Hub.URL, "a leaf-node URL such as nats-leaf://hub.example.com:7422")
	}
	if c.Store.Dir == "" {
		return config.Invalid("store.dir", c.Store.Dir, "a writable directory")
	}
	if c.Store.MaxBytes < 1<<20 {
		return config.Invalid("store.max_bytes", c.Store.MaxBytes, "at least 1048576 (1 MiB)")
	}
	if c.Store.MaxAge < time.Minute {
		return config.Invalid("store.max_age", c.Store.MaxAge, "at least 1m")
	}
	switch outbox.Policy(c.Store.Policy) {
	case outbox.PolicyDropOldest, outbox.PolicyRejectNew:
	default:
		return config.Invalid("store.policy", c.Store.Policy, "drop-oldest or reject-new")
	}
	if c.GNSS.Replay == "" {
		return config.Invalid("gnss.replay", c.GNSS.Replay, "the path of an NMEA 0183 log")
	}
	if c.GNSS.Speed < 0 {
		return config.Invalid("gnss.speed", c.GNSS.Speed, ">= 0")
	}
	if c.Position.Every <= 0 {
		return config.Invalid("position.every", c.Position.Every, "a positive duration such as 10s")
	}
	if c.Position.DistanceM < 0 {
		return config.Invalid("position.distance_m", c.Position.DistanceM, ">= 0")
	}
	if c.HeartbeatEvery <= 0 {
		return config.Invalid("heartbeat_every", c.HeartbeatEvery, "a positive duration such as 1m")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return config.Invalid("log_level", c.LogLevel, "debug, info, warn or error")
	}
	return nil
}
