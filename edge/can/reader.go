package can

import (
	"context"
	"io"
	"log/slog"
	"time"
)

// ReaderOptions configures a Reader.
type ReaderOptions struct {
	// Name identifies the source in log records and errors, such as the
	// command piped in; default "candump".
	Name string
	// Interface, if set, keeps only the frames of that interface ("can1")
	// and counts the others as Filtered.
	Interface string
	// Now is the clock for the warning rate limit; nil means time.Now.
	Now func() time.Time
	// Logger receives warnings about skipped input; nil means
	// slog.Default().
	Logger *slog.Logger
}

// A Reader is a Source that reads candump output (see ParseLine) from an
// io.Reader: a pipe from candump, a network stream, a test string. Line
// endings may be LF or CRLF; blank lines and lines starting with '#' are
// ignored; unsupported frames (CAN FD, error frames) are counted and
// skipped, malformed lines too, with a rate-limited warning. Frames are
// emitted as fast as they are read, with the times of the log.
type Reader struct {
	r    io.Reader
	pipe *pipeline
}

var _ Source = (*Reader)(nil)

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader, opts ReaderOptions) *Reader {
	if opts.Name == "" {
		opts.Name = "candump"
	}
	return &Reader{r: r, pipe: newPipeline(opts.Name, opts.Interface, opts.Logger, opts.Now)}
}

// Run reads until the end of the input and emits the frames; see Source
// for the contract. Cancellation interrupts a blocked Read only if the
// reader has read deadlines (an *os.File pipe, a net.Conn). Run does not
// close the underlying reader. A second concurrent Run returns ErrRunning.
func (r *Reader) Run(ctx context.Context, emit func(Frame) error) error {
	if err := r.pipe.start(); err != nil {
		return err
	}
	defer r.pipe.stop()
	return r.pipe.run(ctx, r.r, func(f Frame) error { return r.pipe.emit(emit, f) })
}

// Stats returns the counts so far. It is safe to call while Run runs.
func (r *Reader) Stats() Stats { return r.pipe.Stats() }
