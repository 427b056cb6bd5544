// Package unblock makes blocking I/O on a file or connection honour a
// context: when the context is cancelled, it sets the deadline of the
// file in the past, so that a Read or Write blocked on it returns (with
// os.ErrDeadlineExceeded) and the caller can return ctx.Err() promptly.
// Serial ports, pipes and sockets opened as non-blocking *os.File, and
// net.Conn, have deadlines; a plain io.Reader does not.
package unblock

import (
	"context"
	"io"
	"time"
)

// OnCancel makes I/O blocked on a file return once ctx is cancelled, by
// setting its deadline in the past with setDeadline (the file's
// SetReadDeadline, SetWriteDeadline or SetDeadline). Call the returned
// undo when the I/O is done: if the deadline was set, it waits for that
// and clears it again for the next user of the file.
func OnCancel(ctx context.Context, setDeadline func(time.Time) error) (undo func()) {
	set := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(set)
		_ = setDeadline(time.Unix(1, 0))
	})
	return func() {
		if !stop() { // the deadline was set, or is being set
			<-set
			_ = setDeadline(time.Time{})
		}
	}
}

// ReadsOnCancel is OnCancel for the reads of r, if r has read deadlines
// (a SetReadDeadline method); if it has not, it does nothing, and a Read
// blocked on r returns only when r returns.
func ReadsOnCancel(ctx context.Context, r io.Reader) (undo func()) {
	d, ok := r.(interface{ SetReadDeadline(time.Time) error })
	if !ok {
		return func() {}
	}
	return OnCancel(ctx, d.SetReadDeadline)
}
