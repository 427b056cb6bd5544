package e2e

import (
	"cmp"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/agent"
	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/tcpproxy"
	"github.com/nats-io/nats.go/jetstream"
)

// skewedClock is a vehicle clock off the hub's by an offset the test
// changes. Built on time.Now, it keeps the monotonic reading, so a change
// of offset is a step of the wall clock, as when a gateway's clock is set.
type skewedClock struct{ offset atomic.Int64 }

func (c *skewedClock) set(d time.Duration) { c.offset.Store(int64(d)) }
func (c *skewedClock) now() time.Time      { return time.Now().Add(time.Duration(c.offset.Load())) }

// startSkewedVehicle is startVehicle with the vehicle's clock and frequent
// heartbeats (stamped by that clock).
func startSkewedVehicle(t *testing.T, ctx context.Context, c *cloud, id string, clock *skewedClock) *vehicle {
	t.Helper()
	p, err := tcpproxy.Start(c.leaf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	v := &vehicle{t: t, id: id, store: t.TempDir(), proxy: p, src: make(feed)}
	cfg := agent.Default()
	cfg.Vehicle = agent.VehicleConfig{Account: "acme", ID: id, Registration: "FW-" + id}
	cfg.Hub.URL = "nats-leaf://" + p.Addr()
	cfg.Store.Dir = filepath.Join(v.store, "edge")
	cfg.GNSS.Replay = "unused: WithSource"
	cfg.Position.Every = time.Millisecond
	cfg.HeartbeatEvery = 25 * time.Millisecond
	a, err := agent.New(cfg, agent.WithSource(v.src), agent.WithClock(clock.now), agent.WithOnStored(func(e *event.Event) {
		v.mu.Lock()
		v.stored = append(v.stored, e)
		v.mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	v.ag, v.stop, v.done = a, cancel, make(chan error, 1)
	go func() { v.done <- a.Run(rctx) }()
	t.Cleanup(v.shutdown)
	select {
	case <-a.Ready():
	case err := <-v.done:
		t.Fatalf("vehicle %s did not start: %v", id, err)
	}
	return v
}

// heartbeats counts the stored heartbeats.
func (v *vehicle) heartbeats() int {
	n := 0
	for _, e := range v.storedEvents() {
		if e.Type == event.TypeHeartbeat {
			n++
		}
	}
	return n
}

// TestClockSkew: the vehicle's clock is a day ahead of the hub's, then is
// set back to two hours behind it in the middle of the run. Its GNSS time
// (a replay rebased on the vehicle clock at start, as the agent's own
// replay does) runs on; its heartbeats follow its clock, so device times
// in the event stream go backwards by 26 hours. Every event reaches the
// receiver once, in seq order (the stream's), with occurredAt exactly as
// the vehicle stamped it; receivedAt, and the stream's own timestamps, are
// the hub's clock, increasing.
func TestClockSkew(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	begin := time.Now()
	c := startCloud(t, ctx)
	clock := &skewedClock{}
	clock.set(24 * time.Hour)
	v := startSkewedVehicle(t, ctx, c, "skewed", clock)

	// The drive rebased on the vehicle clock, as gnss.Replay does.
	fixes := loadFixes(t, "munich-gps.nmea", 120)
	base, start := clock.now(), fixes[0].Time
	rebased := make([]gnss.Fix, len(fixes))
	for i, f := range fixes {
		f.Time = base.Add(f.Time.Sub(start))
		rebased[i] = f
	}
	waitHeartbeats := func(n int) {
		want := v.heartbeats() + n
		for v.heartbeats() < want {
			select {
			case <-ctx.Done():
				t.Fatalf("%d heartbeats, want %d", v.heartbeats(), want)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	v.drive(ctx, rebased[:60])
	waitHeartbeats(3)
	clock.set(-2 * time.Hour) // the clock is set back 26 hours
	waitHeartbeats(3)
	v.drive(ctx, rebased[60:])
	waitHeartbeats(1)
	// Heartbeats go on: what follows checks the events stored so far.
	// In seq order: the heartbeat and the drive append from their own
	// goroutines, so the order of the stored callbacks may differ.
	stored := v.storedEvents()
	slices.SortFunc(stored, func(a, b *event.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	backwards := 0
	for i := 1; i < len(stored); i++ {
		if stored[i].OccurredAt.Before(stored[i-1].OccurredAt.Time) {
			backwards++
		}
	}
	if backwards == 0 {
		t.Fatal("device times never went backwards: the clock step did not show")
	}
	ahead, behind := 0, 0 // heartbeats stamped by the vehicle clock before and after the step
	for _, e := range stored {
		switch {
		case e.Type != event.TypeHeartbeat:
		case e.OccurredAt.After(begin.Add(23 * time.Hour)):
			ahead++
		case e.OccurredAt.Before(begin.Add(-time.Hour)):
			behind++
		}
	}
	if ahead == 0 || behind == 0 {
		t.Fatalf("heartbeats a day ahead: %d, two hours behind: %d; want some of each", ahead, behind)
	}

	ds, err := c.rcv.WaitFor(ctx, len(stored))
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	for i, d := range ds { // once each, in seq order
		if d.Event.Vehicle.ID != v.id || d.Event.Seq != uint64(i+1) {
			t.Fatalf("delivery %d: %s seq %d, want seq %d", i, d.Event.Vehicle.ID, d.Event.Seq, i+1)
		}
	}
	if n := c.rcv.Rejected(); n != 0 {
		t.Fatalf("receiver rejected %d signatures", n)
	}
	var lastReceived time.Time
	for i, s := range stored {
		d := ds[i]
		if d.Event.ID != s.ID {
			t.Fatalf("delivery %d is %s, stored %s", i, d.Event.ID, s.ID)
		}
		if got, want := d.Event.OccurredAt.UTC().Format(event.TimeLayout), s.OccurredAt.UTC().Format(event.TimeLayout); got != want {
			t.Fatalf("seq %d (%s): occurredAt %s delivered, %s stored by the vehicle", s.Seq, s.Type, got, want)
		}
		p := checkProvenance(t, d)
		r := p.ReceivedAt.Time
		if r.Before(begin.Add(-time.Second)) || r.After(end.Add(time.Second)) {
			t.Fatalf("seq %d: receivedAt %v is not the hub's clock (test ran %v..%v)", s.Seq, r, begin, end)
		}
		if r.Before(lastReceived) {
			t.Fatalf("seq %d: receivedAt %v before the previous event's %v", s.Seq, r, lastReceived)
		}
		lastReceived = r
	}

	// The hub's stream: stream order is seq order, its timestamps the hub's.
	cons, err := c.srv.Hub().JS.OrderedConsumer(ctx, "EVENTS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var prev time.Time
	for i := range stored {
		m, err := cons.Next(jetstream.FetchContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		meta, err := m.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		var e event.Event
		if err := json.Unmarshal(m.Data(), &e); err != nil {
			t.Fatal(err)
		}
		if e.ID != stored[i].ID || m.Headers().Get(event.HeaderSeq) != strconv.Itoa(i+1) {
			t.Fatalf("stream seq %d holds %s seq %s, want %s seq %d", meta.Sequence.Stream, e.ID, m.Headers().Get(event.HeaderSeq), stored[i].ID, i+1)
		}
		if meta.Timestamp.Before(prev) || meta.Timestamp.Before(begin) {
			t.Fatalf("stream seq %d stored at %v (previous %v)", meta.Sequence.Stream, meta.Timestamp, prev)
		}
		prev = meta.Timestamp
	}
	t.Logf("%d events, device time went backwards %d times; occurredAt from %s to %s, receivedAt %s..%s",
		len(stored), backwards, stored[0].OccurredAt.UTC().Format(time.RFC3339), stored[len(stored)-1].OccurredAt.UTC().Format(time.RFC3339),
		begin.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
}
