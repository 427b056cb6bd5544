package detect

import (
	"testing"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

func TestVoltage(t *testing.T) {
	volts := func(first, last, dt, v float64) step {
		return every(first, last, dt, func(s float64) step { return signal(s, state.SignalBattery, v) })
	}
	low := func(sec, v, threshold float64) Emission {
		return em(event.TypeVoltageLow, sec, event.VoltageLowData{VoltageV: v, ThresholdV: threshold})
	}
	truck := Default()
	truck.Voltage.SystemV, truck.Voltage.LowV = 24, 23.6
	off := Default()
	off.Voltage.LowV = 0
	cases := []struct {
		name  string
		cfg   Config
		steps []step
		want  []Emission
	}{
		{
			name: "a battery running down, once per episode",
			cfg:  Default(),
			steps: []step{
				volts(0, 20, 5, 12.4),
				volts(25, 70, 5, 11.6), // low from 25 s, sure at 55 s
				volts(75, 90, 5, 12.0), // recovering, not yet by the hysteresis
				volts(95, 150, 5, 11.5),
				volts(155, 155, 5, 12.6), // recovered
				volts(160, 200, 5, 11.7),
			},
			want: []Emission{low(55, 11.6, 11.8), low(190, 11.7, 11.8)},
		},
		{
			name:  "cranking dips the voltage for a moment",
			cfg:   Default(),
			steps: []step{volts(0, 4, 1, 12.4), volts(5, 7, 1, 10.2), volts(8, 60, 1, 14.1)},
		},
		{
			name:  "24 V system",
			cfg:   truck,
			steps: []step{volts(0, 40, 5, 23.1)},
			want:  []Emission{low(30, 23.1, 23.6)},
		},
		{
			name:  "low_v 0 is off",
			cfg:   off,
			steps: []step{volts(0, 100, 5, 9)},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, run(t, NewVoltage(c.cfg), stateDefaults, c.steps), c.want)
		})
	}
}
