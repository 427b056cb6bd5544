//go:build linux

package can

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestDialNoInterface(t *testing.T) {
	for _, name := range []string{"fleetwire-no0", "", "a-name-longer-than-ifnamsiz"} {
		c, err := Dial(name)
		if err == nil {
			c.Close()
		}
		if !errors.Is(err, ErrNoInterface) || !strings.Contains(err.Error(), name) {
			t.Errorf("Dial(%q) = %v, want ErrNoInterface naming the interface", name, err)
		}
	}
}

// TestDialNotCAN dials the loopback interface, which exists but is no CAN
// interface. Where the kernel has no CAN support (as on the test machines)
// the socket cannot even be opened.
func TestDialNotCAN(t *testing.T) {
	c, err := Dial("lo")
	if err == nil {
		c.Close()
		t.Fatal("Dial(lo) succeeded")
	}
	if !errors.Is(err, ErrNoInterface) && !errors.Is(err, ErrUnsupportedPlatform) {
		t.Errorf("Dial(lo) = %v, want ErrNoInterface or ErrUnsupportedPlatform", err)
	}
}

// socketPair returns a Conn and the other end of its socket: a Unix
// datagram socket pair stands in for a CAN_RAW socket, which cannot be
// opened without a CAN interface. Both carry one struct can_frame per
// read and write.
func socketPair(t *testing.T) (*Conn, *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(fds[0], "vcan-test", quiet)
	peer := os.NewFile(uintptr(fds[1]), "peer")
	t.Cleanup(func() {
		c.Close()
		peer.Close()
	})
	return c, peer
}

// runConn runs c in a goroutine, passing the frames it emits to the
// returned channel; the other channel receives what Run returned.
func runConn(ctx context.Context, c *Conn) (<-chan Frame, <-chan error) {
	frames := make(chan Frame, 16)
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, func(f Frame) error {
			frames <- f
			return nil
		})
	}()
	return frames, done
}

// waitFor returns what ch delivers, failing the test if it takes longer
// than any machine should need.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestConnRun(t *testing.T) {
	c, peer := socketPair(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	before := time.Now()
	for _, b := range [][]byte{
		raw(0x20000000|0x04, 8),             // error frame: unsupported
		raw(0x123, 1, 0x01)[:7],             // cut short: malformed
		raw(0x7E8, 3, 0x02, 0x41, 0x0D),     // OBD answer
		raw(0x80000000|0x0CF00400, 2, 1, 2), // J1939
	} {
		if _, err := peer.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	frames, done := runConn(ctx, c)
	want := []Frame{frame(0x7E8, 0x02, 0x41, 0x0D), extended(frame(0x0CF00400, 1, 2))}
	for i, w := range want {
		got := waitFor(t, frames, "a frame")
		if got.Time.Before(before) || got.Time.After(time.Now()) {
			t.Errorf("frame %d stamped %v, not the time it was read", i, got.Time)
		}
		got.Time = time.Time{}
		if got != w {
			t.Errorf("frame %d = %+v, want %+v", i, got, w)
		}
	}
	// Run now blocks reading the socket: cancelling must unblock it.
	cancel()
	if err := waitFor(t, done, "Run to return"); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if s, want := c.Stats(), (Stats{Frames: 2, Unsupported: 1, Malformed: 1, Emitted: 2}); s != want {
		t.Errorf("Stats = %+v, want %+v", s, want)
	}

	// The read deadline is cleared again for the next Run.
	frames, done = runConn(t.Context(), c)
	if _, err := peer.Write(raw(0x7E8, 1, 0x07)); err != nil {
		t.Fatal(err)
	}
	if got := waitFor(t, frames, "a frame"); got.Data[0] != 0x07 {
		t.Errorf("frame %+v", got)
	}
	// When the other end goes away the source ends.
	peer.Close()
	if err := waitFor(t, done, "Run to return"); err != nil {
		t.Errorf("Run = %v at the end of the stream, want nil", err)
	}
}

func TestConnClose(t *testing.T) {
	c, _ := socketPair(t)
	_, done := runConn(t.Context(), c)
	// Close unblocks a Run blocked in a read, or makes one that has not
	// got there yet fail at once.
	c.Close()
	if err := waitFor(t, done, "Run to return"); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Run = %v, want os.ErrClosed", err)
	}
}

func TestConnRunning(t *testing.T) {
	c, peer := socketPair(t)
	ctx, cancel := context.WithCancel(t.Context())
	frames, done := runConn(ctx, c)
	if _, err := peer.Write(raw(0x7E8, 0)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, frames, "a frame") // the first Run is running
	if err := c.Run(ctx, func(Frame) error { return nil }); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	cancel()
	waitFor(t, done, "Run to return")
}

func TestConnSend(t *testing.T) {
	c, peer := socketPair(t)
	for _, tt := range rawFrames {
		if err := c.Send(t.Context(), tt.frame); err != nil {
			t.Fatalf("%s: Send: %v", tt.name, err)
		}
		b := make([]byte, 64)
		n, err := peer.Read(b)
		if err != nil || string(b[:n]) != string(tt.raw) {
			t.Errorf("%s: sent % X, %v; want % X", tt.name, b[:n], err, tt.raw)
		}
	}
	if err := c.Send(t.Context(), frame(0x800)); !errors.Is(err, ErrMalformed) {
		t.Errorf("Send(800) = %v, want ErrMalformed", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Send(ctx, frame(0x7E0)); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a cancelled context = %v", err)
	}
}
