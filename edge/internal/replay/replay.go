// Package replay plays a recorded log back in time, for the sources that
// replay logs (gnss.Replay, can.Replay): a Pacer maps the timestamps of
// the records to the times they are emitted with and waits until each one
// is due, so that a log plays at the pace it was recorded at, or faster.
package replay

import (
	"context"
	"fmt"
	"math"
	"os"
	"time"
)

// Options configures a Pacer.
type Options struct {
	// Speed is the pace relative to the record timestamps: 1 is real
	// time, 10 ten times faster, 0 as fast as possible (no waits). It
	// must not be negative or NaN.
	Speed float64
	// Rebase shifts the stamps so that the first record is stamped with
	// the time the Pacer was made and later ones keep their spacing.
	Rebase bool
	// Now is the clock for Rebase and for pacing; nil means time.Now.
	// Waits are still real timers.
	Now func() time.Time
}

// A Pacer stamps and paces the records of one run of a replay, over as
// many passes through the log as the replay loops.
//
// Stamping: a record recorded at t is stamped t, or, with Rebase, the
// Pacer's start time plus (t − the first record's time). When a replay
// loops, each pass is moved on in time so that the stamps keep
// increasing: it starts one record interval after the last record of the
// pass before, the interval being that between the first two records of
// that pass (1 s if it had only one record, 0 if the second came before
// the first).
//
// Pacing: the first record is due at once; each later one when the clock
// has moved on from the first by (its stamp − the first's stamp) / Speed.
// Being late (a slow consumer) is caught up on, not accumulated.
//
// A Pacer is not safe for concurrent use.
type Pacer struct {
	speed   float64
	rebase  bool
	now     func() time.Time
	started time.Time // the clock when the Pacer was made

	origin    time.Time // the time the first record was recorded at
	hasOrigin bool
	offset    time.Duration // of this pass from the first, for loops

	// The current pass: its number of records, and the recorded times of
	// its first, second and last record.
	n                     int
	first, second, latest time.Time

	// The stamp of the first record paced, and the clock when it was.
	pacing                bool
	firstStamp, firstWall time.Time
}

// NewPacer returns a Pacer for a run that starts now: it reads the clock
// once, for Rebase.
func NewPacer(opts Options) *Pacer {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Pacer{speed: opts.Speed, rebase: opts.Rebase, now: opts.Now, started: opts.Now()}
}

// Pace stamps the record recorded at t and waits until it is due. It
// returns the stamp, and ctx.Err() if ctx is done while it waits; a record
// already due is not held up by a done ctx.
func (p *Pacer) Pace(ctx context.Context, t time.Time) (time.Time, error) {
	stamp := p.stamp(t)
	return stamp, p.wait(ctx, stamp)
}

// NextPass starts the next pass through the log and reports whether the
// pass that ends had any record. After a pass without records the stamps
// are not moved on.
func (p *Pacer) NextPass() bool {
	if p.n == 0 {
		return false
	}
	step := time.Second
	if p.n > 1 {
		step = max(p.second.Sub(p.first), 0)
	}
	p.offset += p.latest.Sub(p.first) + step
	p.n = 0
	return true
}

// stamp maps the recorded time t to the time the record is emitted with.
func (p *Pacer) stamp(t time.Time) time.Time {
	switch p.n {
	case 0:
		p.first = t
	case 1:
		p.second = t
	}
	p.n++
	p.latest = t
	if !p.hasOrigin {
		p.origin, p.hasOrigin = t, true
	}
	base := p.origin
	if p.rebase {
		base = p.started
	}
	return base.Add(p.offset + t.Sub(p.origin))
}

// wait blocks until the record stamped stamp is due, or ctx is done.
func (p *Pacer) wait(ctx context.Context, stamp time.Time) error {
	if p.speed == 0 {
		return nil
	}
	if !p.pacing {
		p.pacing, p.firstStamp, p.firstWall = true, stamp, p.now()
		return nil
	}
	due := p.firstWall.Add(scale(stamp.Sub(p.firstStamp), 1/p.speed))
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

// Open opens the log file at path for reading. A directory is an error
// too, here rather than at the first read.
func Open(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if info, err := f.Stat(); err != nil || info.IsDir() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s is a directory", path)
		}
		return nil, err
	}
	return f, nil
}
