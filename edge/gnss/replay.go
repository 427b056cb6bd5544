package gnss

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/fleetwire/fleetwire/edge/internal/replay"
)

// ReplayOptions configures a Replay.
type ReplayOptions struct {
	// Speed is the pace relative to the fix timestamps: 1 is real time,
	// 10 ten times faster, 0 as fast as possible.
	Speed float64
	// Loop starts again at the beginning when the file ends, for demos.
	// Each pass continues forward in time: it is stamped from one fix
	// interval (that of the file's first two fixes) after the previous
	// pass, so time never goes backwards.
	Loop bool
	// Rebase shifts fix times so that the first fix is stamped with the
	// time Run started and later ones keep their spacing.
	Rebase bool
	// Now is the clock for Rebase, for pacing and for the warning rate
	// limit; nil means time.Now. Waits are still real timers.
	Now func() time.Time
	// Logger receives warnings about skipped input and a record when the
	// replay finishes; nil means slog.Default().
	Logger *slog.Logger
}

// A Replay is a Source that plays an NMEA log file back, paced by the fix
// timestamps, for tests, demos and bench runs of the agent. Lines are
// handled as by Reader; the filter's MaxAge check is off.
type Replay struct {
	path string
	file *os.File
	opts ReplayOptions
	pipe *pipeline
}

var _ Source = (*Replay)(nil)

// NewReplay opens the log file at path. Call Close when done.
func NewReplay(path string, opts ReplayOptions) (*Replay, error) {
	if math.IsNaN(opts.Speed) || opts.Speed < 0 {
		return nil, fmt.Errorf("gnss: replay %s: speed %v is neither 0 (as fast as possible) nor positive", path, opts.Speed)
	}
	f, err := replay.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gnss: replay: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Replay{
		path: path,
		file: f,
		opts: opts,
		pipe: newPipeline(path, opts.Logger, opts.Now, FilterConfig{}),
	}, nil
}

// Close closes the file.
func (r *Replay) Close() error { return r.file.Close() }

// Stats returns the counts so far, over all passes and runs. It is safe to
// call while Run runs.
func (r *Replay) Stats() Stats { return r.pipe.Stats() }

// Run plays the file from the beginning; see Source for the contract. With
// Loop it only returns on cancellation or an error, including ErrNoFixes
// when a pass emits nothing.
func (r *Replay) Run(ctx context.Context, emit func(Fix) error) error {
	if err := r.pipe.start(); err != nil {
		return err
	}
	defer r.pipe.stop()

	pace := replay.NewPacer(replay.Options{Speed: r.opts.Speed, Rebase: r.opts.Rebase, Now: r.opts.Now})
	for {
		if _, err := r.file.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("gnss: replay: %w", err)
		}
		// The filter judges each pass on the file's own times; stamping
		// keeps the passes in order.
		r.pipe.resetFilter()
		err := r.pipe.run(ctx, r.file, func(fix Fix) error {
			var err error
			if fix.Time, err = pace.Pace(ctx, fix.Time); err != nil {
				return err
			}
			return r.pipe.emit(emit, fix)
		})
		if err != nil {
			return err
		}
		if !r.opts.Loop {
			r.logFinished()
			return nil
		}
		if !pace.NextPass() {
			return fmt.Errorf("gnss: replay %s: %w", r.path, ErrNoFixes)
		}
	}
}

func (r *Replay) logFinished() {
	s := r.Stats()
	r.pipe.log.Info("gnss: replay finished",
		"file", r.path,
		"lines", s.Lines,
		"sentences", s.Sentences,
		"unsupported", s.Unsupported,
		"malformed", s.Malformed,
		"checksum_errors", s.ChecksumErrors,
		"emitted", s.Emitted,
		"dropped", s.Filter.Dropped())
}
