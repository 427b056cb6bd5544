package detect

import (
	"testing"

	"github.com/fleetwire/fleetwire/shared/event"
)

func TestPostedSpeed(t *testing.T) {
	z50, z30 := fence("z50", limit(50)), fence("z30", limit(30))
	depot := fence("depot")
	speeds := func(first, last, kph float64) step {
		return every(first, last, 1, func(s float64) step { return fix(s, kph) })
	}
	exceeded := func(sec float64, f string, limit, kph float64) Emission {
		return em(event.TypePostedSpeedExceeded, sec, event.PostedSpeedExceededData{
			LimitKph: limit, SpeedKph: kph, GeofenceID: f, GeofenceName: "Fence " + f,
		})
	}
	cases := []struct {
		name  string
		steps []step
		want  []Emission
	}{
		{
			name:  "above limit plus tolerance for 5 s",
			steps: []step{speeds(0, 20, 60).in(z50, depot)},
			want:  []Emission{exceeded(5, "z50", 50, 60)},
		},
		{
			name:  "within the tolerance",
			steps: []step{speeds(0, 60, 54).in(z50)},
		},
		{
			name: "one episode until back at the limit itself",
			steps: []step{
				speeds(0, 10, 60).in(z50),
				every(11, 40, 1, func(s float64) step { return fix(s, []float64{56, 52}[int(s)%2]) }).in(z50),
				speeds(41, 45, 48).in(z50),
				speeds(46, 60, 60).in(z50),
			},
			want: []Emission{exceeded(5, "z50", 50, 60), exceeded(51, "z50", 50, 60)},
		},
		{
			name: "one fix outside the zone does not end the episode; leaving it does",
			steps: []step{
				speeds(0, 10, 60).in(z50),
				fix(11, 60),
				speeds(12, 20, 60).in(z50),
				speeds(21, 30, 60),
				speeds(31, 40, 60).in(z50),
			},
			want: []Emission{exceeded(5, "z50", 50, 60), exceeded(36, "z50", 50, 60)},
		},
		{
			name:  "the lowest limit of overlapping fences applies",
			steps: []step{speeds(0, 10, 40).in(z50, z30)},
			want:  []Emission{exceeded(5, "z30", 30, 40)},
		},
		{
			name:  "poor fixes never trigger",
			steps: []step{every(0, 30, 1, func(s float64) step { return poorFix(s, 80) }).in(z50)},
		},
		{
			name:  "without a fix, where the limit applies is unknown",
			steps: []step{every(0, 30, 1, func(s float64) step { return busSpeed(s, 80) })},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, run(t, NewPostedSpeed(Default()), stateDefaults, c.steps), c.want)
		})
	}
}
