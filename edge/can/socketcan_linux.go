//go:build linux

package can

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fleetwire/fleetwire/edge/internal/unblock"
)

// A Conn is a live SocketCAN interface ("can0", "vcan0") opened as a raw
// CAN socket: a Source of the frames on the bus and a Sender onto it. It
// receives classic CAN frames only; error frames are not subscribed to.
// Frames are stamped with the time they were read.
type Conn struct {
	name string
	file *os.File // non-blocking socket, so reads honour deadlines and Close
	pipe *pipeline

	sendMu sync.Mutex // one Send at a time: each sets the write deadline
}

var (
	_ Source = (*Conn)(nil)
	_ Sender = (*Conn)(nil)
)

// Dial opens a raw CAN socket bound to the interface ifname. It returns an
// error wrapping ErrNoInterface if there is no such interface or it is not
// a CAN interface, and one wrapping ErrUnsupportedPlatform if the kernel
// has no CAN support. Close the Conn when done.
func Dial(ifname string) (*Conn, error) {
	if ifname == "" || len(ifname) >= unix.IFNAMSIZ {
		return nil, fmt.Errorf("can: dial %q: %w: invalid interface name", ifname, ErrNoInterface)
	}
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("can: dial %s: %w (%v)", ifname, ErrNoInterface, err)
	}
	fd, err := unix.Socket(unix.AF_CAN, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.CAN_RAW)
	if errors.Is(err, unix.EAFNOSUPPORT) {
		return nil, fmt.Errorf("can: dial %s: %w: the kernel has no CAN sockets (modules can, can_raw)", ifname, ErrUnsupportedPlatform)
	}
	if err != nil {
		return nil, fmt.Errorf("can: dial %s: socket: %w", ifname, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrCAN{Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.ENODEV) {
			return nil, fmt.Errorf("can: dial %s: %w: not a CAN interface", ifname, ErrNoInterface)
		}
		return nil, fmt.Errorf("can: dial %s: bind: %w", ifname, err)
	}
	return newConn(fd, ifname, slog.Default()), nil
}

// newConn wraps fd, a non-blocking socket that reads and writes one
// struct can_frame per call.
func newConn(fd int, name string, log *slog.Logger) *Conn {
	return &Conn{
		name: name,
		file: os.NewFile(uintptr(fd), name),
		pipe: newPipeline(name, "", log, time.Now),
	}
}

// Close closes the socket. A Run blocked in a read returns an error
// wrapping os.ErrClosed.
func (c *Conn) Close() error { return c.file.Close() }

// Stats returns the counts so far. It is safe to call while Run runs.
func (c *Conn) Stats() Stats { return c.pipe.Stats() }

// Run reads frames until ctx is cancelled or the socket fails; see Source
// for the contract. Cancellation unblocks a read in progress. A second
// concurrent Run returns ErrRunning.
func (c *Conn) Run(ctx context.Context, emit func(Frame) error) error {
	if err := c.pipe.start(); err != nil {
		return err
	}
	defer c.pipe.stop()
	defer unblock.OnCancel(ctx, c.file.SetReadDeadline)()
	deliver := func(f Frame) error { return c.pipe.emit(emit, f) }
	var buf [canFDFrameSize]byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := c.file.Read(buf[:])
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			return fmt.Errorf("can: read %s: %w", c.name, err)
		}
		f, err := decodeRawFrame(buf[:n])
		f.Time = time.Now()
		if err := c.pipe.decoded(f, err, deliver); err != nil {
			return err
		}
		c.pipe.warn()
	}
}

// Send transmits f. When the interface's transmit queue is full (ENOBUFS:
// the bus is busy, or nobody acknowledges) it retries every 2 ms for up
// to 100 ms, or until ctx is done. Send returns an error wrapping
// ErrMalformed for a frame that cannot be sent as classic CAN. Sends are
// serialised; Send is safe to call while Run runs.
func (c *Conn) Send(ctx context.Context, f Frame) error {
	var buf [rawFrameSize]byte
	if err := encodeRawFrame(&buf, f); err != nil {
		return fmt.Errorf("can: send on %s: %w", c.name, err)
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	defer unblock.OnCancel(ctx, c.file.SetWriteDeadline)()
	retryUntil := time.Now().Add(sendRetryFor)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, err := c.file.Write(buf[:])
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, unix.ENOBUFS) || time.Now().After(retryUntil):
			return fmt.Errorf("can: send on %s: %w", c.name, err)
		}
		if err := sleep(ctx, sendRetryEvery); err != nil {
			return err
		}
	}
}

// How long and how often Send retries while the transmit queue is full.
const (
	sendRetryFor   = 100 * time.Millisecond
	sendRetryEvery = 2 * time.Millisecond
)

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
