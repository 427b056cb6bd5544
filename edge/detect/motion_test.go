package detect

import (
	"testing"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

func TestMotion(t *testing.T) {
	moving := func(sec, kph float64, source string, since, stoppedS float64) Emission {
		return em(event.TypeVehicleMoving, sec, event.VehicleMovingData{SpeedKph: kph, SpeedSource: source, MovingSince: ts(since), StoppedS: stoppedS})
	}
	stopped := func(sec, since, movingS float64) Emission {
		return em(event.TypeVehicleStopped, sec, event.VehicleStoppedData{StoppedSince: ts(since), MovingS: movingS})
	}
	cases := []struct {
		name  string
		state state.Config
		steps []step
		want  []Emission
	}{
		{
			name: "drive off, park, drive off again",
			steps: []step{
				every(0, 20, 2, func(s float64) step { return fix(s, 0) }),
				every(22, 120, 2, func(s float64) step { return fix(s, 30) }), // moving from 22, sure at 32
				every(122, 200, 2, func(s float64) step { return fix(s, 0) }), // at rest from 122, sure at 182
				every(202, 230, 2, func(s float64) step { return fix(s, 30) }),
			},
			want: []Emission{moving(32, 30, "gnss", 22, 0), stopped(182, 122, 100), moving(212, 30, "gnss", 202, 80)},
		},
		{
			name: "a traffic light is no stop",
			steps: []step{
				every(0, 10, 2, func(s float64) step { return fix(s, 0) }),
				every(12, 60, 2, func(s float64) step { return fix(s, 40) }),
				every(62, 100, 2, func(s float64) step { return fix(s, 0) }), // 40 s
				every(102, 140, 2, func(s float64) step { return fix(s, 40) }),
			},
			want: []Emission{moving(22, 40, "gnss", 12, 0)},
		},
		{
			name: "creeping in the hysteresis band confirms nothing",
			steps: []step{
				every(0, 100, 2, func(s float64) step { return fix(s, 3.5) }),
				every(102, 130, 2, func(s float64) step { return fix(s, 30) }),
				every(132, 300, 2, func(s float64) step { return fix(s, 3) }), // queueing: not a stop
				every(302, 362, 2, func(s float64) step { return fix(s, 1) }),
			},
			want: []Emission{moving(112, 30, "gnss", 102, 0), stopped(362, 302, 200)},
		},
		{
			name: "bursts shorter than moving_after",
			steps: []step{
				every(0, 8, 2, func(s float64) step { return fix(s, 20) }),
				fix(10, 0),
				every(12, 20, 2, func(s float64) step { return fix(s, 20) }),
				fix(22, 4), // in the band: interrupts too
				every(24, 32, 2, func(s float64) step { return fix(s, 20) }),
			},
		},
		{
			name:  "poor fixes never trigger",
			steps: []step{every(0, 60, 2, func(s float64) step { return poorFix(s, 50) })},
		},
		{
			name: "the vehicle bus beats the receiver",
			steps: []step{
				together(
					every(0, 20, 2, func(s float64) step { return fix(s, 0) }),
					every(1, 21, 1, func(s float64) step { return busSpeed(s, 40) }),
				),
			},
			want: []Emission{moving(11, 40, "obd", 1, 0)},
		},
		{
			name:  "ignition off stands in for a silent speedometer",
			state: state.Config{Ignition: state.IgnitionRPM},
			steps: []step{
				together(
					every(0, 30, 1, func(s float64) step { return signal(s, state.SignalRPM, 800) }),
					every(0.5, 30.5, 1, func(s float64) step { return busSpeed(s, 50) }),
				),
				// The bus goes silent after 30.5 s: speed and rpm go stale
				// (5 s), the state derives ignition off.
				every(40, 120, 10, tick),
			},
			want: []Emission{moving(10.5, 50, "obd", 0.5, 0), stopped(100, 40, 39.5)},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, run(t, NewMotion(Default()), c.state, c.steps), c.want)
		})
	}
}
