package detect

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/geofence"
	"github.com/oklog/ulid/v2"
)

// seqIDs is a deterministic id source for tests: id-1, id-2…
func seqIDs() func(time.Time) string {
	n := 0
	return func(time.Time) string { n++; return fmt.Sprintf("id-%d", n) }
}

// TestTripSettles covers the end of a trip's track: fixes that come in
// during the final stop, and the correction of a trip that ended before its
// track did.
func TestTripSettles(t *testing.T) {
	summary := func(start, end, metres, maxKph float64) event.TripCompletedData {
		return event.TripCompletedData{
			StartTime: ts(start), EndTime: ts(end), StartLocation: north(0), EndLocation: north(metres),
			DistanceKm: metres / 1000, DurationS: end - start,
			MaxSpeedKph: maxKph, AvgSpeedKph: round(metres/1000/((end-start)/3600), 1),
		}
	}
	completed := func(sec float64, id string, d event.TripCompletedData) Emission {
		e := em(event.TypeTripCompleted, sec, d)
		e.ID = id
		return e
	}
	updated := func(sec float64, corrects string, d event.TripCompletedData) Emission {
		u, err := event.NewUpdate(event.TypeTripCompleted, d, event.ReasonLateData)
		if err != nil {
			t.Fatal(err)
		}
		e := em(event.TypeEventUpdated, sec, u)
		e.Corrects = corrects
		return e
	}
	started := em(event.TypeTripStarted, 22, event.TripStartedData{StartTime: ts(10), StartLocation: north(0)})
	ticks := func(first, last float64) step { return every(first, last, 1, tick) }
	// Driving north at 36 km/h from 12 s; the receiver loses its fix after
	// 58 s (480 m north); the car stops out of its sight at 600 m and is
	// switched off at 81 s, which ends the trip at 83 s.
	lost := []step{
		ignition(0, true),
		park(0, 10, 0, 0),
		cruise(12, 58, 20),
		ticks(59, 80),
		ignition(81, false),
		ticks(82, 99),
	}
	sent := summary(10, 81, 480, 36)
	cases := []struct {
		name  string
		state state.Config
		steps []step
		want  []Emission
	}{
		{
			name:  "a fix regained parked completes the track: event.updated",
			state: state.Config{Ignition: state.IgnitionInput},
			steps: append(slices.Clone(lost), park(100, 130, 600, 0)),
			want:  []Emission{started, completed(83, "id-1", sent), updated(100, "id-1", summary(10, 81, 600, 36))},
		},
		{
			name:  "regained within a few metres of the last fix: no update",
			state: state.Config{Ignition: state.IgnitionInput},
			steps: append(slices.Clone(lost), park(100, 130, 480+TripSettleMinM-1, 0)),
			want:  []Emission{started, completed(83, "id-1", sent)},
		},
		{
			name:  "regained after the settle window: no update",
			state: state.Config{Ignition: state.IgnitionInput},
			steps: append(slices.Clone(lost), ticks(100, 203), park(204, 230, 600, 0)),
			want:  []Emission{started, completed(83, "id-1", sent)},
		},
		{
			name:  "regained on the move: the car left, no update",
			state: state.Config{Ignition: state.IgnitionInput},
			steps: append(slices.Clone(lost), cruise(100, 106, 600)),
			want:  []Emission{started, completed(83, "id-1", sent)},
		},
		{
			name:  "engine started again before the fix came back: no update",
			state: state.Config{Ignition: state.IgnitionInput},
			steps: append(slices.Clone(lost), ignition(99.5, true), park(100, 130, 600, 0)),
			want:  []Emission{started, completed(83, "id-1", sent)},
		},
		{
			// The bus reads 0 at 60 s; the receiver's fix of 59 s (still
			// rolling, 490 m) comes in after it. It belongs to the trip,
			// which ends 5 min later at rest, final at once.
			name: "a lagging fix during the final stop is the trip's",
			steps: []step{
				together(every(0, 10, 2, func(s float64) step { return busSpeed(s, 0) }), park(0, 10, 0, 0)),
				together(every(12, 58, 2, func(s float64) step { return busSpeed(s, 36) }), cruise(12, 58, 20)),
				busSpeed(60, 0), fixNorth(59, 490, 20),
				together(every(62, 370, 2, func(s float64) step { return busSpeed(s, 0) }), park(61, 371, 500, 0)),
			},
			want: []Emission{started, em(event.TypeTripCompleted, 360, summary(10, 60, 490, 36))},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewTrip(Default())
			d.ids = seqIDs()
			check(t, run(t, d, c.state, c.steps), c.want)
		})
	}
}

// TestRegensburgLateFix replays the real Regensburg drive (see
// TestRegensburgDrive) through the standard pipeline with an ignition
// input switched off at 17:24:00, 8 s after the car came to rest, and
// without the fixes of an outage on the way in: the receiver lost its fix
// after 17:22:58 (24.6 km/h, about 300 m before the parking place) and
// regains it parked. The trip ends 2 s after the ignition went off, at the
// last fix it has; the regained fix completes its track, and when it comes
// within TripSettle, event.updated corrects trip.completed with the
// straight line across the outage added, the parking place as its end, and
// nothing else changed.
func TestRegensburgLateFix(t *testing.T) {
	all := regensburgFixes(t)
	day := all[0].Time
	clock := func(hms string) time.Time {
		c, err := time.Parse("15:04:05", hms)
		if err != nil {
			t.Fatal(err)
		}
		y, m, d := day.Date()
		return time.Date(y, m, d, c.Hour(), c.Minute(), c.Second(), 0, time.UTC)
	}
	off := clock("17:24:00")
	cases := []struct {
		name          string
		lost, back    string // the outage: fixes after lost and before back are missing
		wantCorrected bool
	}{
		{name: "no outage", wantCorrected: false},
		{name: "fix regained parked at 17:24:20", lost: "17:22:58", back: "17:24:20", wantCorrected: true},
		{name: "fix regained parked at 17:25:30", lost: "17:22:58", back: "17:25:30", wantCorrected: true},
		{name: "fix regained after the settle window", lost: "17:22:58", back: "17:26:10", wantCorrected: false},
		{name: "fix lost only once parked", lost: "17:23:54", back: "17:24:30", wantCorrected: false},
	}
	var fullKm float64
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fixes := all
			if c.lost != "" {
				fixes = slices.DeleteFunc(slices.Clone(all), func(f gnss.Fix) bool {
					return f.Time.After(clock(c.lost)) && f.Time.Before(clock(c.back))
				})
			}
			p, err := New(Default())
			if err != nil {
				t.Fatal(err)
			}
			store, err := state.New(state.Config{Ignition: state.IgnitionInput})
			if err != nil {
				t.Fatal(err)
			}
			var got []Emission
			detect := func(ch state.Change) { p.Detect(Input{Change: ch}, func(e Emission) { got = append(got, e) }) }
			detect(store.SetIgnition(day, true))
			next := day
			for _, f := range fixes {
				// The agent's heartbeat ticks the state every 2 s, fix or not;
				// the ignition input goes off at 17:24:00.
				for next = next.Add(2 * time.Second); next.Before(f.Time); next = next.Add(2 * time.Second) {
					if next.Equal(off) {
						detect(store.SetIgnition(off, false))
						continue
					}
					detect(store.Tick(next))
				}
				if f.Time.Equal(off) {
					detect(store.SetIgnition(off, false))
				}
				detect(store.SetFix(f.Time, position(f), f.SpeedKph, f.HasSpeed))
			}
			var trips, corrections []Emission
			for _, e := range got {
				conforms(t, e)
				switch e.Type {
				case event.TypeTripCompleted:
					trips = append(trips, e)
				case event.TypeEventUpdated, event.TypeEventRetracted:
					corrections = append(corrections, e)
				}
				switch d := e.Data.(type) {
				case event.TripCompletedData:
					t.Logf("%s %s id=%s %s", e.At.Format("15:04:05"), e.Type, e.ID, deref(d))
				case event.EventUpdatedData:
					t.Logf("%s %s corrects=%s data.type=%s data.reason=%s data.data=%s", e.At.Format("15:04:05"), e.Type, e.Corrects, d.Type, d.Reason, d.Data)
				}
			}
			if len(trips) != 1 {
				t.Fatalf("%d trips completed, want 1", len(trips))
			}
			trip := trips[0].Data.(event.TripCompletedData)
			if !trip.StartTime.Equal(clock("16:57:54")) || trip.MaxSpeedKph != 104.5 {
				t.Errorf("trip from %s, max %g km/h; want 16:57:54, 104.5 km/h", trip.StartTime, trip.MaxSpeedKph)
			}
			if c.lost == "" {
				fullKm = trip.DistanceKm
				if !trip.EndTime.Equal(clock("17:23:52")) || !trips[0].At.Equal(clock("17:24:02")) || trips[0].ID != "" {
					t.Errorf("trip ended %s, completed at %s, id %q; want 17:23:52, 17:24:02, none (final at once)", trip.EndTime, trips[0].At, trips[0].ID)
				}
			}
			if !c.wantCorrected {
				if len(corrections) != 0 {
					t.Fatalf("corrections %v, want none", show(corrections))
				}
				return
			}
			// Ended at the ignition's off, at the last fix before the outage.
			if !trip.EndTime.Equal(off) || !trips[0].At.Equal(off.Add(2*time.Second)) {
				t.Errorf("trip ended %s, completed at %s; want 17:24:00, 17:24:02", trip.EndTime, trips[0].At)
			}
			if _, err := ulid.ParseStrict(trips[0].ID); err != nil {
				t.Fatalf("trip.completed id %q: %v", trips[0].ID, err)
			}
			if len(corrections) != 1 {
				t.Fatalf("corrections %v, want one event.updated", show(corrections))
			}
			u := corrections[0]
			data := u.Data.(event.EventUpdatedData)
			if u.Type != event.TypeEventUpdated || u.Corrects != trips[0].ID || u.ID != "" || !u.At.Equal(clock(c.back)) ||
				data.Type != event.TypeTripCompleted || data.Reason != event.ReasonLateData {
				t.Fatalf("correction %+v at %s, want event.updated of trip.completed %s at %s", data, u.At, trips[0].ID, c.back)
			}
			var fixed event.TripCompletedData
			if err := json.Unmarshal(data.Data, &fixed); err != nil {
				t.Fatal(err)
			}
			last, _ := lastBefore(all, clock(c.lost))
			regained, _ := lastBefore(all, clock(c.back).Add(time.Second))
			acrossM := geofence.DistanceM(last.Lat, last.Lon, regained.Lat, regained.Lon)
			want := trip
			want.DistanceKm = round(trip.DistanceKm+acrossM/1000, 3)
			want.AvgSpeedKph = round(want.DistanceKm/(want.DurationS/3600), 1)
			want.EndLocation = &event.Point{Lat: round(regained.Lat, 6), Lon: round(regained.Lon, 6)}
			if math.Abs(fixed.DistanceKm-want.DistanceKm) > 0.0011 { // both rounded to the metre
				t.Errorf("corrected distance %.3f km, want %.3f (+%.0f m across the outage)", fixed.DistanceKm, want.DistanceKm, acrossM)
			}
			fixed.DistanceKm, fixed.AvgSpeedKph, want.AvgSpeedKph = want.DistanceKm, 0, 0
			if !reflect.DeepEqual(fixed, want) {
				t.Errorf("corrected summary\n got %s\nwant %s", deref(fixed), deref(want))
			}
			// The straight line cuts the corners of the road, so the corrected
			// trip is still a little shorter than with every fix, but within
			// the 0.5% TestRegensburgDrive allows.
			if fullKm == 0 {
				t.Log("the no-outage case did not run: the distance with every fix is not known")
			} else if !(trip.DistanceKm+0.1 < want.DistanceKm && want.DistanceKm <= fullKm && fullKm-want.DistanceKm < 0.005*fullKm) {
				t.Errorf("distances: sent %.3f, corrected %.3f, with every fix %.3f km", trip.DistanceKm, want.DistanceKm, fullKm)
			}
		})
	}
}

// lastBefore is the last fix before at.
func lastBefore(fixes []gnss.Fix, at time.Time) (gnss.Fix, bool) {
	var last gnss.Fix
	found := false
	for _, f := range fixes {
		if !f.Time.Before(at) {
			break
		}
		last, found = f, true
	}
	return last, found
}
