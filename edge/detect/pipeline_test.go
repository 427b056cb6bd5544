package detect

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

// TestPipelineTellsAStory runs the standard pipeline over a short working
// day: switch on at the depot, drive out, stop, switch off. The events of
// one update come in story order.
func TestPipelineTellsAStory(t *testing.T) {
	p, err := New(Default())
	if err != nil {
		t.Fatal(err)
	}
	depot := fence("depot", tags("depot"))
	// Parked at home until 10 s, driving north at 36 km/h from 12 s to
	// 100 s, parked 900 m north from 102 s. The depot is the first 100 m.
	var drive []step
	for s := 0.0; s <= 210; s += 2 {
		m, kph := 0.0, 0.0
		switch {
		case s > 10 && s <= 100:
			m, kph = (s-10)*10, 36
		case s > 100:
			m = 900
		}
		st := fixNorth(s, m, kph)
		if m < 100 {
			st = st.in(depot)
		}
		drive = append(drive, st)
	}
	steps := []step{
		together(step{run: drive}, ignition(0, true), driver(1, "D-17"), ignition(200, false)),
	}
	var got []string
	for _, e := range run(t, p, state.Config{Ignition: state.IgnitionInput}, steps) {
		got = append(got, e.At.Sub(t0).String()+" "+string(e.Type))
	}
	want := []string{
		"1s driver.changed",
		"2s ignition.on",
		"6s geofence.entered",
		"22s vehicle.moving",
		"22s trip.started",
		"30s geofence.exited", // outside from 20 s
		"2m42s vehicle.stopped",
		"3m22s ignition.off",
		"3m22s trip.completed",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events\n got %q\nwant %q", got, want)
	}
}

// TestCatalogue checks the catalogue the API documents: unique types that
// can be subject tokens, and data names that match the data structs.
func TestCatalogue(t *testing.T) {
	seen, tokens := map[event.Type]bool{}, map[string]event.Type{}
	for _, info := range event.Catalogue() {
		if seen[info.Type] {
			t.Errorf("%s listed twice", info.Type)
		}
		seen[info.Type] = true
		token := event.TypeToken(info.Type)
		if other, dup := tokens[token]; dup {
			t.Errorf("%s and %s share the subject token %s", info.Type, other, token)
		}
		tokens[token] = info.Type
		if err := event.ValidToken("type", token); err != nil {
			t.Error(err)
		}
		if name := reflect.TypeOf(info.Data).Name(); name != info.DataName {
			t.Errorf("%s: DataName %s, but Data is a %s", info.Type, info.DataName, name)
		}
		if info.Summary == "" {
			t.Errorf("%s has no summary", info.Type)
		}
	}
	for _, typ := range []event.Type{
		event.TypeVehicleMoving, event.TypeVehicleStopped, event.TypeIgnitionOn, event.TypeIgnitionOff,
		event.TypeTripStarted, event.TypeTripCompleted, event.TypeIdleStarted, event.TypeIdleEnded,
		event.TypeSpeedingStarted, event.TypeSpeedingEnded, event.TypePostedSpeedExceeded,
		event.TypeGeofenceEntered, event.TypeGeofenceExited, event.TypeGeofenceDwell,
		event.TypeRouteDeviated, event.TypeRouteRejoined, event.TypeVoltageLow,
		event.TypeDTCDetected, event.TypeDTCCleared, event.TypeTemperatureOutOfRange,
		event.TypeDriverChanged, event.TypeServiceDue, event.TypeHarshBraking, event.TypeHarshAcceleration,
	} {
		if !seen[typ] {
			t.Errorf("%s is not in the catalogue", typ)
		}
	}
}

// catalogued maps each type to its catalogue entry.
var catalogued = func() map[event.Type]event.TypeInfo {
	m := map[event.Type]event.TypeInfo{}
	for _, info := range event.Catalogue() {
		m[info.Type] = info
	}
	return m
}()

// conforms checks that an emission carries the data struct the catalogue
// names for its type, and that it encodes as JSON.
func conforms(t testing.TB, e Emission) {
	t.Helper()
	info, ok := catalogued[e.Type]
	if !ok {
		t.Fatalf("%s is not in the event catalogue", e.Type)
	}
	if got := reflect.TypeOf(e.Data); got != reflect.TypeOf(info.Data) {
		t.Fatalf("%s carries a %v; the catalogue says %s", e.Type, got, info.DataName)
	}
	if _, err := json.Marshal(e.Data); err != nil {
		t.Fatalf("%s: %v", e.Type, err)
	}
}
