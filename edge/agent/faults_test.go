package agent

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/outbox"
	"github.com/nats-io/nats.go/jetstream"
)

// localStream is the agent's outbox stream on its own leaf node.
func localStream(t *testing.T, ctx context.Context, v *testVehicle) (jetstream.JetStream, jetstream.StreamConfig) {
	t.Helper()
	js, err := jetstream.New(v.a.nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, "OUTBOX")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return js, info.Config
}

// TestStoreNotAnsweringKeepsRunning: the vehicle's own store stops taking
// events (here its stream no longer listens on the outbox subjects, so
// appends find no responder, as while a leaf node starts) for longer than
// the outbox's own retries. The agent logs it, keeps the event and asks
// again; once the store answers the event is stored once and the agent
// goes on: the hub gets every event once, in order.
func TestStoreNotAnsweringKeepsRunning(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hub, hubJS := startQuietHub(t, ctx)
	v := startVehicle(t, ctx, hub.LeafURL())
	fixes := loadFixes(t, "munich-gps.nmea", 20)
	v.drive(ctx, fixes[:10])

	js, sc := localStream(t, ctx, v)
	subjects := sc.Subjects
	sc.Subjects = []string{"outbox-paused.acme.v1.>"}
	if _, err := js.UpdateStream(ctx, sc); err != nil {
		t.Fatal(err)
	}
	v.send(ctx, fixes[10])
	const gaveUp = "local store not answering; retrying the event"
	waitUntil(t, ctx, "the agent retrying after the outbox gave up", func() bool { return v.logs.count(gaveUp) >= 1 })
	v.running()
	if n := v.positions(); n != 10 {
		t.Fatalf("%d positions stored while the store did not answer, want 10", n)
	}
	sc.Subjects = subjects
	if _, err := js.UpdateStream(ctx, sc); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, ctx, "the held event stored", func() bool { return v.positions() == 11 })
	v.drive(ctx, fixes[11:])
	v.running()
	stored := v.storedEvents()
	sameEvents(t, waitHub(t, ctx, hubJS, len(stored)), stored)
	st := v.a.Stats()
	if st.AppendRetries < 5 {
		t.Fatalf("%d append retries, want the outbox's own (5) at least", st.AppendRetries)
	}
	t.Logf("append retries %d, agent retries %d", st.AppendRetries, v.logs.count(gaveUp))
}

// TestStoreDeletedStopsAgent: a store that answers "no such stream" is not
// transient: the agent stops with the error rather than wait forever.
func TestStoreDeletedStopsAgent(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hub, _ := startQuietHub(t, ctx)
	v := startVehicle(t, ctx, hub.LeafURL())
	fixes := loadFixes(t, "munich-gps.nmea", 5)
	v.drive(ctx, fixes[:4])
	js, _ := localStream(t, ctx, v)
	if err := js.DeleteStream(ctx, "OUTBOX"); err != nil {
		t.Fatal(err)
	}
	v.send(ctx, fixes[4])
	select {
	case err := <-v.done:
		if !errors.Is(err, jetstream.ErrNoStreamResponse) {
			t.Fatalf("agent stopped with %v, want the store's error", err)
		}
		v.done <- nil // stopped as expected: nothing for the cleanup to report
	case <-ctx.Done():
		t.Fatal("agent still running with its stream deleted")
	}
}

// TestFlappingLink: the mobile link goes down and up six times, every one
// to two seconds, alternately cut (connections reset) and black-holed
// (nothing passes, nothing is reset), while the agent records a real drive
// sped up. Each up phase lasts until events flow again plus up to a
// second. On the hub: every stored event once, in order, seq 1..N.
func TestFlappingLink(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hub, hubJS := startQuietHub(t, ctx)
	v := startVehicle(t, ctx, hub.LeafURL())
	// The whole drive: the feeder stops when the flapping ends, and must
	// not run dry before it, or a down phase would have nothing to queue.
	fixes := loadFixes(t, "20100403_Z205_Switzerland.txt", 0)
	v.drive(ctx, fixes[:20])
	waitHub(t, ctx, hubJS, 20)

	// The drive, at up to 150 fixes a second, until the flapping ends.
	flapped := make(chan struct{})
	fed := make(chan int, 1)
	go func() {
		n := 20
		defer func() { fed <- n }()
		tick := time.NewTicker(7 * time.Millisecond)
		defer tick.Stop()
		for ; n < len(fixes); n++ {
			select {
			case <-flapped:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			select {
			case v.src <- fixes[n]:
			case <-ctx.Done():
				return
			}
		}
	}()

	const cycles = 6
	for i := range cycles {
		pause := i%2 == 1
		if pause {
			v.proxy.Pause()
		} else {
			v.proxy.Cut()
		}
		down := time.NewTimer(time.Second) // the outage itself, not a synchronisation
		<-down.C
		v.proxy.Restore()
		before := hubCount(t, ctx, hubJS)
		waitUntil(t, ctx, "events flowing after the link came back", func() bool { return hubCount(t, ctx, hubJS) > before })
		up := time.NewTimer(time.Duration(rand.Int64N(int64(time.Second)))) // likewise
		<-up.C
	}
	close(flapped)
	n := <-fed
	waitUntil(t, ctx, "the last fix stored", func() bool { return v.positions() >= n })
	v.running()
	stored := v.storedEvents()
	hubEvents := waitHub(t, ctx, hubJS, len(stored))
	sameEvents(t, hubEvents, stored)
	st := v.a.Stats()
	t.Logf("%d cycles, %d fixes fed, %d events on the hub; forward retries %d, already on hub %d",
		cycles, n, len(hubEvents), st.Retries, st.AlreadyOnHub)
	if st.Retries == 0 {
		t.Fatal("the forwarder never retried: the link never failed under it")
	}
}

// TestPartitionDuringCatchUp: offline, the vehicle builds a backlog of a
// few thousand events; the link comes back and, while the backlog drains
// (the hub has some but not all), is cut again; more events are recorded;
// then it is restored for good. On the hub: all of them once, in order.
func TestPartitionDuringCatchUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hub, hubJS := startQuietHub(t, ctx)
	v := startVehicle(t, ctx, hub.LeafURL())
	fixes := loadFixes(t, "20100403_Z205_Switzerland.txt", 2300)
	v.drive(ctx, fixes[:20])
	waitHub(t, ctx, hubJS, 20)

	v.proxy.Cut()
	waitUntil(t, ctx, "the leaf to notice the cut", func() bool { return !v.a.leaf.LeafConnected() })
	v.drive(ctx, fixes[20:2000]) // the backlog
	backlog := len(v.storedEvents())
	if got := hubCount(t, ctx, hubJS); got != 20 {
		t.Fatalf("hub holds %d events during the cut, want 20", got)
	}

	v.proxy.Restore()
	waitUntil(t, ctx, "the backlog draining", func() bool { return hubCount(t, ctx, hubJS) >= 200 })
	v.proxy.Cut()
	atCut := hubCount(t, ctx, hubJS)
	if atCut >= uint64(backlog) {
		t.Fatalf("the backlog (%d) drained before the second cut", backlog)
	}
	waitUntil(t, ctx, "the leaf to notice the second cut", func() bool { return !v.a.leaf.LeafConnected() })
	v.drive(ctx, fixes[2000:]) // recorded during the second cut
	v.proxy.Restore()

	stored := v.storedEvents()
	hubEvents := waitHub(t, ctx, hubJS, len(stored))
	sameEvents(t, hubEvents, stored)
	// The hub holds the last event before its PubAck is back over the
	// link: the agent's backlog follows once the forwarder has it.
	var st outbox.Stats
	waitUntil(t, ctx, "the agent's backlog back to 0 after the drain", func() bool {
		st = v.a.Stats()
		return st.Backlog() == 0
	})
	t.Logf("backlog %d, cut again at %d on the hub, %d in all; forward retries %d, already on hub %d",
		backlog, atCut, len(stored), st.Retries, st.AlreadyOnHub)
}

// TestStoreFullKeepsRunning: offline long enough to fill a 1 MiB store,
// the agent applies its policy, says so in its metrics and keeps running;
// once the link is back what was kept reaches the hub in order, once, and
// recording goes on. drop-oldest loses the oldest (a gap in seq, counted
// as it is seen); reject-new keeps the oldest and numbering gap-free
// (refusals counted as they happen).
func TestStoreFullKeepsRunning(t *testing.T) {
	for _, policy := range []string{"drop-oldest", "reject-new"} {
		t.Run(policy, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			hub, hubJS := startQuietHub(t, ctx)
			v := startVehicle(t, ctx, hub.LeafURL(), func(c *Config) {
				c.Store.MaxBytes, c.Store.Policy = 1<<20, policy
				c.Metrics.Listen = "127.0.0.1:0"
			})
			url := "http://" + v.a.MetricsAddr() + "/metrics"
			dropped := func() float64 {
				return metricValue(scrapeMetrics(t, url), "fleetwire_edge_outbox_dropped_total", "policy", policy)
			}
			fixes := loadFixes(t, "20100403_Z205_Switzerland.txt", 2700)
			v.drive(ctx, fixes[:20])
			waitHub(t, ctx, hubJS, len(v.storedEvents()))

			v.proxy.Cut()
			waitUntil(t, ctx, "the leaf to notice the cut", func() bool { return !v.a.leaf.LeafConnected() })
			for _, f := range fixes[20:2600] { // about 1.5 MiB of events
				v.send(ctx, f)
			}
			if policy == "reject-new" {
				waitUntil(t, ctx, "refusals in the metrics", func() bool { return dropped() > 0 })
			}
			v.running()
			v.proxy.Restore()
			waitUntil(t, ctx, "the backlog forwarded", func() bool {
				st := v.a.Stats()
				return st.Backlog() == 0 && (policy == "reject-new" || dropped() > 0)
			})
			v.running()
			stored := v.storedEvents()
			n := hubCount(t, ctx, hubJS)
			seqs := make([]uint64, 0, n)
			for _, h := range readHub(t, ctx, hubJS, int(n)) {
				seqs = append(seqs, h.e.Seq)
			}
			last := stored[len(stored)-1].Seq
			lost := float64(last) - float64(len(seqs))
			switch {
			case seqs[len(seqs)-1] != last:
				t.Fatalf("last seq on the hub %d, last stored %d", seqs[len(seqs)-1], last)
			case policy == "drop-oldest" && (lost <= 0 || lost != dropped()):
				t.Fatalf("%v events missing on the hub, %v counted as dropped", lost, dropped())
			case policy == "reject-new" && (lost != 0 || int(last) != len(stored)):
				t.Fatalf("reject-new: %v missing on the hub, last seq %d for %d stored", lost, last, len(stored))
			}
			for i := 1; i < len(seqs); i++ {
				if seqs[i] <= seqs[i-1] {
					t.Fatalf("seq %d after %d on the hub: doubled or reordered", seqs[i], seqs[i-1])
				}
			}
			// Recording goes on.
			v.drive(ctx, fixes[2600:])
			waitUntil(t, ctx, "the new events on the hub", func() bool { return hubCount(t, ctx, hubJS) >= n+100 })
			t.Logf("%s: %d events stored, %v dropped, %d on the hub", policy, len(stored), dropped(), n)
		})
	}
}
