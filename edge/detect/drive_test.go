package detect

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

// regensburgLog is a real drive: 26 minutes through Regensburg on
// 2010-04-11, one fix every 2 s from a Garmin Geko, with two fix losses and
// a few poor fixes (see testdata/README.md).
const regensburgLog = "../../testdata/nmea/genivi/20100411_Geko_Regensburg.txt"

var regensburg = sync.OnceValues(func() ([]gnss.Fix, error) {
	r, err := gnss.NewReplay(regensburgLog, gnss.ReplayOptions{Speed: 0, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var fixes []gnss.Fix
	err = r.Run(context.Background(), func(f gnss.Fix) error {
		fixes = append(fixes, f)
		return nil
	})
	return fixes, err
})

// regensburgFixes returns the drive, and after it six minutes of the fixes
// the receiver would have gone on reporting while the car stood where the
// log ends: the log stops 8 s after the car came to rest, too early for
// any detector to call it a stop.
func regensburgFixes(t testing.TB) []gnss.Fix {
	t.Helper()
	fixes, err := regensburg()
	if err != nil {
		t.Fatal(err)
	}
	if len(fixes) != 774 {
		t.Fatalf("%d fixes in the log, want the 774 testdata/README.md counts", len(fixes))
	}
	last := fixes[len(fixes)-1]
	parked := last
	parked.SpeedKph = 0
	for i := 1; i <= 180; i++ {
		parked.Time = last.Time.Add(time.Duration(i) * 2 * time.Second)
		fixes = append(fixes, parked)
	}
	return fixes
}

// position is the state's view of a fix (as the agent converts it).
func position(f gnss.Fix) state.Position {
	return state.Position{Lat: f.Lat, Lon: f.Lon, HeadingDeg: f.HeadingDeg, AltitudeM: f.AltitudeM, FixQuality: f.FixQuality,
		Satellites: f.Satellites, HDOP: f.HDOP, HasHeading: f.HasHeading, HasAltitude: f.HasAltitude}
}

// TestRegensburgDrive replays the drive through the standard pipeline,
// with a 150 m "depot" circle around where it starts and ends.
//
// How the expectation was established: the fixes were listed with their
// speeds (go test -run TestRegensburgDrive -v logs the events; the fixes
// were printed the same way while writing this test) and the rules applied
// by hand. The car stands at the start until 16:57:54 (1.9 km/h, still at
// rest), drives off at 16:57:56 (8.1 km/h) and stays above 5 km/h for 10 s,
// so it is moving at 16:58:06. Its stops on the way are 14, 16, 24, 24, 54,
// 36 and 2 s long (16:58:42, 16:59:36, 17:05:54, 17:07:14, 17:12:10,
// 17:20:36, 17:23:46): none reaches the 60 s of a stop, together they are
// the trip's 170 s of idle time. (17:05:30 reads 0.0 km/h on a 3-satellite
// fix, which the quality gate rejects.) It comes to rest for good at
// 17:23:52, back where it started: stopped 60 s later, trip completed 5 min
// later. The highest speed is 104.5 km/h (testdata/README.md). The depot:
// inside from the first fix, entered 6 s later (fixes 2 s apart); the first
// fix beyond 150 m is 16:58:24 (169 m), exited 10 s later; back inside at
// 17:23:18 (134 m), entered at 17:23:22 with 39.5 m driven inside. The trip's
// distance must be within 0.5% of the track's length between its start and
// end, the sum of the haversine distances between all consecutive fixes
// computed below: the detector leaves out three poor fixes (cutting their
// corners) and the receiver's wander at rest, a few metres.
func TestRegensburgDrive(t *testing.T) {
	fixes := regensburgFixes(t)
	start, home := fixes[0], fixes[0]
	depot := fence("depot", tags("depot"))
	cfg := Default()

	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store, err := state.New(state.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var got []Emission
	for _, f := range fixes {
		change := store.SetFix(f.Time, position(f), f.SpeedKph, f.HasSpeed)
		in := Input{Change: change}
		if Accepts(cfg.GNSS, change.Cur.Position) && geofence.DistanceM(home.Lat, home.Lon, f.Lat, f.Lon) <= 150 {
			in.Fences = append(in.Fences, depot)
		}
		p.Detect(in, func(e Emission) { got = append(got, e) })
	}
	for _, e := range got {
		conforms(t, e)
		t.Logf("%s %s %s", e.At.Format("15:04:05"), e.Type, deref(e.Data))
	}

	clock := func(hms string) time.Time {
		c, err := time.Parse("15:04:05", hms)
		if err != nil {
			t.Fatal(err)
		}
		y, m, d := start.Time.Date()
		return time.Date(y, m, d, c.Hour(), c.Minute(), c.Second(), 0, time.UTC)
	}
	var (
		types  []event.Type
		fences []string
		trip   event.TripCompletedData
	)
	for _, e := range got {
		types = append(types, e.Type)
		switch d := e.Data.(type) {
		case event.GeofenceEnteredData, event.GeofenceExitedData:
			fences = append(fences, e.At.Format("15:04:05"))
		case event.VehicleMovingData:
			if !e.At.Equal(clock("16:58:06")) || !d.MovingSince.Equal(clock("16:57:56")) {
				t.Errorf("moving at %s since %s, want 16:58:06 since 16:57:56", e.At, d.MovingSince)
			}
		case event.VehicleStoppedData:
			if !e.At.Equal(clock("17:24:52")) || !d.StoppedSince.Equal(clock("17:23:52")) || d.MovingS != 1556 {
				t.Errorf("stopped at %s since %s after %g s, want 17:24:52 since 17:23:52 after 1556 s", e.At, d.StoppedSince, d.MovingS)
			}
		case event.TripStartedData:
			if !d.StartTime.Equal(clock("16:57:54")) {
				t.Errorf("trip started at %s, want 16:57:54", d.StartTime)
			}
		case event.TripCompletedData:
			trip = d
			if !e.At.Equal(clock("17:28:52")) {
				t.Errorf("trip completed at %s, want 17:28:52, 5 min into the final stop", e.At)
			}
		}
	}
	want := []event.Type{
		event.TypeGeofenceEntered, // found in the depot
		event.TypeVehicleMoving, event.TypeTripStarted,
		event.TypeGeofenceExited,
		event.TypeGeofenceEntered, // back
		event.TypeVehicleStopped, event.TypeTripCompleted,
	}
	if !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	if want := []string{"16:57:50", "16:58:34", "17:23:22"}; !slices.Equal(fences, want) {
		t.Errorf("depot entered, exited, entered at %v, want %v", fences, want)
	}

	if !trip.StartTime.Equal(clock("16:57:54")) || !trip.EndTime.Equal(clock("17:23:52")) || trip.DurationS != 1558 {
		t.Errorf("trip %s – %s (%g s), want 16:57:54 – 17:23:52 (1558 s)", trip.StartTime, trip.EndTime, trip.DurationS)
	}
	if trip.MaxSpeedKph != 104.5 || trip.IdleS != 170 {
		t.Errorf("trip max %g km/h, idle %g s; want 104.5 km/h, 170 s", trip.MaxSpeedKph, trip.IdleS)
	}
	var trackM float64
	for i := 1; i < len(fixes); i++ {
		a, b := fixes[i-1], fixes[i]
		if a.Time.Before(trip.StartTime.Time) || b.Time.After(trip.EndTime.Time) {
			continue
		}
		trackM += geofence.DistanceM(a.Lat, a.Lon, b.Lat, b.Lon)
	}
	if math.Abs(trip.DistanceKm*1000-trackM) > 0.005*trackM {
		t.Errorf("trip distance %.3f km, track %.3f km: more than 0.5%% apart", trip.DistanceKm, trackM/1000)
	}
	if wantAvg := round(trip.DistanceKm/(trip.DurationS/3600), 1); trip.AvgSpeedKph != wantAvg {
		t.Errorf("average %g km/h, want %g", trip.AvgSpeedKph, wantAvg)
	}
	t.Logf("trip %.3f km over a %.3f km track", trip.DistanceKm, trackM/1000)
}
