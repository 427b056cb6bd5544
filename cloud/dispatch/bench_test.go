// Dispatch benchmarks: how fast the dispatcher delivers stored events as
// signed webhooks to a loopback receiver (embedded hub, real HTTP, the
// cloud/internal/receiver that verifies every signature; no mocks).
//
// Run them with, for example:
//
//	go test -run '^$' -bench . -benchtime 2000x -count 3 ./cloud/dispatch/
//
// Every benchmark builds its own hub and receiver; setup and teardown are
// not timed. The absolute figures depend heavily on the machine (a 2-core
// box shared with other work is noisy), so read them as ratios between
// benchmarks of the same run:
//
//   - BenchmarkDispatch/subs-1 reports deliveries/s for one subscription:
//     one event in flight (MaxAckPending 1), strict order: the next event
//     leaves the hub only once the previous one's ack arrived.
//   - BenchmarkDispatch/subs-8 has 8 subscriptions of the same account,
//     each with its own consumer and all delivering to the same receiver
//     in parallel; every one of the b.N events is delivered 8 times and
//     deliveries/s counts them all (so ns/op is per event, not per delivery).
//   - BenchmarkDispatch/vehicle-8 is one subscription in vehicle ordering
//     (8 in flight) over 8 vehicles: compare it with parallel-8.
//   - BenchmarkDispatch/subs-1000 has 1,000 subscriptions; b.N/1000 events
//     (at least one) are each delivered 1,000 times.
//   - BenchmarkLatency offers b.N events at 1,000/s to one subscription and
//     reports the p50 and p99 time from publish on the hub to the
//     receiver's handler.
//   - BenchmarkDispatchBaselineHTTP/sequential reports posts/s for a bare
//     net/http loop that signs and POSTs bodies of the same size to the
//     same kind of receiver, one at a time: the ceiling for subs-1.
//     /parallel-8 does the same from 8 goroutines: the ceiling for subs-8.
//
// deliveries/s ÷ posts/s is the share of the HTTP ceiling the dispatcher
// keeps; the rest is its per-event JetStream work (pull, progress, double
// ack) and envelope decoding.
//
// The events are published while the dispatcher is stopped (after it has
// created its consumers, since new subscriptions start from new events);
// the timer starts with the dispatcher, so only delivery is measured.
package dispatch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/dispatch"
	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/webhooks"
	"github.com/nats-io/nats.go/jetstream"
)

// benchQuiet keeps the hub's and the dispatcher's logs out of the output.
var benchQuiet = slog.New(slog.DiscardHandler)

// benchCtx returns a context that bounds a benchmark run of n deliveries.
func benchCtx(b *testing.B, n int) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute+time.Duration(n)*10*time.Millisecond)
	b.Cleanup(cancel)
	return ctx
}

func benchHub(b *testing.B, ctx context.Context) *hub.Hub {
	b.Helper()
	h, err := hub.Open(ctx, hub.Config{StoreDir: b.TempDir(), Logger: benchQuiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		// Close (rather than let Close drain) the hub's own client first: a
		// drain still under way when the server stops writes a "closed pipe"
		// error to stderr.
		h.NC.Close()
		h.Close(context.Background())
	})
	return h
}

func benchReceiver(b *testing.B) *receiver.Receiver {
	b.Helper()
	rcv, err := receiver.Start("127.0.0.1:0", secret)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rcv.Close() })
	return rcv
}

// runDispatcher runs d until the returned stop is called (at the latest in
// the benchmark's cleanup); stop waits for Run to return.
func runBench(b *testing.B, ctx context.Context, d *dispatch.Dispatcher, st *subscription.Store) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, st) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				b.Errorf("Run returned %v, want context.Canceled", err)
			}
		})
	}
	b.Cleanup(stop)
	return stop
}

// waitBacklog waits until consumer name exists and has want events pending
// and none in flight.
// waitBacklog waits until the consumer has want events pending and none in
// flight; with stopped, also no pull left waiting (a stopped dispatcher's
// last pull would take one event of the backlog).
func waitBacklog(b *testing.B, ctx context.Context, js jetstream.JetStream, name string, want uint64, stopped bool) {
	b.Helper()
	var last string
	for {
		c, err := js.Consumer(ctx, "EVENTS", name)
		if err == nil {
			info, err := c.Info(ctx)
			if err == nil && info.NumPending == want && info.NumAckPending == 0 && (!stopped || info.NumWaiting == 0) {
				return
			}
			if err == nil {
				last = fmt.Sprintf("pending %d, in flight %d, pulls waiting %d", info.NumPending, info.NumAckPending, info.NumWaiting)
			}
		}
		if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			b.Fatalf("consumer %s: want %d pending and none in flight; last seen: %s", name, want, last)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// benchShape is what a BenchmarkDispatch case delivers.
type benchShape struct {
	subs     int
	vehicles int
	ordering subscription.Ordering
}

// waitPulling waits until a worker has its pull open on the consumer.
func waitPulling(b *testing.B, ctx context.Context, js jetstream.JetStream, name string) {
	b.Helper()
	for {
		if c, err := js.Consumer(ctx, "EVENTS", name); err == nil && c.CachedInfo().NumWaiting > 0 {
			return
		}
		select {
		case <-ctx.Done():
			b.Fatalf("consumer %s: no worker pulling", name)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func benchDispatch(b *testing.B, shape benchShape) {
	nsubs := shape.subs
	perVehicle := max(b.N/shape.vehicles, 1)
	if nsubs >= 100 {
		perVehicle = max(b.N/nsubs/shape.vehicles, 1)
	}
	vehicles := make([]string, shape.vehicles)
	for i := range vehicles {
		vehicles[i] = "v" + strconv.Itoa(i+1)
	}
	events := perVehicle * len(vehicles)
	total := events * nsubs
	ctx := benchCtx(b, total)
	h := benchHub(b, ctx)
	rcv := benchReceiver(b)
	var failed atomic.Int64
	d, err := dispatch.New(h.JS, dispatch.Config{
		AllowHTTP: true, AllowPrivate: true, Logger: benchQuiet,
		OnAttempt: func(a dispatch.Attempt) {
			if !a.Delivered() {
				failed.Add(1)
			}
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	subs := make([]subscription.Subscription, nsubs)
	for i := range subs {
		subs[i] = subscription.Subscription{ID: "s" + strconv.Itoa(i+1), Account: "acme", URL: rcv.URL(), Secret: secret, Ordering: shape.ordering}
		if shape.ordering == subscription.OrderVehicle {
			subs[i].MaxInFlight = 8
		}
	}

	st := storeWith(b, ctx, h.JS, subs...)
	if nsubs >= 100 {
		// Thousands of subscriptions: measure steady delivery, not the
		// start of a thousand workers (reported as ready-s): publish once
		// every worker has its pull open.
		start := time.Now()
		runBench(b, ctx, d, st)
		for _, s := range subs {
			waitPulling(b, ctx, h.JS, s.ConsumerName())
		}
		ready := time.Since(start)
		b.ResetTimer()
		start = time.Now()
		publish(b, ctx, h.JS, vehicles, 0, perVehicle)
		if _, err := rcv.WaitFor(ctx, total); err != nil {
			b.Fatalf("%v (failed attempts %d)", err, failed.Load())
		}
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(ready.Seconds(), "ready-s")
		b.ReportMetric(float64(total)/elapsed.Seconds(), "deliveries/s")
		return
	}

	// Create the consumers (new subscriptions start from new events), stop,
	// and store the backlog.
	stop := runBench(b, ctx, d, st)
	for _, s := range subs {
		waitBacklog(b, ctx, h.JS, s.ConsumerName(), 0, false)
	}
	stop()
	for _, s := range subs {
		waitBacklog(b, ctx, h.JS, s.ConsumerName(), 0, true)
	}
	publish(b, ctx, h.JS, vehicles, 0, perVehicle)
	for _, s := range subs {
		waitBacklog(b, ctx, h.JS, s.ConsumerName(), uint64(events), true)
	}

	b.ResetTimer()
	start := time.Now()
	runBench(b, ctx, d, st)
	if _, err := rcv.WaitFor(ctx, total); err != nil {
		b.Fatalf("%v (failed attempts %d)", err, failed.Load())
	}
	elapsed := time.Since(start)
	b.StopTimer()

	if n := failed.Load(); n != 0 || rcv.Rejected() != 0 {
		b.Fatalf("%d failed attempts, %d rejected signatures", n, rcv.Rejected())
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "deliveries/s")
}

func BenchmarkDispatch(b *testing.B) {
	b.Run("subs-1", func(b *testing.B) { benchDispatch(b, benchShape{subs: 1, vehicles: 1}) })
	b.Run("subs-8", func(b *testing.B) { benchDispatch(b, benchShape{subs: 8, vehicles: 1}) })
	b.Run("vehicle-8", func(b *testing.B) {
		benchDispatch(b, benchShape{subs: 1, vehicles: 8, ordering: subscription.OrderVehicle})
	})
	b.Run("subs-1000", func(b *testing.B) { benchDispatch(b, benchShape{subs: 1000, vehicles: 1}) })
}

// benchBodies returns n event bodies shaped as publish stores them, and
// their ids.
func benchBodies(b *testing.B, n int) (ids []string, bodies [][]byte) {
	b.Helper()
	ids, bodies = make([]string, n), make([][]byte, n)
	for i := range bodies {
		e := &event.Event{ID: event.NewID(time.Now()), Type: event.TypePosition, SchemaVersion: event.SchemaVersion,
			OccurredAt: event.Time{Time: time.Now()}, Account: "acme", Vehicle: event.Vehicle{ID: "v1"}, Seq: uint64(i + 1),
			Location: &event.Location{Lat: 49, Lon: 12}}
		body, err := e.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		ids[i], bodies[i] = e.ID, body
	}
	return ids, bodies
}

// benchPost signs and POSTs one body, as a bare webhook sender would.
func benchPost(ctx context.Context, c *http.Client, url string, signer *webhooks.Signer, id string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	signer.SetHeaders(req.Header, id, time.Now(), body)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

func benchBaselineHTTP(b *testing.B, workers int) {
	ctx := benchCtx(b, b.N)
	rcv := benchReceiver(b)
	signer, err := webhooks.NewSigner(secret)
	if err != nil {
		b.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	b.Cleanup(tr.CloseIdleConnections)
	ids, bodies := benchBodies(b, b.N)

	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					errs <- nil
					return
				}
				if err := benchPost(ctx, c, rcv.URL(), signer, ids[i], bodies[i]); err != nil {
					errs <- fmt.Errorf("post %d: %w", i, err)
					return
				}
			}
		}()
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()

	if first != nil {
		b.Fatal(first)
	}
	if n := len(rcv.Deliveries()); n != b.N {
		b.Fatalf("receiver accepted %d posts, want %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "posts/s")
}

func BenchmarkDispatchBaselineHTTP(b *testing.B) {
	b.Run("sequential", func(b *testing.B) { benchBaselineHTTP(b, 1) })
	b.Run("parallel-8", func(b *testing.B) { benchBaselineHTTP(b, 8) })
}

// BenchmarkLatency offers b.N events at 1,000 per second to one
// subscription (strict order) and reports the latency from the hub's
// publish to the receiver, p50 and p99.
func BenchmarkLatency(b *testing.B) {
	ctx := benchCtx(b, b.N)
	h := benchHub(b, ctx)
	var mu sync.Mutex
	got := map[string]time.Time{}
	rcv, err := receiver.Start("127.0.0.1:0", secret, receiver.WithOnDelivery(func(d receiver.Delivery) {
		mu.Lock()
		got[d.ID] = d.Received
		mu.Unlock()
	}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rcv.Close() })
	d, err := dispatch.New(h.JS, dispatch.Config{AllowHTTP: true, AllowPrivate: true, Logger: benchQuiet})
	if err != nil {
		b.Fatal(err)
	}
	s := subscription.Subscription{ID: "lat", Account: "acme", URL: rcv.URL(), Secret: secret}
	st := storeWith(b, ctx, h.JS, s)
	runBench(b, ctx, d, st)
	waitBacklog(b, ctx, h.JS, s.ConsumerName(), 0, false)

	sent := make(map[string]time.Time, b.N)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		e := &event.Event{ID: event.NewID(time.Now()), Type: event.TypePosition, SchemaVersion: event.SchemaVersion,
			OccurredAt: event.Time{Time: time.Now()}, Account: "acme", Vehicle: event.Vehicle{ID: "v1"}, Seq: uint64(i + 1),
			Location: &event.Location{Lat: 49, Lon: 12}}
		body, _ := e.Marshal()
		sent[e.ID] = time.Now()
		if _, err := h.JS.PublishAsync(e.Subject(), body, jetstream.WithMsgID(e.ID)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := rcv.WaitFor(ctx, b.N); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	lat := make([]time.Duration, 0, b.N)
	mu.Lock()
	for id, t0 := range sent {
		lat = append(lat, got[id].Sub(t0))
	}
	mu.Unlock()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
