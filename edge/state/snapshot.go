package state

import (
	"slices"
	"time"
)

// Position is the last GNSS fix used by the state.
type Position struct {
	Lat, Lon    float64
	HeadingDeg  float64
	AltitudeM   float64
	FixQuality  int
	Satellites  int
	HDOP        float64
	HasHeading  bool
	HasAltitude bool
}

// Snapshot is the vehicle state at one instant. It is a value: detectors may
// keep it, compare two of them, and never see it change.
type Snapshot struct {
	// At is the device time of the update that produced the snapshot.
	At       time.Time
	Position Reading[Position]
	// Ignition is derived as configured (rpm, battery voltage or an input).
	Ignition Reading[bool]
	// DTCs are the active diagnostic trouble codes, sorted ("P0301", "SPN 110 FMI 0").
	DTCs Reading[[]string]
	// Driver is the identified driver id, when known.
	Driver  Reading[string]
	signals [signalCount]Reading[float64]
}

// Value returns a fresh signal value, or ok=false when the signal was never
// seen or is stale.
func (s Snapshot) Value(sig Signal) (v float64, ok bool) {
	r := s.Reading(sig)
	return r.Value, r.Valid()
}

// Reading returns the raw reading of a signal, stale or not.
func (s Snapshot) Reading(sig Signal) Reading[float64] {
	if sig >= signalCount {
		return Reading[float64]{}
	}
	return s.signals[sig]
}

// Speed is the best fresh speed: the vehicle bus when available, else GNSS;
// the reading says which.
func (s Snapshot) Speed() (Reading[float64], bool) {
	if r := s.signals[SignalSpeed]; r.Valid() {
		return r, true
	}
	if r := s.signals[SignalGNSSSpeed]; r.Valid() {
		return r, true
	}
	return Reading[float64]{}, false
}

// HasDTC reports whether code is active.
func (s Snapshot) HasDTC(code string) bool {
	_, found := slices.BinarySearch(s.DTCs.Value, code)
	return found && s.DTCs.Valid()
}
