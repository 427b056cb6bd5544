package detect

import (
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
)

// Idle reports idle.started and idle.ended.
//
// Rule: the vehicle idles while the ignition is on and it is at rest (speed
// below motion.stopped_kph). Once that has lasted idle.after (5 min),
// idle.started is sent; idle.ended follows when the vehicle drives off
// (speed above motion.moving_kph) or the ignition goes off (for
// ignition.debounce, so that a stalled engine restarted at once is no
// end; the idling ends when the ignition went off). Creeping in a
// queue, within the motion hysteresis band, neither starts nor interrupts
// idling. Updates without a usable speed or a known ignition are skipped.
// Each episode is reported once, started and ended.
type Idle struct {
	cfg     Config
	pending hold // engine on at rest, since when
	idling  bool
	off     hold // ignition off, not yet for ignition.debounce
}

// NewIdle returns an idling detector.
func NewIdle(cfg Config) *Idle { return &Idle{cfg: cfg} }

// Detect implements Detector.
func (d *Idle) Detect(in Input, emit func(Emission)) {
	cur := in.Change.Cur
	if !cur.Ignition.Valid() {
		return
	}
	offHeld, off := d.off.see(cur.At, !cur.Ignition.Value)
	speed, known := gnssSpeed(d.cfg.GNSS, cur)
	moving := known && speed.Value > d.cfg.Motion.MovingKph

	if d.idling {
		var end time.Time
		var reason string
		switch {
		case off && offHeld >= d.cfg.Ignition.Debounce:
			end, reason = d.off.since, "ignition_off"
		case moving:
			end, reason = cur.At, "moving"
		default:
			return
		}
		since := d.pending.since
		d.idling = false
		d.pending.reset()
		emit(Emission{Type: event.TypeIdleEnded, At: cur.At, Data: event.IdleEndedData{
			IdleSince: evTime(since), DurationS: seconds(end.Sub(since)), Reason: reason,
		}})
		return
	}
	switch {
	case off || moving:
		d.pending.reset()
	case known && speed.Value < d.cfg.Motion.StoppedKph:
		if held, _ := d.pending.see(cur.At, true); held >= d.cfg.Idle.After {
			d.idling = true
			emit(Emission{Type: event.TypeIdleStarted, At: cur.At, Data: event.IdleStartedData{IdleSince: evTime(d.pending.since)}})
		}
	}
}
