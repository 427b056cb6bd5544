package state

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// IgnitionMode says how ignition is derived.
type IgnitionMode string

// Ignition modes.
const (
	// IgnitionRPM: on while the engine turns (rpm above a threshold).
	IgnitionRPM IgnitionMode = "rpm"
	// IgnitionVoltage: on while the battery voltage shows the alternator
	// charging (above a threshold, 13.2 V for a 12 V system).
	IgnitionVoltage IgnitionMode = "voltage"
	// IgnitionInput: set by SetIgnition (a GPIO line).
	IgnitionInput IgnitionMode = "input"
)

// ErrInvalidConfig wraps configuration errors.
var ErrInvalidConfig = errors.New("state: invalid config")

// Config configures a Store.
type Config struct {
	Ignition IgnitionMode
	// IgnitionThreshold is the rpm (default 300) or voltage (default 13.2)
	// above which ignition is on.
	IgnitionThreshold float64
	// MaxAge overrides a signal's default maximum age.
	MaxAge map[Signal]time.Duration
	// PositionMaxAge is how long a fix stays fresh (default 10s).
	PositionMaxAge time.Duration
}

func (c *Config) setDefaults() {
	if c.Ignition == "" {
		c.Ignition = IgnitionRPM
	}
	if c.IgnitionThreshold == 0 {
		switch c.Ignition {
		case IgnitionRPM:
			c.IgnitionThreshold = 300
		case IgnitionVoltage:
			c.IgnitionThreshold = 13.2
		}
	}
	if c.PositionMaxAge == 0 {
		c.PositionMaxAge = 10 * time.Second
	}
}

// Validate reports an unusable configuration.
func (c *Config) Validate() error {
	switch c.Ignition {
	case IgnitionRPM, IgnitionVoltage, IgnitionInput:
	default:
		return fmt.Errorf("%w: ignition %q (allowed: rpm, voltage, input)", ErrInvalidConfig, c.Ignition)
	}
	for s, d := range c.MaxAge {
		if s == SignalInvalid || s >= signalCount || d <= 0 {
			return fmt.Errorf("%w: max age %s for signal %s", ErrInvalidConfig, d, s)
		}
	}
	return nil
}

// Change is what a detector sees: the state before and after one update.
type Change struct {
	Prev, Cur Snapshot
}

// Store holds one vehicle's state. It is not safe for concurrent use: the
// agent feeds it from one goroutine.
type Store struct {
	cfg Config
	cur Snapshot
}

// New returns an empty state.
func New(cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Store{cfg: cfg}, nil
}

// Current is the latest snapshot.
func (s *Store) Current() Snapshot { return s.cur }

// SetFix records a GNSS position (and its speed as SignalGNSSSpeed).
func (s *Store) SetFix(at time.Time, p Position, speedKph float64, hasSpeed bool) Change {
	prev := s.cur
	s.cur.Position = Reading[Position]{Value: p, At: at, Source: SourceGNSS}
	if hasSpeed {
		s.cur.signals[SignalGNSSSpeed] = Reading[float64]{Value: speedKph, At: at, Source: SourceGNSS}
	}
	return s.settle(prev, at)
}

// SetSignal records one decoded value.
func (s *Store) SetSignal(at time.Time, sig Signal, v float64, src Source) Change {
	prev := s.cur
	if sig > SignalInvalid && sig < signalCount {
		s.cur.signals[sig] = Reading[float64]{Value: v, At: at, Source: src}
	}
	return s.settle(prev, at)
}

// SetDTCs records the complete set of active trouble codes from one source.
func (s *Store) SetDTCs(at time.Time, codes []string, src Source) Change {
	prev := s.cur
	c := slices.Clone(codes)
	slices.Sort(c)
	s.cur.DTCs = Reading[[]string]{Value: slices.Compact(c), At: at, Source: src}
	return s.settle(prev, at)
}

// SetDriver records the identified driver.
func (s *Store) SetDriver(at time.Time, id string, src Source) Change {
	prev := s.cur
	s.cur.Driver = Reading[string]{Value: id, At: at, Source: src}
	return s.settle(prev, at)
}

// SetIgnition records an ignition input (IgnitionInput mode only).
func (s *Store) SetIgnition(at time.Time, on bool) Change {
	prev := s.cur
	if s.cfg.Ignition == IgnitionInput {
		s.cur.Ignition = Reading[bool]{Value: on, At: at, Source: SourceInput}
	}
	return s.settle(prev, at)
}

// Tick re-evaluates staleness at time now without new data: a sensor that
// went silent shows up as a change.
func (s *Store) Tick(now time.Time) Change { return s.settle(s.cur, now) }

// settle finishes an update made in place on s.cur: time, staleness and
// derived values. (In place, not through a callback, so that the snapshot
// does not escape to the heap: this runs for every CAN frame.)
func (s *Store) settle(prev Snapshot, at time.Time) Change {
	if at.After(s.cur.At) {
		s.cur.At = at
	}
	s.age(&s.cur)
	s.deriveIgnition(&s.cur)
	return Change{Prev: prev, Cur: s.cur}
}

func (s *Store) maxAge(sig Signal) time.Duration {
	if d, ok := s.cfg.MaxAge[sig]; ok {
		return d
	}
	return sig.DefaultMaxAge()
}

func (s *Store) age(n *Snapshot) {
	for sig := SignalInvalid + 1; sig < signalCount; sig++ {
		r := &n.signals[sig]
		r.Stale = !r.At.IsZero() && n.At.Sub(r.At) > s.maxAge(sig)
	}
	n.Position.Stale = !n.Position.At.IsZero() && n.At.Sub(n.Position.At) > s.cfg.PositionMaxAge
}

func (s *Store) deriveIgnition(n *Snapshot) {
	var sig Signal
	switch s.cfg.Ignition {
	case IgnitionRPM:
		sig = SignalRPM
	case IgnitionVoltage:
		sig = SignalBattery
	default:
		return
	}
	r := n.signals[sig]
	switch {
	case r.At.IsZero():
		// Never seen: ignition unknown.
	case r.Stale:
		// The engine bus went silent: the ignition is off (the ECU sleeps).
		n.Ignition = Reading[bool]{Value: false, At: n.At, Source: SourceDerived}
	default:
		n.Ignition = Reading[bool]{Value: r.Value > s.cfg.IgnitionThreshold, At: r.At, Source: SourceDerived}
	}
}
