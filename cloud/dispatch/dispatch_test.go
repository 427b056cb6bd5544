package dispatch_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/dispatch"
	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// publish stores n events per vehicle on the hub as an edge forwarder would,
// interleaving vehicles.
func publish(t testing.TB, ctx context.Context, js jetstream.JetStream, vehicles []string, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		for _, v := range vehicles {
			e := &event.Event{ID: event.NewID(time.Now()), Type: event.TypePosition, SchemaVersion: event.SchemaVersion,
				OccurredAt: event.Time{Time: time.Now()}, Account: "acme", Vehicle: event.Vehicle{ID: v}, Seq: uint64(i + 1),
				Location: &event.Location{Lat: 49, Lon: 12}}
			b, _ := e.Marshal()
			m := &nats.Msg{Subject: e.Subject(), Data: b, Header: nats.Header{event.HeaderSeq: []string{strconv.FormatUint(e.Seq, 10)}}}
			if _, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(e.ID)); err != nil {
				t.Fatalf("publish: %v", err)
			}
		}
	}
}

// assertPerVehicleOrder checks each vehicle's deliveries are 1..n, once each.
func assertPerVehicleOrder(t *testing.T, ds []receiver.Delivery, vehicles []string, n int) {
	t.Helper()
	next := map[string]uint64{}
	for _, d := range ds {
		v := d.Event.Vehicle.ID
		if d.Event.Seq != next[v]+1 {
			t.Fatalf("vehicle %s: got seq %d after %d (lost, doubled or out of order)", v, d.Event.Seq, next[v])
		}
		if d.ID != d.Event.ID {
			t.Fatalf("webhook-id %q is not the event id %q", d.ID, d.Event.ID)
		}
		if h := d.Header.Get(dispatch.HeaderVehicleSeq); h != strconv.FormatUint(d.Event.Seq, 10) {
			t.Fatalf("%s header %q, want %d", dispatch.HeaderVehicleSeq, h, d.Event.Seq)
		}
		next[v] = d.Event.Seq
	}
	for _, v := range vehicles {
		if next[v] != uint64(n) {
			t.Fatalf("vehicle %s: last seq delivered %d, want %d", v, next[v], n)
		}
	}
	if len(ds) != n*len(vehicles) {
		t.Fatalf("%d deliveries, want %d", len(ds), n*len(vehicles))
	}
}

type attempts struct {
	mu  sync.Mutex
	all []dispatch.Attempt
}

func (a *attempts) add(x dispatch.Attempt) { a.mu.Lock(); a.all = append(a.all, x); a.mu.Unlock() }
func (a *attempts) successes() (out []dispatch.Attempt) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range a.all {
		if x.Delivered() {
			out = append(out, x)
		}
	}
	return out
}

func (a *attempts) failed() (n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range a.all {
		if !x.Delivered() {
			n++
		}
	}
	return n
}

// storeWith opens the hub's subscription store holding subs.
func storeWith(t testing.TB, ctx context.Context, js jetstream.JetStream, subs ...subscription.Subscription) *subscription.Store {
	t.Helper()
	st, err := subscription.Open(ctx, js, subscription.StoreConfig{AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if _, err := st.Apply(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func startDispatcher(t *testing.T, ctx context.Context, js jetstream.JetStream, cfg dispatch.Config, subs ...subscription.Subscription) *subscription.Store {
	t.Helper()
	st := storeWith(t, ctx, js, subs...)
	runDispatcher(t, ctx, js, cfg, st)
	return st
}

// runDispatcher runs a dispatcher over st until the test ends.
func runDispatcher(t *testing.T, ctx context.Context, js jetstream.JetStream, cfg dispatch.Config, st *subscription.Store) *dispatch.Dispatcher {
	t.Helper()
	d, err := dispatch.New(js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, st) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
	return d
}

func devConfig(a *attempts) dispatch.Config {
	return dispatch.Config{AllowHTTP: true, AllowPrivate: true, RetrySchedule: []time.Duration{50 * time.Millisecond}, ImmediateRetries: 1, OnAttempt: a.add}
}

func sub(url string) subscription.Subscription {
	return subscription.Subscription{ID: "s1", Account: "acme", URL: url, Secret: secret}
}

// newReceiver starts a verifying receiver on loopback, closed when the test ends.
func newReceiver(t testing.TB, secret string, opts ...receiver.Option) *receiver.Receiver {
	t.Helper()
	rcv, err := receiver.Start("127.0.0.1:0", secret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcv.Close() })
	return rcv
}

func openHub(t *testing.T, ctx context.Context) *hub.Hub {
	t.Helper()
	h, err := hub.Open(ctx, hub.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

func TestDeliversInOrderSigned(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := openHub(t, ctx)
	rcv := newReceiver(t, secret)
	var a attempts
	startDispatcher(t, ctx, h.JS, devConfig(&a), sub(rcv.URL()))
	waitConsumer(t, ctx, h.JS, "sub-s1")
	vehicles := []string{"v1", "v2", "v3"}
	publish(t, ctx, h.JS, vehicles, 0, 100)
	ds, err := rcv.WaitFor(ctx, 300)
	if err != nil {
		t.Fatal(err)
	}
	assertPerVehicleOrder(t, ds, vehicles, 100)
	if rcv.Rejected() != 0 || a.failed() != 0 {
		t.Fatalf("rejected signatures %d, failed attempts %d", rcv.Rejected(), a.failed())
	}
}

func TestFailingReceiverKeepsOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := openHub(t, ctx)
	// 500 for the first 25 requests (immediate retries included), then 204.
	rcv, err := receiver.Start("127.0.0.1:0", secret, receiver.WithStatus(func(n int) int {
		if n <= 25 {
			return 500
		}
		return 204
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	var a attempts
	startDispatcher(t, ctx, h.JS, devConfig(&a), sub(rcv.URL()))
	waitConsumer(t, ctx, h.JS, "sub-s1")
	publish(t, ctx, h.JS, []string{"v1"}, 0, 40)
	ds, err := rcv.WaitFor(ctx, 40)
	if err != nil {
		t.Fatal(err)
	}
	assertPerVehicleOrder(t, ds, []string{"v1"}, 40)
	if a.failed() == 0 {
		t.Fatal("no failed attempt recorded")
	}
}

func TestPrivateAddressRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := openHub(t, ctx)
	rcv := newReceiver(t, secret)
	got := make(chan dispatch.Attempt, 16)
	cfg := dispatch.Config{AllowHTTP: true, RetrySchedule: []time.Duration{time.Hour}, OnAttempt: func(a dispatch.Attempt) { got <- a }}
	startDispatcher(t, ctx, h.JS, cfg, sub(rcv.URL()))
	waitConsumer(t, ctx, h.JS, "sub-s1")
	publish(t, ctx, h.JS, []string{"v1"}, 0, 1)
	select {
	case a := <-got:
		if !errors.Is(a.Err, dispatch.ErrForbiddenAddress) {
			t.Fatalf("attempt error %v, want ErrForbiddenAddress", a.Err)
		}
	case <-ctx.Done():
		t.Fatal("no attempt")
	}
	if n := len(rcv.Deliveries()); n != 0 {
		t.Fatalf("loopback receiver got %d deliveries", n)
	}
}

// waitConsumer waits until the dispatcher has created its consumer, so that
// events published next are delivered (new subscriptions start from new events).
func waitConsumer(t *testing.T, ctx context.Context, js jetstream.JetStream, name string) {
	t.Helper()
	for {
		if _, err := js.Consumer(ctx, "EVENTS", name); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("consumer %s never created", name)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestHubRestartMidDelivery kills the hub while deliveries are under way and
// restarts it from its store: nothing is lost and order holds.
func TestHubRestartMidDelivery(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir, addr := t.TempDir(), freePort(t)
	cfg := hub.Config{StoreDir: dir, Listen: addr}
	h1, err := hub.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300

	// The dispatcher dials the hub over TCP, as against a real cluster.
	nc, err := nats.Connect("nats://"+addr, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close) // after the dispatcher's cleanup
	js, _ := jetstream.New(nc)
	var mu sync.Mutex
	delivered := 0
	halfway := make(chan struct{})
	rcv, err := receiver.Start("127.0.0.1:0", secret, receiver.WithOnDelivery(func(receiver.Delivery) {
		mu.Lock()
		delivered++
		if delivered == n/2 {
			close(halfway)
		}
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	var a attempts
	startDispatcher(t, ctx, js, devConfig(&a), sub(rcv.URL()))
	waitConsumer(t, ctx, h1.JS, "sub-s1")
	publish(t, ctx, h1.JS, []string{"v1", "v2"}, 0, n)
	select {
	case <-halfway:
	case <-ctx.Done():
		t.Fatal("deliveries did not start")
	}
	if err := h1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	h2, err := hub.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("restart from disk: %v", err)
	}
	defer h2.Close(context.Background())
	ds, err := rcv.WaitFor(ctx, 2*n)
	if err != nil {
		t.Fatal(err)
	}
	// A delivery whose ack the dying hub never stored is delivered again
	// (same webhook-id, receivers de-duplicate); nothing may be lost or
	// reordered, and the receiver must see each event at least once.
	var unique []receiver.Delivery
	seen := map[string]bool{}
	for _, d := range ds {
		if !seen[d.ID] {
			seen[d.ID] = true
			unique = append(unique, d)
		}
	}
	if dup := len(ds) - len(unique); dup > 1 {
		t.Fatalf("%d redeliveries after one hub restart, want at most 1", dup)
	}
	assertPerVehicleOrder(t, unique, []string{"v1", "v2"}, n)
}

// TestRetryAfterHonoured: a receiver answering 429 with Retry-After gets
// exactly that wait (capped), not the schedule's.
func TestRetryAfterHonoured(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := openHub(t, ctx)
	var first sync.Once
	var mu sync.Mutex
	var times []time.Time
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		served := false
		first.Do(func() {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			served = true
		})
		if !served {
			w.WriteHeader(http.StatusNoContent)
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	got := make(chan dispatch.Attempt, 4)
	cfg := dispatch.Config{AllowHTTP: true, AllowPrivate: true, ImmediateRetries: -1, RetrySchedule: []time.Duration{time.Hour},
		OnAttempt: func(a dispatch.Attempt) { got <- a }}
	startDispatcher(t, ctx, h.JS, cfg, sub("http://"+ln.Addr().String()+"/hook"))
	waitConsumer(t, ctx, h.JS, "sub-s1")
	publish(t, ctx, h.JS, []string{"v1"}, 0, 1)
	for _, want := range []bool{false, true} {
		select {
		case a := <-got:
			if a.Delivered() != want {
				t.Fatalf("attempt %d delivered=%v, want %v (%v)", a.Number, a.Delivered(), want, a.Err)
			}
		case <-ctx.Done():
			t.Fatal("the event was not retried after Retry-After: 1 (the schedule says 1 h)")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if gap := times[1].Sub(times[0]); gap < 900*time.Millisecond || gap > 5*time.Second {
		t.Fatalf("retried after %s, want about the 1 s Retry-After", gap)
	}
}
