package gnss

import (
	"context"
	"io"
	"log/slog"
	"time"
)

// ReaderOptions configures a Reader.
type ReaderOptions struct {
	// Name identifies the source in log records and errors, such as a
	// device path; default "nmea".
	Name string
	// MaxSpeedKph and MaxAge configure the filter; see FilterConfig.
	// Leave MaxAge 0 unless the input is live.
	MaxSpeedKph float64
	MaxAge      time.Duration
	// Now is the clock for MaxAge and the warning rate limit; nil means
	// time.Now.
	Now func() time.Time
	// Logger receives warnings about skipped input; nil means
	// slog.Default().
	Logger *slog.Logger
}

// A Reader is a Source that reads NMEA 0183 lines from an io.Reader: a
// serial port, a pipe, a network stream, a test string. Line endings may
// be LF or CRLF, mixed; blank lines and lines starting with '#' are
// ignored; invalid sentences are counted and skipped with a rate-limited
// warning.
type Reader struct {
	r    io.Reader
	pipe *pipeline
}

var _ Source = (*Reader)(nil)

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader, opts ReaderOptions) *Reader {
	if opts.Name == "" {
		opts.Name = "nmea"
	}
	cfg := FilterConfig{MaxSpeedKph: opts.MaxSpeedKph, MaxAge: opts.MaxAge, Now: opts.Now}
	return &Reader{r: r, pipe: newPipeline(opts.Name, opts.Logger, opts.Now, cfg)}
}

// Run reads until the end of the input and emits the fixes; see Source for
// the contract. Run does not close the underlying reader.
func (r *Reader) Run(ctx context.Context, emit func(Fix) error) error {
	if err := r.pipe.start(); err != nil {
		return err
	}
	defer r.pipe.stop()
	return r.pipe.run(ctx, r.r, func(fix Fix) error { return r.pipe.emit(emit, fix) })
}

// Stats returns the counts so far. It is safe to call while Run runs.
func (r *Reader) Stats() Stats { return r.pipe.Stats() }
