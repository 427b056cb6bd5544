package outbox_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/outbox"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/fleetwire/fleetwire/shared/tcpproxy"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// tcpEdge is a vehicle's leaf node whose outbox client connects over TCP
// (the agent's is in-process), so that the client's link to its own store
// can be disturbed, or the store's server restarted under it.
type tcpEdge struct {
	t     *testing.T
	hub   *testHub
	store string
	cfg   natsembed.Config
	leaf  *natsembed.Server
	box   *outbox.Outbox
}

// appendCfg makes a store that does not answer show quickly.
func appendCfg() outbox.Config {
	return outbox.Config{Account: "acme", Vehicle: "v1", PublishTimeout: time.Second,
		AppendTimeout: 250 * time.Millisecond, AppendAttempts: 100, RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond}
}

func startTCPEdge(t *testing.T, ctx context.Context) *tcpEdge {
	t.Helper()
	e := &tcpEdge{t: t, hub: startHub(t, ctx, benchQuiet), store: t.TempDir()}
	e.cfg = natsembed.Config{Name: "v1", Domain: "v1", StoreDir: e.store, ClientListen: "127.0.0.1:0",
		LeafRemotes: []string{e.hub.srv.LeafURL()}, LeafReconnect: 50 * time.Millisecond, Logger: benchQuiet}
	e.startLeaf(ctx)
	// From now on the same port, so that clients reconnect to a restart.
	e.cfg.ClientListen = strings.TrimPrefix(e.leaf.ClientURL(), "nats://")
	return e
}

func (e *tcpEdge) startLeaf(ctx context.Context) {
	e.t.Helper()
	leaf, err := natsembed.Start(ctx, e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.leaf = leaf
	e.t.Cleanup(func() { leaf.Shutdown(context.Background()) })
}

// open connects to url (the leaf, or a proxy in front of it) and opens the
// outbox with its forwarder, both stopped when the test ends.
func (e *tcpEdge) open(ctx context.Context, url string) {
	e.t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		e.t.Fatal(err)
	}
	e.box, err = outbox.Open(ctx, nc, appendCfg())
	if err != nil {
		e.t.Fatal(err)
	}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.box.Forward(fctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			e.t.Errorf("forward returned %v, want context.Canceled", err)
		}
		nc.Close()
	})
}

// rig lends its hub checks.
func (e *tcpEdge) rig() *rig { return &rig{t: e.t, hub: e.hub, box: e.box} }

// localLastSeq is the last sequence of the local stream, read in-process.
func (e *tcpEdge) localLastSeq(ctx context.Context) uint64 {
	e.t.Helper()
	nc, err := e.leaf.Connect("test-watch")
	if err != nil {
		e.t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		e.t.Fatal(err)
	}
	st, err := js.Stream(ctx, "OUTBOX")
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return info.State.LastSeq
}

func newPosition(i int) *event.Event {
	return &event.Event{Type: event.TypePosition, OccurredAt: event.Time{Time: time.Now()},
		Location: &event.Location{Lat: 49.0, Lon: 12.1, SpeedKph: float64(i % 130)}}
}

// waitFor polls cond until it holds or ctx ends (then fails with what).
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestAppendRetryUnknownOutcome: the local store does not answer an
// append in time, so Append retries it. When the first attempt was in fact
// stored and only its answer was lost, the retry recognises it (the
// expected-last-sequence guard refuses it and the stream shows the event at
// its sequence) instead of storing it twice or failing; when the request
// itself was held, a later attempt stores it. Either way Append returns nil
// and the hub ends up with every event once, in order.
func TestAppendRetryUnknownOutcome(t *testing.T) {
	for _, mode := range []string{"reply lost", "request held"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			e := startTCPEdge(t, ctx)
			p, err := tcpproxy.Start(e.cfg.ClientListen)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			e.open(ctx, "nats://"+p.Addr())
			for i := range 5 {
				if err := e.box.Append(ctx, newPosition(i)); err != nil {
					t.Fatal(err)
				}
			}
			if mode == "reply lost" {
				p.PauseReplies()
			} else {
				p.Pause()
			}
			ev := newPosition(5)
			res := make(chan error, 1)
			go func() { res <- e.box.Append(ctx, ev) }()
			if mode == "reply lost" {
				// Stored by the first attempt, whose answer never came.
				waitFor(t, ctx, "the event stored and its append retried", func() bool {
					return e.box.Stats().AppendRetries >= 1 && e.localLastSeq(ctx) == 6
				})
			} else {
				waitFor(t, ctx, "two retries", func() bool { return e.box.Stats().AppendRetries >= 2 })
				if got := e.localLastSeq(ctx); got != 5 {
					t.Fatalf("local last seq %d while requests are held, want 5", got)
				}
			}
			p.Restore()
			if err := <-res; err != nil {
				t.Fatalf("append: %v", err)
			}
			if ev.Seq != 6 {
				t.Fatalf("event seq %d, want 6", ev.Seq)
			}
			for i := 6; i < 10; i++ {
				if err := e.box.Append(ctx, newPosition(i)); err != nil {
					t.Fatal(err)
				}
			}
			assertExactlyOnceInOrder(t, e.rig().hubSeqs(ctx, 10), 10)
			if got := e.localLastSeq(ctx); got != 10 {
				t.Fatalf("local last seq %d, want 10 (an event stored twice?)", got)
			}
			st := e.box.Stats()
			if st.Appended != 10 || st.LastSeq != 10 {
				t.Fatalf("stats %+v, want 10 appended, last seq 10", st)
			}
			t.Logf("%s: %d append retries", mode, st.AppendRetries)
		})
	}
}

// TestAppendSurvivesLeafRestart shuts the vehicle's leaf node down while
// events are being appended and starts it again from its store: appends
// that find no server, or a server still recovering its store, are
// retried, none fails, and the hub gets every event once, in order.
func TestAppendSurvivesLeafRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := startTCPEdge(t, ctx)
	e.open(ctx, e.leaf.ClientURL())
	const n = 600
	var appendErr atomic.Pointer[error]
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			if err := e.box.Append(ctx, newPosition(i)); err != nil {
				appendErr.Store(&err)
				return
			}
		}
	}()
	waitFor(t, ctx, "100 events appended", func() bool { return e.box.Stats().Appended >= 100 })
	if err := e.leaf.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "an append retried", func() bool { return e.box.Stats().AppendRetries >= 1 })
	atRestart := e.box.Stats().Appended
	e.startLeaf(ctx)
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatalf("appends did not finish: %+v", e.box.Stats())
	}
	if p := appendErr.Load(); p != nil {
		t.Fatalf("append failed across the restart: %v", *p)
	}
	if atRestart >= n {
		t.Fatal("every event was appended before the restart: nothing tested")
	}
	assertExactlyOnceInOrder(t, e.rig().hubSeqs(ctx, n), n)
	st := e.box.Stats()
	if st.LastSeq != n || st.Appended != n {
		t.Fatalf("stats %+v, want %d appended", st, n)
	}
	t.Logf("leaf restarted after %d of %d events; %d append retries", atRestart, n, st.AppendRetries)
}

// TestBacklogRightAfterRestart: a restarted outbox reports its backlog
// from the store at once (what waits in the work queue), not the whole
// numbering until its first forward.
func TestBacklogRightAfterRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := newRig(t, ctx)
	r.append(ctx, 20)
	r.hubSeqs(ctx, 20)
	// The hub holds event 20 before its PubAck is back, and the forwarder
	// acks it in the store after that: stopped before, the store would
	// rightly still hold it waiting. Nothing waits once the outbox counts
	// it forwarded and the store's work queue is empty.
	r.waitDrained(ctx)
	local, err := jetstream.New(r.nc)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the store's work queue empty", func() bool {
		st, err := local.Stream(ctx, "OUTBOX")
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs == 0
	})
	r.stopEdge()
	r.startEdge(ctx)
	if st := r.box.Stats(); st.LastSeq != 20 || st.Backlog() != 0 {
		t.Fatalf("after a restart with nothing waiting: %+v, backlog %d, want last seq 20, backlog 0", st, st.Backlog())
	}
	r.proxy.Cut()
	r.append(ctx, 7)
	r.stopEdge()
	r.startEdge(ctx)
	if st := r.box.Stats(); st.LastSeq != 27 || st.Backlog() != 7 {
		t.Fatalf("after a restart with 7 waiting: %+v, backlog %d, want last seq 27, backlog 7", st, st.Backlog())
	}
	r.proxy.Restore()
	assertExactlyOnceInOrder(t, r.hubSeqs(ctx, 27), 27)
}

// TestAppendAgainAfterOthers: an Append gives up (its caller's context
// ends) although the store did keep its event, another event is appended
// after it, and then the first is appended again, as the agent does. The
// store's de-duplication recognises it: Append returns nil with the
// sequence it was stored at, and the hub has every event once, in order.
// (Found by the 10,000-vehicle simulation, where it stopped a vehicle.)
func TestAppendAgainAfterOthers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := startTCPEdge(t, ctx)
	p, err := tcpproxy.Start(e.cfg.ClientListen)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e.open(ctx, "nats://"+p.Addr())
	for i := range 5 {
		if err := e.box.Append(ctx, newPosition(i)); err != nil {
			t.Fatal(err)
		}
	}
	p.PauseReplies()
	first := newPosition(5)
	gctx, gcancel := context.WithCancel(ctx)
	res := make(chan error, 1)
	go func() { res <- e.box.Append(gctx, first) }()
	waitFor(t, ctx, "the event stored with its answer lost", func() bool { return e.localLastSeq(ctx) == 6 })
	gcancel() // the caller gives up
	if err := <-res; err == nil {
		t.Fatal("Append returned nil without an answer")
	}
	p.Restore()
	if err := e.box.Append(ctx, newPosition(6)); err != nil {
		t.Fatal(err)
	}
	if err := e.box.Append(ctx, first); err != nil {
		t.Fatalf("appending the stored event again: %v", err)
	}
	if first.Seq != 6 {
		t.Fatalf("the event again got seq %d, want the 6 it was stored at", first.Seq)
	}
	assertExactlyOnceInOrder(t, e.rig().hubSeqs(ctx, 7), 7)
	if got := e.localLastSeq(ctx); got != 7 {
		t.Fatalf("local last seq %d, want 7", got)
	}
}
