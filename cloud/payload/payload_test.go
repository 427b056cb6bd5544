package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
)

var at = time.Date(2024, 9, 7, 7, 43, 19, 687_000_000, time.UTC)

func ptr[T any](v T) *T { return &v }

// envelope marshals a real event of type typ with data.
func envelope(t testing.TB, typ event.Type, data any, mut ...func(*event.Event)) []byte {
	t.Helper()
	e := event.Event{
		ID:            "01J7AQ3Z8WDXK5VJ0RB6T4M2NC",
		Type:          typ,
		SchemaVersion: event.SchemaVersion,
		OccurredAt:    event.Time{Time: at},
		Account:       "acme",
		Vehicle:       event.Vehicle{ID: "truck-042", Registration: "RG-FW 42", Name: "Lkw Süd"},
		Seq:           7,
		Location:      &event.Location{Lat: 49.0134, Lon: 12.1016, SpeedKph: 43.5, HeadingDeg: 271.25, AltitudeM: 338, FixQuality: 1},
	}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			t.Fatal(err)
		}
		e.Data = b
	}
	for _, m := range mut {
		m(&e)
	}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// realEnvelopes covers the catalogue's shapes: nested vehicle-bus data,
// optional pointers, booleans, arrays, tiny and huge numbers, a driver,
// no location.
func realEnvelopes(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"position": envelope(t, event.TypePosition, event.PositionData{
			Reason: "interval", Satellites: 9, HDOP: 0.8,
			Vehicle: &event.VehicleData{Ignition: ptr(true), SpeedKph: ptr(43.5), SpeedSource: "obd", RPM: ptr(1450.0),
				OdometerKm: ptr(184223.4), CoolantC: ptr(88.0), BatteryV: ptr(14.1), DTCs: []string{"P0301", "P0420"}},
		}),
		"heartbeat without fix": envelope(t, event.TypeHeartbeat, event.HeartbeatData{UptimeS: 86400, HasFix: false},
			func(e *event.Event) { e.Location = nil }),
		"trip.completed": envelope(t, event.TypeTripCompleted, event.TripCompletedData{
			StartTime: event.Time{Time: at.Add(-time.Hour)}, EndTime: event.Time{Time: at},
			StartLocation: &event.Point{Lat: 48.13743, Lon: 11.57549}, EndLocation: &event.Point{Lat: 49.0134, Lon: 12.1016},
			DistanceKm: 121.7, DurationS: 3600, MaxSpeedKph: 131.2, AvgSpeedKph: 121.7, IdleS: 94,
		}),
		"geofence.entered": envelope(t, event.TypeGeofenceEntered, event.GeofenceEnteredData{
			GeofenceID: "regensburg-altstadt", GeofenceName: "Regensburg Altstadt & Stadtamhof", Tags: []string{"city", "lez", "zone=1"},
		}),
		"dtc.detected with driver": envelope(t, event.TypeDTCDetected, event.DTCDetectedData{Code: "SPN 110 FMI 0", Source: "j1939"},
			func(e *event.Event) { e.Driver = &event.Driver{ID: "drv-9", Name: "Zoë O'Brien"} }),
		"harsh.braking tiny and huge numbers": envelope(t, event.TypeHarshBraking, event.HarshBrakingData{
			DeltaKph: -31.5, OverS: 1e-7, G: 1.5e21, FromKph: 62, ToKph: 30.5, SpeedSource: "gnss",
		}, func(e *event.Event) { e.Seq = 1<<63 + 12345 }),
		"ignition.on no counters": envelope(t, event.TypeIgnitionOn, event.IgnitionOnData{Source: "derived"}),
		"event.updated of a trip": correction(t, event.TypeEventUpdated, update(t)),
		"event.retracted":         correction(t, event.TypeEventRetracted, event.EventRetractedData{Type: event.TypeHarshBraking, Reason: "gnss_outlier"}),
	}
}

// correctedID is the id of the trip.completed event the corrections supersede.
const correctedID = "01J7AQ3Z8WDXK5VJ0RB6T4M2NC"

// correction is an envelope of a correction type, with its own id and seq,
// superseding the event correctedID.
func correction(t testing.TB, typ event.Type, data any) []byte {
	return envelope(t, typ, data, func(e *event.Event) {
		e.ID, e.Seq, e.Corrects = "01J7AQ4B2M9X3Y5Z7Q1W8E6R4T", 12, correctedID
	})
}

// update is a trip summary grown by a late fix.
func update(t testing.TB) event.EventUpdatedData {
	u, err := event.NewUpdate(event.TypeTripCompleted, event.TripCompletedData{
		StartTime: event.Time{Time: at.Add(-time.Hour)}, EndTime: event.Time{Time: at.Add(-time.Minute)},
		StartLocation: &event.Point{Lat: 48.13743, Lon: 11.57549}, EndLocation: &event.Point{Lat: 49.0134, Lon: 12.1016},
		DistanceKm: 122.31, DurationS: 3540, MaxSpeedKph: 131.2, AvgSpeedKph: 124.4, IdleS: 94,
	}, event.ReasonLateData)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestParseFormatAndShape(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Format
		err  bool
	}{{"", FormatJSON, false}, {"json", FormatJSON, false}, {"form", FormatForm, false}, {"JSON", "", true}, {"xml", "", true}, {" form", "", true}} {
		got, err := ParseFormat(c.in)
		if got != c.want || (err != nil) != c.err || (err != nil && !errors.Is(err, ErrFormat)) {
			t.Errorf("ParseFormat(%q) = %q, %v", c.in, got, err)
		}
	}
	for _, c := range []struct {
		in   string
		want Shape
		err  bool
	}{{"", ShapeFull, false}, {"full", ShapeFull, false}, {"minimal", ShapeMinimal, false}, {"Minimal", "", true}, {"thin", "", true}} {
		got, err := ParseShape(c.in)
		if got != c.want || (err != nil) != c.err || (err != nil && !errors.Is(err, ErrShape)) {
			t.Errorf("ParseShape(%q) = %q, %v", c.in, got, err)
		}
	}
	if Format("").Valid() || !FormatForm.Valid() || Shape("").Valid() || !ShapeMinimal.Valid() {
		t.Error("Valid: only the named values are valid")
	}
	if FormatForm.ContentType() != ContentTypeForm || Format("").ContentType() != ContentTypeJSON || Format("x").ContentType() != "" {
		t.Error("ContentType")
	}
	var sub struct {
		Format  Format `json:"format"`
		Payload Shape  `json:"payload"`
	}
	if err := json.Unmarshal([]byte(`{"format":"form","payload":"minimal"}`), &sub); err != nil || sub.Format != FormatForm || sub.Payload != ShapeMinimal {
		t.Errorf("UnmarshalText: %+v %v", sub, err)
	}
	if err := json.Unmarshal([]byte(`{"format":"yaml"}`), &sub); !errors.Is(err, ErrFormat) {
		t.Errorf("UnmarshalText of an unknown format: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"payload":"tiny"}`), &sub); !errors.Is(err, ErrShape) {
		t.Errorf("UnmarshalText of an unknown shape: %v", err)
	}
}

func TestRenderUnknownFormatOrShape(t *testing.T) {
	env := []byte(`{"id":"x"}`)
	if _, _, err := Render(env, "xml", ShapeFull); !errors.Is(err, ErrFormat) {
		t.Errorf("format xml: %v", err)
	}
	if _, _, err := Render(env, FormatJSON, "thin"); !errors.Is(err, ErrShape) {
		t.Errorf("shape thin: %v", err)
	}
	body, ct, err := Render(env, "", "")
	if err != nil || ct != ContentTypeJSON || !bytes.Equal(body, env) {
		t.Errorf("zero format and shape: %s %q %v, want the envelope as JSON", body, ct, err)
	}
}

// TestRenderGolden pins the exact bodies of one envelope in the four
// combinations: key order, escaping, brackets, array indexes.
func TestRenderGolden(t *testing.T) {
	env := envelope(t, event.TypeGeofenceEntered, event.GeofenceEnteredData{
		GeofenceID: "regensburg", GeofenceName: "Regensburg Altstadt", Tags: []string{"city", "lez"},
	}, func(e *event.Event) {
		e.Vehicle.Name = ""
		e.Location = &event.Location{Lat: 49.0134, Lon: 12.1016, FixQuality: 1}
	})
	cases := []struct {
		f    Format
		s    Shape
		ct   string
		want string
	}{
		{FormatJSON, ShapeFull, ContentTypeJSON, string(env)},
		{FormatJSON, ShapeMinimal, ContentTypeJSON, `{"id":"01J7AQ3Z8WDXK5VJ0RB6T4M2NC","type":"geofence.entered","schemaVersion":"1.0",` +
			`"occurredAt":"2024-09-07T07:43:19.687Z","account":"acme","vehicle":{"id":"truck-042"},"seq":7,"location":{"lat":49.0134,"lon":12.1016}}`},
		{FormatForm, ShapeFull, ContentTypeForm, "account=acme" +
			"&data%5BgeofenceId%5D=regensburg&data%5BgeofenceName%5D=Regensburg+Altstadt&data%5Btags%5D%5B0%5D=city&data%5Btags%5D%5B1%5D=lez" +
			"&id=01J7AQ3Z8WDXK5VJ0RB6T4M2NC" +
			"&location%5BaltitudeM%5D=0&location%5BfixQuality%5D=1&location%5BheadingDeg%5D=0&location%5Blat%5D=49.0134&location%5Blon%5D=12.1016&location%5BspeedKph%5D=0" +
			"&occurredAt=2024-09-07T07%3A43%3A19.687Z&schemaVersion=1.0&seq=7&type=geofence.entered" +
			"&vehicle%5Bid%5D=truck-042&vehicle%5Bregistration%5D=RG-FW+42"},
		{FormatForm, ShapeMinimal, ContentTypeForm, "account=acme&id=01J7AQ3Z8WDXK5VJ0RB6T4M2NC" +
			"&location%5Blat%5D=49.0134&location%5Blon%5D=12.1016" +
			"&occurredAt=2024-09-07T07%3A43%3A19.687Z&schemaVersion=1.0&seq=7&type=geofence.entered&vehicle%5Bid%5D=truck-042"},
	}
	for _, c := range cases {
		body, ct, err := Render(env, c.f, c.s)
		if err != nil || ct != c.ct || string(body) != c.want {
			t.Errorf("%s/%s:\n got %s (%q, %v)\nwant %s", c.f, c.s, body, ct, err, c.want)
		}
	}
}

// TestRenderCorrections pins what a receiver gets of the correction types
// in every combination: corrects in all of them, minimal included; the
// corrected type, its new data and the reason in the full ones.
func TestRenderCorrections(t *testing.T) {
	envs := realEnvelopes(t)
	head := "account=acme&corrects=" + correctedID + "&id=01J7AQ4B2M9X3Y5Z7Q1W8E6R4T"
	minimalForm := func(typ string) string {
		return head + "&location%5Blat%5D=49.0134&location%5Blon%5D=12.1016" +
			"&occurredAt=2024-09-07T07%3A43%3A19.687Z&schemaVersion=1.0&seq=12&type=" + typ + "&vehicle%5Bid%5D=truck-042"
	}
	minimalJSON := func(typ string) string {
		return `{"id":"01J7AQ4B2M9X3Y5Z7Q1W8E6R4T","type":"` + typ + `","schemaVersion":"1.0","occurredAt":"2024-09-07T07:43:19.687Z",` +
			`"account":"acme","vehicle":{"id":"truck-042"},"seq":12,"corrects":"` + correctedID + `","location":{"lat":49.0134,"lon":12.1016}}`
	}
	cases := []struct {
		name string
		env  []byte
		f    Format
		s    Shape
		want map[string]string // form keys, or "json" for the exact body
	}{
		{"updated json minimal", envs["event.updated of a trip"], FormatJSON, ShapeMinimal, map[string]string{"json": minimalJSON("event.updated")}},
		{"retracted json minimal", envs["event.retracted"], FormatJSON, ShapeMinimal, map[string]string{"json": minimalJSON("event.retracted")}},
		{"updated form minimal", envs["event.updated of a trip"], FormatForm, ShapeMinimal, map[string]string{"form": minimalForm("event.updated")}},
		{"retracted form minimal", envs["event.retracted"], FormatForm, ShapeMinimal, map[string]string{"form": minimalForm("event.retracted")}},
		{"updated form full", envs["event.updated of a trip"], FormatForm, ShapeFull, map[string]string{
			"corrects": correctedID, "type": "event.updated", "seq": "12",
			"data[type]": "trip.completed", "data[reason]": "late_data",
			"data[data][distanceKm]": "122.31", "data[data][endLocation][lat]": "49.0134", "data[data][endTime]": "2024-09-07T07:42:19.687Z",
		}},
		{"retracted form full", envs["event.retracted"], FormatForm, ShapeFull, map[string]string{
			"corrects": correctedID, "type": "event.retracted", "data[type]": "harsh.braking", "data[reason]": "gnss_outlier",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, _, err := Render(c.env, c.f, c.s)
			if err != nil {
				t.Fatal(err)
			}
			if want, ok := c.want["json"]; ok {
				if string(body) != want {
					t.Fatalf("got  %s\nwant %s", body, want)
				}
				return
			}
			if want, ok := c.want["form"]; ok {
				if string(body) != want {
					t.Fatalf("got  %s\nwant %s", body, want)
				}
				return
			}
			q, err := url.ParseQuery(string(body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.want {
				if got := q.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
	// The full JSON body is the envelope, and a generic receiver reads the
	// corrected type and data from it.
	body, _, err := Render(envs["event.updated of a trip"], FormatJSON, ShapeFull)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Corrects string `json:"corrects"`
		Data     struct {
			Type string                     `json:"type"`
			Data map[string]json.RawMessage `json:"data"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Corrects != correctedID || e.Data.Type != "trip.completed" || string(e.Data.Data["distanceKm"]) != "122.31" {
		t.Fatalf("full JSON: %+v %v", e, err)
	}
}

// TestRenderRealEvents renders real envelopes in every combination and
// checks each body against an independent reading of the envelope with
// encoding/json.
func TestRenderRealEvents(t *testing.T) {
	for name, env := range realEnvelopes(t) {
		t.Run(name, func(t *testing.T) {
			checkRender(t, env)
		})
	}
}

func TestRenderFormRoundTrip(t *testing.T) {
	envs := realEnvelopes(t)
	q := formOf(t, envs["position"], ShapeFull)
	want := map[string]string{
		"id":                         "01J7AQ3Z8WDXK5VJ0RB6T4M2NC",
		"type":                       "position",
		"schemaVersion":              "1.0",
		"occurredAt":                 "2024-09-07T07:43:19.687Z",
		"account":                    "acme",
		"vehicle[id]":                "truck-042",
		"vehicle[registration]":      "RG-FW 42",
		"vehicle[name]":              "Lkw Süd",
		"seq":                        "7",
		"location[lat]":              "49.0134",
		"location[lon]":              "12.1016",
		"location[speedKph]":         "43.5",
		"location[headingDeg]":       "271.25",
		"location[altitudeM]":        "338",
		"location[fixQuality]":       "1",
		"data[reason]":               "interval",
		"data[satellites]":           "9",
		"data[hdop]":                 "0.8",
		"data[vehicle][ignition]":    "true",
		"data[vehicle][speedKph]":    "43.5",
		"data[vehicle][speedSource]": "obd",
		"data[vehicle][rpm]":         "1450",
		"data[vehicle][odometerKm]":  "184223.4",
		"data[vehicle][coolantC]":    "88",
		"data[vehicle][batteryV]":    "14.1",
		"data[vehicle][dtcs][0]":     "P0301",
		"data[vehicle][dtcs][1]":     "P0420",
	}
	assertQuery(t, q, want)

	q = formOf(t, envs["heartbeat without fix"], ShapeFull)
	if q.Get("data[hasFix]") != "false" || q.Get("data[uptimeS]") != "86400" || q.Has("location[lat]") {
		t.Errorf("heartbeat: %v", q)
	}
	q = formOf(t, envs["heartbeat without fix"], ShapeMinimal)
	assertQuery(t, q, map[string]string{
		"id": "01J7AQ3Z8WDXK5VJ0RB6T4M2NC", "type": "heartbeat", "schemaVersion": "1.0", "occurredAt": "2024-09-07T07:43:19.687Z",
		"account": "acme", "vehicle[id]": "truck-042", "seq": "7",
	})

	q = formOf(t, envs["harsh.braking tiny and huge numbers"], ShapeFull)
	for k, v := range map[string]string{
		"data[overS]": "0.0000001", "data[g]": "1500000000000000000000", "data[deltaKph]": "-31.5", "seq": "9223372036854788153",
	} {
		if got := q.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	q = formOf(t, envs["geofence.entered"], ShapeFull)
	if q.Get("data[geofenceName]") != "Regensburg Altstadt & Stadtamhof" || q.Get("data[tags][2]") != "zone=1" {
		t.Errorf("reserved characters did not survive: %v", q)
	}
	q = formOf(t, envs["dtc.detected with driver"], ShapeFull)
	if q.Get("driver[name]") != "Zoë O'Brien" || q.Get("data[code]") != "SPN 110 FMI 0" {
		t.Errorf("driver: %v", q)
	}
}

func formOf(t *testing.T, env []byte, s Shape) url.Values {
	t.Helper()
	body, ct, err := Render(env, FormatForm, s)
	if err != nil || ct != ContentTypeForm {
		t.Fatalf("Render: %q %v", ct, err)
	}
	q, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatalf("ParseQuery(%s): %v", body, err)
	}
	return q
}

func assertQuery(t *testing.T, q url.Values, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := q[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for k := range q {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected key %s = %q", k, q[k])
		}
	}
}

func TestRenderFormValues(t *testing.T) {
	cases := []struct {
		name, env, want string
	}{
		{"null is empty", `{"a":null}`, "a="},
		{"booleans", `{"t":true,"f":false}`, "f=false&t=true"},
		{"empty containers produce no key", `{"a":{},"b":[],"c":1}`, "c=1"},
		{"empty object", `{}`, ""},
		{"whitespace everywhere", " \n{ \"b\" : [ 1 , { \"x\" : \"y\" } ] ,\t\"a\" : null } \r\n", "a=&b%5B0%5D=1&b%5B1%5D%5Bx%5D=y"},
		{"keys sorted by bytes at every level", `{"b":{"z":1,"a":2},"a":3,"B":4}`, "B=4&a=3&b%5Ba%5D=2&b%5Bz%5D=1"},
		{"array indexes in order past 9", `{"a":[0,1,2,3,4,5,6,7,8,9,10,11]}`,
			"a%5B0%5D=0&a%5B1%5D=1&a%5B2%5D=2&a%5B3%5D=3&a%5B4%5D=4&a%5B5%5D=5&a%5B6%5D=6&a%5B7%5D=7&a%5B8%5D=8&a%5B9%5D=9&a%5B10%5D=10&a%5B11%5D=11"},
		{"nested arrays", `{"m":[[1,2],[3]]}`, "m%5B0%5D%5B0%5D=1&m%5B0%5D%5B1%5D=2&m%5B1%5D%5B0%5D=3"},
		{"duplicate key: the last wins", `{"a":1,"b":2,"a":{"x":3}}`, "a%5Bx%5D=3&b=2"},
		{"escaped key equals plain key", `{"\u0061":1,"a":2}`, "a=2"},
		{"empty key at top", `{"":{"a":1}}`, "%5Ba%5D=1"},
		{"string escapes", `{"s":"a b&c=d+e%f/\"\\\n\t\u00e9\ud83d\ude9a"}`, "s=a+b%26c%3Dd%2Be%25f%2F%22%5C%0A%09%C3%A9%F0%9F%9A%9A"},
		{"lone surrogate", `{"s":"x\ud800y"}`, "s=x%EF%BF%BDy"},
		{"surrogate then escape", `{"s":"\ud800\n"}`, "s=%EF%BF%BD%0A"},
		{"invalid UTF-8", "{\"s\":\"a\xffb\"}", "s=a%EF%BF%BDb"},
		{"unicode key", `{"größe":1}`, "gr%C3%B6%C3%9Fe=1"},
		{"bracket in a key is escaped", `{"a[b]":1}`, "a%5Bb%5D=1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, _, err := Render([]byte(c.env), FormatForm, ShapeFull)
			if err != nil || string(body) != c.want {
				t.Errorf("Render(%s) = %s, %v; want %s", c.env, body, err, c.want)
			}
		})
	}
}

func TestRenderFormNumbers(t *testing.T) {
	cases := []struct{ in, want string }{
		{"0", "0"},
		{"-0", "-0"},
		{"7", "7"},
		{"-31.5", "-31.5"},
		{"18446744073709551615", "18446744073709551615"}, // max uint64: no float rounding
		{"12.345678901234567890123", "12.345678901234567890123"},
		{"1e-7", "0.0000001"},
		{"1E-7", "0.0000001"},
		{"-2.5e-3", "-0.0025"},
		{"1e21", "1000000000000000000000"},
		{"1.5e+21", "1500000000000000000000"},
		{"1.25e2", "125"},
		{"1.2345e1", "12.345"},
		{"123e-2", "1.23"},
		{"0.00120e3", "1.2"},
		{"0e10", "0"},
		{"-0.0e-5", "0"},
		{"5e-324", "0." + strings.Repeat("0", 323) + "5"},
		{"1.7976931348623157e308", "17976931348623157" + strings.Repeat("0", 292)},
		{"1e401", "1e401"}, // beyond any float64: the exponent stays
		{"-0.0e+1000", "-0.0e%2B1000"},
		{"1e-99999999999999999999", "1e-99999999999999999999"},
	}
	for _, c := range cases {
		body, _, err := Render([]byte(`{"n":`+c.in+`}`), FormatForm, ShapeFull)
		if err != nil || string(body) != "n="+c.want {
			t.Errorf("%s: %s %v, want n=%s", c.in, body, err, c.want)
		}
	}
}

func TestRenderMinimalJSON(t *testing.T) {
	cases := []struct{ name, env, want string }{
		{"empty", `{}`, `{}`},
		{"unrelated", `{"a":1,"data":{"id":"x"}}`, `{}`},
		{"vehicle without id", `{"id":"e1","vehicle":{"name":"x"}}`, `{"id":"e1"}`},
		{"vehicle not an object", `{"vehicle":"v1","location":null}`, `{}`},
		{"last vehicle wins", `{"vehicle":{"id":"a"},"vehicle":null}`, `{}`},
		{"location with lon only", `{"location":{"lon":12.5,"speedKph":3}}`, `{"location":{"lon":12.5}}`},
		{"order is fixed", ` {"location":{"lon":2,"lat":1},"seq":3,"vehicle":{"registration":"r","id":"v"},"account":"a","occurredAt":"t","schemaVersion":"1.0","type":"x","id":"i","driver":{"id":"d"}} `,
			`{"id":"i","type":"x","schemaVersion":"1.0","occurredAt":"t","account":"a","vehicle":{"id":"v"},"seq":3,"location":{"lat":1,"lon":2}}`},
		{"corrects after seq, before location", `{"location":{"lat":1},"corrects":"c","data":{"type":"trip.completed"},"seq":3,"id":"i"}`,
			`{"id":"i","seq":3,"corrects":"c","location":{"lat":1}}`},
		{"values kept verbatim", `{"id":"\u00e9","seq":18446744073709551615,"location":{"lat":1e-7}}`,
			`{"id":"\u00e9","seq":18446744073709551615,"location":{"lat":1e-7}}`},
	}
	for _, c := range cases {
		body, ct, err := Render([]byte(c.env), FormatJSON, ShapeMinimal)
		if err != nil || ct != ContentTypeJSON || string(body) != c.want {
			t.Errorf("%s: %s %q %v, want %s", c.name, body, ct, err, c.want)
		}
	}
}

// TestRenderIgnoresFieldOrder: the form body is a function of the content.
func TestRenderIgnoresFieldOrder(t *testing.T) {
	a := []byte(`{"id":"e","vehicle":{"id":"v","name":"n"},"data":{"x":[1,2],"y":true},"seq":1}`)
	b := []byte(`{"seq":1,"data":{"y":true,"x":[1,2]},"vehicle":{"name":"n","id":"v"},"id":"e"}`)
	for _, s := range []Shape{ShapeFull, ShapeMinimal} {
		ba, _, err1 := Render(a, FormatForm, s)
		bb, _, err2 := Render(b, FormatForm, s)
		if err1 != nil || err2 != nil || !bytes.Equal(ba, bb) {
			t.Errorf("%s: %s (%v) != %s (%v)", s, ba, err1, bb, err2)
		}
	}
}

func TestRenderNotEnvelope(t *testing.T) {
	inputs := []string{"", "   ", "null", "true", "1", `"{}"`, "[]", `[{"id":"x"}]`, "{", `{"a":}`, `{"a":1}x`, `{}{}`,
		`{"a":1,}`, "{'a':1}", "\xef\xbb\xbf{}", `{"a":"\x"}`, "{\"a\":\"\x01\"}"}
	for _, in := range inputs {
		for _, f := range []Format{FormatJSON, FormatForm} {
			for _, s := range []Shape{ShapeFull, ShapeMinimal} {
				body, ct, err := Render([]byte(in), f, s)
				if !errors.Is(err, ErrNotEnvelope) || body != nil || ct != "" {
					t.Errorf("Render(%q, %s, %s) = %q, %q, %v; want ErrNotEnvelope", in, f, s, body, ct, err)
				}
			}
		}
	}
}

func TestRenderLimits(t *testing.T) {
	deep := func(n int) []byte {
		return []byte(strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n))
	}
	if _, _, err := Render(deep(MaxDepth), FormatForm, ShapeFull); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
	if _, _, err := Render(deep(MaxDepth+1), FormatForm, ShapeFull); !errors.Is(err, ErrTooLarge) {
		t.Errorf("depth %d: %v, want ErrTooLarge", MaxDepth+1, err)
	}
	deepArray := []byte(`{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`)
	if _, _, err := Render(deepArray, FormatForm, ShapeFull); !errors.Is(err, ErrTooLarge) {
		t.Errorf("nested arrays: %v, want ErrTooLarge", err)
	}
	for _, s := range []Shape{ShapeFull, ShapeMinimal} {
		if body, _, err := Render(deep(1000), FormatJSON, s); err != nil || len(body) == 0 {
			t.Errorf("JSON %s of a deep envelope: %v", s, err)
		}
	}
	// Every leaf repeats a long key: 100 kB of envelope would be 2.5 GB of form.
	bomb := []byte(`{"` + strings.Repeat("k", 50_000) + `":[` + strings.Repeat("1,", 25_000) + `1]}`)
	if _, _, err := Render(bomb, FormatForm, ShapeFull); !errors.Is(err, ErrTooLarge) {
		t.Errorf("key bomb: %v, want ErrTooLarge", err)
	}
	// A large but ordinary envelope (dispatch.max_payload allows 8 MiB)
	// renders beyond MaxFormBytes: the bound grows with the envelope.
	big := []byte(`{"id":"e","data":{"dtcs":["` + strings.Repeat(`P0301","`, 200_000) + `P0420"]}}`)
	body, _, err := Render(big, FormatForm, ShapeFull)
	if err != nil || len(body) <= MaxFormBytes {
		t.Errorf("large envelope (%d bytes): %d bytes, %v", len(big), len(body), err)
	}
}

// checkRender renders env, a JSON object, in the four combinations and
// checks every body against encoding/json's reading of env.
func checkRender(t *testing.T, env []byte) {
	t.Helper()
	full := decode(t, env)

	body, ct, err := Render(env, FormatJSON, ShapeFull)
	if err != nil || ct != ContentTypeJSON || !bytes.Equal(body, env) {
		t.Fatalf("json/full: %q %v, want the envelope unchanged", ct, err)
	}

	minJSON, ct, err := Render(env, FormatJSON, ShapeMinimal)
	if err != nil || ct != ContentTypeJSON {
		t.Fatalf("json/minimal: %q %v", ct, err)
	}
	if got, want := decode(t, minJSON), minimalOf(full); !reflect.DeepEqual(got, want) {
		t.Fatalf("json/minimal:\n got %v\nwant %v", got, want)
	}

	for _, c := range []struct {
		s   Shape
		ref map[string]any
	}{{ShapeFull, full}, {ShapeMinimal, minimalOf(full)}} {
		want := map[string]any{}
		flattenRef(want, c.ref)
		body, ct, err := Render(env, FormatForm, c.s)
		if errors.Is(err, ErrTooLarge) {
			size := 0
			for k, v := range want {
				size += len(url.QueryEscape(k)) + len(url.QueryEscape(fmt.Sprint(v))) + 2
			}
			if depthOf(c.ref) <= MaxDepth && size < max(MaxFormBytes, FormGrowth*len(env))/2 {
				t.Fatalf("form/%s: %v for a depth of %d and about %d bytes", c.s, err, depthOf(c.ref), size)
			}
			continue
		}
		if err != nil || ct != ContentTypeForm {
			t.Fatalf("form/%s: %q %v", c.s, ct, err)
		}
		q, err := url.ParseQuery(string(body))
		if err != nil {
			t.Fatalf("form/%s: ParseQuery(%q): %v", c.s, body, err)
		}
		if len(q) != len(want) {
			t.Errorf("form/%s: %d keys, want %d\n got %v\nwant %v", c.s, len(q), len(want), q, want)
		}
		for k, w := range want {
			got := q[k]
			if len(got) != 1 {
				t.Errorf("form/%s: key %q has values %q, want one", c.s, k, got)
				continue
			}
			if !sameValue(got[0], w) {
				t.Errorf("form/%s: %s = %q, want %v", c.s, k, got[0], w)
			}
		}
		again, _, _ := Render(env, FormatForm, c.s)
		if !bytes.Equal(again, body) {
			t.Errorf("form/%s: not deterministic", c.s)
		}
	}
}

// decode reads b as encoding/json does, numbers kept as text.
func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return m
}

// minimalOf is the reference minimal envelope.
func minimalOf(full map[string]any) map[string]any {
	m := map[string]any{}
	for _, k := range []string{"id", "type", "schemaVersion", "occurredAt", "account", "seq", "corrects"} {
		if v, ok := full[k]; ok {
			m[k] = v
		}
	}
	if v, ok := full["vehicle"].(map[string]any); ok {
		if id, ok := v["id"]; ok {
			m["vehicle"] = map[string]any{"id": id}
		}
	}
	if l, ok := full["location"].(map[string]any); ok {
		loc := map[string]any{}
		for _, k := range []string{"lat", "lon"} {
			if v, ok := l[k]; ok {
				loc[k] = v
			}
		}
		if len(loc) > 0 {
			m["location"] = loc
		}
	}
	return m
}

// flattenRef is the reference flattening, written the obvious way: the
// envelope's members by name, nested values under name[key] and name[i].
func flattenRef(dst map[string]any, envelope map[string]any) {
	for k, v := range envelope {
		flattenValue(dst, k, v)
	}
}

func flattenValue(dst map[string]any, key string, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			flattenValue(dst, key+"["+k+"]", e)
		}
	case []any:
		for i, e := range v {
			flattenValue(dst, key+"["+strconv.Itoa(i)+"]", e)
		}
	case nil:
		dst[key] = ""
	case bool:
		dst[key] = strconv.FormatBool(v)
	default:
		dst[key] = v
	}
}

// sameValue compares a form value with the reference: numbers by value,
// and written out unless their exponent is out of range.
func sameValue(got string, want any) bool {
	n, ok := want.(json.Number)
	if !ok {
		return got == want.(string)
	}
	s := string(n)
	if e := strings.IndexAny(s, "eE"); e >= 0 {
		exp, err := strconv.Atoi(s[e+1:])
		if err != nil || exp > maxPoint || exp < -maxPoint {
			return got == s
		}
	}
	if strings.ContainsAny(got, "eE") {
		return false
	}
	var a, b big.Rat
	if _, ok := a.SetString(got); !ok {
		return false
	}
	if _, ok := b.SetString(s); !ok {
		return false
	}
	return a.Cmp(&b) == 0
}

func depthOf(v any) int {
	switch v := v.(type) {
	case map[string]any:
		d := 0
		for _, e := range v {
			d = max(d, depthOf(e))
		}
		return d + 1
	case []any:
		d := 0
		for _, e := range v {
			d = max(d, depthOf(e))
		}
		return d + 1
	}
	return 0
}

func BenchmarkRender(b *testing.B) {
	envs := realEnvelopes(b)
	for _, name := range []string{"position", "trip.completed"} {
		env := envs[name]
		for _, f := range []Format{FormatJSON, FormatForm} {
			for _, s := range []Shape{ShapeFull, ShapeMinimal} {
				b.Run(fmt.Sprintf("%s/%s/%s", name, f, s), func(b *testing.B) {
					b.SetBytes(int64(len(env)))
					b.ReportAllocs()
					for b.Loop() {
						if _, _, err := Render(env, f, s); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
