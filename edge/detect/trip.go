package detect

import (
	"time"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

// Trip reports trip.started and trip.completed.
//
// Rule: a trip starts when the vehicle starts moving, by the motion rule
// (speed above motion.moving_kph for motion.moving_after); its start is the
// last moment the vehicle was seen at rest before. It ends with a stop
// (speed below motion.stopped_kph on every update) that lasts trip.end_after
// (5 min), or as soon as the ignition is off during a stop (for
// ignition.debounce: a stalled engine restarted at once is no end); its
// end is when that stop began. Shorter stops are the trip's idle time.
//
// The distance is the length of the track of good fixes (see GNSSConfig),
// where steps between two fixes both taken at rest are left out: they are
// the receiver's wander, not driving. Each trip is reported once, started
// and completed.
type Trip struct {
	cfg    Config
	moving hold // the motion rule's countdown to moving, while no trip runs
	off    hold // ignition off, not yet for ignition.debounce
	odo    odometer

	active bool
	rest   mark // the last moment at rest, while no trip runs: the next start
	start  mark
	stop   mark // the start of the current stop in a trip; zero while driving
	maxKph float64
	idle   time.Duration
}

// mark is a moment of a trip: when, where, and the odometer then.
type mark struct {
	at     time.Time
	pos    state.Position
	hasPos bool
	metres float64
}

// NewTrip returns a trip detector.
func NewTrip(cfg Config) *Trip { return &Trip{cfg: cfg} }

// Detect implements Detector.
func (t *Trip) Detect(in Input, emit func(Emission)) {
	cur := in.Change.Cur
	t.odo.see(cur, &t.cfg)
	offHeld, off := t.off.see(cur.At, ignitionOff(cur))
	moving, rest, known := motionOf(&t.cfg, cur)
	if !known {
		return
	}
	speed, hasSpeed := gnssSpeed(t.cfg.GNSS, cur)
	if !t.active {
		if !moving {
			t.rest, t.maxKph = t.mark(cur), 0
			t.moving.reset()
			return
		}
		if t.rest.at.IsZero() { // moving ever since the detector started
			t.rest = t.mark(cur)
		}
		t.maxKph = max(t.maxKph, speed.Value)
		if held, _ := t.moving.see(cur.At, true); held >= t.cfg.Motion.MovingAfter {
			t.begin(cur, emit)
		}
		return
	}

	if hasSpeed {
		t.maxKph = max(t.maxKph, speed.Value)
	}
	switch {
	case rest && t.stop.at.IsZero():
		t.stop = t.mark(cur)
	case !rest && !t.stop.at.IsZero():
		t.idle += cur.At.Sub(t.stop.at)
		t.stop = mark{}
	}
	if !t.stop.at.IsZero() && (cur.At.Sub(t.stop.at) >= t.cfg.Trip.EndAfter || off && offHeld >= t.cfg.Ignition.Debounce) {
		t.end(cur, emit)
	}
}

// mark is the moment of cur, at the position of the last good fix.
func (t *Trip) mark(cur state.Snapshot) mark {
	return mark{at: cur.At, pos: t.odo.pos, hasPos: !t.odo.at.IsZero(), metres: t.odo.metres}
}

// begin starts a trip at the last moment at rest.
func (t *Trip) begin(cur state.Snapshot, emit func(Emission)) {
	t.active, t.start, t.stop, t.idle = true, t.rest, mark{}, 0
	t.moving.reset()
	emit(Emission{Type: event.TypeTripStarted, At: cur.At, Data: event.TripStartedData{
		StartTime:     evTime(t.start.at),
		StartLocation: t.start.location(),
	}})
}

// end completes the trip at the start of the current stop.
func (t *Trip) end(cur state.Snapshot, emit func(Emission)) {
	start, end := t.start, t.stop
	km := (end.metres - start.metres) / 1000
	d := end.at.Sub(start.at)
	avg := 0.0
	if d > 0 {
		avg = km / d.Hours()
	}
	emit(Emission{Type: event.TypeTripCompleted, At: cur.At, Data: event.TripCompletedData{
		StartTime:     evTime(start.at),
		EndTime:       evTime(end.at),
		StartLocation: start.location(),
		EndLocation:   end.location(),
		DistanceKm:    round(km, 3),
		DurationS:     seconds(d),
		MaxSpeedKph:   round(t.maxKph, 1),
		AvgSpeedKph:   round(avg, 1),
		IdleS:         seconds(t.idle),
	}})
	t.active, t.rest, t.stop = false, end, mark{}
}

// location is where m was, when known.
func (m mark) location() *event.Point {
	if !m.hasPos {
		return nil
	}
	return point(m.pos)
}
