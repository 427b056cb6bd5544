package unblock

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// deadlines records the deadlines set on it.
type deadlines struct {
	mu  sync.Mutex
	set []time.Time
}

func (d *deadlines) SetReadDeadline(t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.set = append(d.set, t)
	return nil
}

func (d *deadlines) Read([]byte) (int, error) { return 0, io.EOF }

func TestOnCancel(t *testing.T) {
	past, none := time.Unix(1, 0), time.Time{}
	tests := []struct {
		name   string
		cancel bool // before undo
		want   []time.Time
	}{
		{"not cancelled", false, nil},
		{"cancelled", true, []time.Time{past, none}},
	}
	for _, tt := range tests {
		for _, reads := range []bool{false, true} {
			name := tt.name
			if reads {
				name += ", ReadsOnCancel"
			}
			t.Run(name, func(t *testing.T) {
				var d deadlines
				ctx, cancel := context.WithCancel(t.Context())
				var undo func()
				if reads {
					undo = ReadsOnCancel(ctx, &d)
				} else {
					undo = OnCancel(ctx, d.SetReadDeadline)
				}
				if tt.cancel {
					cancel()
				}
				undo()
				cancel() // after undo: no effect
				if !slices.Equal(d.set, tt.want) {
					t.Errorf("deadlines set %v, want %v", d.set, tt.want)
				}
			})
		}
	}
}

func TestReadsOnCancelWithoutDeadlines(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	undo := ReadsOnCancel(ctx, strings.NewReader(""))
	cancel()
	undo() // nothing to do, nothing to wait for
}

// TestOnCancelUnblocks cancels reads blocked on a connection and on a
// pipe, and checks that the deadline is cleared after.
func TestOnCancelUnblocks(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	conn, peer := net.Pipe()
	defer conn.Close()
	defer peer.Close()
	tests := []struct {
		name string
		r    io.Reader
		w    io.Writer
	}{
		{"net.Conn", conn, peer},
		{"os.File pipe", pr, pw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			undo := ReadsOnCancel(ctx, tt.r)
			done := make(chan error, 1)
			go func() {
				_, err := tt.r.Read(make([]byte, 1))
				done <- err
			}()
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("Read = %v, want os.ErrDeadlineExceeded", err)
				}
			case <-time.After(10 * time.Second): // a guard against hanging
				t.Fatal("Read did not return after cancel")
			}
			undo()
			go tt.w.Write([]byte("x"))
			if n, err := tt.r.Read(make([]byte, 1)); n != 1 || err != nil {
				t.Errorf("Read after undo = %d, %v", n, err)
			}
		})
	}
}
