package detect

import (
	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

// Temperature reports temperature.out_of_range for one temperature of the
// vehicle state (temperature.signal: coolant, intake_air or ambient).
//
// Rule: the temperature must stay below temperature.min_c or above
// temperature.max_c on every reading for temperature.after (30 s); the
// episode then lasts, without another event, until it is back inside the
// range by temperature.hysteresis_c (2 °C). Updates without a fresh
// reading are skipped. Each episode is reported once.
type Temperature struct {
	cfg     Config
	signal  state.Signal // SignalInvalid: off
	pending hold
	out     bool
}

// NewTemperature returns a temperature detector.
func NewTemperature(cfg Config) *Temperature {
	sig, _ := state.ParseSignal(cfg.Temperature.Signal)
	return &Temperature{cfg: cfg, signal: sig}
}

// Detect implements Detector.
func (d *Temperature) Detect(in Input, emit func(Emission)) {
	if d.signal == state.SignalInvalid {
		return
	}
	cfg := &d.cfg.Temperature
	cur := in.Change.Cur
	v, ok := cur.Value(d.signal)
	if !ok {
		return
	}
	if d.out {
		if v >= cfg.MinC+cfg.HysteresisC && v <= cfg.MaxC-cfg.HysteresisC {
			d.out = false
		}
		return
	}
	if held, out := d.pending.see(cur.At, v < cfg.MinC || v > cfg.MaxC); !out || held < cfg.After {
		return
	}
	d.out = true
	d.pending.reset()
	emit(Emission{Type: event.TypeTemperatureOutOfRange, At: cur.At, Data: event.TemperatureOutOfRangeData{
		Sensor: d.signal.String(), ValueC: round(v, 1), MinC: cfg.MinC, MaxC: cfg.MaxC,
	}})
}
