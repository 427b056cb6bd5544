package detect

import (
	"testing"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

func TestIdle(t *testing.T) {
	speeds := func(first, last, kph float64) step {
		return every(first, last, 2, func(s float64) step { return busSpeed(s, kph) })
	}
	started := func(sec, since float64) Emission {
		return em(event.TypeIdleStarted, sec, event.IdleStartedData{IdleSince: ts(since)})
	}
	ended := func(sec, since float64, reason string) Emission {
		return em(event.TypeIdleEnded, sec, event.IdleEndedData{IdleSince: ts(since), DurationS: sec - since, Reason: reason})
	}
	input := state.Config{Ignition: state.IgnitionInput}
	cases := []struct {
		name  string
		state state.Config
		steps []step
		want  []Emission
	}{
		{
			name:  "idling at the depot, then driving off",
			state: input,
			steps: []step{ignition(0, true), speeds(0, 400, 0), speeds(402, 420, 30)},
			want:  []Emission{started(300, 0), ended(402, 0, "moving")},
		},
		{
			name:  "switched off while idling",
			state: input,
			steps: []step{ignition(0, true), speeds(0, 310, 0), ignition(311, false), speeds(312, 330, 0)},
			want: []Emission{started(300, 0), em(event.TypeIdleEnded, 314, event.IdleEndedData{
				IdleSince: ts(0), DurationS: 311, Reason: "ignition_off",
			})},
		},
		{
			name:  "a short wait is no idling",
			state: input,
			steps: []step{ignition(0, true), speeds(0, 200, 0), speeds(202, 220, 30), speeds(222, 500, 0), ignition(501, false)},
		},
		{
			name:  "creeping in a queue neither starts nor interrupts idling",
			state: input,
			steps: []step{
				ignition(0, true),
				speeds(0, 100, 0), speeds(102, 200, 3), speeds(202, 320, 0),
				speeds(322, 400, 3.5), speeds(402, 420, 30),
			},
			want: []Emission{started(300, 0), ended(402, 0, "moving")},
		},
		{
			name:  "a stalled engine restarted at once does not end idling",
			state: input,
			steps: []step{
				ignition(0, true), speeds(0, 310, 0),
				ignition(311, false), ignition(312, true), speeds(312, 400, 0),
				speeds(402, 420, 30),
			},
			want: []Emission{started(300, 0), ended(402, 0, "moving")},
		},
		{
			name:  "engine off at rest is parking, not idling",
			state: input,
			steps: []step{ignition(0, false), speeds(0, 600, 0)},
		},
		{
			name:  "without a known ignition there is no idling",
			steps: []step{speeds(0, 600, 0)},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, run(t, NewIdle(Default()), c.state, c.steps), c.want)
		})
	}
}
