package detect

import (
	"testing"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

func TestIgnition(t *testing.T) {
	input := state.Config{Ignition: state.IgnitionInput}
	cases := []struct {
		name  string
		state state.Config
		steps []step
		want  []Emission
	}{
		{
			name:  "on and off, each after the debounce",
			state: input,
			steps: []step{
				ignition(0, true), tick(1), tick(2),
				ignition(100, false), tick(101), tick(102),
				ignition(200, true), tick(202),
			},
			want: []Emission{
				em(event.TypeIgnitionOn, 2, event.IgnitionOnData{Source: "input"}),
				em(event.TypeIgnitionOff, 102, event.IgnitionOffData{Source: "input", OnS: 100}),
				em(event.TypeIgnitionOn, 202, event.IgnitionOnData{Source: "input", OffS: 100}),
			},
		},
		{
			name:  "a blip shorter than the debounce is ignored",
			state: input,
			steps: []step{
				ignition(0, true), tick(2),
				ignition(50, false), ignition(51, true), tick(53), tick(60),
			},
			want: []Emission{em(event.TypeIgnitionOn, 2, event.IgnitionOnData{Source: "input"})},
		},
		{
			name:  "a vehicle found switched off was not just switched off",
			state: input,
			steps: []step{ignition(0, false), tick(5), tick(10)},
		},
		{
			name:  "derived from the engine speed; a silent bus means off",
			state: state.Config{Ignition: state.IgnitionRPM},
			steps: []step{
				signal(0, state.SignalOdometer, 12345.6),
				every(0, 20, 1, func(s float64) step { return signal(s, state.SignalRPM, 800) }),
				tick(30), // rpm stale since 25 s: the ECU sleeps
				tick(32),
			},
			want: []Emission{
				em(event.TypeIgnitionOn, 2, event.IgnitionOnData{Source: "derived", OdometerKm: ptr(12345.6)}),
				em(event.TypeIgnitionOff, 32, event.IgnitionOffData{Source: "derived", OnS: 30, OdometerKm: ptr(12345.6)}),
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, run(t, NewIgnition(Default()), c.state, c.steps), c.want)
		})
	}
}
