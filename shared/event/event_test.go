package event

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := Event{ID: NewID(time.Now()), Type: "trip.completed", OccurredAt: Time{time.Now()}, Account: "acme", Vehicle: Vehicle{ID: "v1"}, Seq: 1}
	cases := []struct {
		name string
		mut  func(*Event)
		ok   bool
	}{
		{"valid dotted type", func(*Event) {}, true},
		{"no id", func(e *Event) { e.ID = "" }, false},
		{"account with dot", func(e *Event) { e.Account = "a.b" }, false},
		{"vehicle wildcard", func(e *Event) { e.Vehicle.ID = "*" }, false},
		{"type with space", func(e *Event) { e.Type = "trip started" }, false},
		{"seq zero", func(e *Event) { e.Seq = 0 }, false},
		{"no time", func(e *Event) { e.OccurredAt = Time{} }, false},
		{"latitude out of range", func(e *Event) { e.Location = &Location{Lat: 91} }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := ok
			c.mut(&e)
			err := e.Validate()
			if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Fatalf("Validate() = %v, want ok=%v", err, c.ok)
			}
		})
	}
	if got := ok.Subject(); got != "fleet.events.acme.v1.trip_completed" {
		t.Fatalf("subject %q", got)
	}
}

func TestTimeRoundTrip(t *testing.T) {
	in := Time{time.Date(2024, 9, 7, 7, 43, 19, 687_450_000, time.UTC)}
	b, _ := in.MarshalJSON()
	if string(b) != `"2024-09-07T07:43:19.687Z"` {
		t.Fatalf("marshal %s", b)
	}
	var out Time
	if err := out.UnmarshalJSON(b); err != nil || !out.Equal(in.Truncate(time.Millisecond)) {
		t.Fatalf("unmarshal %v %v", out, err)
	}
}

func TestCatalogueTypesAreSubjectTokens(t *testing.T) {
	for _, ti := range Catalogue() {
		if err := ValidToken("type", TypeToken(ti.Type)); err != nil {
			t.Errorf("%s: %v", ti.Type, err)
		}
	}
}

// TestValidateCorrections: corrects is required on event.updated and
// event.retracted, a ULID other than the event's own id, and refused on
// every other type; their data must name the corrected type and a reason.
func TestValidateCorrections(t *testing.T) {
	now := time.Date(2024, 9, 7, 7, 43, 19, 687_000_000, time.UTC)
	earlier := NewID(now.Add(-time.Minute))
	trip := `{"startTime":"2024-09-07T06:43:19.687Z","endTime":"2024-09-07T07:42:19.687Z","distanceKm":12.5,"durationS":3540,"maxSpeedKph":90,"avgSpeedKph":12.7,"idleS":0}`
	base := Event{ID: NewID(now), SchemaVersion: SchemaVersion, OccurredAt: Time{now}, Account: "acme", Vehicle: Vehicle{ID: "v1"}, Seq: 9}
	updated := func(data string) Event {
		e := base
		e.Type, e.Corrects, e.Data = TypeEventUpdated, earlier, json.RawMessage(data)
		return e
	}
	retracted := func(data string) Event {
		e := base
		e.Type, e.Corrects, e.Data = TypeEventRetracted, earlier, json.RawMessage(data)
		return e
	}
	okUpdate := `{"type":"trip.completed","data":` + trip + `,"reason":"late_data"}`
	cases := []struct {
		name string
		e    Event
		want string // "" when valid, else a part of the error
	}{
		{"updated", updated(okUpdate), ""},
		{"retracted", retracted(`{"type":"harsh.braking","reason":"gnss_outlier"}`), ""},
		{"updated of a type from a newer catalogue", updated(`{"type":"door.opened","data":{},"reason":"late_data"}`), ""},
		{"updated without corrects", func() Event { e := updated(okUpdate); e.Corrects = ""; return e }(), "corrects is empty"},
		{"retracted without corrects", func() Event { e := retracted(`{"type":"harsh.braking","reason":"x"}`); e.Corrects = ""; return e }(), "corrects is empty"},
		{"corrects not a ULID", func() Event { e := updated(okUpdate); e.Corrects = "trip-42"; return e }(), `corrects "trip-42" is not an event id`},
		{"corrects with a letter Crockford excludes", func() Event { e := updated(okUpdate); e.Corrects = "01J7AQ3Z8WDXK5VJ0RB6T4M2NU"; return e }(), "is not an event id"},
		{"corrects overflows 128 bits", func() Event { e := updated(okUpdate); e.Corrects = "81J7AQ3Z8WDXK5VJ0RB6T4M2NC"; return e }(), "is not an event id"},
		{"corrects itself", func() Event { e := updated(okUpdate); e.Corrects = e.ID; return e }(), "the event's own id"},
		{"corrects on another type", func() Event { e := updated(trip); e.Type = TypeTripCompleted; return e }(), "corrects is set on a trip.completed event"},
		{"no data", updated(""), "data is missing"},
		{"data null", updated("null"), "not a JSON object"},
		{"data an array", updated(`[1]`), "not a JSON object"},
		{"data.type missing", updated(`{"data":{},"reason":"late_data"}`), "data.type is empty"},
		{"data.type not a type", updated(`{"type":"trip completed","data":{},"reason":"late_data"}`), "data.type"},
		{"data.type a number", updated(`{"type":7,"data":{},"reason":"late_data"}`), "not the expected object"},
		{"updating an update", updated(`{"type":"event.updated","data":{},"reason":"late_data"}`), "a correction cannot be corrected"},
		{"retracting a retraction", retracted(`{"type":"event.retracted","reason":"x"}`), "a correction cannot be corrected"},
		{"data.data missing", updated(`{"type":"trip.completed","reason":"late_data"}`), "data.data must be"},
		{"data.data a string", updated(`{"type":"trip.completed","data":"x","reason":"late_data"}`), "data.data must be"},
		{"data.data null", updated(`{"type":"trip.completed","data":null,"reason":"late_data"}`), "data.data must be"},
		{"no reason", updated(`{"type":"trip.completed","data":{}}`), "data.reason"},
		{"reason with spaces", retracted(`{"type":"trip.completed","reason":"GNSS jump"}`), "data.reason"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.e.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				b, err := c.e.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				back, err := Unmarshal(b)
				if err != nil || back.Corrects != c.e.Corrects {
					t.Fatalf("round trip: corrects %q, %v", back.Corrects, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want ErrInvalid mentioning %q", err, c.want)
			}
		})
	}
}

func TestNewUpdate(t *testing.T) {
	u, err := NewUpdate(TypeTripCompleted, TripCompletedData{DistanceKm: 1.5}, ReasonLateData)
	if err != nil {
		t.Fatal(err)
	}
	var back TripCompletedData
	if err := json.Unmarshal(u.Data, &back); err != nil || back.DistanceKm != 1.5 || u.Type != TypeTripCompleted {
		t.Fatalf("NewUpdate: %+v %v", u, err)
	}
	for name, c := range map[string]struct {
		t      Type
		data   any
		reason string
	}{
		"unencodable":   {TypeTripCompleted, math.NaN(), ReasonLateData},
		"not an object": {TypeTripCompleted, 42, ReasonLateData},
		"a correction":  {TypeEventRetracted, EventRetractedData{}, ReasonLateData},
		"no reason":     {TypeTripCompleted, TripCompletedData{}, ""},
	} {
		if _, err := NewUpdate(c.t, c.data, c.reason); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestCatalogueExamples: every example is valid data of its type, and the
// correction types' examples make valid envelopes.
func TestCatalogueExamples(t *testing.T) {
	now := time.Date(2024, 9, 7, 7, 43, 19, 687_000_000, time.UTC)
	for _, ti := range Catalogue() {
		if IsCorrection(ti.Type) != (ti.Example != nil) {
			t.Errorf("%s: example %v", ti.Type, ti.Example)
		}
		if ti.Example == nil {
			continue
		}
		if reflect.TypeOf(ti.Example) != reflect.TypeOf(ti.Data) {
			t.Errorf("%s: example is a %T, data a %T", ti.Type, ti.Example, ti.Data)
		}
		data, err := json.Marshal(ti.Example)
		if err != nil {
			t.Fatal(err)
		}
		e := Event{ID: NewID(now), Type: ti.Type, SchemaVersion: SchemaVersion, OccurredAt: Time{now}, Account: "acme",
			Vehicle: Vehicle{ID: "v1"}, Seq: 8, Corrects: ExampleCorrects, Data: data}
		if err := e.Validate(); err != nil {
			t.Errorf("%s: %v", ti.Type, err)
		}
	}
}

// FuzzValidate: no input makes decoding and validating an envelope panic,
// corrections included.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(`{"id":"01J7AQ3Z8WDXK5VJ0RB6T4M2ND","type":"event.updated","occurredAt":"2024-09-07T07:43:19.687Z","account":"a","vehicle":{"id":"v"},"seq":1,"corrects":"01J7AQ3Z8WDXK5VJ0RB6T4M2NC","data":{"type":"trip.completed","data":{},"reason":"late_data"}}`))
	f.Add([]byte(`{"id":"x","type":"event.retracted","occurredAt":"2024-09-07T07:43:19.687Z","account":"a","vehicle":{"id":"v"},"seq":1,"corrects":"","data":" "}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Unmarshal(b)
		if err == nil && IsCorrection(e.Type) && e.Corrects == "" {
			t.Fatalf("a correction without corrects passed: %s", b)
		}
	})
}
