package can

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

// mixed holds each form of line a Reader meets, on two interfaces.
const mixed = "# candump -L can0 can1\n" +
	"(1600000000.000000) can0 7E0#0201055555555555\n" +
	"(1600000000.004000) can1 7E8#0341053DCCCCCCCC\r\n" +
	"\n" +
	"(1600000000.010000) can1 123##1DEADBEEF\n" + // CAN FD
	"(1600000000.020000) can1 20000004#0004000000000000\n" + // error frame
	"(1600000000.030000) can1 7E8#0\n" + // malformed
	"this is not candump output\n" + // malformed, no interface to filter on
	"  can0  18FEF100   [8]  F7 00 00 04 00 00 00 FF\n" +
	" (1600000000.050000)  can1  7DF   [4]  remote request\n" +
	"(1600000000.060000) can0 123##1DEADBEEF\n" + // CAN FD on can0
	"(1600000000.070000) can1 7E8#" // last line without a newline, empty payload

func TestReader(t *testing.T) {
	tests := []struct {
		iface  string
		frames []Frame
		stats  Stats
	}{
		{"", []Frame{
			at(frame(0x7E0, 0x02, 0x01, 0x05, 0x55, 0x55, 0x55, 0x55, 0x55), 1600000000, 0),
			at(frame(0x7E8, 0x03, 0x41, 0x05, 0x3D, 0xCC, 0xCC, 0xCC, 0xCC), 1600000000, 4000),
			extended(frame(0x18FEF100, 0xF7, 0, 0, 0x04, 0, 0, 0, 0xFF)),
			at(rtr(frame(0x7DF)), 1600000000, 50000),
			at(frame(0x7E8), 1600000000, 70000),
		}, Stats{Lines: 12, Ignored: 2, Frames: 5, Unsupported: 3, Malformed: 2, Emitted: 5}},
		{"can1", []Frame{
			at(frame(0x7E8, 0x03, 0x41, 0x05, 0x3D, 0xCC, 0xCC, 0xCC, 0xCC), 1600000000, 4000),
			at(rtr(frame(0x7DF)), 1600000000, 50000),
			at(frame(0x7E8), 1600000000, 70000),
		}, Stats{Lines: 12, Ignored: 2, Frames: 5, Filtered: 3, Unsupported: 2, Malformed: 2, Emitted: 3}},
	}
	for _, tt := range tests {
		t.Run("interface "+tt.iface, func(t *testing.T) {
			r := NewReader(strings.NewReader(mixed), ReaderOptions{Interface: tt.iface, Logger: quiet})
			var frames []Frame
			if err := r.Run(t.Context(), func(f Frame) error {
				frames = append(frames, f)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(frames) != len(tt.frames) {
				t.Fatalf("%d frames, want %d: %+v", len(frames), len(tt.frames), frames)
			}
			for i := range frames {
				if frames[i] != tt.frames[i] {
					t.Errorf("frame %d = %+v, want %+v", i, frames[i], tt.frames[i])
				}
			}
			if s := r.Stats(); s != tt.stats {
				t.Errorf("Stats = %+v, want %+v", s, tt.stats)
			}
		})
	}
}

// recorder is a slog.Handler that keeps the records it is given.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *recorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recorder) WithGroup(string) slog.Handler            { return h }
func (h *recorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r)
	return nil
}

// skippedCounts returns the "skipped" attribute of each warning.
func (h *recorder) skippedCounts() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var counts []int64
	for _, r := range h.records {
		if r.Level != slog.LevelWarn {
			continue
		}
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "skipped" {
				counts = append(counts, a.Value.Int64())
			}
			return true
		})
	}
	return counts
}

// TestReaderWarnings checks that skipped lines are warned about at most
// once per warnEvery, with the number skipped since the last warning.
func TestReaderWarnings(t *testing.T) {
	var now time.Time
	// The clock moves on one second per line read: line i is read at
	// t=i s.
	input := strings.Join([]string{
		"bad 1",                             // t=0: warned at once, skipped 1
		"bad 2",                             // t=1
		"(1600000000.0) can1 7E8#00",        // t=2
		"bad 3",                             // t=3
		"(1600000000.0) can1 7E8#00",        // …
		"(1600000000.0) can1 123##1AA",      // unsupported: not warned about
		strings.Repeat("x", 2*maxLineBytes), // t=6: too long
	}, "\n")
	input += "\n" + strings.Repeat("(1600000000.0) can1 7E8#00\n", 10) // t=7…16: at 10, skipped 3
	h := &recorder{}
	lines := 0
	r := NewReader(&lineClock{r: strings.NewReader(input), tick: func() { now = time.Unix(int64(lines), 0); lines++ }},
		ReaderOptions{Logger: slog.New(h), Now: func() time.Time { return now }})
	if err := r.Run(t.Context(), func(Frame) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := h.skippedCounts(); len(got) != 2 || got[0] != 1 || got[1] != 3 {
		t.Errorf("warnings reported %v skipped, want [1 3]", got)
	}
	if s := r.Stats(); s.Malformed != 4 || s.Unsupported != 1 || s.Frames != 12 {
		t.Errorf("Stats = %+v", s)
	}
}

// lineClock calls tick whenever a Read returns a newline, so that a test
// clock can follow the lines a Reader has read. It hands out one byte per
// Read to keep the count exact.
type lineClock struct {
	r    io.Reader
	tick func()
}

func (c *lineClock) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, err := c.r.Read(p[:1])
	if n == 1 && p[0] == '\n' {
		c.tick()
	}
	return n, err
}

func TestReaderLongLine(t *testing.T) {
	input := strings.Repeat("7", 3*maxLineBytes) + "\n(1.0) can0 7E8#00\n"
	r := NewReader(strings.NewReader(input), ReaderOptions{Logger: quiet})
	n := 0
	if err := r.Run(t.Context(), func(Frame) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if want := (Stats{Lines: 2, Frames: 1, Malformed: 1, Emitted: 1}); r.Stats() != want || n != 1 {
		t.Errorf("Stats = %+v, %d frames; want %+v", r.Stats(), n, want)
	}
}

func TestReaderEmitError(t *testing.T) {
	errStop := errors.New("stop")
	r := NewReader(strings.NewReader(mixed), ReaderOptions{Name: "mixed", Logger: quiet})
	n := 0
	err := r.Run(t.Context(), func(Frame) error {
		if n++; n == 2 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || !strings.Contains(err.Error(), "mixed") {
		t.Errorf("Run = %v, want errStop naming the source", err)
	}
	if s := r.Stats(); s.Emitted != 1 || s.Frames != 2 {
		t.Errorf("Stats = %+v, want 2 frames, 1 emitted", s)
	}
}

func TestReaderReadError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	r := NewReader(io.MultiReader(strings.NewReader("(1.0) can0 7E8#00\n"), iotest.ErrReader(errDisk)),
		ReaderOptions{Name: "disk", Logger: quiet})
	n := 0
	err := r.Run(t.Context(), func(Frame) error { n++; return nil })
	if !errors.Is(err, errDisk) || n != 1 {
		t.Errorf("Run = %v after %d frames, want errDisk after 1", err, n)
	}
}

// TestReaderCancel checks that cancelling stops a Run blocked in a read
// on a pipe, and that a second Run meanwhile is refused.
func TestReaderCancel(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	r := NewReader(pr, ReaderOptions{Logger: quiet})
	ctx, cancel := context.WithCancel(t.Context())
	emitted := make(chan Frame)
	done := make(chan error)
	go func() {
		done <- r.Run(ctx, func(f Frame) error { emitted <- f; return nil })
	}()
	if _, err := io.WriteString(pw, "(1.0) can0 7E8#00\n"); err != nil {
		t.Fatal(err)
	}
	<-emitted // Run is running and will block reading the pipe
	if err := r.Run(ctx, func(Frame) error { return nil }); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	// The deadline set to unblock the read is cleared again.
	go io.WriteString(pw, "(2.0) can0 7E8#01\n")
	n := 0
	err = r.Run(t.Context(), func(f Frame) error {
		n++
		pw.Close()
		return nil
	})
	if err != nil || n != 1 {
		t.Errorf("Run after cancel = %v with %d frames", err, n)
	}
}

func TestReaderCancelledBeforeRun(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := NewReader(strings.NewReader(mixed), ReaderOptions{Logger: quiet})
	if err := r.Run(ctx, func(Frame) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if s := r.Stats(); s.Lines != 0 {
		t.Errorf("read %d lines", s.Lines)
	}
}
