package can

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"time"
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
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("can: replay: %w", err)
	}
	if info, err := f.Stat(); err != nil || info.IsDir() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s is a directory", path)
		}
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
	stop, err := r.pipe.start()
	if err != nil {
		return err
	}
	defer stop()

	stamp := stamper{rebase: r.opts.Rebase, started: r.opts.Now()}
	pace := pacer{speed: r.opts.Speed, now: r.opts.Now}
	for {
		if _, err := r.file.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("can: replay: %w", err)
		}
		emitted := 0
		err := r.pipe.run(ctx, r.file, func(f Frame) error {
			if !f.Time.IsZero() {
				f.Time = stamp.stamp(f.Time)
				if err := pace.wait(ctx, f.Time); err != nil {
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
		stamp.nextPass()
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

// stamper maps the frame times of the file to the times emitted: shifted
// to start when Run started (rebase), and moved on by one pass length per
// loop.
type stamper struct {
	rebase  bool
	started time.Time // wall-clock time Run started

	origin    time.Time // the file time of the first frame
	hasOrigin bool
	offset    time.Duration // of this pass from the first, for loops

	// The current pass: its number of timed frames, and the file times of
	// its first, second and last one.
	n                     int
	first, second, latest time.Time
}

func (s *stamper) stamp(t time.Time) time.Time {
	switch s.n {
	case 0:
		s.first = t
	case 1:
		s.second = t
	}
	s.n++
	s.latest = t
	if !s.hasOrigin {
		s.origin, s.hasOrigin = t, true
	}
	base := s.origin
	if s.rebase {
		base = s.started
	}
	return base.Add(s.offset + t.Sub(s.origin))
}

// nextPass prepares the stamps of the next pass.
func (s *stamper) nextPass() {
	if s.n == 0 {
		return
	}
	step := time.Second
	if s.n > 1 {
		step = max(s.second.Sub(s.first), 0)
	}
	s.offset += s.latest.Sub(s.first) + step
	s.n = 0
}

// pacer spaces the frames out: the frame stamped t is due at the
// wall-clock time the first frame went out plus (t − first stamp) / speed.
// Being late (a slow emit) is caught up on, not accumulated.
type pacer struct {
	speed float64
	now   func() time.Time

	started     bool
	first, wall time.Time // stamp and wall-clock time of the first frame
}

// wait blocks until the frame stamped t is due, or ctx is done.
func (p *pacer) wait(ctx context.Context, t time.Time) error {
	if p.speed == 0 {
		return nil
	}
	if !p.started {
		p.started, p.first, p.wall = true, t, p.now()
		return nil
	}
	due := p.wall.Add(scale(t.Sub(p.first), 1/p.speed))
	d := due.Sub(p.now())
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// scale multiplies d by f, saturating instead of overflowing.
func scale(d time.Duration, f float64) time.Duration {
	x := float64(d) * f
	switch {
	case x >= math.MaxInt64:
		return math.MaxInt64
	case x <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(x)
}
