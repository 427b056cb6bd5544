package detect

import (
	"context"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

// TestMunichDriveThroughLEZ replays the real Munich drive against the real
// Munich low-emission zone and its districts through the fence index and
// the standard pipeline, as the agent does, and checks the debounced
// sequence of zone events.
//
// How the expectation was established: shared/geofence's drive test lists
// the raw containment transitions, checked fix by fix with a separate
// point-in-polygon test: the car crosses into the zone at 12:43:26 (5.1 m
// outside at 12:43:25) heading south at 37 km/h, and out at 13:07:17
// (6.6 m outside) heading north at 21 km/h, with no other crossing of the
// zone boundary. With the default debounce (entered after 5 s or 20 m
// inside, exited after 10 s outside) one geofence.entered follows the
// entry within seconds and one geofence.exited follows the exit ~10 s later.
func TestMunichDriveThroughLEZ(t *testing.T) {
	zone, err := geofence.LoadFile("../../testdata/geofences/munich/umweltzone_muenchen.geojson",
		geofence.LoadOptions{Account: "demo", Tags: []string{"low-emission-zone"}, IDProperty: "fileName", NameProperty: "displayName"})
	if err != nil {
		t.Fatal(err)
	}
	ix := geofence.NewIndex(zone)
	cfg := Default()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.New(state.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := gnss.NewReplay("../../testdata/nmea/genivi/munich-gps.nmea", gnss.ReplayOptions{Speed: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type zoneEvent struct {
		typ event.Type
		at  time.Time
	}
	var got []zoneEvent
	var inside []*geofence.Fence
	err = r.Run(context.Background(), func(f gnss.Fix) error {
		ch := st.SetFix(f.Time, position(f), f.SpeedKph, f.HasSpeed)
		inside = inside[:0]
		if Accepts(cfg.GNSS, ch.Cur.Position) {
			inside = ix.Lookup(f.Lat, f.Lon, inside)
		}
		p.Detect(Input{Change: ch, Fences: inside}, func(em Emission) {
			switch em.Type {
			case event.TypeGeofenceEntered, event.TypeGeofenceExited:
				got = append(got, zoneEvent{em.Type, em.At})
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	day := func(hms string) time.Time {
		c, _ := time.Parse("15:04:05", hms)
		d := got[0].at
		return time.Date(d.Year(), d.Month(), d.Day(), c.Hour(), c.Minute(), c.Second(), 0, time.UTC)
	}
	for _, e := range got {
		t.Logf("%s at %s", e.typ, e.at.Format("15:04:05"))
	}
	if len(got) != 2 || got[0].typ != event.TypeGeofenceEntered || got[1].typ != event.TypeGeofenceExited {
		t.Fatalf("zone events %v, want one entered then one exited", got)
	}
	if in := got[0].at.Sub(day("12:43:26")); in < 0 || in > 10*time.Second {
		t.Errorf("entered at %s, want within 10 s after 12:43:26", got[0].at.Format("15:04:05"))
	}
	if out := got[1].at.Sub(day("13:07:17")); out < 9*time.Second || out > 20*time.Second {
		t.Errorf("exited at %s, want 10-20 s after 13:07:17", got[1].at.Format("15:04:05"))
	}
}
