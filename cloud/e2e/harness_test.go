package e2e

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
	"github.com/fleetwire/fleetwire/cloud/server"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/edge/agent"
	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/tcpproxy"
	"github.com/fleetwire/fleetwire/shared/webhooks"
)

const drives = "../../testdata/nmea/genivi/"

// loadFixes replays an NMEA log as fast as possible and returns its first n
// accepted fixes.
func loadFixes(t *testing.T, file string, n int) []gnss.Fix {
	t.Helper()
	r, err := gnss.NewReplay(drives+file, gnss.ReplayOptions{Speed: 0})
	if err != nil {
		t.Fatal(err)
	}
	var fixes []gnss.Fix
	errEnough := errors.New("enough")
	err = r.Run(context.Background(), func(f gnss.Fix) error {
		fixes = append(fixes, f)
		if len(fixes) == n {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		t.Fatal(err)
	}
	if len(fixes) < n {
		t.Fatalf("%s: only %d fixes, want %d", file, len(fixes), n)
	}
	return fixes
}

// feed is a gnss.Source the test drives fix by fix.
type feed chan gnss.Fix

func (f feed) Run(ctx context.Context, emit func(gnss.Fix) error) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case fix := <-f:
			if err := emit(fix); err != nil {
				return err
			}
		}
	}
}

// cloud is a running fleetwire serve with a receiver subscribed to all events.
type cloud struct {
	t      *testing.T
	cfg    server.Config
	srv    *server.Server
	rcv    *receiver.Receiver
	stop   context.CancelFunc
	done   chan error
	leaf   string // host:port of the hub's leaf listener (stable across restarts)
	secret string
	opts   []server.Option
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startCloud(t *testing.T, ctx context.Context) *cloud {
	t.Helper()
	return startCloudWith(t, ctx, nil)
}

// startReceiver starts a verifying webhook receiver on loopback, closed
// when the test ends, and returns it with the secret it verifies with.
func startReceiver(t *testing.T) (*receiver.Receiver, string) {
	t.Helper()
	secret, err := webhooks.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := receiver.Start("127.0.0.1:0", secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcv.Close() })
	return rcv, secret
}

// startCloudWith is startCloud with tune applied to the configuration
// before the start.
func startCloudWith(t *testing.T, ctx context.Context, tune func(*server.Config), opts ...server.Option) *cloud {
	t.Helper()
	rcv, secret := startReceiver(t)
	cfg := server.Default()
	cfg.Hub.StoreDir = t.TempDir()
	cfg.Hub.LeafListen = freeAddr(t)
	cfg.API.Listen = ""
	cfg.Dispatch.AllowHTTP, cfg.Dispatch.AllowPrivate = true, true
	cfg.Dispatch.RetrySchedule = []time.Duration{100 * time.Millisecond}
	cfg.Subscriptions = []subscription.Subscription{{ID: "all", Account: "acme", URL: rcv.URL(), Secret: secret}}
	if tune != nil {
		tune(&cfg)
	}
	c := &cloud{t: t, cfg: cfg, rcv: rcv, leaf: cfg.Hub.LeafListen, secret: secret, opts: opts}
	c.start(ctx)
	t.Cleanup(c.shutdown)
	return c
}

func (c *cloud) start(ctx context.Context) {
	c.t.Helper()
	srv, err := server.New(c.cfg, c.opts...)
	if err != nil {
		c.t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	c.srv, c.stop, c.done = srv, cancel, make(chan error, 1)
	go func() { c.done <- srv.Run(rctx) }()
	select {
	case <-srv.Ready():
	case err := <-c.done:
		c.t.Fatalf("cloud did not start: %v", err)
	}
	// The dispatcher creates its consumers right after Ready; events
	// published before that would not be delivered to a new subscription.
	for {
		// Short requests: on a cluster, one sent before the consumer has
		// a leader is never answered.
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := srv.Hub().JS.Consumer(rctx, "EVENTS", "sub-all")
		cancel()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			c.t.Fatal("subscription consumer never created")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (c *cloud) shutdown() {
	if c.stop == nil {
		return
	}
	c.stop()
	if err := <-c.done; err != nil {
		c.t.Errorf("cloud stopped with %v", err)
	}
	c.stop = nil
}

// vehicle is an edge agent linked to the hub through its own proxy.
type vehicle struct {
	t      *testing.T
	id     string
	store  string
	proxy  *tcpproxy.Proxy
	src    feed
	ag     *agent.Agent
	stop   context.CancelFunc
	done   chan error
	mu     sync.Mutex
	stored []*event.Event
	tune   func(*agent.Config) // applied to the configuration at each start
	opts   []agent.Option
}

func startVehicle(t *testing.T, ctx context.Context, c *cloud, id string) *vehicle {
	t.Helper()
	return startVehicleWith(t, ctx, c, id, nil)
}

// startVehicleWith is startVehicle with tune applied to the agent's
// configuration at each start.
func startVehicleWith(t *testing.T, ctx context.Context, c *cloud, id string, tune func(*agent.Config), opts ...agent.Option) *vehicle {
	t.Helper()
	p, err := tcpproxy.Start(c.leaf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	v := &vehicle{t: t, id: id, store: t.TempDir(), proxy: p, src: make(feed), tune: tune, opts: opts}
	v.start(ctx)
	t.Cleanup(v.shutdown)
	return v
}

func (v *vehicle) start(ctx context.Context) {
	v.t.Helper()
	cfg := agent.Default()
	cfg.Vehicle = agent.VehicleConfig{Account: "acme", ID: v.id, Registration: "FW-" + v.id}
	cfg.Hub.URL = "nats-leaf://" + v.proxy.Addr()
	cfg.Store.Dir = filepath.Join(v.store, "edge")
	cfg.GNSS.Replay = "unused: WithSource"
	cfg.Position.Every = time.Millisecond // every fix is an event
	cfg.HeartbeatEvery = time.Hour
	if v.tune != nil {
		v.tune(&cfg)
	}
	a, err := agent.New(cfg, append([]agent.Option{agent.WithSource(v.src), agent.WithOnStored(func(e *event.Event) {
		v.mu.Lock()
		v.stored = append(v.stored, e)
		v.mu.Unlock()
	})}, v.opts...)...)
	if err != nil {
		v.t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	v.ag, v.stop, v.done = a, cancel, make(chan error, 1)
	go func() { v.done <- a.Run(rctx) }()
	select {
	case <-a.Ready():
	case err := <-v.done:
		v.t.Fatalf("vehicle %s did not start: %v", v.id, err)
	}
}

func (v *vehicle) shutdown() {
	if v.stop == nil {
		return
	}
	v.stop()
	if err := <-v.done; err != nil {
		v.t.Errorf("vehicle %s stopped with %v", v.id, err)
	}
	v.stop = nil
}

// positions counts the stored position events (one per fix here).
func (v *vehicle) positions() int {
	n := 0
	for _, e := range v.storedEvents() {
		if e.Type == event.TypePosition {
			n++
		}
	}
	return n
}

// drive feeds fixes to the agent and waits until each became a stored
// position event (and the events it completed, stored before it).
func (v *vehicle) drive(ctx context.Context, fixes []gnss.Fix) {
	v.t.Helper()
	want := v.positions() + len(fixes)
	for _, f := range fixes {
		select {
		case v.src <- f:
		case <-ctx.Done():
			v.t.Fatalf("vehicle %s: feeding fixes: %v", v.id, ctx.Err())
		}
	}
	for {
		n := v.positions()
		if n >= want {
			return
		}
		select {
		case <-ctx.Done():
			v.t.Fatalf("vehicle %s: %d of %d positions stored", v.id, n, want)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (v *vehicle) storedEvents() []*event.Event {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]*event.Event(nil), v.stored...)
}

// assertDelivered checks that the receiver got every stored event of every
// vehicle exactly once, in per-vehicle order, with the stored id and seq,
// and that no signature failed.
func assertDelivered(t *testing.T, ctx context.Context, c *cloud, vs ...*vehicle) {
	t.Helper()
	want := 0
	for _, v := range vs {
		want += len(v.storedEvents())
	}
	ds, err := c.rcv.WaitFor(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	checkDeliveries(t, ds, vs...)
	if len(ds) != want {
		t.Fatalf("%d deliveries, want %d", len(ds), want)
	}
	if n := c.rcv.Rejected(); n != 0 {
		t.Fatalf("receiver rejected %d signatures", n)
	}
}

// checkDeliveries checks that ds holds every stored event of each vehicle
// exactly once, in per-vehicle order, with the stored id and gap-free seq.
func checkDeliveries(t *testing.T, ds []receiver.Delivery, vs ...*vehicle) {
	t.Helper()
	byVehicle := map[string][]receiver.Delivery{}
	for _, d := range ds {
		byVehicle[d.Event.Vehicle.ID] = append(byVehicle[d.Event.Vehicle.ID], d)
	}
	for _, v := range vs {
		got, stored := byVehicle[v.id], v.storedEvents()
		if len(got) != len(stored) {
			t.Fatalf("vehicle %s: %d deliveries for %d stored events", v.id, len(got), len(stored))
		}
		for i := range stored {
			if got[i].Event.ID != stored[i].ID || got[i].Event.Seq != stored[i].Seq {
				t.Fatalf("vehicle %s: delivery %d is %s seq %d, want %s seq %d (lost, doubled or reordered)",
					v.id, i, got[i].Event.ID, got[i].Event.Seq, stored[i].ID, stored[i].Seq)
			}
			if got[i].Event.Seq != uint64(i+1) {
				t.Fatalf("vehicle %s: delivery %d has seq %d, want %d (gap-free numbering)", v.id, i, got[i].Event.Seq, i+1)
			}
		}
	}
}
