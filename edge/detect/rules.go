package detect

import (
	"math"
	"time"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

// The building blocks the detectors share: debounce timers, the GNSS
// quality gate, the motion classification and a jitter-proof odometer.

// hold measures how long a condition has held without a break.
type hold struct{ since time.Time }

// see records whether the condition holds at now. It reports whether it
// does, and for how long it has without a break.
func (h *hold) see(now time.Time, cond bool) (held time.Duration, ok bool) {
	if !cond {
		h.since = time.Time{}
		return 0, false
	}
	if h.since.IsZero() {
		h.since = now
	}
	return now.Sub(h.since), true
}

// holding reports whether the condition holds since the last see.
func (h *hold) holding() bool { return !h.since.IsZero() }

// reset forgets the condition.
func (h *hold) reset() { h.since = time.Time{} }

// latch is a debounced switch with hysteresis: off, it turns on once the
// on-condition has held for onAfter; on, it turns off once the
// off-condition has held for offAfter. An observation that meets neither
// condition (the band between two thresholds) restarts the countdown; a
// state that says nothing is not observed at all: it neither confirms nor
// interrupts.
type latch struct {
	on          bool
	toOn, toOff hold
}

// see feeds one observation. It reports whether the latch flipped, and
// since when the condition that flipped it had held.
func (l *latch) see(now time.Time, on, off bool, onAfter, offAfter time.Duration) (flipped bool, since time.Time) {
	pending, cond, after := &l.toOn, on, onAfter
	if l.on {
		pending, cond, after = &l.toOff, off, offAfter
	}
	if held, ok := pending.see(now, cond); !ok || held < after {
		return false, time.Time{}
	}
	since = pending.since
	pending.reset()
	l.on = !l.on
	return true, since
}

// speed returns the best fresh speed of s that a rule may act on: the
// vehicle bus's, or else the receiver's when its fix is good.
func gnssSpeed(g GNSSConfig, s state.Snapshot) (state.Reading[float64], bool) {
	r, ok := s.Speed()
	if !ok || (r.Source == state.SourceGNSS && !Accepts(g, s.Position)) {
		return state.Reading[float64]{}, false
	}
	return r, true
}

// fix returns the position of s when it is good enough to decide on.
func gnssFix(g GNSSConfig, s state.Snapshot) (state.Position, bool) {
	if !Accepts(g, s.Position) {
		return state.Position{}, false
	}
	return s.Position.Value, true
}

// motion classifies s for the motion rule: moving (speed above
// motion.moving_kph), at rest (speed below motion.stopped_kph, or no usable
// speed and the ignition known to be off) or neither (the hysteresis
// band). known is false when s says nothing either way.
func motionOf(c *Config, s state.Snapshot) (moving, rest, known bool) {
	if r, ok := gnssSpeed(c.GNSS, s); ok {
		return r.Value > c.Motion.MovingKph, r.Value < c.Motion.StoppedKph, true
	}
	if ignitionOff(s) {
		return false, true, true
	}
	return false, false, false
}

// ignitionOff reports whether the ignition is known to be off.
func ignitionOff(s state.Snapshot) bool { return s.Ignition.Valid() && !s.Ignition.Value }

// odometer measures the distance driven along good fixes. A receiver at
// rest wanders by a few metres from fix to fix; a step between two fixes
// both taken at rest is that wander, not driving, and is not counted.
type odometer struct {
	at     time.Time // time of the last good fix; zero before the first
	pos    state.Position
	rest   bool    // the vehicle was at rest at the last good fix
	metres float64 // total so far
}

// see takes the fix of s, if it is new and good. It returns the metres
// driven since the previous good fix, and whether s brought a new one.
func (o *odometer) see(s state.Snapshot, c *Config) (step float64, fresh bool) {
	p, ok := gnssFix(c.GNSS, s)
	if !ok || !s.Position.At.After(o.at) {
		return 0, false
	}
	r, known := gnssSpeed(c.GNSS, s)
	rest := known && r.Value < c.Motion.StoppedKph
	if !o.at.IsZero() && !(rest && o.rest) {
		step = geofence.DistanceM(o.pos.Lat, o.pos.Lon, p.Lat, p.Lon)
	}
	o.at, o.pos, o.rest = s.Position.At, p, rest
	o.metres += step
	return step, true
}

// round rounds v to digits decimals, for readable event data.
func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// seconds is d in seconds, to a tenth.
func seconds(d time.Duration) float64 { return round(d.Seconds(), 1) }

// between is the time from a to b in seconds, or 0 when a is unknown.
func between(a, b time.Time) float64 {
	if a.IsZero() {
		return 0
	}
	return seconds(b.Sub(a))
}

// evTime wraps a device time for event data.
func evTime(t time.Time) event.Time { return event.Time{Time: t} }

// point is p's location for event data.
func point(p state.Position) *event.Point {
	return &event.Point{Lat: round(p.Lat, 6), Lon: round(p.Lon, 6)}
}

// counter returns a fresh signal value for event data, nil when absent.
func counter(s state.Snapshot, sig state.Signal, digits int) *float64 {
	v, ok := s.Value(sig)
	if !ok {
		return nil
	}
	v = round(v, digits)
	return &v
}
