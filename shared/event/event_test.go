package event

import (
	"errors"
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
