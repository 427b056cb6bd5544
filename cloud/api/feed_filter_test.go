package api

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go/jetstream"
)

// TestFeedFiltersMatchWebhooks: for a table of filters, the pull feed
// returns exactly the events a subscription with the same filter receives
// from the real dispatcher, and both are those subscription.Filter.Matches
// accepts.
func TestFeedFiltersMatchWebhooks(t *testing.T) {
	e := newEnv(t)
	e.feedLimits(0, 0)
	groups, err := subscription.OpenGroups(e.ctx, e.hub.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := groups.Put(e.ctx, subscription.Group{Account: "acme", Name: "depot-a", Vehicles: []string{"v1", "v2"}}); err != nil {
		t.Fatal(err)
	}
	filters := []struct {
		name                           string
		events, vehicles, groups, tags []string
		noWebhook                      bool // a subscription of empty groups has no queue
		wantNone                       bool
	}{
		{name: "all"},
		{name: "star", events: []string{"*"}},
		{name: "types", events: []string{"position", "geofence.entered"}},
		{name: "vehicles", vehicles: []string{"v1", "v3"}},
		{name: "group", groups: []string{"depot-a"}},
		{name: "group-and-vehicle", vehicles: []string{"v3"}, groups: []string{"depot-a"}, events: []string{"heartbeat", "trip.started"}},
		{name: "tags", tags: []string{"depot"}},
		{name: "type-vehicle-tag", events: []string{"geofence.entered"}, vehicles: []string{"v2"}, tags: []string{"customer"}},
		{name: "tags-two", tags: []string{"customer", "yard"}, groups: []string{"depot-a"}},
		{name: "empty-group", groups: []string{"nobody"}, noWebhook: true, wantNone: true},
	}
	receivers := map[string]*receiver.Receiver{}
	for _, f := range filters {
		if f.noWebhook {
			continue
		}
		rcv, err := receiver.Start("127.0.0.1:0", testSecret)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rcv.Close() })
		receivers[f.name] = rcv
		e.must(201, "admin", "POST", "/v1/subscriptions", map[string]any{"id": "f-" + f.name, "url": rcv.URL(), "secret": testSecret,
			"events": f.events, "vehicles": f.vehicles, "vehicleGroups": f.groups, "geofenceTags": f.tags})
	}
	for name := range receivers {
		e.waitConsumer("f-" + name)
	}

	// The events: every vehicle, type and tag combination, and another
	// account's, which no filter of acme's may return.
	type stored struct {
		id, subject string
		tags        []string
	}
	var all []stored
	seqs := map[string]uint64{}
	add := func(account, vehicle string, typ event.Type, tags ...string) {
		seqs[account+vehicle]++
		ev := newEvent(account, vehicle, seqs[account+vehicle], typ, tags...)
		e.mustStore(ev)
		all = append(all, stored{ev.ID, ev.Subject(), tags})
	}
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		add("acme", v, event.TypePosition)
		add("acme", v, event.TypeHeartbeat)
		add("acme", v, event.TypeGeofenceEntered, "depot")
		add("acme", v, event.TypeGeofenceEntered, "customer", "depot")
		add("acme", v, event.TypeGeofenceExited, "customer")
		add("acme", v, event.TypeGeofenceDwell, "yard")
		add("acme", v, event.TypeTripStarted)
		add("other", v, event.TypeGeofenceEntered, "depot")
	}

	for _, f := range filters {
		t.Run(f.name, func(t *testing.T) {
			// What the shared filter accepts.
			sub := subscription.Subscription{Account: "acme", Events: f.events, Vehicles: f.vehicles, VehicleGroups: f.groups, GeofenceTags: f.tags}
			var want []string
			if sf, err := groups.Filter(e.ctx, sub); err == nil {
				for _, s := range all {
					if sf.Matches(s.subject, s.tags) {
						want = append(want, s.id)
					}
				}
			} else if err != subscription.ErrNoVehicles {
				t.Fatal(err)
			}
			if (len(want) == 0) != f.wantNone {
				t.Fatalf("the table expects %v events, the filter selects %d", !f.wantNone, len(want))
			}

			// What the feed returns, in stream order.
			q := url.Values{"limit": {"7"}}
			for k, v := range map[string][]string{"events": f.events, "vehicles": f.vehicles, "vehicle_groups": f.groups, "geofence_tags": f.tags} {
				if len(v) > 0 {
					q.Set(k, strings.Join(v, ","))
				}
			}
			var fed []string
			for range 100 {
				p := e.feedPage("viewer", "?"+q.Encode())
				for _, it := range p.Items {
					fed = append(fed, envelopeOf(t, it).ID)
				}
				q.Set("cursor", p.Next)
				if !p.More {
					break
				}
			}
			if !slices.Equal(fed, want) {
				t.Fatalf("feed returned %d events, the filter selects %d:\nfeed %v\nwant %v", len(fed), len(want), fed, want)
			}
			if f.noWebhook {
				return
			}

			// What the real dispatcher delivered, once it settled every
			// event of the queue (delivered or filtered out, then acked).
			cons, err := e.hub.JS.Consumer(e.ctx, "EVENTS", "sub-f-"+f.name)
			if err != nil {
				t.Fatal(err)
			}
			waitSettled(t, e, cons)
			var hooked []string
			for _, d := range receivers[f.name].Deliveries() {
				hooked = append(hooked, d.ID)
			}
			slices.Sort(hooked)
			sortedWant := slices.Sorted(slices.Values(want))
			if !slices.Equal(hooked, sortedWant) {
				t.Fatalf("webhooks delivered %d events, the feed %d:\nwebhooks %v\nfeed     %v", len(hooked), len(want), hooked, sortedWant)
			}
		})
	}
}

// waitSettled waits until the consumer has nothing pending nor in flight.
func waitSettled(t *testing.T, e *env, cons jetstream.Consumer) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := cons.Info(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumPending == 0 && info.NumAckPending == 0 {
			return
		}
		select {
		case <-e.ctx.Done():
			t.Fatalf("consumer %s: %d pending, %d in flight", info.Name, info.NumPending, info.NumAckPending)
		case <-tick.C:
		}
	}
}
