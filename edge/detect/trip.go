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
// the receiver's wander, not driving. The track ends at the first good fix
// taken at rest in the final stop: a fix that comes in during the stop
// after one taken on the move (a receiver lagging behind a bus speed that
// already reads 0, or one that lost its fix on the way in and regains it
// parked) still belongs to the trip, and its step counts. Each trip is
// reported once, started and completed.
//
// Corrections: a trip may end before its track has: the ignition goes off
// 2 s into a stop while the receiver has lost its fix (an underpass, a
// garage ramp, a gateway whose receiver lags) or its last fix was taken on
// the move. Then the trip settles for TripSettle after trip.completed: the
// first good fix taken before the vehicle moves again (or its engine starts
// again) completes the track, and when that adds at least TripSettleMinM to
// the distance, event.updated follows with the whole recomputed summary
// (distance, average speed, end location), correcting trip.completed, which
// then carries an ID. A trip whose track ended at rest is final at once.
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

	settle *settling              // a completed trip whose track may still grow
	ids    func(time.Time) string // the ids of correctable emissions
}

// TripSettle is how long after trip.completed a trip whose track had not
// ended at rest waits for the fix that ends it, and TripSettleMinM the
// distance that fix must add for the trip to be corrected (event.updated):
// less is within what a receiver's lag or wander makes of any trip.
const (
	TripSettle     = 2 * time.Minute
	TripSettleMinM = 25.0
)

// settling is a completed trip waiting for the end of its track.
type settling struct {
	id         string // of the trip.completed emission
	until      time.Time
	sent       event.TripCompletedData
	start, end mark
	maxKph     float64
	idle       time.Duration
}

// mark is a moment of a trip: when, where, and the odometer then.
type mark struct {
	at     time.Time
	pos    state.Position
	hasPos bool
	metres float64
}

// NewTrip returns a trip detector.
func NewTrip(cfg Config) *Trip { return &Trip{cfg: cfg, ids: event.NewID} }

// Detect implements Detector.
func (t *Trip) Detect(in Input, emit func(Emission)) {
	cur := in.Change.Cur
	step, fresh := t.odo.see(cur, &t.cfg)
	offHeld, off := t.off.see(cur.At, ignitionOff(cur))
	moving, rest, known := motionOf(&t.cfg, cur)
	if t.active && !t.stop.at.IsZero() && step > 0 {
		// A fix that came in during the stop after one taken on the
		// move: the track goes on to it.
		t.stop.metres, t.stop.pos, t.stop.hasPos = t.odo.metres, t.odo.pos, true
	}
	if t.settle != nil {
		t.settleOn(in.Change, moving, step, fresh, emit)
	}
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

// end completes the trip at the start of the current stop. When its track
// did not end at rest, the trip settles (see Trip).
func (t *Trip) end(cur state.Snapshot, emit func(Emission)) {
	start, end := t.start, t.stop
	data := summary(start, end, t.maxKph, t.idle)
	em := Emission{Type: event.TypeTripCompleted, At: cur.At, Data: data}
	t.settle = nil
	if end.hasPos && !t.odo.rest {
		if t.ids == nil { // a Trip not made by NewTrip
			t.ids = event.NewID
		}
		em.ID = t.ids(cur.At)
		t.settle = &settling{id: em.ID, until: cur.At.Add(TripSettle), sent: data, start: start, end: end, maxKph: t.maxKph, idle: t.idle}
	}
	emit(em)
	t.active, t.rest, t.stop = false, end, mark{}
}

// settleOn takes an update after trip.completed into the settling trip: a
// fix that adds a step extends its track, one taken at rest ends it.
func (t *Trip) settleOn(ch state.Change, moving bool, step float64, fresh bool, emit func(Emission)) {
	s, cur := t.settle, ch.Cur
	restarted := cur.Ignition.Valid() && cur.Ignition.Value && !(ch.Prev.Ignition.Valid() && ch.Prev.Ignition.Value)
	if moving || restarted || t.active || cur.At.After(s.until) {
		// The vehicle may have left: where the track ended is unknown.
		t.settle = nil
		return
	}
	if !fresh {
		return
	}
	if step > 0 {
		s.end.metres, s.end.pos, s.end.hasPos = t.odo.metres, t.odo.pos, true
	}
	if !t.odo.rest {
		return
	}
	t.settle = nil
	if (s.end.metres-s.start.metres)/1000-s.sent.DistanceKm < TripSettleMinM/1000 {
		return
	}
	data := summary(s.start, s.end, s.maxKph, s.idle)
	u, err := event.NewUpdate(event.TypeTripCompleted, data, event.ReasonLateData)
	if err != nil { // a summary always encodes; never correct with less
		return
	}
	emit(Emission{Type: event.TypeEventUpdated, At: cur.At, Data: u, Corrects: s.id})
}

// summary is the trip.completed data of a trip from start to end.
func summary(start, end mark, maxKph float64, idle time.Duration) event.TripCompletedData {
	km := (end.metres - start.metres) / 1000
	d := end.at.Sub(start.at)
	avg := 0.0
	if d > 0 {
		avg = km / d.Hours()
	}
	return event.TripCompletedData{
		StartTime:     evTime(start.at),
		EndTime:       evTime(end.at),
		StartLocation: start.location(),
		EndLocation:   end.location(),
		DistanceKm:    round(km, 3),
		DurationS:     seconds(d),
		MaxSpeedKph:   round(maxKph, 1),
		AvgSpeedKph:   round(avg, 1),
		IdleS:         seconds(idle),
	}
}

// location is where m was, when known.
func (m mark) location() *event.Point {
	if !m.hasPos {
		return nil
	}
	return point(m.pos)
}
