package state

import "time"

// Signal names a vehicle quantity the state tracks.
type Signal uint8

// The tracked signals. Units are fixed per signal (see Unit).
const (
	SignalInvalid     Signal = iota
	SignalSpeed              // km/h, from the vehicle bus (wheel-based)
	SignalGNSSSpeed          // km/h, from the GNSS receiver
	SignalRPM                // 1/min
	SignalCoolant            // °C
	SignalIntakeAir          // °C
	SignalFuelLevel          // %
	SignalFuelRate           // L/h
	SignalBattery            // V (control module or battery potential)
	SignalOdometer           // km
	SignalEngineHours        // h
	SignalRunTime            // s since engine start
	SignalAmbient            // °C
	SignalEngineLoad         // %
	signalCount
)

var signalInfo = [signalCount]struct {
	name, unit string
	maxAge     time.Duration
}{
	SignalInvalid:     {"invalid", "", 0},
	SignalSpeed:       {"speed", "km/h", 5 * time.Second},
	SignalGNSSSpeed:   {"gnss_speed", "km/h", 5 * time.Second},
	SignalRPM:         {"rpm", "1/min", 5 * time.Second},
	SignalCoolant:     {"coolant", "°C", time.Minute},
	SignalIntakeAir:   {"intake_air", "°C", time.Minute},
	SignalFuelLevel:   {"fuel_level", "%", 5 * time.Minute},
	SignalFuelRate:    {"fuel_rate", "L/h", 10 * time.Second},
	SignalBattery:     {"battery", "V", 30 * time.Second},
	SignalOdometer:    {"odometer", "km", 10 * time.Minute},
	SignalEngineHours: {"engine_hours", "h", 10 * time.Minute},
	SignalRunTime:     {"run_time", "s", 10 * time.Second},
	SignalAmbient:     {"ambient", "°C", 5 * time.Minute},
	SignalEngineLoad:  {"engine_load", "%", 5 * time.Second},
}

// String is the signal's name, as used in configuration and event data.
func (s Signal) String() string {
	if s >= signalCount {
		return "invalid"
	}
	return signalInfo[s].name
}

// Unit is the signal's unit.
func (s Signal) Unit() string {
	if s >= signalCount {
		return ""
	}
	return signalInfo[s].unit
}

// DefaultMaxAge is how long a reading of s stays fresh unless configured.
func (s Signal) DefaultMaxAge() time.Duration {
	if s >= signalCount {
		return 0
	}
	return signalInfo[s].maxAge
}

// ParseSignal returns the signal with that name.
func ParseSignal(name string) (Signal, bool) {
	for s := SignalInvalid + 1; s < signalCount; s++ {
		if signalInfo[s].name == name {
			return s, true
		}
	}
	return SignalInvalid, false
}

// Source says where a reading came from.
type Source string

// Reading sources.
const (
	SourceGNSS    Source = "gnss"
	SourceOBD     Source = "obd"
	SourceJ1939   Source = "j1939"
	SourceDerived Source = "derived" // computed by the state (ignition)
	SourceInput   Source = "input"   // a GPIO line or an operator setting
)

// Reading is one observed value.
type Reading[T any] struct {
	Value  T
	At     time.Time // device time of the observation
	Source Source
	// Stale is set when the reading is older than its maximum age at the
	// snapshot's time; accessors then report it as absent.
	Stale bool
}

// Valid reports whether the reading exists and is fresh.
func (r Reading[T]) Valid() bool { return !r.At.IsZero() && !r.Stale }
