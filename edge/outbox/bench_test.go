// Ingest benchmarks: how fast events go from Append on the vehicle to being
// stored in the hub's EVENTS stream, over a real leaf-node link on loopback
// (embedded hub and leaf nats-servers, no proxy, no mocks).
//
// Run them with, for example:
//
//	go test -run '^$' -bench . -benchtime 5000x -count 3 ./edge/outbox/
//
// Every benchmark builds its own hub and leaf; setup and teardown are not
// timed. The absolute figures depend heavily on the machine (a 2-core box
// shared with other work is noisy), so read them as ratios between
// benchmarks of the same run:
//
//   - BenchmarkIngest/live reports events/s: Append → stored on the hub,
//     end to end, with the forwarder running alongside the appends (the
//     two compete for the same cores), and append-events/s for the local
//     appends alone.
//   - BenchmarkIngest/drain reports events/s for the forwarder alone: the
//     events are appended first (untimed, as after an offline period) and
//     the clock runs from Forward's start until the hub holds them all.
//   - BenchmarkIngestBaselineRawPublish/sync reports msgs/s for a client of
//     the same leaf publishing messages of the same size and headers
//     straight to the hub stream, one synchronous publish at a time: what a
//     naive forwarder does, with no local store and no guard.
//   - BenchmarkIngestBaselineRawPublish/async does the same with
//     PublishAsync and a window of 256 publishes in flight: the ceiling for
//     a pipelined forwarder over this link.
//
// The forwarder is sequential by design (one event in flight, local
// consumer with MaxAckPending 1, and an expected-last-subject-sequence guard
// on every hub publish), so drain events/s ÷ sync msgs/s should be close to
// 1 (the difference is the cost of the local pull and ack per event), and
// live events/s should not be far below it. async msgs/s ÷ drain events/s is
// what a pipelined design could gain at most.
package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/outbox"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// benchPoll is how often the benchmarks look at the hub stream while
// waiting for the last event; it bounds the timing error per run.
const benchPoll = 5 * time.Millisecond

// benchQuiet keeps the servers' and the outbox's logs out of the output.
var benchQuiet = slog.New(slog.DiscardHandler)

// benchLink is a hub and one vehicle's leaf node connected to it directly.
type benchLink struct {
	hub  *testHub
	leaf *natsembed.Server
	nc   *nats.Conn // client of the leaf
}

// benchCtx returns a context that bounds a benchmark run of n events.
func benchCtx(b *testing.B, n int) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute+time.Duration(n)*10*time.Millisecond)
	b.Cleanup(cancel)
	return ctx
}

func newBenchLink(b *testing.B, ctx context.Context) *benchLink {
	b.Helper()
	h := startHub(b, ctx, benchQuiet)
	leaf, err := natsembed.Start(ctx, natsembed.Config{
		Name: "v1", Domain: "v1", StoreDir: b.TempDir(), LeafRemotes: []string{h.srv.LeafURL()},
		LeafReconnect: 50 * time.Millisecond, Logger: benchQuiet,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { leaf.Shutdown(context.Background()) })
	if err := leaf.WaitLeafConnected(ctx); err != nil {
		b.Fatal(err)
	}
	if err := h.srv.WaitLeafConnected(ctx); err != nil {
		b.Fatal(err)
	}
	nc, err := leaf.Connect("bench-edge")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close) // runs before the servers' shutdown
	return &benchLink{hub: h, leaf: leaf, nc: nc}
}

// hubMsgs is the number of messages in the hub's EVENTS stream.
func (l *benchLink) hubMsgs(b *testing.B, ctx context.Context) uint64 {
	b.Helper()
	info, err := l.hub.Events.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return info.State.Msgs
}

// waitHub polls the hub's EVENTS stream until it holds want messages.
func (l *benchLink) waitHub(b *testing.B, ctx context.Context, want uint64, state func() string) {
	b.Helper()
	t := time.NewTicker(benchPoll)
	defer t.Stop()
	for {
		got := l.hubMsgs(b, ctx)
		if got >= want {
			return
		}
		select {
		case <-ctx.Done():
			b.Fatalf("hub holds %d messages, want %d: %v; %s", got, want, ctx.Err(), state())
		case <-t.C:
		}
	}
}

// benchEvent is a realistic position report (about 300 bytes encoded).
// Append fills in the id, account, vehicle id and sequence.
func benchEvent(i int) *event.Event {
	data, _ := json.Marshal(event.PositionData{Reason: "interval", HDOP: float64(8+i%5) / 10})
	return &event.Event{
		Type:       event.TypePosition,
		OccurredAt: event.Time{Time: time.Now()},
		Location: &event.Location{
			Lat: 53.551086 + float64(i)*1e-5, Lon: 9.993682 + float64(i)*1e-5,
			SpeedKph: float64(i % 130), HeadingDeg: float64(i % 360), AltitudeM: 12, FixQuality: 1,
		},
		Data: data,
	}
}

// benchEventBody is benchEvent(i) as the forwarder sends it: the encoded
// event and the hub subject, with the headers the forwarder sets.
func benchEventBody(b *testing.B, i int) *nats.Msg {
	b.Helper()
	e := benchEvent(i)
	e.ID, e.SchemaVersion, e.Account, e.Vehicle.ID, e.Seq = event.NewID(e.OccurredAt.Time), event.SchemaVersion, "acme", "v1", uint64(i+1)
	body, err := e.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	return &nats.Msg{
		Subject: e.Subject(),
		Header:  nats.Header{jetstream.MsgIDHeader: []string{e.ID}, event.HeaderSeq: []string{strconv.FormatUint(e.Seq, 10)}},
		Data:    body,
	}
}

func openBenchOutbox(b *testing.B, ctx context.Context, l *benchLink) *outbox.Outbox {
	b.Helper()
	box, err := outbox.Open(ctx, l.nc, outbox.Config{Account: "acme", Vehicle: "v1", Logger: benchQuiet})
	if err != nil {
		b.Fatal(err)
	}
	return box
}

// startForward runs box.Forward until the benchmark's cleanup.
func startForward(b *testing.B, ctx context.Context, box *outbox.Outbox) {
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- box.Forward(fctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			b.Errorf("Forward returned %v, want context.Canceled", err)
		}
	})
}

func appendEvents(b *testing.B, ctx context.Context, box *outbox.Outbox, n int) {
	b.Helper()
	for i := 0; i < n; i++ {
		if err := box.Append(ctx, benchEvent(i)); err != nil {
			b.Fatalf("append %d: %v", i, err)
		}
	}
}

// checkForwarded checks, after the timed part, that the forwarder sent
// every event once and without retries. The hub stores an event just before
// the forwarder counts it, so the counter may lag the stream briefly.
func checkForwarded(b *testing.B, ctx context.Context, l *benchLink, box *outbox.Outbox) {
	b.Helper()
	for box.Stats().Forwarded < uint64(b.N) && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	if st := box.Stats(); st.Forwarded != uint64(b.N) || st.Retries != 0 || st.AlreadyOnHub != 0 {
		b.Fatalf("outbox stats %+v, want %d forwarded without retries", st, b.N)
	}
	if got := l.hubMsgs(b, ctx); got != uint64(b.N) {
		b.Fatalf("hub holds %d events, want %d", got, b.N)
	}
}

func BenchmarkIngest(b *testing.B) {
	// live: appends and forwarding at the same time, as on a moving vehicle
	// with a working link.
	b.Run("live", func(b *testing.B) {
		ctx := benchCtx(b, b.N)
		l := newBenchLink(b, ctx)
		box := openBenchOutbox(b, ctx, l)
		startForward(b, ctx, box)
		state := func() string { return fmt.Sprintf("outbox %+v", box.Stats()) }

		b.ResetTimer()
		start := time.Now()
		appendEvents(b, ctx, box, b.N)
		appended := time.Since(start)
		l.waitHub(b, ctx, uint64(b.N), state)
		total := time.Since(start)
		b.StopTimer()

		checkForwarded(b, ctx, l, box)
		b.ReportMetric(float64(b.N)/total.Seconds(), "events/s")
		b.ReportMetric(float64(b.N)/appended.Seconds(), "append-events/s")
	})

	// drain: the forwarder alone, emptying a backlog built while it was not
	// running (as when a vehicle comes back online).
	b.Run("drain", func(b *testing.B) {
		ctx := benchCtx(b, b.N)
		l := newBenchLink(b, ctx)
		box := openBenchOutbox(b, ctx, l)
		appendEvents(b, ctx, box, b.N)
		state := func() string { return fmt.Sprintf("outbox %+v", box.Stats()) }

		b.ResetTimer()
		start := time.Now()
		startForward(b, ctx, box)
		l.waitHub(b, ctx, uint64(b.N), state)
		total := time.Since(start)
		b.StopTimer()

		checkForwarded(b, ctx, l, box)
		b.ReportMetric(float64(b.N)/total.Seconds(), "events/s")
	})
}

func BenchmarkIngestBaselineRawPublish(b *testing.B) {
	// setup builds a link, makes sure the hub stream answers publishes from
	// the leaf (interest crosses the link shortly after it comes up) and
	// prepares n messages of the forwarder's size. It returns the hub's
	// message count before the timed publishes.
	setup := func(b *testing.B, ctx context.Context, n int, opts ...jetstream.JetStreamOpt) (*benchLink, jetstream.JetStream, []*nats.Msg, uint64) {
		b.Helper()
		l := newBenchLink(b, ctx)
		js, err := jetstream.NewWithDomain(l.nc, "hub", opts...)
		if err != nil {
			b.Fatal(err)
		}
		warm := benchEventBody(b, 1<<30)
		for {
			_, err := js.PublishMsg(ctx, warm)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				b.Fatalf("warm-up publish: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		msgs := make([]*nats.Msg, n)
		for i := range msgs {
			msgs[i] = benchEventBody(b, i)
		}
		return l, js, msgs, l.hubMsgs(b, ctx)
	}

	b.Run("sync", func(b *testing.B) {
		ctx := benchCtx(b, b.N)
		l, js, msgs, before := setup(b, ctx, b.N)

		b.ResetTimer()
		start := time.Now()
		for i, m := range msgs {
			if _, err := js.PublishMsg(ctx, m); err != nil {
				b.Fatalf("publish %d: %v", i, err)
			}
		}
		total := time.Since(start)
		b.StopTimer()

		if got := l.hubMsgs(b, ctx) - before; got != uint64(b.N) {
			b.Fatalf("hub stored %d messages, want %d", got, b.N)
		}
		b.ReportMetric(float64(b.N)/total.Seconds(), "msgs/s")
	})

	b.Run("async", func(b *testing.B) {
		const window = 256
		ctx := benchCtx(b, b.N)
		var failed atomic.Int64
		l, js, msgs, before := setup(b, ctx, b.N,
			jetstream.WithPublishAsyncMaxPending(window),
			jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *nats.Msg, err error) { failed.Add(1) }))

		b.ResetTimer()
		start := time.Now()
		for i, m := range msgs {
			if _, err := js.PublishMsgAsync(m, jetstream.WithStallWait(10*time.Second)); err != nil {
				b.Fatalf("publish %d: %v", i, err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-ctx.Done():
			b.Fatalf("%d publishes still pending: %v", js.PublishAsyncPending(), ctx.Err())
		}
		total := time.Since(start)
		b.StopTimer()

		if n := failed.Load(); n != 0 {
			b.Fatalf("%d async publishes failed", n)
		}
		if got := l.hubMsgs(b, ctx) - before; got != uint64(b.N) {
			b.Fatalf("hub stored %d messages, want %d", got, b.N)
		}
		b.ReportMetric(float64(b.N)/total.Seconds(), "msgs/s")
	})
}
