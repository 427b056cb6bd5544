package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/outbox"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/fleetwire/fleetwire/shared/tcpproxy"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// testHub is the hub as the outbox expects it: JetStream domain "hub" with
// an EVENTS stream on fleet.events.>, and a leaf-node listener. (The cloud's
// own hub package is not imported here: edge and cloud only share shared/.)
type testHub struct {
	srv    *natsembed.Server
	JS     jetstream.JetStream
	Events jetstream.Stream
}

func startHub(t testing.TB, ctx context.Context, log *slog.Logger) *testHub {
	t.Helper()
	srv, err := natsembed.Start(ctx, natsembed.Config{Name: "hub", Domain: "hub", StoreDir: t.TempDir(), LeafListen: "127.0.0.1:0", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := srv.Connect("test-hub")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close(); srv.Shutdown(context.Background()) })
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{event.SubjectRoot + ".>"},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute, AllowDirect: true})
	if err != nil {
		t.Fatal(err)
	}
	return &testHub{srv: srv, JS: js, Events: st}
}

// rig is a hub, a loopback proxy standing for the mobile link, and one
// vehicle's leaf node with its outbox.
type rig struct {
	t     *testing.T
	cfg   outbox.Config
	hub   *testHub
	proxy *tcpproxy.Proxy
	leaf  *natsembed.Server
	nc    *nats.Conn
	box   *outbox.Outbox
	stop  context.CancelFunc
	done  chan error
	store string
}

func newRig(t *testing.T, ctx context.Context) *rig {
	t.Helper()
	return newRigWith(t, ctx, outbox.Config{})
}

// newRigWith starts the rig with cfg's limits and policy.
func newRigWith(t *testing.T, ctx context.Context, cfg outbox.Config) *rig {
	t.Helper()
	h := startHub(t, ctx, nil)
	p, err := tcpproxy.Start(h.srv.LeafURL()[len("nats-leaf://"):])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	cfg.Account, cfg.Vehicle = "acme", "v1"
	cfg.PublishTimeout, cfg.RetryMax = time.Second, 200*time.Millisecond
	r := &rig{t: t, cfg: cfg, hub: h, proxy: p, store: t.TempDir()}
	r.startEdge(ctx)
	t.Cleanup(r.stopEdge)
	return r
}

func (r *rig) startEdge(ctx context.Context) {
	r.t.Helper()
	var err error
	r.leaf, err = natsembed.Start(ctx, natsembed.Config{
		Name: "v1", Domain: "v1", StoreDir: r.store, LeafRemotes: []string{"nats-leaf://" + r.proxy.Addr()},
		LeafReconnect: 50 * time.Millisecond,
	})
	if err != nil {
		r.t.Fatal(err)
	}
	r.nc, err = r.leaf.Connect("test-edge")
	if err != nil {
		r.t.Fatal(err)
	}
	r.box, err = outbox.Open(ctx, r.nc, r.cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	fctx, cancel := context.WithCancel(ctx)
	r.stop, r.done = cancel, make(chan error, 1)
	go func() { r.done <- r.box.Forward(fctx) }()
}

func (r *rig) stopEdge() {
	if r.stop == nil {
		return
	}
	r.stop()
	if err := <-r.done; !errors.Is(err, context.Canceled) {
		r.t.Errorf("forward returned %v, want context.Canceled", err)
	}
	r.nc.Close()
	r.leaf.Shutdown(context.Background())
	r.stop = nil
}

func (r *rig) append(ctx context.Context, n int) {
	r.t.Helper()
	for i := 0; i < n; i++ {
		e := &event.Event{Type: event.TypePosition, OccurredAt: event.Time{Time: time.Now()},
			Location: &event.Location{Lat: 49.0, Lon: 12.1, SpeedKph: float64(i % 130)}}
		if err := r.box.Append(ctx, e); err != nil {
			r.t.Fatalf("append %d: %v", i, err)
		}
	}
}

// hubSeqs waits until the hub holds want events for the vehicle and returns
// their Fleetwire-Seq values in stream order.
func (r *rig) hubSeqs(ctx context.Context, want int) []uint64 {
	r.t.Helper()
	for {
		info, err := r.hub.Events.Info(ctx)
		if err != nil {
			r.t.Fatal(err)
		}
		if info.State.Msgs >= uint64(want) {
			break
		}
		select {
		case <-ctx.Done():
			r.t.Fatalf("hub holds %d events, want %d; outbox %+v", info.State.Msgs, want, r.box.Stats())
		case <-time.After(20 * time.Millisecond):
		}
	}
	c, err := r.hub.JS.OrderedConsumer(ctx, "EVENTS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		r.t.Fatal(err)
	}
	var seqs []uint64
	info, _ := r.hub.Events.Info(ctx)
	for uint64(len(seqs)) < info.State.Msgs {
		m, err := c.Next(jetstream.FetchContext(ctx))
		if err != nil {
			r.t.Fatal(err)
		}
		var e event.Event
		if err := json.Unmarshal(m.Data(), &e); err != nil {
			r.t.Fatal(err)
		}
		h, _ := strconv.ParseUint(m.Headers().Get(event.HeaderSeq), 10, 64)
		if h != e.Seq {
			r.t.Fatalf("header seq %d != body seq %d", h, e.Seq)
		}
		seqs = append(seqs, e.Seq)
	}
	return seqs
}

// waitDrained waits until the outbox knows every event it stored to be on
// the hub (Backlog 0). The hub holds an event before the forwarder has the
// PubAck for it, and the forwarder counts a forward before it moves
// ForwardedSeq: once the backlog reads 0, the counters of all the
// forwards are in.
func (r *rig) waitDrained(ctx context.Context) {
	r.t.Helper()
	for r.box.Stats().Backlog() != 0 {
		select {
		case <-ctx.Done():
			r.t.Fatalf("outbox not drained: %+v", r.box.Stats())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// hubAll returns the Fleetwire-Seq of every event on the hub, in stream order.
func (r *rig) hubAll(ctx context.Context) []uint64 {
	r.t.Helper()
	info, err := r.hub.Events.Info(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	if info.State.Msgs == 0 {
		return nil
	}
	return r.hubSeqs(ctx, int(info.State.Msgs))
}

func assertExactlyOnceInOrder(t *testing.T, seqs []uint64, n int) {
	t.Helper()
	if len(seqs) != n {
		t.Fatalf("hub holds %d events, want %d", len(seqs), n)
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("event %d on the hub has seq %d, want %d (lost, doubled or reordered)", i, s, i+1)
		}
	}
}

func TestForwardExactlyOnceInOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := newRig(t, ctx)
	r.append(ctx, 200)
	assertExactlyOnceInOrder(t, r.hubSeqs(ctx, 200), 200)
	// The hub holds the last event before the PubAck is back over the
	// link: the counters follow once the forwarder has it.
	r.waitDrained(ctx)
	if st := r.box.Stats(); st.Forwarded != 200 || st.Backlog() != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLinkDownThenBack(t *testing.T) {
	for _, mode := range []string{"cut", "pause"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			r := newRig(t, ctx)
			r.append(ctx, 50)
			r.hubSeqs(ctx, 50)
			if mode == "cut" {
				r.proxy.Cut()
			} else {
				r.proxy.Pause()
			}
			r.append(ctx, 300) // produced while offline
			r.proxy.Restore()
			assertExactlyOnceInOrder(t, r.hubSeqs(ctx, 350), 350)
		})
	}
}

// TestRestartOfflineFromStore restarts the edge while the link is down: the
// events stored before the restart and after it all arrive once, in order,
// and numbering continues.
func TestRestartOfflineFromStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := newRig(t, ctx)
	r.append(ctx, 20)
	r.hubSeqs(ctx, 20)
	r.proxy.Cut()
	r.append(ctx, 100)
	r.stopEdge()
	r.startEdge(ctx)
	if got := r.box.Stats().LastSeq; got != 120 {
		t.Fatalf("after restart last seq = %d, want 120", got)
	}
	r.append(ctx, 30)
	r.proxy.Restore()
	assertExactlyOnceInOrder(t, r.hubSeqs(ctx, 150), 150)
}

// TestAlreadyOnHubNotResent: the hub already holds events the vehicle still
// has queued, as after a PubAck lost with the link, and it has no memory of
// their ids (the duplicate window is long past): the forwarder finds them by
// the vehicle's last sequence on the hub and sends none of them again.
func TestAlreadyOnHubNotResent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := newRig(t, ctx)
	r.proxy.Cut()
	r.append(ctx, 10)
	local, err := jetstream.New(r.nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := local.Stream(ctx, "OUTBOX")
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 10; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		h := nats.Header{event.HeaderSeq: m.Header.Values(event.HeaderSeq)} // no Nats-Msg-Id
		if _, err := r.hub.JS.PublishMsg(ctx, &nats.Msg{Subject: "fleet" + ".events" + m.Subject[len("outbox"):], Header: h, Data: m.Data}); err != nil {
			t.Fatal(err)
		}
	}
	r.proxy.Restore()
	r.append(ctx, 5)
	assertExactlyOnceInOrder(t, r.hubSeqs(ctx, 15), 15)
	r.waitDrained(ctx)
	if st := r.box.Stats(); st.AlreadyOnHub != 10 || st.Forwarded != 5 {
		t.Fatalf("AlreadyOnHub = %d, Forwarded = %d, want 10 and 5 (stats %+v)", st.AlreadyOnHub, st.Forwarded, st)
	}
}
