package detect

import (
	"time"

	"testing"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

func TestTemperature(t *testing.T) {
	temps := func(sig state.Signal, first, last, c float64) step {
		return every(first, last, 5, func(s float64) step { return signal(s, sig, c) })
	}
	coolant := func(first, last, c float64) step { return temps(state.SignalCoolant, first, last, c) }
	ambient := Default()
	ambient.Temperature = TemperatureConfig{Signal: "ambient", MinC: -20, MaxC: 50, After: 30 * time.Second, HysteresisC: 2}
	off := Default()
	off.Temperature.Signal = ""
	cases := []struct {
		name  string
		cfg   Config
		steps []step
		want  []Emission
	}{
		{
			name: "overheating, once per episode",
			cfg:  Default(),
			steps: []step{
				coolant(0, 20, 90),
				coolant(25, 70, 115), // above 110 from 25 s, sure at 55 s
				coolant(75, 90, 109), // back in range, not yet by the hysteresis
				coolant(95, 95, 105),
				coolant(100, 140, 112),
			},
			want: []Emission{
				em(event.TypeTemperatureOutOfRange, 55, event.TemperatureOutOfRangeData{Sensor: "coolant", ValueC: 115, MinC: -40, MaxC: 110}),
				em(event.TypeTemperatureOutOfRange, 130, event.TemperatureOutOfRangeData{Sensor: "coolant", ValueC: 112, MinC: -40, MaxC: 110}),
			},
		},
		{
			name:  "a short spike",
			cfg:   Default(),
			steps: []step{coolant(0, 20, 90), coolant(25, 45, 120), coolant(50, 100, 95)},
		},
		{
			name:  "too cold",
			cfg:   ambient,
			steps: []step{temps(state.SignalAmbient, 0, 40, -25.5)},
			want:  []Emission{em(event.TypeTemperatureOutOfRange, 30, event.TemperatureOutOfRangeData{Sensor: "ambient", ValueC: -25.5, MinC: -20, MaxC: 50})},
		},
		{
			name:  "no signal is off",
			cfg:   off,
			steps: []step{coolant(0, 100, 130)},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, run(t, NewTemperature(c.cfg), stateDefaults, c.steps), c.want)
		})
	}
}
