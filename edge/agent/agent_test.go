package agent

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
	"github.com/fleetwire/fleetwire/edge/can/isotp"
	"github.com/fleetwire/fleetwire/shared/event"
)

// liveBus stands in for a SocketCAN interface, which cannot exist on the
// test machine: it plays frames and records what the agent sends.
type liveBus struct {
	frames []can.Frame
	mu     sync.Mutex
	sent   []can.Frame
	done   chan struct{}
}

func (b *liveBus) Run(ctx context.Context, emit func(can.Frame) error) error {
	for _, f := range b.frames {
		if err := emit(f); err != nil {
			return err
		}
	}
	close(b.done)
	<-ctx.Done()
	return ctx.Err()
}

func (b *liveBus) Send(_ context.Context, f can.Frame) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sent = append(b.sent, f)
	return nil
}

// TestLiveBusFlowControl: on a live bus the agent answers an ECU's first
// frame with flow control so the ECU sends the rest (here the first frame
// of the VIN answer in the real OBD-II capture, 7E8#1014490201544D42).
func TestLiveBusFlowControl(t *testing.T) {
	t.Parallel() // an offline agent waits a few seconds for the hub at start
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first := can.Frame{ID: 0x7E8, Len: 8, Data: [8]byte{0x10, 0x14, 0x49, 0x02, 0x01, 'T', 'M', 'B'}}
	bus := &liveBus{frames: []can.Frame{first}, done: make(chan struct{})}
	cfg := offlineConfig(t, "genivi/munich-gps.nmea")
	stopAgent := runAgent(t, ctx, cfg, WithBus(bus))
	select {
	case <-bus.done:
	case <-ctx.Done():
		t.Fatal("bus never played")
	}
	stopAgent()
	bus.mu.Lock()
	defer bus.mu.Unlock()
	if len(bus.sent) != 1 || bus.sent[0] != isotp.FlowControl(0x7E8) || bus.sent[0].ID != 0x7E0 {
		t.Fatalf("sent %+v, want one flow-control frame to 7E0", bus.sent)
	}
}

// offlineConfig is an agent replaying an NMEA log (under testdata/nmea) as
// fast as possible, with no hub: it records locally.
func offlineConfig(t *testing.T, nmea string) Config {
	t.Helper()
	cfg := Default()
	cfg.Store.Dir = t.TempDir()
	cfg.Hub.URL = "nats-leaf://127.0.0.1:1"
	cfg.GNSS.Replay = filepath.Join("..", "..", "testdata", "nmea", nmea)
	cfg.GNSS.Speed = 0
	return cfg
}

// runAgent starts an agent and returns the function that stops it and
// checks it stopped cleanly.
func runAgent(t *testing.T, ctx context.Context, cfg Config, opts ...Option) (stop func()) {
	t.Helper()
	a, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	return func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("agent stopped with %v", err)
		}
	}
}

// TestBrokenLogKeepsRunning replays a real receiver log with garbage lines
// and a bad checksum (gpsd's et-332.log): the agent skips them, keeps
// producing events and does not stop.
func TestBrokenLogKeepsRunning(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stored := make(chan struct{}, 1)
	cfg := offlineConfig(t, "gpsd/et-332.log")
	cfg.Position.Every = time.Second
	stop := runAgent(t, ctx, cfg, WithOnStored(func(*event.Event) {
		select {
		case stored <- struct{}{}:
		default:
		}
	}))
	select {
	case <-stored:
	case <-ctx.Done():
		t.Fatal("no event from the broken log")
	}
	stop()
}
