package subscription

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/nats-io/nats-server/v2/server"
)

// filterTable are the filters the tests compare, as subscriptions.
var filterTable = []struct {
	name string
	sub  Subscription
}{
	{"all", Subscription{Account: "acme"}},
	{"star", Subscription{Account: "acme", Events: []string{"*"}}},
	{"types", Subscription{Account: "acme", Events: []string{"position", "geofence.entered"}}},
	{"vehicles", Subscription{Account: "acme", Vehicles: []string{"v1", "v3"}}},
	{"tags", Subscription{Account: "acme", GeofenceTags: []string{"depot"}}},
	{"type+vehicle+tag", Subscription{Account: "acme", Events: []string{"geofence.entered"}, Vehicles: []string{"v2"}, GeofenceTags: []string{"customer"}}},
}

// TestFilterMatchesItsSubjects: for every filter and event subject,
// Matches says yes exactly when a JetStream filter on Subjects would
// (the server's own subject matching), tags aside.
func TestFilterMatchesItsSubjects(t *testing.T) {
	var subjects []string
	for _, acc := range []string{"acme", "other"} {
		for _, v := range []string{"v1", "v2", "v3"} {
			for _, typ := range []string{"position", "geofence_entered", "trip_started", "heartbeat"} {
				subjects = append(subjects, "fleet.events."+acc+"."+v+"."+typ)
			}
		}
	}
	for _, c := range filterTable {
		f := c.sub.FilterFor(c.sub.Vehicles)
		tags := slices.Clone(f.GeofenceTags) // an event carrying every wanted tag
		for _, subj := range subjects {
			want := slices.ContainsFunc(f.Subjects(), func(fs string) bool { return server.SubjectsCollide(fs, subj) })
			if got := f.Matches(subj, tags); got != want {
				t.Errorf("%s: Matches(%s) = %v, the subjects %v say %v", c.name, subj, got, f.Subjects(), want)
			}
		}
	}
}

func TestFilterCheckReasons(t *testing.T) {
	f := Filter{Account: "acme", Events: []string{"geofence.entered"}, Vehicles: []string{"v2"}, GeofenceTags: []string{"customer"}}
	cases := []struct {
		subject string
		body    string
		ok      bool
		reason  string
	}{
		{"fleet.events.acme.v2.geofence_entered", `{"data":{"tags":["depot","customer"]}}`, true, ""},
		{"fleet.events.acme.v2.geofence_entered", `{"data":{"tags":["depot"]}}`, false, ReasonTags},
		{"fleet.events.acme.v2.geofence_entered", `{"data":{}}`, false, ReasonTags},
		{"fleet.events.acme.v2.geofence_entered", `not json`, false, ReasonTags},
		{"fleet.events.acme.v2.position", `{"data":{"tags":["customer"]}}`, false, ReasonType},
		{"fleet.events.acme.v1.geofence_entered", `{"data":{"tags":["customer"]}}`, false, ReasonVehicle},
		{"fleet.events.other.v2.geofence_entered", `{"data":{"tags":["customer"]}}`, false, ReasonAccount},
		{"fleet.events.acme.v2", `{}`, false, ReasonSubject},
		{"outbox.acme.v2.geofence_entered", `{}`, false, ReasonSubject},
	}
	for _, c := range cases {
		ok, reason := f.CheckEvent(c.subject, []byte(c.body))
		if ok != c.ok || reason != c.reason {
			t.Errorf("CheckEvent(%s, %s) = %v %q, want %v %q", c.subject, c.body, ok, reason, c.ok, c.reason)
		}
		if f.MatchesEvent(c.subject, []byte(c.body)) != c.ok {
			t.Errorf("MatchesEvent(%s) disagrees with CheckEvent", c.subject)
		}
	}
}

// TestGroupsFilter expands groups, and reports a filter of empty groups.
func TestGroupsFilter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := hub.Open(ctx, hub.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	// Before the bucket exists: every group is empty.
	unbound, ok, err := BindGroups(ctx, h.JS)
	if err != nil || ok {
		t.Fatalf("BindGroups before the bucket: %v, %v", ok, err)
	}
	if _, err := unbound.Filter(ctx, Subscription{Account: "acme", VehicleGroups: []string{"depot"}}); !errors.Is(err, ErrNoVehicles) {
		t.Fatalf("unbound groups: %v", err)
	}
	gs, err := OpenGroups(ctx, h.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := gs.Put(ctx, Group{Account: "acme", Name: "depot", Vehicles: []string{"v2", "v1"}}); err != nil {
		t.Fatal(err)
	}
	bound, ok, err := BindGroups(ctx, h.JS)
	if err != nil || !ok {
		t.Fatalf("BindGroups: %v, %v", ok, err)
	}
	cases := []struct {
		name    string
		sub     Subscription
		want    []string
		wantErr error
	}{
		{"no vehicles", Subscription{Account: "acme"}, []string{"fleet.events.acme.*.>"}, nil},
		{"group", Subscription{Account: "acme", VehicleGroups: []string{"depot"}}, []string{"fleet.events.acme.v1.>", "fleet.events.acme.v2.>"}, nil},
		{"group and vehicle", Subscription{Account: "acme", Vehicles: []string{"v3", "v1"}, VehicleGroups: []string{"depot"}, Events: []string{"heartbeat"}},
			[]string{"fleet.events.acme.v1.heartbeat", "fleet.events.acme.v2.heartbeat", "fleet.events.acme.v3.heartbeat"}, nil},
		{"missing group", Subscription{Account: "acme", VehicleGroups: []string{"nope"}}, nil, ErrNoVehicles},
		{"other account's group", Subscription{Account: "other", VehicleGroups: []string{"depot"}}, nil, ErrNoVehicles},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := bound.Filter(ctx, c.sub)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if err == nil && !slices.Equal(f.Subjects(), c.want) {
				t.Fatalf("subjects %v, want %v", f.Subjects(), c.want)
			}
		})
	}
}
