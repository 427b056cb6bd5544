package detect

import (
	"testing"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

// north is the location m metres north of home, as event data has it.
func north(m float64) *event.Point {
	return &event.Point{Lat: round(homeLat+m/metresPerDegree, 6), Lon: homeLon}
}

// cruise is a run of fixes every 2 s from first to last, driving north at
// 36 km/h (10 m/s) from m0 metres north of home at first.
func cruise(first, last, m0 float64) step {
	return every(first, last, 2, func(s float64) step { return fixNorth(s, m0+(s-first)*10, 36) })
}

// park is a run of fixes every 2 s at rest, m metres north of home, with
// the receiver wandering by ±jitter metres from fix to fix.
func park(first, last, m, jitter float64) step {
	return every(first, last, 2, func(s float64) step {
		if int(s/2)%2 == 1 {
			return fixNorth(s, m-jitter, 0)
		}
		return fixNorth(s, m+jitter, 0)
	})
}

func TestTrip(t *testing.T) {
	completed := func(sec, start, end, metres, maxKph, idleS float64) Emission {
		hours := (end - start) / 3600
		return em(event.TypeTripCompleted, sec, event.TripCompletedData{
			StartTime: ts(start), EndTime: ts(end),
			StartLocation: north(0), EndLocation: north(metres),
			DistanceKm: metres / 1000, DurationS: end - start,
			MaxSpeedKph: maxKph, AvgSpeedKph: round(metres/1000/hours, 1), IdleS: idleS,
		})
	}
	started := func(sec, start float64) Emission {
		return em(event.TypeTripStarted, sec, event.TripStartedData{StartTime: ts(start), StartLocation: north(0)})
	}
	cases := []struct {
		name  string
		state state.Config
		steps []step
		want  []Emission
	}{
		{
			// At rest until 10 s; driving from 12 s (sure at 22 s); a 40 s
			// traffic light at 900 m; parked at 1500 m from 202 s, which
			// ends the trip 5 min later.
			name: "drive, wait at a light, park",
			steps: []step{
				park(0, 10, 0, 0),
				cruise(12, 100, 20),
				park(102, 140, 900, 0),
				cruise(142, 200, 920),
				park(202, 520, 1500, 0),
			},
			want: []Emission{started(22, 10), completed(502, 10, 202, 1500, 36, 40)},
		},
		{
			name:  "switching the ignition off ends the trip (after the debounce)",
			state: state.Config{Ignition: state.IgnitionInput},
			steps: []step{
				ignition(0, true),
				park(0, 10, 0, 0),
				cruise(12, 60, 20),
				park(62, 80, 500, 0),
				ignition(81, false),
				park(82, 120, 500, 0),
			},
			want: []Emission{started(22, 10), completed(84, 10, 62, 500, 36, 0)},
		},
		{
			// The receiver wanders by ±3 m while parked: 6 m a fix, 1 km in
			// those 6 minutes, none of it driven. Driven: 23 m off the
			// start (from 3 m south), 280 m, 3 m into the final stop.
			name: "the receiver's wander at rest is not driven",
			steps: []step{
				park(0, 10, 0, 3),
				cruise(12, 40, 20),
				park(42, 400, 300, 3),
			},
			want: []Emission{
				em(event.TypeTripStarted, 22, event.TripStartedData{StartTime: ts(10), StartLocation: north(-3)}),
				em(event.TypeTripCompleted, 342, event.TripCompletedData{
					StartTime: ts(10), EndTime: ts(42), StartLocation: north(-3), EndLocation: north(297),
					DistanceKm: 0.306, DurationS: 32, MaxSpeedKph: 36, AvgSpeedKph: 34.4,
				}),
			},
		},
		{
			name: "moving too briefly is no trip",
			steps: []step{
				park(0, 10, 0, 0),
				cruise(12, 18, 20),
				park(20, 400, 80, 0),
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, run(t, NewTrip(Default()), c.state, c.steps), c.want)
		})
	}
}
