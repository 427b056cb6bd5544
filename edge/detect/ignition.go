package detect

import (
	"time"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

// Ignition reports ignition.on and ignition.off.
//
// Rule: the vehicle state derives the ignition (engine speed, battery
// voltage or a wired input); a new value must hold on every update for
// ignition.debounce (2 s) before it is reported, so a stalled start or an
// rpm reading hovering around the threshold does not flap. Updates with
// an unknown ignition are skipped.
//
// When the detector starts, the first known value is taken as it is, with
// one exception: "on" is reported, since a vehicle found running has most
// likely just been started (the agent boots with the vehicle), while one
// found switched off has not just been switched off.
type Ignition struct {
	cfg     Config
	on      bool
	since   time.Time // when the reported state began; zero when unknown
	known   bool
	pending hold // the opposite state, not yet confirmed
}

// NewIgnition returns an ignition detector.
func NewIgnition(cfg Config) *Ignition { return &Ignition{cfg: cfg} }

// Detect implements Detector.
func (d *Ignition) Detect(in Input, emit func(Emission)) {
	cur := in.Change.Cur
	ig := cur.Ignition
	if !ig.Valid() {
		return
	}
	if !d.known && !ig.Value {
		d.known = true
		return
	}
	held, ok := d.pending.see(cur.At, ig.Value != d.on)
	if !ok || held < d.cfg.Ignition.Debounce {
		return
	}
	before, since := d.since, d.pending.since
	d.on, d.since, d.known = ig.Value, since, true
	d.pending.reset()

	odometer := counter(cur, state.SignalOdometer, 1)
	hours := counter(cur, state.SignalEngineHours, 2)
	if d.on {
		emit(Emission{Type: event.TypeIgnitionOn, At: cur.At, Data: event.IgnitionOnData{
			Source: string(ig.Source), OffS: between(before, since), OdometerKm: odometer, EngineHours: hours,
		}})
		return
	}
	emit(Emission{Type: event.TypeIgnitionOff, At: cur.At, Data: event.IgnitionOffData{
		Source: string(ig.Source), OnS: between(before, since), OdometerKm: odometer, EngineHours: hours,
	}})
}
