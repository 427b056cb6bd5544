// Package skipwarn rate-limits the warnings that a source logs about input
// it skips (garbage, bad checksums, frames it cannot decode): at most one
// warning per interval, which tells how much was skipped since the last
// one and gives the latest problem as an example. A receiver spewing
// garbage thus costs a line in the log every interval, not one per line
// of garbage, and nothing skipped goes unmentioned for long.
package skipwarn

import (
	"log/slog"
	"time"
)

// A Reporter collects skipped input and warns about it. It is not safe for
// concurrent use: the goroutine reading the source calls it.
type Reporter struct {
	log    *slog.Logger
	now    func() time.Time
	source string
	every  time.Duration

	// Skipped input not yet reported, and when the last warning went out.
	unreported int
	example    error
	warnedAt   time.Time
}

// New returns a Reporter that warns on log (nil means slog.Default()) at
// most once per every, by the clock now (nil means time.Now), about the
// input skipped by the source named source.
func New(log *slog.Logger, now func() time.Time, source string, every time.Duration) Reporter {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return Reporter{log: log, now: now, source: source, every: every}
}

// Skip notes a piece of input skipped because of err, for the next
// warning.
func (r *Reporter) Skip(err error) {
	r.unreported++
	r.example = err
}

// Warn logs msg as a warning about the input skipped since the last
// warning, with attributes source (the source's name), skipped (how much
// was skipped) and example (the latest error) — unless nothing was
// skipped, or the last warning went out less than the interval ago. Call
// it after each piece of input: it is cheap when there is nothing to say.
func (r *Reporter) Warn(msg string) {
	if r.unreported != 0 {
		r.warn(msg)
	}
}

func (r *Reporter) warn(msg string) {
	now := r.now()
	if !r.warnedAt.IsZero() && now.Sub(r.warnedAt) < r.every {
		return
	}
	r.log.Warn(msg,
		"source", r.source,
		"skipped", r.unreported,
		"example", r.example.Error())
	r.unreported, r.example, r.warnedAt = 0, nil, now
}
