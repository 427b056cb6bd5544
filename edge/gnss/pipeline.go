package gnss

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
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
	Lines          int // lines read, comments and blank lines included
	Ignored        int // blank lines and '#' comment lines
	Sentences      int // sentences decoded
	Unsupported    int // valid sentences of types that are not decoded (ErrUnsupported)
	Malformed      int // garbage, cut-off or undecodable sentences (ErrMalformed)
	ChecksumErrors int // sentences whose checksum did not match (ErrChecksum)
	Fixes          int // epochs assembled into a fix, before filtering
	Emitted        int // fixes emit accepted
	// Filter counts the fixes the filter kept and dropped, by reason.
	Filter FilterStats
}

// warnEvery is the shortest interval between two warnings about skipped
// input from one source.
const warnEvery = 10 * time.Second

// maxLineBytes is the longest line read; longer ones are skipped as
// malformed. NMEA allows 82 characters; some receivers send more.
const maxLineBytes = 4096

// pipeline is where lines become fixes, for every source: line → sentences
// → Assembler → Filter → deliver. It counts what happens on the way and
// warns, rate-limited, about input it skips.
type pipeline struct {
	name  string
	log   *slog.Logger
	guard runguard.Guard
	skips skipwarn.Reporter // only the goroutine running the source uses it

	mu     sync.Mutex // guards stats and filter, which Stats reads
	stats  Stats
	filter *Filter
}

func newPipeline(name string, log *slog.Logger, now func() time.Time, cfg FilterConfig) *pipeline {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	if cfg.Now == nil {
		cfg.Now = now
	}
	return &pipeline{
		name:   name,
		log:    log,
		skips:  skipwarn.New(log, now, name, warnEvery),
		filter: NewFilter(cfg),
	}
}

// Stats returns the counts so far. It is safe to call while the source runs.
func (p *pipeline) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Filter = p.filter.Stats()
	return s
}

// start marks the pipeline as running, or fails with ErrRunning if it
// is; stop marks it stopped.
func (p *pipeline) start() error { return p.guard.Start(ErrRunning, p.name) }
func (p *pipeline) stop()        { p.guard.Stop() }

// run reads r to its end and passes each fix that the filter keeps to
// deliver. It returns nil at the end of r, ctx.Err() when ctx is done, a
// read error wrapped, or what deliver returned, as is. Cancellation is
// noticed between lines, and during a blocked Read if r has read
// deadlines (see unblock.ReadsOnCancel).
func (p *pipeline) run(ctx context.Context, r io.Reader, deliver func(Fix) error) error {
	defer unblock.ReadsOnCancel(ctx, r)()
	var asm Assembler
	in := lines.NewReader(r, maxLineBytes)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := in.Next()
		switch {
		case errors.Is(err, lines.ErrTooLong):
			p.count(&p.stats.Lines)
			p.skipped(&p.stats.Malformed, fmt.Errorf("%w: line longer than %d bytes", ErrMalformed, maxLineBytes))
			p.warn()
			continue
		case err != nil && !errors.Is(err, io.EOF):
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			return fmt.Errorf("gnss: read %s: %w", p.name, err)
		}
		if len(line) > 0 {
			if err := p.line(line, &asm, deliver); err != nil {
				return err
			}
			p.warn()
		}
		if err != nil { // io.EOF
			if fix, ok := asm.Flush(); ok {
				return p.fix(fix, deliver)
			}
			return nil
		}
	}
}

// line handles one line. A line may hold several sentences when the
// receiver dropped bytes and spliced one into the next
// ("$GPGGA,030130$GPGLL,…"); each piece from a '$' on is parsed on its own.
func (p *pipeline) line(b []byte, asm *Assembler, deliver func(Fix) error) error {
	p.count(&p.stats.Lines)
	text := strings.Trim(string(b), " \t\r\n\x00")
	if text == "" || text[0] == '#' {
		p.count(&p.stats.Ignored)
		return nil
	}
	for text != "" {
		piece := text
		if i := strings.IndexByte(text[1:], '$'); i >= 0 {
			piece, text = text[:i+1], text[i+1:]
		} else {
			text = ""
		}
		s, err := Parse(piece)
		switch {
		case err == nil:
			p.count(&p.stats.Sentences)
			if fix, ok := asm.Add(s); ok {
				if err := p.fix(fix, deliver); err != nil {
					return err
				}
			}
		case errors.Is(err, ErrUnsupported):
			p.count(&p.stats.Unsupported)
		case errors.Is(err, ErrChecksum):
			p.skipped(&p.stats.ChecksumErrors, err)
		default:
			p.skipped(&p.stats.Malformed, err)
		}
	}
	return nil
}

// fix filters an assembled fix and delivers it if it is kept.
func (p *pipeline) fix(fix Fix, deliver func(Fix) error) error {
	p.mu.Lock()
	p.stats.Fixes++
	kept := p.filter.Check(fix) == Kept
	p.mu.Unlock()
	if !kept {
		return nil
	}
	return deliver(fix)
}

// emit hands fix to the caller's emit and counts it.
func (p *pipeline) emit(emit func(Fix) error, fix Fix) error {
	if err := emit(fix); err != nil {
		return fmt.Errorf("gnss: %s: emit: %w", p.name, err)
	}
	p.count(&p.stats.Emitted)
	return nil
}

// resetFilter makes the filter forget the last fix; see Filter.Reset.
func (p *pipeline) resetFilter() {
	p.mu.Lock()
	p.filter.Reset()
	p.mu.Unlock()
}

func (p *pipeline) count(n *int) {
	p.mu.Lock()
	*n++
	p.mu.Unlock()
}

// skipped counts a sentence skipped because of err, to be reported by the
// next warning.
func (p *pipeline) skipped(n *int, err error) {
	p.count(n)
	p.skips.Skip(err)
}

// warn logs skipped input not reported yet, at most once per warnEvery.
func (p *pipeline) warn() { p.skips.Warn("gnss: skipping invalid NMEA input") }
