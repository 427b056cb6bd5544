package agent

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/fleetwire/fleetwire/shared/tcpproxy"
	"github.com/nats-io/nats.go/jetstream"
)

// Helpers of the fault tests: a hub, a vehicle whose agent runs in this
// process behind a loopback proxy standing for its mobile link, fed fixes
// of a real drive by the test, and checks made on the hub's EVENTS stream.

const nmeaDir = "../../testdata/nmea/genivi/"

// loadFixes returns the first n fixes of a real drive (all if n is 0).
func loadFixes(t *testing.T, file string, n int) []gnss.Fix {
	t.Helper()
	r, err := gnss.NewReplay(nmeaDir+file, gnss.ReplayOptions{Speed: 0, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
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

// quietLog keeps the servers' chatter out of the test output: warnings and
// errors only.
func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// logWatch counts the agent's log records by message (info and above) and
// prints warnings and errors.
type logWatch struct {
	mu   sync.Mutex
	msgs map[string]int
}

func (w *logWatch) count(msg string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.msgs[msg]
}

type watchHandler struct {
	next slog.Handler
	w    *logWatch
}

func (h watchHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h watchHandler) Handle(ctx context.Context, r slog.Record) error {
	h.w.mu.Lock()
	h.w.msgs[r.Message]++
	h.w.mu.Unlock()
	if r.Level >= slog.LevelWarn {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h watchHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return watchHandler{h.next.WithAttrs(as), h.w}
}

func (h watchHandler) WithGroup(name string) slog.Handler {
	return watchHandler{h.next.WithGroup(name), h.w}
}

// testVehicle is an agent linked to the hub through its own proxy.
type testVehicle struct {
	t     *testing.T
	a     *Agent
	proxy *tcpproxy.Proxy
	src   feed
	logs  *logWatch
	stop  context.CancelFunc
	done  chan error

	mu     sync.Mutex
	stored []*event.Event
}

// startVehicle starts vehicle acme/v1 against the hub's leaf listener at
// hubLeaf, every fix becoming a position event. It is stopped, and must
// stop cleanly, when the test ends (unless stopped before).
func startVehicle(t *testing.T, ctx context.Context, hubLeaf string, adjust ...func(*Config)) *testVehicle {
	t.Helper()
	p, err := tcpproxy.Start(strings.TrimPrefix(hubLeaf, "nats-leaf://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	cfg := Default()
	cfg.Vehicle = VehicleConfig{Account: "acme", ID: "v1"}
	cfg.Hub.URL = "nats-leaf://" + p.Addr()
	cfg.Store.Dir = filepath.Join(t.TempDir(), "edge")
	cfg.GNSS.Replay = "unused: WithSource"
	cfg.Position.Every = time.Millisecond // every fix is an event
	cfg.HeartbeatEvery = time.Hour
	for _, f := range adjust {
		f(&cfg)
	}
	v := &testVehicle{t: t, proxy: p, src: make(feed), logs: &logWatch{msgs: map[string]int{}}}
	log := slog.New(watchHandler{slog.NewTextHandler(os.Stderr, nil), v.logs})
	v.a, err = New(cfg, WithSource(v.src), WithLogger(log), WithOnStored(func(e *event.Event) {
		v.mu.Lock()
		v.stored = append(v.stored, e)
		v.mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	v.stop, v.done = cancel, make(chan error, 1)
	go func() { v.done <- v.a.Run(rctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-v.done; err != nil && !v.t.Failed() {
			v.t.Errorf("agent stopped with %v", err)
		}
	})
	select {
	case <-v.a.Ready():
	case err := <-v.done:
		v.done <- err
		t.Fatalf("agent did not start: %v", err)
	}
	return v
}

func (v *testVehicle) storedEvents() []*event.Event {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]*event.Event(nil), v.stored...)
}

func (v *testVehicle) positions() int {
	n := 0
	for _, e := range v.storedEvents() {
		if e.Type == event.TypePosition {
			n++
		}
	}
	return n
}

// send hands one fix to the agent (which takes it once done with the one
// before).
func (v *testVehicle) send(ctx context.Context, f gnss.Fix) {
	v.t.Helper()
	select {
	case v.src <- f:
	case <-ctx.Done():
		v.t.Fatalf("feeding fixes: %v (stats %+v)", ctx.Err(), v.a.Stats())
	}
}

// drive feeds fixes and waits until each became a stored position event.
func (v *testVehicle) drive(ctx context.Context, fixes []gnss.Fix) {
	v.t.Helper()
	want := v.positions() + len(fixes)
	for _, f := range fixes {
		v.send(ctx, f)
	}
	waitUntil(v.t, ctx, "positions stored", func() bool { return v.positions() >= want })
}

// running fails the test if the agent has stopped.
func (v *testVehicle) running() {
	v.t.Helper()
	select {
	case err := <-v.done:
		v.done <- err
		v.t.Fatalf("agent stopped: %v", err)
	default:
	}
}

// waitUntil polls cond until it holds, failing the test when ctx ends.
func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// hubCount is the number of events in the hub's EVENTS stream.
func hubCount(t *testing.T, ctx context.Context, js jetstream.JetStream) uint64 {
	t.Helper()
	n, err := tryHubCount(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func tryHubCount(ctx context.Context, js jetstream.JetStream) (uint64, error) {
	st, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		return 0, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.Msgs, nil
}

// hubEvent is one event as the hub's EVENTS stream holds it.
type hubEvent struct {
	streamSeq uint64
	stored    time.Time // the hub's clock
	e         event.Event
}

// waitHub waits until the hub holds want events, then reads them all in
// stream order and checks what exactly-once delivery means on the hub: for
// each vehicle, Fleetwire-Seq (header and body agreeing) runs 1..N without
// gap or repeat in stream order, and no event id appears twice.
func waitHub(t *testing.T, ctx context.Context, js jetstream.JetStream, want int) []hubEvent {
	t.Helper()
	var got uint64
	waitUntil(t, ctx, strconv.Itoa(want)+" events on the hub", func() bool {
		n, err := tryHubCount(ctx, js)
		if err == nil {
			got = n
		}
		if ctx.Err() != nil {
			t.Logf("the hub holds %d events", got)
		}
		return n >= uint64(want)
	})
	out := readHub(t, ctx, js, int(hubCount(t, ctx, js)))
	next := map[string]uint64{}
	ids := map[string]uint64{}
	for _, h := range out {
		v := h.e.Account + "/" + h.e.Vehicle.ID
		if h.e.Seq != next[v]+1 {
			t.Fatalf("vehicle %s: stream seq %d holds seq %d after %d (lost, doubled or reordered)", v, h.streamSeq, h.e.Seq, next[v])
		}
		next[v] = h.e.Seq
		if s, dup := ids[h.e.ID]; dup {
			t.Fatalf("event id %s at stream seq %d and %d", h.e.ID, s, h.streamSeq)
		}
		ids[h.e.ID] = h.streamSeq
	}
	if len(out) != want {
		t.Fatalf("hub holds %d events, want %d", len(out), want)
	}
	return out
}

// readHub reads the first n events of the hub's EVENTS stream.
func readHub(t *testing.T, ctx context.Context, js jetstream.JetStream, n int) []hubEvent {
	t.Helper()
	c, err := js.OrderedConsumer(ctx, "EVENTS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []hubEvent
	for len(out) < n {
		m, err := c.Next(jetstream.FetchContext(ctx))
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
		if h := m.Headers().Get(event.HeaderSeq); h != strconv.FormatUint(e.Seq, 10) {
			t.Fatalf("stream seq %d: header %s %q, body seq %d", meta.Sequence.Stream, event.HeaderSeq, h, e.Seq)
		}
		out = append(out, hubEvent{streamSeq: meta.Sequence.Stream, stored: meta.Timestamp, e: e})
	}
	return out
}

// sameEvents checks that the hub holds exactly the events the agent
// stored, in the order it stored them.
func sameEvents(t *testing.T, hub []hubEvent, stored []*event.Event) {
	t.Helper()
	if len(hub) != len(stored) {
		t.Fatalf("hub holds %d events, the agent stored %d", len(hub), len(stored))
	}
	for i, s := range stored {
		if hub[i].e.ID != s.ID || hub[i].e.Seq != s.Seq {
			t.Fatalf("hub event %d is %s seq %d, stored %s seq %d", i, hub[i].e.ID, hub[i].e.Seq, s.ID, s.Seq)
		}
	}
}

// startQuietHub is startHub with its log at warnings.
func startQuietHub(t *testing.T, ctx context.Context) (*natsembed.Server, jetstream.JetStream) {
	t.Helper()
	srv, err := natsembed.Start(ctx, natsembed.Config{Name: "hub", Domain: "hub", StoreDir: t.TempDir(), LeafListen: "127.0.0.1:0", Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	nc, err := srv.Connect("hub-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{event.SubjectRoot + ".>"},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute, AllowDirect: true}); err != nil { // as cloud/hub
		t.Fatal(err)
	}
	return srv, js
}
