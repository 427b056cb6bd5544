package agent

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/fleetwire/fleetwire/edge/detect"
	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/edge/outbox"
	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/config"
	"github.com/fleetwire/fleetwire/shared/event"
)

// Config is the edge agent's configuration (fleetwire-edge run --config edge.yaml).
type Config struct {
	Vehicle  VehicleConfig  `koanf:"vehicle"`
	Hub      HubConfig      `koanf:"hub"`
	Store    StoreConfig    `koanf:"store"`
	GNSS     GNSSConfig     `koanf:"gnss"`
	CAN      CANConfig      `koanf:"can"`
	State    StateConfig    `koanf:"state"`
	Position PositionConfig `koanf:"position"`
	Detect   detect.Config  `koanf:"detect"`
	Metrics  MetricsConfig  `koanf:"metrics"`
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
	// KeyFile holds the vehicle's nkey seed (fleetwire-edge keygen).
	KeyFile string `koanf:"key_file" doc:"the vehicle's private key (nkey seed, mode 0600): authenticates the leaf link and signs every event; created at first start if missing, its public key logged for registration (empty: unsigned, for hubs without hub.auth)"`
	// CAFile is a PEM bundle the hub's TLS certificate must chain to.
	CAFile string `koanf:"ca_file" doc:"PEM CA bundle that the hub's certificate must chain to; setting it turns TLS on"`
	TLS    bool   `koanf:"tls" doc:"connect with TLS using the system roots (implied by ca_file)"`
}

// StoreConfig bounds the local store.
type StoreConfig struct {
	Dir      string        `koanf:"dir" doc:"directory of the local JetStream store (events wait here while offline)"`
	MaxBytes int64         `koanf:"max_bytes" doc:"local store size limit in bytes (>= 1 MiB)"`
	MaxAge   time.Duration `koanf:"max_age" doc:"oldest event kept locally while offline (>= 1m)"`
	Policy   string        `koanf:"policy" doc:"when a limit is hit: drop-oldest (keep recording) or reject-new (keep the oldest)"`
}

// GNSSConfig selects the position source: exactly one of replay, serial, gpsd.
type GNSSConfig struct {
	Replay string  `koanf:"replay" doc:"NMEA 0183 log file to replay"`
	Speed  float64 `koanf:"speed" doc:"replay pace: 1 real time, 10 ten times faster, 0 as fast as possible"`
	Loop   bool    `koanf:"loop" doc:"replay the file again when it ends"`
	Serial string  `koanf:"serial" doc:"serial device of an NMEA receiver, e.g. /dev/ttyUSB0"`
	Baud   int     `koanf:"baud" doc:"serial line speed: 4800, 9600, 19200, 38400, 57600 or 115200"`
	GPSD   string  `koanf:"gpsd" doc:"gpsd address host:port, e.g. 127.0.0.1:2947"`
}

// CANConfig selects the vehicle bus: a candump log to replay, or a live
// SocketCAN interface (Linux), or neither.
type CANConfig struct {
	Replay    string        `koanf:"replay" doc:"candump log (-l/-L format) to replay; empty: none"`
	Speed     float64       `koanf:"speed" doc:"replay pace: 1 real time, 0 as fast as possible"`
	Loop      bool          `koanf:"loop" doc:"replay the log again when it ends"`
	Interface string        `koanf:"interface" doc:"live SocketCAN interface such as can0 (Linux); empty: none"`
	PollOBD   bool          `koanf:"poll_obd" doc:"on the live interface, poll OBD-II Mode 01 PIDs on 7DF"`
	PollEvery time.Duration `koanf:"poll_every" doc:"period of one OBD-II polling cycle over all supported PIDs"`
}

// StateConfig tunes the vehicle state.
type StateConfig struct {
	Ignition string `koanf:"ignition" doc:"how ignition is derived: rpm (engine turning), voltage (alternator charging) or input"`
	// MaxAge overrides how long a signal stays fresh, by signal name.
	MaxAge map[string]time.Duration `koanf:"max_age" doc:"per-signal freshness, e.g. {rpm: 5s, fuel_level: 5m, position: 10s}; older readings are stale, never reused"`
}

// positionMaxAge is the state.max_age key of the GNSS position.
const positionMaxAge = "position"

// PositionConfig decides when a position event is sent.
type PositionConfig struct {
	Every     time.Duration `koanf:"every" doc:"send a position at least this often while fixes arrive (device time), > 0"`
	DistanceM float64       `koanf:"distance_m" doc:"also send one after moving this many metres (0: off)"`
}

// MetricsConfig exposes the agent's Prometheus metrics.
type MetricsConfig struct {
	Listen string `koanf:"listen" doc:"host:port serving Prometheus metrics at /metrics, e.g. 127.0.0.1:9464 (empty: off)"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Vehicle:        VehicleConfig{Account: "demo", ID: "vehicle-1"},
		Hub:            HubConfig{URL: "nats-leaf://127.0.0.1:7422", Domain: "hub"},
		Store:          StoreConfig{Dir: "fleetwire-edge-data", MaxBytes: 256 << 20, MaxAge: 30 * 24 * time.Hour, Policy: string(outbox.PolicyDropOldest)},
		GNSS:           GNSSConfig{Speed: 1, Baud: 9600},
		CAN:            CANConfig{Speed: 1, PollEvery: time.Second},
		State:          StateConfig{Ignition: string(state.IgnitionRPM)},
		Position:       PositionConfig{Every: 10 * time.Second, DistanceM: 500},
		Detect:         detect.Default(),
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
	sources := 0
	for _, v := range []string{c.GNSS.Replay, c.GNSS.Serial, c.GNSS.GPSD} {
		if v != "" {
			sources++
		}
	}
	if sources != 1 {
		return config.Invalid("gnss.replay", c.GNSS.Replay, "exactly one of gnss.replay (an NMEA log), gnss.serial (a device) or gnss.gpsd (host:port)")
	}
	if c.GNSS.Speed < 0 {
		return config.Invalid("gnss.speed", c.GNSS.Speed, ">= 0")
	}
	if c.GNSS.Serial != "" && !slices.Contains(gnss.SerialBauds(), c.GNSS.Baud) {
		return config.Invalid("gnss.baud", c.GNSS.Baud, fmt.Sprint(gnss.SerialBauds()))
	}
	if c.CAN.Replay != "" && c.CAN.Interface != "" {
		return config.Invalid("can.interface", c.CAN.Interface, "empty when can.replay is set (one bus source)")
	}
	if c.CAN.Speed < 0 {
		return config.Invalid("can.speed", c.CAN.Speed, ">= 0")
	}
	if c.CAN.PollOBD && c.CAN.Interface == "" {
		return config.Invalid("can.poll_obd", c.CAN.PollOBD, "false unless can.interface names a live interface")
	}
	if c.CAN.PollEvery <= 0 {
		return config.Invalid("can.poll_every", c.CAN.PollEvery, "a positive duration such as 1s")
	}
	for name, d := range c.State.MaxAge {
		if _, ok := state.ParseSignal(name); (!ok && name != positionMaxAge) || d <= 0 {
			return config.Invalid("state.max_age."+name, d, "position or a known signal (speed, gnss_speed, rpm, coolant, fuel_level, battery, odometer, …) with a positive duration")
		}
	}
	switch state.IgnitionMode(c.State.Ignition) {
	case state.IgnitionRPM, state.IgnitionVoltage, state.IgnitionInput:
	default:
		return config.Invalid("state.ignition", c.State.Ignition, "rpm, voltage or input")
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
	if err := c.Detect.Validate(); err != nil {
		var fe *config.FieldError
		if errors.As(err, &fe) {
			fe.Key = "detect." + fe.Key
		}
		return err
	}
	if c.Metrics.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			return config.Invalid("metrics.listen", c.Metrics.Listen, "host:port such as 127.0.0.1:9464, or empty (off)")
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return config.Invalid("log_level", c.LogLevel, "debug, info, warn or error")
	}
	return nil
}
