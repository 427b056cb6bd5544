package api

import (
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/fleetwire/fleetwire/cloud/dispatch"
	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
	"github.com/fleetwire/fleetwire/shared/event"
)

// gapApp is a receiving application behind a webhook endpoint: it tracks
// each vehicle's Fleetwire-Vehicle-Seq and notes the gaps. lose makes it
// lose one delivery after the 2xx (as a crash would).
type gapApp struct {
	mu   sync.Mutex
	lose func(seq uint64) bool
	last map[string]uint64
	got  map[string][]uint64
	gaps []gap
}

type gap struct {
	vehicle  string
	from, to uint64 // missing seqs, inclusive
}

func (a *gapApp) onDelivery(d receiver.Delivery) {
	seq, err := strconv.ParseUint(d.Header.Get(dispatch.HeaderVehicleSeq), 10, 64)
	if err != nil {
		panic(fmt.Sprintf("delivery without %s", dispatch.HeaderVehicleSeq))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lose != nil && a.lose(seq) {
		return
	}
	v := d.Event.Vehicle.ID
	if seq > a.last[v]+1 {
		a.gaps = append(a.gaps, gap{v, a.last[v] + 1, seq - 1})
	}
	a.last[v] = max(a.last[v], seq)
	a.got[v] = append(a.got[v], seq)
}

func newGapApp(lose func(uint64) bool) *gapApp {
	return &gapApp{lose: lose, last: map[string]uint64{}, got: map[string][]uint64{}}
}

// TestWebhookGapFetchedByVehicleSeq: a receiver that loses one delivery
// sees the seq jump and reads the missing event back through
// /v1/vehicles/{id}/events; one whose subscription filters a type sees the
// same jump and the gap fetch proves the filter skipped it.
func TestWebhookGapFetchedByVehicleSeq(t *testing.T) {
	e := newEnv(t)
	e.feedLimits(0, 0)
	lossy := newGapApp(func(seq uint64) bool { return seq == 3 })
	filtered := newGapApp(nil)
	for _, s := range []struct {
		id     string
		app    *gapApp
		events []string
	}{
		{"lossy", lossy, nil},
		{"positions", filtered, []string{"position"}},
	} {
		rcv, err := receiver.Start("127.0.0.1:0", testSecret, receiver.WithOnDelivery(s.app.onDelivery))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rcv.Close() })
		e.must(201, "admin", "POST", "/v1/subscriptions", map[string]any{"id": s.id, "url": rcv.URL(), "secret": testSecret, "events": s.events})
		e.waitConsumer(s.id)
		t.Cleanup(func() {
			if rcv.Rejected() != 0 {
				t.Errorf("%s: signatures rejected", s.id)
			}
		})
		s.app.mu.Lock()
		s.app.lose = wrapLose(s.app.lose)
		s.app.mu.Unlock()
	}
	types := []event.Type{event.TypePosition, event.TypePosition, event.TypeHeartbeat, event.TypePosition, event.TypePosition}
	ids := map[uint64]string{}
	for i, typ := range types {
		ev := newEvent("acme", "truck-7", uint64(i+1), typ)
		e.mustStore(ev)
		ids[ev.Seq] = ev.ID
	}
	e.waitRecords("lossy", len(types))
	e.waitRecords("positions", 4)

	// The lossy receiver: 1 2 4 5, a gap at 3.
	lossy.mu.Lock()
	gaps, got := lossy.gaps, lossy.got["truck-7"]
	lossy.mu.Unlock()
	if len(gaps) != 1 || gaps[0] != (gap{"truck-7", 3, 3}) {
		t.Fatalf("lossy receiver saw %v, gaps %v", got, gaps)
	}
	var ve VehicleEvents
	e.must(200, "viewer", "GET", fmt.Sprintf("/v1/vehicles/truck-7/events?fromSeq=%d&limit=%d&subscription=lossy", gaps[0].from, gaps[0].to-gaps[0].from+1), nil).json(t, &ve)
	if len(ve.Items) != 1 || len(ve.Skipped) != 0 || ve.Items[0].Seq != 3 || envelopeOf(t, ve.Items[0]).ID != ids[3] || ve.Next != 4 || !ve.More {
		t.Fatalf("gap fetch %+v", ve)
	}

	// The filtered receiver: 1 2 4 5 too; the gap fetch shows seq 3 was a
	// heartbeat its subscription does not deliver: nothing was lost.
	filtered.mu.Lock()
	gaps, got = filtered.gaps, filtered.got["truck-7"]
	filtered.mu.Unlock()
	if len(gaps) != 1 || gaps[0] != (gap{"truck-7", 3, 3}) {
		t.Fatalf("filtered receiver saw %v, gaps %v", got, gaps)
	}
	e.must(200, "viewer", "GET", "/v1/vehicles/truck-7/events?fromSeq=3&limit=1&subscription=positions", nil).json(t, &ve)
	if len(ve.Items) != 0 || len(ve.Skipped) != 1 || ve.Skipped[0] != (Skipped{3, "heartbeat", "type"}) {
		t.Fatalf("filtered gap fetch %+v", ve)
	}
	// Without the subscription, the event itself.
	e.must(200, "viewer", "GET", "/v1/vehicles/truck-7/events?fromSeq=3&limit=1", nil).json(t, &ve)
	if len(ve.Items) != 1 || ve.Items[0].Type != "heartbeat" || envelopeOf(t, ve.Items[0]).ID != ids[3] {
		t.Fatalf("unfiltered gap fetch %+v", ve)
	}
}

// wrapLose makes lose fire once: a redelivery would not be lost.
func wrapLose(lose func(uint64) bool) func(uint64) bool {
	if lose == nil {
		return nil
	}
	done := false
	return func(seq uint64) bool {
		if !done && lose(seq) {
			done = true
			return true
		}
		return false
	}
}
