package detect

import (
	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

// Speeding reports speeding.started and speeding.ended against the
// fleet-wide threshold.
//
// Rule: an episode starts once the speed has stayed at or above
// speeding.threshold_kph (130 km/h) for speeding.min_duration (10 s), so an
// overtaking burst or one bad GNSS speed is not speeding. It ends when the
// speed drops below the threshold minus speeding.hysteresis_kph (125 km/h):
// a speed hovering around the threshold stays one episode. The speed is
// the vehicle bus's, else the receiver's from a good fix; updates without
// one are skipped. Each episode is reported once, started and ended,
// with its maximum, duration and distance (the speed integrated over time).
type Speeding struct {
	cfg     Config
	pending hold // since the speed reached the threshold
	active  bool
	maxKph  float64
	metres  float64
	last    state.Reading[float64] // the last speed reading integrated
}

// NewSpeeding returns a speeding detector.
func NewSpeeding(cfg Config) *Speeding { return &Speeding{cfg: cfg} }

// Detect implements Detector.
func (d *Speeding) Detect(in Input, emit func(Emission)) {
	cfg := &d.cfg.Speeding
	if cfg.ThresholdKph == 0 {
		return
	}
	cur := in.Change.Cur
	speed, ok := gnssSpeed(d.cfg.GNSS, cur)
	if !ok {
		return
	}
	if speed.At.After(d.last.At) {
		if d.pending.holding() {
			d.metres += (d.last.Value + speed.Value) / 2 / 3.6 * speed.At.Sub(d.last.At).Seconds()
		}
		d.last = speed
	}

	if d.active {
		d.maxKph = max(d.maxKph, speed.Value)
		if speed.Value < cfg.ThresholdKph-cfg.HysteresisKph {
			since := d.pending.since
			d.active = false
			d.pending.reset()
			emit(Emission{Type: event.TypeSpeedingEnded, At: cur.At, Data: event.SpeedingEndedData{
				ThresholdKph: cfg.ThresholdKph,
				MaxSpeedKph:  round(d.maxKph, 1),
				Since:        evTime(since),
				DurationS:    seconds(cur.At.Sub(since)),
				DistanceKm:   round(d.metres/1000, 3),
			}})
		}
		return
	}
	if !d.pending.holding() {
		d.maxKph, d.metres = 0, 0
	}
	held, over := d.pending.see(cur.At, speed.Value >= cfg.ThresholdKph)
	if !over {
		return
	}
	d.maxKph = max(d.maxKph, speed.Value)
	if held >= cfg.MinDuration {
		d.active = true
		emit(Emission{Type: event.TypeSpeedingStarted, At: cur.At, Data: event.SpeedingStartedData{
			ThresholdKph: cfg.ThresholdKph,
			SpeedKph:     round(speed.Value, 1),
			SpeedSource:  string(speed.Source),
			Since:        evTime(d.pending.since),
		}})
	}
}
