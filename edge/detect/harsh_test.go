package detect

import (
	"testing"

	"github.com/fleetwire/fleetwire/shared/event"
)

func TestHarsh(t *testing.T) {
	// profile is a run of bus speeds every dt seconds from 0 to last,
	// following kph(s).
	profile := func(last, dt float64, kph func(s float64) float64) step {
		return every(0, last, dt, func(s float64) step { return busSpeed(s, kph(s)) })
	}
	// ramp is v0 until from, then changes by rate km/h a second until to,
	// then stays.
	ramp := func(v0, from, to, rate float64) func(float64) float64 {
		return func(s float64) float64 { return v0 + rate*(min(max(s, from), to)-from) }
	}
	cases := []struct {
		name  string
		steps []step
		want  []Emission
	}{
		{
			// 80 → 40 km/h in 2.5 s: −16 km/h a second, 0.45 g.
			name:  "hard braking, wheel speed at 10 Hz",
			steps: []step{profile(10, 0.1, ramp(80, 5, 7.5, -16))},
			want: []Emission{em(event.TypeHarshBraking, 8, event.HarshBrakingData{
				DeltaKph: -40, OverS: 2.5, G: 0.45, FromKph: 80, ToKph: 40, SpeedSource: "obd",
			})},
		},
		{
			// GNSS at 1 Hz: +12 km/h a second for 3 s, then +4.
			name: "hard acceleration, GNSS at 1 Hz",
			steps: []step{every(0, 12, 1, func(s float64) step {
				return fix(s, []float64{20, 20, 20, 20, 20, 20, 32, 44, 56, 60, 60, 60, 60}[int(s)])
			})},
			want: []Emission{em(event.TypeHarshAcceleration, 9, event.HarshAccelerationData{
				DeltaKph: 36, OverS: 3, G: 0.34, FromKph: 20, ToKph: 56, SpeedSource: "gnss",
			})},
		},
		{
			name: "speeds 2 s apart are never compared",
			steps: []step{every(0, 20, 2, func(s float64) step {
				return fix(s, max(0, 100-20*s))
			})},
		},
		{
			name:  "firm but normal braking",
			steps: []step{profile(10, 0.1, ramp(80, 2, 7, -8))},
		},
		{
			name: "quantisation noise of a 50 Hz bus speed",
			steps: []step{profile(10, 0.02, func(s float64) float64 {
				if int(s*50)%2 == 0 {
					return 51
				}
				return 49
			})},
		},
		{
			// The bus goes silent right after braking: the episode ends
			// with the first update more than 1.5 s after its last speed.
			name: "a gap ends the episode",
			steps: []step{
				profile(2, 0.1, ramp(80, 0, 2, -20)),
				tick(3), tick(4),
			},
			want: []Emission{em(event.TypeHarshBraking, 4, event.HarshBrakingData{
				DeltaKph: -40, OverS: 2, G: 0.57, FromKph: 80, ToKph: 40, SpeedSource: "obd",
			})},
		},
		{
			name:  "poor GNSS speeds never trigger",
			steps: []step{every(0, 10, 1, func(s float64) step { return poorFix(s, 100-15*s) })},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, run(t, NewHarsh(Default()), stateDefaults, c.steps), c.want)
		})
	}
}
