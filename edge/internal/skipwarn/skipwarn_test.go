package skipwarn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// warning is what a test expects of a warning.
type warning struct {
	at      time.Duration // since t0
	skipped int64
	example string
}

// recorder is a slog.Handler that keeps the warnings it is given, with
// the time of a test clock.
type recorder struct {
	now  func() time.Time
	msgs []string
	got  []warning
}

func (h *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *recorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recorder) WithGroup(string) slog.Handler            { return h }
func (h *recorder) Handle(_ context.Context, r slog.Record) error {
	if r.Level != slog.LevelWarn {
		return fmt.Errorf("logged at %v", r.Level)
	}
	w := warning{at: h.now().Sub(t0)}
	source := ""
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "source":
			source = a.Value.String()
		case "skipped":
			w.skipped = a.Value.Int64()
		case "example":
			w.example = a.Value.String()
		}
		return true
	})
	h.msgs = append(h.msgs, r.Message+" from "+source)
	h.got = append(h.got, w)
	return nil
}

// step is one piece of input at a time on the test's clock: skipped
// because of a problem, or fine if problem is "".
type step struct {
	at      time.Duration
	problem string
}

func TestReporter(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		want  []warning
	}{
		{"nothing skipped", []step{{0, ""}, {time.Minute, ""}}, nil},
		{"first problem warned about at once",
			[]step{{0, ""}, {time.Second, "bad 1"}}, []warning{{time.Second, 1, "bad 1"}}},
		{"held back for the interval, then counted",
			[]step{{0, "bad 1"}, {1 * time.Second, "bad 2"}, {3 * time.Second, ""}, {9 * time.Second, "bad 3"},
				{10 * time.Second, ""}, {12 * time.Second, "bad 4"}, {13 * time.Second, ""}},
			[]warning{{0, 1, "bad 1"}, {10 * time.Second, 2, "bad 3"}}},
		{"the interval runs from the last warning",
			[]step{{0, "bad 1"}, {15 * time.Second, "bad 2"}, {20 * time.Second, "bad 3"}, {25 * time.Second, ""}},
			[]warning{{0, 1, "bad 1"}, {15 * time.Second, 1, "bad 2"}, {25 * time.Second, 1, "bad 3"}}},
		{"quiet after a warning until the next problem",
			[]step{{0, "bad 1"}, {time.Minute, ""}, {2 * time.Minute, "bad 2"}},
			[]warning{{0, 1, "bad 1"}, {2 * time.Minute, 1, "bad 2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := t0
			now := func() time.Time { return clock }
			h := &recorder{now: now}
			r := New(slog.New(h), now, "/dev/ttyUSB0", 10*time.Second)
			for _, s := range tt.steps {
				clock = t0.Add(s.at)
				if s.problem != "" {
					r.Skip(errors.New(s.problem))
				}
				r.Warn("skipping invalid input")
			}
			if fmt.Sprint(h.got) != fmt.Sprint(tt.want) {
				t.Errorf("warnings %v, want %v", h.got, tt.want)
			}
			for _, m := range h.msgs {
				if m != "skipping invalid input from /dev/ttyUSB0" {
					t.Errorf("warning %q", m)
				}
			}
		})
	}
}

func TestReporterDefaults(t *testing.T) {
	r := New(nil, nil, "x", time.Second)
	if r.log != slog.Default() || r.now == nil {
		t.Errorf("New(nil, nil, …) has logger %p and clock %p", r.log, r.now)
	}
}

func TestWarnWithNothingSkippedDoesNotAllocate(t *testing.T) {
	r := New(slog.New(slog.DiscardHandler), nil, "x", time.Second)
	if allocs := testing.AllocsPerRun(100, func() { r.Warn("skipping") }); allocs != 0 {
		t.Errorf("Warn allocates %v times", allocs)
	}
}
