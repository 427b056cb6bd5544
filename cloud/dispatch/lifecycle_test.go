package dispatch_test

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/dispatch"
	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// waitState waits until the stored subscription reaches state.
func waitState(t *testing.T, ctx context.Context, st *subscription.Store, id string, state subscription.State) subscription.Subscription {
	t.Helper()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changes, err := st.Watch(wctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for c := range changes {
		if c.ID == id && !c.Deleted && c.Subscription.State == state {
			return c.Subscription
		}
	}
	t.Fatalf("subscription %s never became %s", id, state)
	return subscription.Subscription{}
}

// waitFor polls cond every 20 ms until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func status(t *testing.T, ctx context.Context, d *dispatch.Dispatcher, st *subscription.Store, id string) dispatch.Status {
	t.Helper()
	s, _, err := st.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.Status(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func consumerGone(ctx context.Context, js jetstream.JetStream, name string) bool {
	_, err := js.Consumer(ctx, "EVENTS", name)
	return errors.Is(err, jetstream.ErrConsumerNotFound)
}

// TestGoneDeactivatesAtOnce: a 410 deactivates the subscription with the
// reason, records the undelivered events as discarded and drops the queue;
// reactivating starts from new events.
func TestGoneDeactivatesAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := openHub(t, ctx)
	gone := atomic.Bool{}
	rcv, err := receiver.Start("127.0.0.1:0", secret, receiver.WithFaults(func(n int) receiver.Fault {
		if n > 2 && gone.Load() {
			return receiver.Fault{Status: http.StatusGone}
		}
		return receiver.Fault{}
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	gone.Store(true)
	var a attempts
	cfg := devConfig(&a)
	cfg.RetrySchedule = []time.Duration{time.Hour} // a retry would time the test out
	st := storeWith(t, ctx, h.JS, sub(rcv.URL()))
	d := runDispatcher(t, ctx, h.JS, cfg, st)
	waitConsumer(t, ctx, h.JS, "sub-s1")
	publish(t, ctx, h.JS, []string{"v1"}, 0, 5)

	s := waitState(t, ctx, st, "s1", subscription.Deactivated)
	if !strings.Contains(s.StateReason, "410") {
		t.Fatalf("reason %q does not mention the 410", s.StateReason)
	}
	waitFor(t, ctx, "consumer deleted", func() bool { return consumerGone(ctx, h.JS, "sub-s1") })
	got := status(t, ctx, d, st, "s1")
	if got.Delivered != 2 || got.Discarded != 3 || got.Failed != 1 || got.Pending != 0 || got.State != subscription.Deactivated {
		t.Fatalf("status %+v, want 2 delivered, 1 failed attempt, 3 discarded, nothing pending", got)
	}
	if got.LastFailure == nil || got.LastFailure.StatusCode != http.StatusGone {
		t.Fatalf("last failure %+v, want the 410", got.LastFailure)
	}

	// Reactivated (as the API does): new events only.
	gone.Store(false)
	if _, err := st.Update(ctx, "s1", func(s *subscription.Subscription) error {
		s.State, s.StateReason, s.Epoch, s.StartAt = subscription.Active, "", s.Epoch+1, time.Time{}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "new consumer", func() bool { return !consumerGone(ctx, h.JS, "sub-s1") })
	publish(t, ctx, h.JS, []string{"v1"}, 5, 2)
	ds, err := rcv.WaitFor(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, d := range ds {
		seqs = append(seqs, d.Event.Seq)
	}
	if want := []uint64{1, 2, 6, 7}; !equalU64(seqs, want) {
		t.Fatalf("delivered seqs %v, want %v (discarded events must stay discarded)", seqs, want)
	}
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMaxAgeDeactivates: events that keep failing beyond the maximum age
// (compressed to 3 s) end the subscription; each is recorded discarded.
func TestMaxAgeDeactivates(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := openHub(t, ctx)
	rcv := newReceiver(t, secret, receiver.WithStatus(func(int) int { return 500 }))
	var a attempts
	cfg := devConfig(&a)
	cfg.ImmediateRetries, cfg.RetrySchedule, cfg.MaxAge = -1, []time.Duration{100 * time.Millisecond}, 3*time.Second
	st := storeWith(t, ctx, h.JS, sub(rcv.URL()))
	d := runDispatcher(t, ctx, h.JS, cfg, st)
	waitConsumer(t, ctx, h.JS, "sub-s1")
	publish(t, ctx, h.JS, []string{"v1", "v2"}, 0, 3)

	s := waitState(t, ctx, st, "s1", subscription.Deactivated)
	if !strings.Contains(s.StateReason, "maximum age") {
		t.Fatalf("reason %q does not mention the maximum age", s.StateReason)
	}
	waitFor(t, ctx, "consumer deleted", func() bool { return consumerGone(ctx, h.JS, "sub-s1") })
	got := status(t, ctx, d, st, "s1")
	if got.Delivered != 0 || got.Discarded != 6 || got.Failed < 5 {
		t.Fatalf("status %+v: want 6 discarded, none delivered, a failed attempt every ~100 ms", got)
	}
	if n := len(rcv.Deliveries()); n != 0 {
		t.Fatalf("%d deliveries accepted by a receiver answering 500", n)
	}
}

// TestPauseKeepsQueueResumeDelivers: events published while paused wait
// (visible as queue depth) and arrive in order on resume.
func TestPauseKeepsQueueResumeDelivers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := openHub(t, ctx)
	rcv := newReceiver(t, secret)
	var a attempts
	st := storeWith(t, ctx, h.JS, sub(rcv.URL()))
	cfg := devConfig(&a)
	paused := make(chan struct{}, 1)
	cfg.Logger = slog.New(onMessage{Handler: slog.Default().Handler(), msg: "dispatch: subscription paused; its events wait", ch: paused})
	d := runDispatcher(t, ctx, h.JS, cfg, st)
	waitConsumer(t, ctx, h.JS, "sub-s1")
	publish(t, ctx, h.JS, []string{"v1"}, 0, 3)
	if _, err := rcv.WaitFor(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Update(ctx, "s1", func(s *subscription.Subscription) error { s.State = subscription.Paused; return nil }); err != nil {
		t.Fatal(err)
	}
	// Events published from now on must wait; the worker may still be
	// stopping, so they go out once the dispatcher says it stopped.
	select {
	case <-paused:
	case <-ctx.Done():
		t.Fatal("the dispatcher never reported the pause")
	}
	publish(t, ctx, h.JS, []string{"v1"}, 3, 5)
	waitFor(t, ctx, "queue depth 5", func() bool { return status(t, ctx, d, st, "s1").Pending == 5 })
	if got := status(t, ctx, d, st, "s1"); got.State != subscription.Paused || got.Delivered != 3 {
		t.Fatalf("paused status %+v", got)
	}
	if n := len(rcv.Deliveries()); n != 3 {
		t.Fatalf("%d deliveries while paused, want 3", n)
	}
	if _, err := st.Update(ctx, "s1", func(s *subscription.Subscription) error { s.State = subscription.Active; return nil }); err != nil {
		t.Fatal(err)
	}
	ds, err := rcv.WaitFor(ctx, 8)
	if err != nil {
		t.Fatal(err)
	}
	assertPerVehicleOrder(t, ds, []string{"v1"}, 8)
}

// TestReplayFromTime: a replay from a time within retention delivers again,
// in order, every event stored since then, although they were delivered.
func TestReplayFromTime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := openHub(t, ctx)
	rcv := newReceiver(t, secret)
	var a attempts
	st := startDispatcher(t, ctx, h.JS, devConfig(&a), sub(rcv.URL()))
	waitConsumer(t, ctx, h.JS, "sub-s1")
	publish(t, ctx, h.JS, []string{"v1"}, 0, 4)
	if _, err := rcv.WaitFor(ctx, 4); err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	publish(t, ctx, h.JS, []string{"v1"}, 4, 4)
	if _, err := rcv.WaitFor(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Update(ctx, "s1", func(s *subscription.Subscription) error {
		s.Epoch, s.StartAt = s.Epoch+1, since
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ds, err := rcv.WaitFor(ctx, 12)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, d := range ds[8:] {
		seqs = append(seqs, d.Event.Seq)
	}
	if want := []uint64{5, 6, 7, 8}; !equalU64(seqs, want) {
		t.Fatalf("replayed seqs %v, want %v", seqs, want)
	}
}

// TestOrderUnderRandomFaults: a receiver that fails at random (500,
// timeouts, connection resets, 429 with Retry-After) gets every event
// exactly once in success, in order: the whole stream in subscription
// ordering, per vehicle in vehicle ordering, where several vehicles are in
// flight at once.
func TestOrderUnderRandomFaults(t *testing.T) {
	cases := []struct {
		name     string
		ordering subscription.Ordering
	}{
		{"subscription", subscription.OrderSubscription},
		{"vehicle", subscription.OrderVehicle},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			h := openHub(t, ctx)
			rng := rand.New(rand.NewPCG(1, 2))
			var rngMu sync.Mutex
			faults := func(int) receiver.Fault {
				rngMu.Lock()
				p := rng.Float64()
				rngMu.Unlock()
				switch {
				case p < 0.10:
					return receiver.Fault{Status: 500}
				case p < 0.13:
					return receiver.Fault{Delay: time.Second} // beyond the 250 ms timeout
				case p < 0.16:
					return receiver.Fault{Reset: true}
				case p < 0.20:
					return receiver.Fault{Status: 429, RetryAfter: "3"}
				}
				return receiver.Fault{}
			}
			rcv := newReceiver(t, secret, receiver.WithFaults(faults))
			// Count the distinct events in flight in front of the receiver (a
			// retry after a timeout may overlap its own abandoned attempt),
			// and the order in which attempts start.
			var flightMu sync.Mutex
			flying := map[string]int{}
			maxEvents := 0
			var started []string // webhook-id of each attempt, in arrival order
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id := r.Header.Get("Webhook-Id")
				flightMu.Lock()
				flying[id]++
				maxEvents = max(maxEvents, len(flying))
				started = append(started, id)
				flightMu.Unlock()
				defer func() {
					flightMu.Lock()
					if flying[id]--; flying[id] == 0 {
						delete(flying, id)
					}
					flightMu.Unlock()
				}()
				time.Sleep(2 * time.Millisecond) // let deliveries overlap when they may
				rcv.ServeHTTP(w, r)
			})}
			go srv.Serve(ln)
			defer srv.Close()

			var a attempts
			cfg := devConfig(&a)
			cfg.ImmediateRetries = -1 // every fault goes through the schedule
			cfg.Timeout, cfg.MaxRetryAfter, cfg.RetrySchedule = 250*time.Millisecond, 30*time.Millisecond, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}
			s := sub("http://" + ln.Addr().String() + "/hook")
			s.Ordering = c.ordering
			if c.ordering == subscription.OrderVehicle {
				s.MaxInFlight = 8
			}
			startDispatcher(t, ctx, h.JS, cfg, s)
			waitConsumer(t, ctx, h.JS, "sub-s1")
			vehicles := []string{"v1", "v2", "v3", "v4", "v5", "v6"}
			const n = 25
			publish(t, ctx, h.JS, vehicles, 0, n)
			// Under load a sender may time out on an answer the receiver
			// already gave (the receiver then sees the event twice, same
			// webhook-id); what must hold is that the dispatcher settles
			// each event once, and that first sightings are in order.
			ds, unique := waitUnique(t, ctx, rcv, n*len(vehicles))
			assertPerVehicleOrder(t, unique, vehicles, n)
			if dup := len(ds) - len(unique); dup > 0 {
				t.Logf("%d events seen twice by the receiver after a sender timeout", dup)
			}
			waitFor(t, ctx, "every delivery settled", func() bool { return len(a.successes()) >= n*len(vehicles) })
			settled := map[string]int{}
			for _, x := range a.successes() {
				if settled[x.EventID]++; settled[x.EventID] > 1 {
					t.Fatalf("event %s settled as delivered twice", x.EventID)
				}
			}
			if len(settled) != n*len(vehicles) {
				t.Fatalf("%d events settled as delivered, want %d", len(settled), n*len(vehicles))
			}
			ds = unique
			if a.failed() == 0 {
				t.Fatal("the receiver never failed; the test proves nothing")
			}
			switch c.ordering {
			case subscription.OrderSubscription:
				// publish interleaves vehicles: v1#1 v2#1 … v6#1 v1#2 …
				for i, d := range ds {
					if want := vehicles[i%len(vehicles)]; d.Event.Vehicle.ID != want || d.Event.Seq != uint64(i/len(vehicles)+1) {
						t.Fatalf("delivery %d is %s#%d, want %s#%d: stream order broken", i, d.Event.Vehicle.ID, d.Event.Seq, want, i/len(vehicles)+1)
					}
				}
				// One event at a time: once an event's attempt has started,
				// no earlier event is attempted again. (Counting handlers
				// in flight is not the same: an attempt the sender gave up
				// on may still be in its handler when the next event comes.)
				pos := map[string]int{}
				for i, d := range ds {
					pos[d.ID] = i
				}
				flightMu.Lock()
				last := 0
				for k, id := range started {
					if pos[id] < last {
						flightMu.Unlock()
						t.Fatalf("attempt %d is of delivery %d after delivery %d had started: more than one event in flight", k, pos[id], last)
					}
					last = pos[id]
				}
				flightMu.Unlock()
			case subscription.OrderVehicle:
				if maxEvents < 2 {
					t.Fatalf("at most %d event in flight; vehicle ordering should overlap vehicles", maxEvents)
				}
			}
			t.Logf("%d attempts, %d failed, at most %d events in flight", len(a.all), a.failed(), maxEvents)
		})
	}
}

// TestSecretRotationOverlap: after a rotation, deliveries verify with the
// new secret and, during the overlap, with the old one too.
func TestSecretRotationOverlap(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := openHub(t, ctx)
	const newSecret = "whsec_c2VjcmV0LXJvdGF0ZWQtZm9yLXRoZS10ZXN0"
	oldRcv := newReceiver(t, secret)
	newRcv := newReceiver(t, newSecret)
	// One URL, two verifiers: the request goes to both.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var body []byte
	var bodyMu sync.Mutex
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bodyMu.Lock()
		defer bodyMu.Unlock()
		body = body[:0]
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Body.Read(buf)
			body = append(body, buf[:n]...)
			if err != nil {
				break
			}
		}
		for _, rc := range []*receiver.Receiver{oldRcv, newRcv} {
			req := r.Clone(r.Context())
			req.Body = http.NoBody
			req.Body = nopCloser{strings.NewReader(string(body))}
			rc.ServeHTTP(discardWriter{h: http.Header{}}, req)
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	go srv.Serve(ln)
	defer srv.Close()

	var a attempts
	st := startDispatcher(t, ctx, h.JS, devConfig(&a), sub("http://"+ln.Addr().String()+"/hook"))
	waitConsumer(t, ctx, h.JS, "sub-s1")
	publish(t, ctx, h.JS, []string{"v1"}, 0, 1)
	if _, err := oldRcv.WaitFor(ctx, 1); err != nil {
		t.Fatal(err)
	}
	rotate := func(until time.Time) {
		t.Helper()
		s, err := st.Update(ctx, "s1", func(s *subscription.Subscription) error {
			if s.Secret != newSecret {
				s.PreviousSecret, s.Secret = s.Secret, newSecret
			}
			s.PreviousSecretUntil = until
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		waitServing(t, ctx, h.JS, s)
	}
	rotate(time.Now().Add(time.Hour))
	publish(t, ctx, h.JS, []string{"v1"}, 1, 1)
	if _, err := newRcv.WaitFor(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := oldRcv.WaitFor(ctx, 2); err != nil {
		t.Fatal("during the overlap the old secret must still verify: ", err)
	}
	// Overlap over: only the new secret signs.
	rotate(time.Now())
	publish(t, ctx, h.JS, []string{"v1"}, 2, 1)
	if _, err := newRcv.WaitFor(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if n := len(oldRcv.Deliveries()); n != 2 || oldRcv.Rejected() == 0 {
		t.Fatalf("old-secret receiver: %d accepted, %d rejected; want the third rejected", n, oldRcv.Rejected())
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header       { return d.h }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}

// TestReplicasTakeOver: two dispatchers share the subscriptions; only one
// delivers at a time, and when it dies (its connection cut, no goodbye) the
// other takes over with nothing lost, nothing reordered.
func TestReplicasTakeOver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	addr := freePort(t)
	h := openHubListening(t, ctx, addr)
	var mu sync.Mutex
	count := 0
	half := make(chan struct{})
	rcv, err := receiver.Start("127.0.0.1:0", secret, receiver.WithOnDelivery(func(receiver.Delivery) {
		mu.Lock()
		defer mu.Unlock()
		if count++; count == 100 {
			close(half)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	st := storeWith(t, ctx, h.JS, sub(rcv.URL()))
	var a attempts
	cfg := devConfig(&a)
	cfg.LeaseTTL = 2 * time.Second
	replica := func() *nats.Conn {
		nc, err := nats.Connect("nats://"+addr, nats.MaxReconnects(-1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, _ := jetstream.New(nc)
		runDispatcher(t, ctx, js, cfg, st)
		return nc
	}
	ncA := replica()
	waitConsumer(t, ctx, h.JS, "sub-s1")
	replica()
	publish(t, ctx, h.JS, []string{"v1", "v2"}, 0, 150)
	select {
	case <-half:
	case <-ctx.Done():
		t.Fatal("deliveries did not start")
	}
	// Which replica is pinned is the server's choice; cut A either way.
	ncA.Close()
	ds, unique := waitUnique(t, ctx, rcv, 300)
	// The one event in flight when A died may be sent again (same
	// webhook-id); never more, never out of order.
	if dup := len(ds) - len(unique); dup > 1 {
		t.Fatalf("%d duplicate deliveries, want at most 1", dup)
	}
	assertPerVehicleOrder(t, unique, []string{"v1", "v2"}, 150)
}

// waitUnique waits for n distinct webhook-ids and returns all deliveries
// and the first of each id.
func waitUnique(t *testing.T, ctx context.Context, rcv *receiver.Receiver, n int) (all, unique []receiver.Delivery) {
	t.Helper()
	for want := n; ; want++ {
		all, err := rcv.WaitFor(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		unique = unique[:0]
		seen := map[string]bool{}
		for _, d := range all {
			if !seen[d.ID] {
				seen[d.ID] = true
				unique = append(unique, d)
			}
		}
		if len(unique) >= n {
			return all, unique
		}
	}
}

func openHubListening(t *testing.T, ctx context.Context, addr string) *hub.Hub {
	t.Helper()
	h, err := hub.Open(ctx, hub.Config{StoreDir: t.TempDir(), Listen: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// waitServing waits until a worker serves version s of its subscription
// (the consumer's metadata names the revision).
func waitServing(t *testing.T, ctx context.Context, js jetstream.JetStream, s subscription.Subscription) {
	t.Helper()
	want := strconv.FormatUint(s.Revision, 10)
	waitFor(t, ctx, "worker serving revision "+want, func() bool {
		c, err := js.Consumer(ctx, "EVENTS", s.ConsumerName())
		return err == nil && c.CachedInfo().Config.Metadata["fleetwire.revision"] == want
	})
}

// onMessage is a log handler that signals ch when a record with msg passes.
type onMessage struct {
	slog.Handler
	msg string
	ch  chan struct{}
}

func (h onMessage) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.ch <- struct{}{}:
		default:
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h onMessage) WithAttrs(as []slog.Attr) slog.Handler {
	return onMessage{Handler: h.Handler.WithAttrs(as), msg: h.msg, ch: h.ch}
}
