package dispatch_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/shared/event"
)

// TestVehicleGroupsFollowChanges: a subscription to a group receives the
// group's vehicles only, and a vehicle added to the group from then on.
func TestVehicleGroupsFollowChanges(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := openHub(t, ctx)
	groups, err := subscription.OpenGroups(ctx, h.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := groups.Put(ctx, subscription.Group{Account: "acme", Name: "depot-a", Vehicles: []string{"v1"}}); err != nil {
		t.Fatal(err)
	}
	rcv, err := receiver.Start("127.0.0.1:0", secret)
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	s := sub(rcv.URL())
	s.VehicleGroups = []string{"depot-a"}
	var a attempts
	startDispatcher(t, ctx, h.JS, devConfig(&a), s)
	waitConsumer(t, ctx, h.JS, "sub-s1")
	publish(t, ctx, h.JS, []string{"v1", "v2"}, 0, 2)
	ds, err := rcv.WaitFor(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := groups.Put(ctx, subscription.Group{Account: "acme", Name: "depot-a", Vehicles: []string{"v1", "v2"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "consumer following v2", func() bool {
		c, err := h.JS.Consumer(ctx, "EVENTS", "sub-s1")
		return err == nil && slices.Contains(c.CachedInfo().Config.FilterSubjects, "fleet.events.acme.v2.>")
	})
	publish(t, ctx, h.JS, []string{"v1", "v2"}, 2, 1)
	ds, err = rcv.WaitFor(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.Event.Vehicle.ID+"#"+string(rune('0'+d.Event.Seq)))
	}
	if want := []string{"v1#1", "v1#2", "v1#3", "v2#3"}; !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}

// TestGeofenceTagFilter: only events about fences with a wanted tag go out.
func TestGeofenceTagFilter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := openHub(t, ctx)
	rcv, err := receiver.Start("127.0.0.1:0", secret)
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	s := sub(rcv.URL())
	s.GeofenceTags = []string{"depot"}
	var a attempts
	startDispatcher(t, ctx, h.JS, devConfig(&a), s)
	waitConsumer(t, ctx, h.JS, "sub-s1")
	fence := func(seq uint64, typ event.Type, tags ...string) *event.Event {
		data, _ := json.Marshal(event.GeofenceEnteredData{GeofenceID: "f" + string(rune('0'+seq)), Tags: tags})
		return &event.Event{ID: event.NewID(time.Now()), Type: typ, SchemaVersion: event.SchemaVersion,
			OccurredAt: event.Time{Time: time.Now()}, Account: "acme", Vehicle: event.Vehicle{ID: "v1"}, Seq: seq, Data: data}
	}
	for _, e := range []*event.Event{
		fence(1, event.TypeGeofenceEntered, "customer"),
		fence(2, event.TypePosition),
		fence(3, event.TypeGeofenceEntered, "customer", "depot"),
		fence(4, event.TypeGeofenceExited, "depot"),
	} {
		publishEvent(t, ctx, h.JS, e)
	}
	ds, err := rcv.WaitFor(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	// A later matching event proves nothing else slipped in between.
	publishEvent(t, ctx, h.JS, fence(5, event.TypeGeofenceDwell, "depot"))
	if ds, err = rcv.WaitFor(ctx, 3); err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, d := range ds {
		seqs = append(seqs, d.Event.Seq)
	}
	if want := []uint64{3, 4, 5}; !slices.Equal(seqs, want) {
		t.Fatalf("delivered seqs %v, want %v", seqs, want)
	}
}
