package detect

import (
	"math"
	"time"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

// standardGravity is 1 g in m/s².
const standardGravity = 9.80665

// minStep is the shortest time between two speed samples the harsh rule
// compares: a vehicle bus reporting the speed every 20 ms would otherwise
// turn its quantisation steps into accelerations.
const minStep = 500 * time.Millisecond

// Harsh reports harsh.braking and harsh.acceleration from changes of speed.
//
// Rule: speed readings (the bus's, or the receiver's from good fixes) are
// sampled at least half a second apart (see minStep), and the change
// between two samples at most harsh.max_gap (1.5 s) apart is a rate in
// km/h per second. A rate at or
// beyond −harsh.braking_kph_per_s (−12) is harsh braking, at or beyond
// harsh.acceleration_kph_per_s (+11) harsh acceleration. Consecutive
// harsh steps of the same kind are one episode, reported once when it
// ends (the first step that is not harsh, a gap, or a change of speed
// source), with the whole change of speed, its duration and its peak in g.
// A 1 Hz receiver can be judged; a 0.5 Hz one, whose fixes are 2 s apart,
// cannot, and never triggers.
type Harsh struct {
	cfg  Config
	last speedSample // the last sample; zero before the first
	ep   episode
}

// speedSample is one speed reading.
type speedSample struct {
	at     time.Time
	kph    float64
	source state.Source
}

// episode is a run of harsh steps of one kind.
type episode struct {
	kind     event.Type // "" while none runs
	from, to speedSample
	peak     float64 // the largest rate, km/h per second, absolute
}

// NewHarsh returns a harsh-driving detector.
func NewHarsh(cfg Config) *Harsh { return &Harsh{cfg: cfg} }

// Detect implements Detector.
func (d *Harsh) Detect(in Input, emit func(Emission)) {
	cfg := &d.cfg.Harsh
	if cfg.BrakingKphPerS == 0 && cfg.AccelerationKphPerS == 0 {
		return
	}
	cur := in.Change.Cur
	if cur.At.Sub(d.last.at) > cfg.MaxGap { // the speed went silent
		d.close(cur.At, emit)
	}
	r, ok := gnssSpeed(d.cfg.GNSS, cur)
	if !ok {
		return
	}
	s := speedSample{at: r.At, kph: r.Value, source: r.Source}
	if s.source == d.last.source && s.at.Sub(d.last.at) < minStep {
		return
	}
	prev := d.last
	d.last = s
	dt := s.at.Sub(prev.at)
	if prev.at.IsZero() || s.source != prev.source || dt > cfg.MaxGap {
		d.close(cur.At, emit)
		return
	}

	rate := (s.kph - prev.kph) / dt.Seconds()
	var kind event.Type
	switch {
	case cfg.BrakingKphPerS > 0 && rate <= -cfg.BrakingKphPerS:
		kind = event.TypeHarshBraking
	case cfg.AccelerationKphPerS > 0 && rate >= cfg.AccelerationKphPerS:
		kind = event.TypeHarshAcceleration
	}
	if kind != "" && kind == d.ep.kind {
		d.ep.to, d.ep.peak = s, max(d.ep.peak, math.Abs(rate))
		return
	}
	d.close(cur.At, emit)
	if kind != "" {
		d.ep = episode{kind: kind, from: prev, to: s, peak: math.Abs(rate)}
	}
}

// close reports the running episode, if any.
func (d *Harsh) close(now time.Time, emit func(Emission)) {
	ep := d.ep
	if ep.kind == "" {
		return
	}
	d.ep = episode{}
	delta, over := round(ep.to.kph-ep.from.kph, 1), seconds(ep.to.at.Sub(ep.from.at))
	g := round(ep.peak/3.6/standardGravity, 2)
	from, to, source := round(ep.from.kph, 1), round(ep.to.kph, 1), string(ep.to.source)
	if ep.kind == event.TypeHarshBraking {
		emit(Emission{Type: ep.kind, At: now, Data: event.HarshBrakingData{
			DeltaKph: delta, OverS: over, G: g, FromKph: from, ToKph: to, SpeedSource: source,
		}})
		return
	}
	emit(Emission{Type: ep.kind, At: now, Data: event.HarshAccelerationData{
		DeltaKph: delta, OverS: over, G: g, FromKph: from, ToKph: to, SpeedSource: source,
	}})
}
