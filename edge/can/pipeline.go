package can

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/fleetwire/fleetwire/edge/internal/lines"
	"github.com/fleetwire/fleetwire/edge/internal/runguard"
	"github.com/fleetwire/fleetwire/edge/internal/skipwarn"
	"github.com/fleetwire/fleetwire/edge/internal/unblock"
)

// Stats counts what a source has read, decoded and emitted since it was
// created.
type Stats struct {
	Lines       int // lines read, blank and comment lines included (logs only)
	Ignored     int // blank lines and '#' comment lines
	Frames      int // classic CAN frames decoded, before the interface filter
	Filtered    int // frames and unsupported lines from interfaces other than the one asked for
	Unsupported int // CAN FD, CAN XL and error frames, DROPCOUNT notices (ErrUnsupported)
	Malformed   int // lines or raw frames that could not be decoded (ErrMalformed)
	Emitted     int // frames emit accepted
}

// warnEvery is the shortest interval between two warnings about skipped
// input from one source.
const warnEvery = 10 * time.Second

// maxLineBytes is the longest line read; longer ones are skipped as
// malformed. A classic frame in candump's screen format takes under 100
// bytes, a CAN FD frame under 250.
const maxLineBytes = 4096

// pipeline is what every source shares: it decodes lines into frames,
// applies the interface filter, counts what happens on the way and warns,
// rate-limited, about input it skips.
type pipeline struct {
	name  string
	iface string // only frames from this interface; "" for all
	log   *slog.Logger
	guard runguard.Guard
	skips skipwarn.Reporter // only the goroutine running the source uses it

	mu    sync.Mutex // guards stats, which Stats reads while Run runs
	stats Stats
}

func newPipeline(name, iface string, log *slog.Logger, now func() time.Time) *pipeline {
	if log == nil {
		log = slog.Default()
	}
	return &pipeline{name: name, iface: iface, log: log, skips: skipwarn.New(log, now, name, warnEvery)}
}

// Stats returns the counts so far. It is safe to call while the source runs.
func (p *pipeline) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// start marks the pipeline as running, or fails with ErrRunning if it
// is; stop marks it stopped.
func (p *pipeline) start() error { return p.guard.Start(ErrRunning, p.name) }
func (p *pipeline) stop()        { p.guard.Stop() }

// run reads candump lines from r to its end and passes each frame to
// deliver. It returns nil at the end of r, ctx.Err() when ctx is done, a
// read error wrapped, or what deliver returned, as is. Cancellation is
// noticed between lines, and during a blocked Read if r has read
// deadlines (see unblock.ReadsOnCancel): a pipe or socket opened as
// *os.File, a net.Conn.
func (p *pipeline) run(ctx context.Context, r io.Reader, deliver func(Frame) error) error {
	defer unblock.ReadsOnCancel(ctx, r)()
	in := lines.NewReader(r, maxLineBytes)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := in.Next()
		switch {
		case errors.Is(err, lines.ErrTooLong):
			p.mu.Lock()
			p.stats.Lines++
			p.stats.Malformed++
			p.mu.Unlock()
			p.skips.Skip(fmt.Errorf("%w: line longer than %d bytes", ErrMalformed, maxLineBytes))
			p.warn()
			continue
		case err != nil && !errors.Is(err, io.EOF):
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			return fmt.Errorf("can: read %s: %w", p.name, err)
		}
		if len(line) > 0 {
			if err := p.line(line, deliver); err != nil {
				return err
			}
			p.warn()
		}
		if err != nil { // io.EOF
			return nil
		}
	}
}

// line decodes one line and delivers its frame, if it has one that passes
// the interface filter.
func (p *pipeline) line(b []byte, deliver func(Frame) error) error {
	var (
		f     Frame
		iface []byte
		err   error
	)
	text := trimSpace(b)
	ignored := len(text) == 0 || text[0] == '#'
	if !ignored {
		iface, err = parseLine(text, &f)
	}
	// Malformed lines are counted as such whatever interface they name.
	filtered := p.iface != "" && iface != nil && string(iface) != p.iface &&
		(err == nil || errors.Is(err, ErrUnsupported))
	p.mu.Lock()
	p.stats.Lines++
	switch {
	case ignored:
		p.stats.Ignored++
	case filtered:
		p.stats.Filtered++
		if err == nil {
			p.stats.Frames++
		}
	default:
		p.countLocked(err)
	}
	p.mu.Unlock()
	if ignored || filtered {
		return nil
	}
	return p.pass(f, err, deliver)
}

// decoded counts a frame read from a socket, or the error that kept it
// from being decoded, and delivers the frame.
func (p *pipeline) decoded(f Frame, err error, deliver func(Frame) error) error {
	p.mu.Lock()
	p.countLocked(err)
	p.mu.Unlock()
	return p.pass(f, err, deliver)
}

// countLocked counts a decoded frame, or the error that kept one from
// being decoded. The caller holds p.mu.
func (p *pipeline) countLocked(err error) {
	switch {
	case err == nil:
		p.stats.Frames++
	case errors.Is(err, ErrUnsupported):
		p.stats.Unsupported++
	default:
		p.stats.Malformed++
	}
}

// pass hands a decoded frame to deliver, or notes why it could not be
// decoded for the next warning. Unsupported input is counted but not
// warned about.
func (p *pipeline) pass(f Frame, err error, deliver func(Frame) error) error {
	switch {
	case err == nil:
		return deliver(f)
	case !errors.Is(err, ErrUnsupported):
		p.skips.Skip(err)
	}
	return nil
}

// emit hands f to the caller's emit and counts it.
func (p *pipeline) emit(emit func(Frame) error, f Frame) error {
	if err := emit(f); err != nil {
		return fmt.Errorf("can: %s: emit: %w", p.name, err)
	}
	p.mu.Lock()
	p.stats.Emitted++
	p.mu.Unlock()
	return nil
}

// warn logs skipped input not reported yet, at most once per warnEvery.
func (p *pipeline) warn() { p.skips.Warn("can: skipping invalid input") }
