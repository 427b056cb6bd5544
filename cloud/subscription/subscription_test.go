package subscription

import (
	"errors"
	"slices"
	"testing"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestFilterSubjects(t *testing.T) {
	cases := []struct {
		name string
		sub  Subscription
		want []string
	}{
		{"all", Subscription{Account: "acme"}, []string{"fleet.events.acme.*.>"}},
		{"star", Subscription{Account: "acme", Events: []string{"*", "position"}}, []string{"fleet.events.acme.*.>"}},
		{"types", Subscription{Account: "acme", Events: []string{"trip.started", "position"}}, []string{"fleet.events.acme.*.position", "fleet.events.acme.*.trip_started"}},
		{"vehicles", Subscription{Account: "acme", Vehicles: []string{"v2", "v1"}, Events: []string{"heartbeat"}}, []string{"fleet.events.acme.v1.heartbeat", "fleet.events.acme.v2.heartbeat"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.sub.FilterSubjects(); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := Subscription{ID: "s1", Account: "acme", URL: "https://example.com/hook", Secret: secret}
	cases := []struct {
		name      string
		mut       func(*Subscription)
		allowHTTP bool
		wantErr   bool
	}{
		{"valid", func(*Subscription) {}, false, false},
		{"http refused", func(s *Subscription) { s.URL = "http://example.com" }, false, true},
		{"http allowed", func(s *Subscription) { s.URL = "http://example.com" }, true, false},
		{"ftp", func(s *Subscription) { s.URL = "ftp://example.com" }, true, true},
		{"relative", func(s *Subscription) { s.URL = "/hook" }, true, true},
		{"credentials", func(s *Subscription) { s.URL = "https://u:p@example.com" }, false, true},
		{"bad secret", func(s *Subscription) { s.Secret = "nope!" }, false, true},
		{"dotted id", func(s *Subscription) { s.ID = "a.b" }, false, true},
		{"wildcard vehicle", func(s *Subscription) { s.Vehicles = []string{"*"} }, false, true},
		{"bad type", func(s *Subscription) { s.Events = []string{"a b"} }, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := ok
			c.mut(&s)
			err := s.Validate(c.allowHTTP)
			if (err != nil) != c.wantErr {
				t.Fatalf("Validate() = %v, wantErr %v", err, c.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}
