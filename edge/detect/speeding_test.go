package detect

import (
	"testing"

	"github.com/fleetwire/fleetwire/shared/event"
)

func TestSpeeding(t *testing.T) {
	speeds := func(first, last, kph float64) step {
		return every(first, last, 1, func(s float64) step { return busSpeed(s, kph) })
	}
	started := func(sec, kph, since float64) Emission {
		return em(event.TypeSpeedingStarted, sec, event.SpeedingStartedData{ThresholdKph: 130, SpeedKph: kph, SpeedSource: "obd", Since: ts(since)})
	}
	off := Default()
	off.Speeding.ThresholdKph = 0
	cases := []struct {
		name  string
		cfg   Config
		steps []step
		want  []Emission
	}{
		{
			// Distance, the speed integrated over the episode's one-second
			// steps: 20 at 135 km/h (750 m), 135→137 (37.8 m), 9 at 137
			// (342.5 m), 137→120 (35.7 m): 1166 m.
			name:  "one episode, with its maximum, duration and distance",
			cfg:   Default(),
			steps: []step{speeds(0, 9, 100), speeds(10, 30, 135), speeds(31, 40, 137), speeds(41, 50, 120)},
			want: []Emission{
				started(20, 135, 10),
				em(event.TypeSpeedingEnded, 41, event.SpeedingEndedData{
					ThresholdKph: 130, MaxSpeedKph: 137, Since: ts(10), DurationS: 31, DistanceKm: 1.166,
				}),
			},
		},
		{
			// 75 s averaging 130.4 km/h (the trapezoids sum to 2717 m).
			name: "hovering around the threshold stays one episode",
			cfg:  Default(),
			steps: []step{
				speeds(0, 14, 135),
				every(15, 74, 1, func(s float64) step { return busSpeed(s, []float64{131, 126, 129, 132}[int(s)%4]) }),
				speeds(75, 80, 110),
			},
			want: []Emission{
				started(10, 135, 0),
				em(event.TypeSpeedingEnded, 75, event.SpeedingEndedData{
					ThresholdKph: 130, MaxSpeedKph: 135, Since: ts(0), DurationS: 75, DistanceKm: 2.717,
				}),
			},
		},
		{
			name:  "an overtaking burst is no episode",
			cfg:   Default(),
			steps: []step{speeds(0, 9, 120), speeds(10, 17, 140), speeds(18, 30, 120), speeds(31, 39, 140), speeds(40, 50, 124)},
		},
		{
			name:  "poor GNSS speeds never trigger",
			cfg:   Default(),
			steps: []step{every(0, 60, 1, func(s float64) step { return poorFix(s, 150) })},
		},
		{
			name:  "threshold 0 is off",
			cfg:   off,
			steps: []step{speeds(0, 60, 200)},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, run(t, NewSpeeding(c.cfg), stateDefaults, c.steps), c.want)
		})
	}
}
