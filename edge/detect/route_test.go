package detect

import (
	"math"
	"testing"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

// parallelRouter puts every route's centre line on the parallel of home:
// a fix m metres north of home is m metres from it.
type parallelRouter struct{}

func (parallelRouter) DistanceM(_ *geofence.Fence, lat, _ float64) float64 {
	return math.Abs(lat-homeLat) * metresPerDegree
}

func TestRoute(t *testing.T) {
	r1, r2 := fence("r1", corridor), fence("r2", corridor)
	depot := fence("depot")
	// away is a run of 1 Hz fixes m metres north of the centre line, in
	// the given fences.
	away := func(first, last, m float64, fences ...*geofence.Fence) step {
		return every(first, last, 1, func(s float64) step { return fixNorth(s, m, 50) }).in(fences...)
	}
	deviated := func(sec, m float64) Emission {
		return em(event.TypeRouteDeviated, sec, event.RouteDeviatedData{RouteID: "r1", RouteName: "Fence r1", DistanceM: m})
	}
	rejoined := func(sec float64, f *geofence.Fence, offS, maxM float64) Emission {
		return em(event.TypeRouteRejoined, sec, event.RouteRejoinedData{RouteID: f.ID, RouteName: f.Name, OffRouteS: offS, MaxDistanceM: maxM})
	}
	cases := []struct {
		name  string
		steps []step
		want  []Emission
	}{
		{
			name: "leaving the route and rejoining it",
			steps: []step{
				away(0, 20, 0, r1),
				away(21, 40, 150),
				away(41, 60, 250, depot), // other fences are no route
				away(61, 70, 120),
				away(71, 80, 10, r1),
			},
			want: []Emission{deviated(51, 250), rejoined(76, r1, 50, 250)},
		},
		{
			name:  "outside the corridor but within route.distance_m",
			steps: []step{away(0, 20, 0, r1), away(21, 200, 80), away(201, 220, 0, r1)},
		},
		{
			name:  "a short excursion",
			steps: []step{away(0, 20, 0, r1), away(21, 40, 300), away(41, 60, 80), away(61, 80, 300), away(81, 90, 0, r1)},
		},
		{
			name:  "no route to leave before the first corridor",
			steps: []step{away(0, 100, 500)},
		},
		{
			name: "poor fixes say nothing",
			steps: []step{
				away(0, 20, 0, r1),
				every(21, 100, 1, func(s float64) step {
					p := good
					p.Lat += 500 / metresPerDegree
					p.Satellites = 3
					return fixPos(s, p, 50)
				}),
			},
		},
		{
			name: "rejoining on another route",
			steps: []step{
				away(0, 20, 0, r1),
				away(21, 60, 400),
				away(61, 70, 0, r2),
				away(71, 120, 400), // now off r2
			},
			want: []Emission{
				deviated(51, 400), rejoined(66, r2, 40, 400),
				em(event.TypeRouteDeviated, 101, event.RouteDeviatedData{RouteID: "r2", RouteName: "Fence r2", DistanceM: 400}),
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, run(t, NewRoute(Default(), parallelRouter{}), stateDefaults, c.steps), c.want)
		})
	}
}
