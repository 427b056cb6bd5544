package detect

import (
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

func TestGeofence(t *testing.T) {
	depot := fence("depot", tags("depot"), dwell(time.Minute))
	cust := fence("cust", tags("customer"))
	route := fence("r1", corridor)
	at := func(first, last float64, fences ...*geofence.Fence) step {
		return every(first, last, 1, func(s float64) step { return fix(s, 0) }).in(fences...)
	}
	entered := func(sec float64, f *geofence.Fence) Emission {
		return em(event.TypeGeofenceEntered, sec, event.GeofenceEnteredData{GeofenceID: f.ID, GeofenceName: f.Name, Tags: f.Tags})
	}
	exited := func(sec float64, f *geofence.Fence, visitS float64) Emission {
		return em(event.TypeGeofenceExited, sec, event.GeofenceExitedData{GeofenceID: f.ID, GeofenceName: f.Name, Tags: f.Tags, VisitS: visitS})
	}
	cases := []struct {
		name  string
		steps []step
		want  []Emission
	}{
		{
			name:  "enter, dwell, leave",
			steps: []step{at(0, 9), at(10, 100, depot), at(101, 120)},
			want: []Emission{
				entered(15, depot),
				em(event.TypeGeofenceDwell, 70, event.GeofenceDwellData{GeofenceID: "depot", GeofenceName: "Fence depot", Tags: []string{"depot"}, DwellS: 60}),
				exited(111, depot, 91),
			},
		},
		{
			name:  "a blip inside is no visit",
			steps: []step{at(0, 9), at(10, 13, cust), at(14, 30), at(31, 34, cust), at(35, 60)},
		},
		{
			name:  "a blip outside is no exit",
			steps: []step{at(0, 30, cust), at(31, 38), at(39, 50, cust), at(51, 70)},
			want:  []Emission{entered(5, cust), exited(61, cust, 51)},
		},
		{
			// 25 m a second: two fixes inside are 25 m driven inside.
			name: "driving through a small fence enters it by distance",
			steps: []step{
				every(0, 30, 1, func(s float64) step {
					st := fixNorth(s, s*25, 90)
					if s == 10 || s == 11 {
						st = st.in(cust)
					}
					return st
				}),
			},
			want: []Emission{entered(11, cust), exited(22, cust, 2)},
		},
		{
			name: "poor fixes say nothing either way",
			steps: []step{
				at(0, 10, cust),
				every(11, 60, 1, func(s float64) step { return poorFix(s, 0) }),
				at(61, 62, cust),
				every(63, 70, 1, func(s float64) step { return poorFix(s, 0) }).in(depot), // as if the agent were wrong
			},
			want: []Emission{entered(5, cust)},
		},
		{
			name:  "route corridors are the route detector's",
			steps: []step{at(0, 60, route)},
		},
		{
			name:  "overlapping fences",
			steps: []step{at(0, 9, cust), at(10, 30, cust, depot), at(31, 50, depot), at(51, 80)},
			want:  []Emission{entered(5, cust), entered(15, depot), exited(41, cust, 31), exited(61, depot, 41)},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, run(t, NewGeofence(Default()), stateDefaults, c.steps), c.want)
		})
	}
}
