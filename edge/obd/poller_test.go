package obd

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
)

// The Poller is tested against simulated ECUs: an in-memory can.Sender
// that answers each functional Mode 01 request with the answers a real ECU
// gave in one of the captures, delivered through Poller.Receive after the
// CANedge capture's median response time. (SocketCAN does not exist on the
// test machine.) The tests that run the Poller do so in a synctest bubble,
// where time is fake and only moves when every goroutine waits: the timing
// is exact whatever the load of the machine (a stalled test process cannot
// make an answer miss its Timeout), and the bubble fails the test if a
// goroutine is left behind.

// responseDelay is the CANedge capture's median response time (README).
const responseDelay = 4400 * time.Microsecond

// A simECU answers Mode 01 PIDs with recorded frames.
type simECU struct {
	id      uint32
	answers map[uint8][][8]byte // by PID, replayed in order, round and round
	next    map[uint8]int
}

// A simBus is the vehicle side of the bus: Send hands requests to the
// ECUs, whose answers reach deliver from timer goroutines.
type simBus struct {
	ecus      []*simECU
	deliver   func(can.Frame)
	failSends int           // the first failSends sends fail
	lose      map[uint8]int // by PID, how many answers get lost

	mu      sync.Mutex
	sent    []can.Frame    // with Time set to when it was sent
	pending sync.WaitGroup // answers not delivered yet
}

var errBusOff = errors.New("sim: bus off")

func (b *simBus) Send(ctx context.Context, f can.Frame) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failSends > 0 {
		b.failSends--
		return errBusOff
	}
	f.Time = time.Now()
	b.sent = append(b.sent, f)
	if f.ID != FunctionalRequestID || f.Data[0] != 2 || f.Data[1] != ServiceCurrentData {
		return nil
	}
	pid := f.Data[2]
	if b.lose[pid] > 0 {
		b.lose[pid]--
		return nil
	}
	for i, ecu := range b.ecus {
		recorded := ecu.answers[pid]
		if len(recorded) == 0 {
			continue
		}
		answer := can.Frame{ID: ecu.id, Len: 8, Data: recorded[ecu.next[pid]%len(recorded)]}
		ecu.next[pid]++
		b.pending.Add(1)
		time.AfterFunc(responseDelay+time.Duration(i)*time.Millisecond, func() {
			defer b.pending.Done()
			answer.Time = time.Now()
			b.deliver(answer)
		})
	}
	return nil
}

// requested returns the PIDs of the Mode 01 requests sent so far.
func (b *simBus) requested() []uint8 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var pids []uint8
	for _, f := range b.sent {
		pids = append(pids, f.Data[2])
	}
	return pids
}

// capturedECUs returns an ECU per responder of a capture, answering each
// PID with the single-frame Mode 01 answers it gave there, in order.
func capturedECUs(t *testing.T, path string) map[uint32]*simECU {
	t.Helper()
	ecus := map[uint32]*simECU{}
	for _, f := range readCandump(t, path) {
		if !isResponseFrame(&f) || f.Data[0] < 2 || f.Data[0] > 7 || f.Data[1] != 0x41 {
			continue
		}
		ecu := ecus[f.ID]
		if ecu == nil {
			ecu = &simECU{id: f.ID, answers: map[uint8][][8]byte{}, next: map[uint8]int{}}
			ecus[f.ID] = ecu
		}
		ecu.answers[f.Data[2]] = append(ecu.answers[f.Data[2]], f.Data)
	}
	return ecus
}

// withBitmaps gives an ECU that was never asked for its bitmaps (the
// CANedge logger never asks) the bitmaps that announce exactly the PIDs it
// answered, and the ranges leading to them. It returns the PIDs announced.
func withBitmaps(ecu *simECU) Supported {
	var announce Supported
	for pid := range ecu.answers {
		announce.Add(pid)
	}
	last := slices.Max(announce.PIDs())
	for r := 0x20; r < int(last); r += 0x20 {
		announce.Add(uint8(r))
	}
	for base := 0; base < int(last); base += 0x20 {
		var bitmap uint32
		for i := range 32 {
			if announce.Has(uint8(base + 1 + i)) {
				bitmap |= 1 << (31 - i)
			}
		}
		ecu.answers[uint8(base)] = [][8]byte{{6, 0x41, byte(base), byte(bitmap >> 24), byte(bitmap >> 16), byte(bitmap >> 8), byte(bitmap), 0xCC}}
	}
	return announce
}

// A logRecorder is a slog.Handler keeping the records.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}

// find returns the records at level whose message contains text, with
// their attributes as strings.
func (h *logRecorder) find(level slog.Level, text string) []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var found []map[string]string
	for _, r := range h.records {
		if r.Level == level && strings.Contains(r.Message, text) {
			attrs := map[string]string{}
			r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
			found = append(found, attrs)
		}
	}
	return found
}

// newSim returns a Poller on a simulated bus with the given ECUs.
func newSim(t *testing.T, opts PollerOptions, ecus ...*simECU) (*Poller, *simBus, *logRecorder) {
	t.Helper()
	logs := &logRecorder{}
	opts.Logger = slog.New(logs)
	bus := &simBus{ecus: ecus}
	p, err := NewPoller(bus, opts)
	if err != nil {
		t.Fatal(err)
	}
	bus.deliver = p.Receive
	t.Cleanup(bus.pending.Wait)
	return p, bus, logs
}

func TestPollerCapturedCar(t *testing.T) {
	car := capturedECUs(t, carLog)[0x7E8]
	announced := withBitmaps(car)
	synctest.Test(t, func(t *testing.T) {
		// 0x1F and 0xA6 are in the table, but the car was never asked for
		// them, so its bitmaps leave them out. Only PID 0x00, which waits
		// for all ECUs, waits the Timeout out.
		opts := PollerOptions{PIDs: []uint8{0x0C, 0x0D, 0x05, 0x2F, 0x42, 0x1F, 0xA6}, Interval: 60 * time.Millisecond, Timeout: 300 * time.Millisecond}
		p, bus, logs := newSim(t, opts, car)

		const cycles = 5
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		var readings []Reading
		err := p.Run(ctx, func(r Reading) error {
			readings = append(readings, r)
			if r.PID == 0x42 && count(readings, 0x42) == cycles {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
		bus.pending.Wait()

		// Discovery walks the ranges 00, 20, … A0 (the car answered PID
		// 0xA4), then every cycle asks the five supported PIDs, in the
		// configured order.
		sent := bus.requested()
		discovery := []uint8{0x00, 0x20, 0x40, 0x60, 0x80, 0xA0}
		cycle := []uint8{0x0C, 0x0D, 0x05, 0x2F, 0x42}
		if len(sent) != len(discovery)+cycles*len(cycle) || !slices.Equal(sent[:len(discovery)], discovery) {
			t.Fatalf("requests %X, want %X then %d cycles of %X", sent, discovery, cycles, cycle)
		}
		for i, pid := range sent[len(discovery):] {
			if pid != cycle[i%len(cycle)] {
				t.Fatalf("request %d for PID %#02x, want %#02x (requests %X)", i, pid, cycle[i%len(cycle)], sent)
			}
		}
		if got := p.Supported()[0x7E8]; got.String() != withBase(announced).String() {
			t.Errorf("Supported() = %v, want %v", got, announced)
		}

		// The readings are the capture's answers, in the capture's order.
		for _, pid := range cycle {
			var got []float64
			for _, r := range readings {
				if r.PID == pid {
					got = append(got, r.Value)
					if r.ECU != 0x7E8 || r.Time.IsZero() {
						t.Errorf("reading %v from %#x at %v", r.Signal, r.ECU, r.Time)
					}
				}
			}
			var want []float64
			for _, data := range car.answers[pid][:len(got)] {
				signals, err := DecodeResponse(data[1 : 1+data[0]])
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, signals[0].Value)
			}
			if len(got) != cycles || !slices.Equal(got, want) {
				t.Errorf("PID %#02x: readings %v, want the capture's first %d %v", pid, got, cycles, want)
			}
		}

		// One warning, naming the PIDs the car does not support, however
		// many cycles ran.
		if warns := logs.find(slog.LevelWarn, "does not support"); len(warns) != 1 || warns[0]["pids"] != "[1F A6]" {
			t.Errorf("warnings %v, want one naming [1F A6]", warns)
		}
		// Every request answered: the car answers all but PID 0x00's
		// whole-Timeout wait in time, and that one counts no timeout.
		stats := p.Stats()
		if stats.Requests != uint64(len(sent)) || stats.Timeouts != 0 || stats.Responses != uint64(len(sent)) || stats.Dropped != 0 {
			t.Errorf("stats %+v after %d requests", stats, len(sent))
		}
	})
}

// withBase adds PID 0x00 to a set: the Poller counts the bitmap PIDs an
// ECU answered as supported.
func withBase(s Supported) Supported {
	s.Add(0x00)
	return s
}

func count(readings []Reading, pid uint8) int {
	n := 0
	for _, r := range readings {
		if r.PID == pid {
			n++
		}
	}
	return n
}

func TestPollerReceive(t *testing.T) {
	p, _, _ := newSim(t, PollerOptions{})
	for i := range 100 {
		p.Receive(can.Frame{ID: 0x7E8 + uint32(i%8), Len: 8})
	}
	p.Receive(can.Frame{ID: 0x7E0, Len: 8})                      // a request
	p.Receive(can.Frame{ID: 0x18DAF110, Extended: true, Len: 8}) // 29-bit
	p.Receive(can.Frame{ID: 0x7F0, Len: 8})
	if got := p.Stats().Dropped; got != 100-frameBuffer {
		t.Errorf("dropped %d, want %d", got, 100-frameBuffer)
	}
}

func TestPollerOptions(t *testing.T) {
	var opts PollerOptions
	opts.setDefaults()
	if err := opts.Validate(); err != nil || opts.Interval != time.Second || opts.Timeout != 100*time.Millisecond ||
		!slices.Equal(opts.PIDs, defaultPIDs) || opts.Logger == nil {
		t.Errorf("defaults %+v, %v", opts, err)
	}
	for _, pid := range defaultPIDs {
		if Lookup(pid) == nil {
			t.Errorf("default PID %#02x is not in the table", pid)
		}
	}
	for _, tc := range []struct {
		opts PollerOptions
		want string
	}{
		{PollerOptions{Interval: -time.Second}, "interval"},
		{PollerOptions{Timeout: -1}, "timeout"},
		{PollerOptions{PIDs: []uint8{0x0C, 0xA4}}, "PID 0xa4 is not in the signal table"},
		{PollerOptions{PIDs: []uint8{0x20}}, "PID 0x20 is not in the signal table"},
		{PollerOptions{PIDs: []uint8{0x0C, 0x0D, 0x0C}}, "PID 0x0c is listed twice"},
	} {
		tc.opts.setDefaults()
		err := tc.opts.Validate()
		if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.opts, err, tc.want)
		}
	}
	if _, err := NewPoller(nil, PollerOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("NewPoller(nil) = %v", err)
	}
	// NewPoller keeps its own copy of the PIDs.
	pids := []uint8{0x0C}
	p, err := NewPoller(&simBus{}, PollerOptions{PIDs: pids})
	if err != nil {
		t.Fatal(err)
	}
	pids[0] = 0xFF
	if p.opts.PIDs[0] != 0x0C {
		t.Error("NewPoller shares the caller's PID slice")
	}
}

func TestPollerEmitError(t *testing.T) {
	car := capturedECUs(t, carLog)[0x7E8]
	withBitmaps(car)
	synctest.Test(t, func(t *testing.T) {
		p, _, _ := newSim(t, PollerOptions{PIDs: []uint8{0x0C}, Timeout: 200 * time.Millisecond}, car)
		errFull := errors.New("outbox full")
		err := p.Run(t.Context(), func(Reading) error { return errFull })
		if !errors.Is(err, errFull) {
			t.Fatalf("Run = %v, want the emit error", err)
		}
	})
}

func TestPollerKonaSupportsNoneConfigured(t *testing.T) {
	ecus := capturedECUs(t, konaLog) // 0x7EB and 0x7EC, with their real bitmaps
	synctest.Test(t, func(t *testing.T) {
		p, bus, logs := newSim(t, PollerOptions{PIDs: []uint8{0x0C, 0x0D, 0x05}, Timeout: 200 * time.Millisecond}, ecus[0x7EB], ecus[0x7EC])
		err := p.Run(t.Context(), nil)
		if !errors.Is(err, ErrNoSupportedPIDs) {
			t.Fatalf("Run = %v, want ErrNoSupportedPIDs", err)
		}
		// 0x7EC's PID 0x20 bitmap announces 0x40, 0x7EB's does not; the 0x40
		// bitmap announces no further range.
		if got := bus.requested(); !slices.Equal(got, []uint8{0x00, 0x20, 0x40}) {
			t.Errorf("requests %X, want 00 20 40", got)
		}
		sup := p.Supported()
		if len(sup) != 2 || sup[0x7EB].String() != "[00 01 20 21 30 31]" || sup[0x7EC].String() != "[00 01 20 21 30 31 40 5B]" {
			t.Errorf("Supported() = %v", sup)
		}
		if warns := logs.find(slog.LevelWarn, "does not support"); len(warns) != 1 || warns[0]["pids"] != "[0C 0D 05]" {
			t.Errorf("warnings %v", warns)
		}
	})
}

// sendTimes returns, for one PID, the times its requests were sent,
// relative to the first request.
func (b *simBus) sendTimes(pid uint8) []time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	var times []time.Duration
	for _, f := range b.sent {
		if f.Data[2] == pid {
			times = append(times, f.Time.Sub(b.sent[0].Time))
		}
	}
	return times
}

func TestPollerCycleInterval(t *testing.T) {
	car := capturedECUs(t, carLog)[0x7E8]
	withBitmaps(car)
	synctest.Test(t, func(t *testing.T) {
		opts := PollerOptions{PIDs: []uint8{0x0C, 0x0D}, Interval: 100 * time.Millisecond, Timeout: 50 * time.Millisecond}
		p, bus, _ := newSim(t, opts, car)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := p.Run(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run = %v", err)
		}
		// Discovery: PID 00 waits the whole 50 ms Timeout, then 20, 40, 60,
		// 80 and A0 each follow the previous answer, 4.4 ms later. The answer
		// to A0, at 50 + 5·4.4 = 72 ms, starts the first cycle; the next
		// cycles start every Interval after it.
		for i, pid := range []uint8{0x20, 0x40, 0x60, 0x80, 0xA0} {
			want := opts.Timeout + time.Duration(i)*responseDelay
			if got := bus.sendTimes(pid); !slices.Equal(got, []time.Duration{want}) {
				t.Errorf("PID %02X sent at %v, want %v", pid, got, want)
			}
		}
		var want, wantNext []time.Duration
		for start := opts.Timeout + 5*responseDelay; start < time.Second; start += opts.Interval {
			want = append(want, start)
			wantNext = append(wantNext, start+responseDelay)
		}
		if got := bus.sendTimes(0x0C); !slices.Equal(got, want) {
			t.Errorf("PID 0C sent at %v, want %v", got, want)
		}
		if got := bus.sendTimes(0x0D); !slices.Equal(got, wantNext) {
			t.Errorf("PID 0D sent at %v, want %v", got, wantNext)
		}
	})
}

func TestPollerTimeouts(t *testing.T) {
	// The Kona announces PID 0x31 but the capture holds no answer to it, so
	// the simulated ECUs stay silent: every request times out.
	ecus := capturedECUs(t, konaLog)
	synctest.Test(t, func(t *testing.T) {
		opts := PollerOptions{PIDs: []uint8{0x31}, Interval: 100 * time.Millisecond, Timeout: 30 * time.Millisecond}
		p, bus, _ := newSim(t, opts, ecus[0x7EB], ecus[0x7EC])
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		var readings int
		err := p.Run(ctx, func(Reading) error { readings++; return nil })
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run = %v, want context.DeadlineExceeded", err)
		}
		// Discovery (00, 20, 40) ends at 40.8 ms; then a request every 100 ms.
		polls := len(bus.sendTimes(0x31))
		if stats := p.Stats(); polls != 10 || readings != 0 || stats.Timeouts != 10 || stats.Requests != 13 {
			t.Errorf("%d polls, %d readings, stats %+v; want 10 polls, all timed out", polls, readings, stats)
		}
	})
}

func TestPollerLostBitmapAskedAgain(t *testing.T) {
	car := capturedECUs(t, carLog)[0x7E8]
	withBitmaps(car)
	synctest.Test(t, func(t *testing.T) {
		p, bus, _ := newSim(t, PollerOptions{PIDs: []uint8{0x0C}, Timeout: 50 * time.Millisecond}, car)
		bus.lose = map[uint8]int{0x20: 2}
		ctx, cancel := context.WithCancel(t.Context())
		err := p.Run(ctx, func(Reading) error { cancel(); return nil })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v", err)
		}
		if got, want := bus.requested(), []uint8{0x00, 0x20, 0x20, 0x20, 0x40, 0x60, 0x80, 0xA0, 0x0C}; !slices.Equal(got, want) {
			t.Errorf("requests %X, want %X", got, want)
		}
		if got := p.Stats().Timeouts; got != 2 {
			t.Errorf("%d timeouts, want 2", got)
		}
	})
}

func TestPollerSilentVehicle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, bus, logs := newSim(t, PollerOptions{Interval: 100 * time.Millisecond, Timeout: 30 * time.Millisecond})
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := p.Run(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run = %v, want context.DeadlineExceeded", err)
		}
		// PID 00, 30 ms for answers, 100 ms pause: every 130 ms.
		var want []time.Duration
		for at := time.Duration(0); at < time.Second; at += 130 * time.Millisecond {
			want = append(want, at)
		}
		if got := bus.sendTimes(0x00); !slices.Equal(got, want) || len(bus.requested()) != len(want) {
			t.Errorf("PID 00 sent at %v, want %v", got, want)
		}
		if infos := logs.find(slog.LevelInfo, "no ECU answers"); len(infos) != 1 {
			t.Errorf("%d 'no ECU answers' records, want 1", len(infos))
		}
	})
}

func TestPollerSendFailures(t *testing.T) {
	car := capturedECUs(t, carLog)[0x7E8]
	withBitmaps(car)
	synctest.Test(t, func(t *testing.T) {
		p, bus, logs := newSim(t, PollerOptions{PIDs: []uint8{0x0D}, Interval: 100 * time.Millisecond, Timeout: 50 * time.Millisecond}, car)
		bus.failSends = 3
		ctx, cancel := context.WithCancel(t.Context())
		err := p.Run(ctx, func(Reading) error { cancel(); return nil })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled after the first reading", err)
		}
		if got := p.Stats().SendErrors; got != 3 {
			t.Errorf("%d send errors, want 3", got)
		}
		if warns := logs.find(slog.LevelWarn, "cannot send"); len(warns) != 1 || warns[0]["err"] != errBusOff.Error() {
			t.Errorf("warnings %v, want one", warns)
		}
		if infos := logs.find(slog.LevelInfo, "sending requests again"); len(infos) != 1 {
			t.Errorf("%d recovery records, want 1", len(infos))
		}
	})
}

func TestPollerRunOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, bus, _ := newSim(t, PollerOptions{Interval: 100 * time.Millisecond, Timeout: 30 * time.Millisecond})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- p.Run(ctx, nil) }()
		synctest.Wait() // Run has sent PID 00 and waits for answers
		if len(bus.requested()) != 1 {
			t.Fatalf("requests %X", bus.requested())
		}
		if err := p.Run(ctx, nil); !errors.Is(err, ErrRunning) {
			t.Errorf("second Run = %v, want ErrRunning", err)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v", err)
		}
		// Once stopped, it may run again.
		ctx, cancel = context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		if err := p.Run(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Run after Run = %v", err)
		}
	})
}
