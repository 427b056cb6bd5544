package can

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
	// Speed is the pace relative to the frame timestamps: 1 is real time,
	// 10 ten times faster, 0 as fast as possible.
	Speed float64
	// Loop starts again at the beginning when the file ends, for demos.
	// Each pass continues forward in time: it is stamped from one frame
	// interval (that of the file's first two frames) after the previous
	// pass, so time never goes backwards.
	Loop bool
	// Rebase shifts frame times so that the first frame is stamped with
	// the time Run started and later ones keep their spacing.
	Rebase bool
	// Interface, if set, replays only the frames of that interface
	// ("can1"); see ReaderOptions.
	Interface string
	// Now is the clock for Rebase, for pacing and for the warning rate
	// limit; nil means time.Now. Waits are real timers.
	Now func() time.Time
	// Logger receives warnings about skipped input and a record when the
	// replay finishes; nil means slog.Default().
	Logger *slog.Logger
}

// A Replay is a Source that plays a candump log file back, paced by the
// frame timestamps, for tests, demos and bench runs of the agent. Lines
// are handled as by Reader. Frames without a timestamp (screen format
// without -t) are emitted unpaced and keep a zero Time.
type Replay struct {
	path string
	file *os.File
	opts ReplayOptions
	pipe *pipeline
}

var _ Source = (*Replay)(nil)

// NewReplay opens the log file at path. Call Close when done.
func NewReplay(path string, opts ReplayOptions) (*Replay, error) {
	if math.IsNaN(opts.Speed) || math.IsInf(opts.Speed, 0) || opts.Speed < 0 {
		return nil, fmt.Errorf("can: replay %s: speed %v is neither 0 (as fast as possible) nor a positive number", path, opts.Speed)
	}
	f, err := replay.Open(path)
	if err != nil {
		return nil, fmt.Errorf("can: replay: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Replay{
		path: path,
		file: f,
		opts: opts,
		pipe: newPipeline(path, opts.Interface, opts.Logger, opts.Now),
	}, nil
}

// Close closes the file.
func (r *Replay) Close() error { return r.file.Close() }

// Stats returns the counts so far, over all passes and runs. It is safe to
// call while Run runs.
func (r *Replay) Stats() Stats { return r.pipe.Stats() }

// Run plays the file from the beginning; see Source for the contract. With
// Loop it only returns on cancellation or an error, including ErrNoFrames
// when a pass emits nothing. A second concurrent Run returns ErrRunning.
func (r *Replay) Run(ctx context.Context, emit func(Frame) error) error {
	if err := r.pipe.start(); err != nil {
		return err
	}
	defer r.pipe.stop()

	pace := replay.NewPacer(replay.Options{Speed: r.opts.Speed, Rebase: r.opts.Rebase, Now: r.opts.Now})
	for {
		if _, err := r.file.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("can: replay: %w", err)
		}
		emitted := 0
		err := r.pipe.run(ctx, r.file, func(f Frame) error {
			if !f.Time.IsZero() {
				var err error
				if f.Time, err = pace.Pace(ctx, f.Time); err != nil {
					return err
				}
			}
			if err := r.pipe.emit(emit, f); err != nil {
				return err
			}
			emitted++
			return nil
		})
		if err != nil {
			return err
		}
		if !r.opts.Loop {
			r.logFinished()
			return nil
		}
		if emitted == 0 {
			return fmt.Errorf("can: replay %s: %w", r.path, ErrNoFrames)
		}
		pace.NextPass()
	}
}

func (r *Replay) logFinished() {
	s := r.Stats()
	r.pipe.log.Info("can: replay finished",
		"file", r.path,
		"lines", s.Lines,
		"frames", s.Frames,
		"filtered", s.Filtered,
		"unsupported", s.Unsupported,
		"malformed", s.Malformed,
		"emitted", s.Emitted)
}
