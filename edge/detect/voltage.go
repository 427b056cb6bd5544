package detect

import (
	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

// Voltage reports voltage.low: a battery running down, a failing alternator.
//
// Rule: the battery voltage (state.SignalBattery) must stay below
// voltage.low_v (11.8 V on a 12 V system) on every reading for
// voltage.after (30 s), which rides out the dip of cranking the engine. The
// episode then lasts, without another event, until the voltage is back at
// voltage.low_v plus voltage.hysteresis_v (12.2 V). Updates without a
// fresh reading are skipped. Each episode is reported once.
type Voltage struct {
	cfg     Config
	pending hold
	low     bool
}

// NewVoltage returns a low-voltage detector.
func NewVoltage(cfg Config) *Voltage { return &Voltage{cfg: cfg} }

// Detect implements Detector.
func (d *Voltage) Detect(in Input, emit func(Emission)) {
	cfg := &d.cfg.Voltage
	if cfg.LowV == 0 {
		return
	}
	cur := in.Change.Cur
	v, ok := cur.Value(state.SignalBattery)
	if !ok {
		return
	}
	if d.low {
		if v >= cfg.LowV+cfg.HysteresisV {
			d.low = false
		}
		return
	}
	if held, below := d.pending.see(cur.At, v < cfg.LowV); !below || held < cfg.After {
		return
	}
	d.low = true
	d.pending.reset()
	emit(Emission{Type: event.TypeVoltageLow, At: cur.At, Data: event.VoltageLowData{
		VoltageV: round(v, 2), ThresholdV: cfg.LowV,
	}})
}
