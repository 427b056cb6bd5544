package gnss

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newReplay opens a Replay that is closed when the test ends.
func newReplay(t *testing.T, path string, opts ReplayOptions) *Replay {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	r, err := NewReplay(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// writeFile writes content to a file in a temporary directory.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "drive.nmea")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var errEnough = errors.New("enough fixes")

// collect runs r until it ends or n fixes have been emitted.
func collect(t *testing.T, ctx context.Context, r *Replay, n int) ([]Fix, error) {
	t.Helper()
	var fixes []Fix
	err := r.Run(ctx, func(fix Fix) error {
		fixes = append(fixes, fix)
		if len(fixes) == n {
			return errEnough
		}
		return nil
	})
	return fixes, err
}

func TestReplayRegensburg(t *testing.T) {
	r := newReplay(t, regensburg, ReplayOptions{Speed: 0})
	fixes, err := collect(t, t.Context(), r, -1)
	if err != nil {
		t.Fatal(err)
	}
	if len(fixes) != 774 {
		t.Fatalf("%d fixes, want 774", len(fixes))
	}
	first := time.Date(2010, 4, 11, 16, 57, 44, 0, time.UTC)
	last := time.Date(2010, 4, 11, 17, 24, 0, 0, time.UTC)
	if !fixes[0].Time.Equal(first) || !fixes[773].Time.Equal(last) {
		t.Errorf("fixes from %v to %v, want %v to %v", fixes[0].Time, fixes[773].Time, first, last)
	}
	for i, fix := range fixes {
		if i > 0 && !fix.Time.After(fixes[i-1].Time) {
			t.Fatalf("fix %d at %v is not after %v", i, fix.Time, fixes[i-1].Time)
		}
		// The README's bounding box of the drive, around 49.0N 12.1E,
		// given to four decimals.
		const half = 0.00005
		if fix.Lat < 49.0237-half || fix.Lat > 49.0445+half || fix.Lon < 12.0354-half || fix.Lon > 12.0986+half {
			t.Fatalf("fix %d at %.6f, %.6f is outside Regensburg", i, fix.Lat, fix.Lon)
		}
	}
	if s := r.Stats(); s.Emitted != 774 || s.Filter.NoFix != 16 {
		t.Errorf("Stats = %+v", s)
	}
}

func TestReplayRebase(t *testing.T) {
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	r := newReplay(t, regensburg, ReplayOptions{Rebase: true, Now: func() time.Time { return start }})
	fixes, err := collect(t, t.Context(), r, 3)
	if !errors.Is(err, errEnough) {
		t.Fatal(err)
	}
	for i, want := range []time.Time{start, start.Add(2 * time.Second), start.Add(4 * time.Second)} {
		if !fixes[i].Time.Equal(want) {
			t.Errorf("fix %d stamped %v, want %v", i, fixes[i].Time, want)
		}
	}
}

func TestReplayLoop(t *testing.T) {
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	file := time.Date(2010, 4, 11, 10, 0, 0, 0, time.UTC) // threeFixes
	tests := []struct {
		name   string
		rebase bool
		first  time.Time
	}{
		{"file times", false, file},
		{"rebased", true, start},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReplay(t, writeFile(t, threeFixes), ReplayOptions{
				Loop:   true,
				Rebase: tt.rebase,
				Now:    func() time.Time { return start },
			})
			fixes, err := collect(t, t.Context(), r, 10)
			if !errors.Is(err, errEnough) {
				t.Fatalf("Run = %v", err)
			}
			// Three passes and a bit, every fix two seconds after the
			// one before, across the passes too.
			for i, fix := range fixes {
				if want := tt.first.Add(time.Duration(2*i) * time.Second); !fix.Time.Equal(want) {
					t.Errorf("fix %d stamped %v, want %v", i, fix.Time, want)
				}
			}
			// The tenth fix is emitted (and refused) on the second line of
			// the fourth pass.
			if s := r.Stats(); s.Lines != 11 || s.Emitted != 9 || s.Filter.Kept != 10 {
				t.Errorf("Stats = %+v; want 11 lines read, 10 kept, 9 emitted", s)
			}
		})
	}
}

func TestReplayLoopWithoutFixes(t *testing.T) {
	path := writeFile(t, "# nothing but a comment\n$GPGSV,1,1,00*79\n")
	r := newReplay(t, path, ReplayOptions{Loop: true})
	if _, err := collect(t, t.Context(), r, -1); !errors.Is(err, ErrNoFixes) || !strings.Contains(err.Error(), path) {
		t.Errorf("Run = %v, want ErrNoFixes naming the file", err)
	}
}

// twoFixesAnHourApart is a log in which the second fix comes an hour
// after the first.
var twoFixesAnHourApart = strings.Join([]string{
	sentence("GPRMC,100000,A,4901.0000,N,01203.0000,E,0.0,0.0,110410,,,A"),
	sentence("GPRMC,110000,A,4901.0000,N,01203.0000,E,0.0,0.0,110410,,,A"),
}, "\n") + "\n"

func TestReplaySpeedWaits(t *testing.T) {
	// The clock stands still, so the second fix is due in an hour at real
	// time: Run must still be waiting when the deadline comes.
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	r := newReplay(t, writeFile(t, twoFixesAnHourApart), ReplayOptions{
		Speed: 1,
		Now:   func() time.Time { return start },
	})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	fixes, err := collect(t, ctx, r, -1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run = %v, want the deadline to interrupt the wait", err)
	}
	if len(fixes) != 1 {
		t.Errorf("%d fixes emitted, want only the first", len(fixes))
	}
	if s := r.Stats(); s.Filter.Kept != 2 || s.Emitted != 1 {
		t.Errorf("Stats = %+v; want 2 kept, 1 emitted", s)
	}
}

func TestReplaySpeedFollowsTheClock(t *testing.T) {
	// Each look at the clock finds it an hour later: at 10× speed the
	// second fix is due six minutes after the first, long past, so Run
	// emits both without waiting.
	clock := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	r := newReplay(t, writeFile(t, twoFixesAnHourApart), ReplayOptions{
		Speed: 10,
		Now:   func() time.Time { clock = clock.Add(time.Hour); return clock },
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a guard against hanging
	defer cancel()
	fixes, err := collect(t, ctx, r, -1)
	if err != nil || len(fixes) != 2 {
		t.Errorf("Run = %v with %d fixes, want nil with 2", err, len(fixes))
	}
}

func TestReplayCancelLooping(t *testing.T) {
	r := newReplay(t, regensburg, ReplayOptions{Loop: true})
	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	err := r.Run(ctx, func(Fix) error {
		if n++; n == 1000 { // in the second pass
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 1000 {
		t.Errorf("Run = %v after %d fixes, want context.Canceled after 1000", err, n)
	}
}

func TestReplayCancelWhileWaiting(t *testing.T) {
	// The clock cancels the context when the replay looks at it after the
	// first fix went out: that is the replay working out how long to wait
	// for the second, an hour away.
	ctx, cancel := context.WithCancel(t.Context())
	emitted := false
	r := newReplay(t, writeFile(t, twoFixesAnHourApart), ReplayOptions{
		Speed: 1,
		Now: func() time.Time {
			if emitted {
				cancel()
			}
			return t0
		},
	})
	n := 0
	err := r.Run(ctx, func(Fix) error { n++; emitted = true; return nil })
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("Run = %v after %d fixes, want context.Canceled after 1", err, n)
	}
}

func TestNewReplayErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such.nmea")
	tests := []struct {
		name    string
		path    string
		opts    ReplayOptions
		is      error
		mention string
	}{
		{"missing file", missing, ReplayOptions{}, fs.ErrNotExist, missing},
		{"directory", t.TempDir(), ReplayOptions{}, nil, "is a directory"},
		{"negative speed", regensburg, ReplayOptions{Speed: -1}, nil, "speed -1"},
		{"NaN speed", regensburg, ReplayOptions{Speed: math.NaN()}, nil, "speed NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReplay(tt.path, tt.opts)
			if err == nil {
				r.Close()
				t.Fatal("NewReplay succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("NewReplay = %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("NewReplay = %q, want it to mention %q", err, tt.mention)
			}
		})
	}
}

func TestReplayRunsAgain(t *testing.T) {
	r := newReplay(t, writeFile(t, threeFixes), ReplayOptions{})
	for run := 1; run <= 2; run++ {
		fixes, err := collect(t, t.Context(), r, -1)
		if err != nil || len(fixes) != 3 {
			t.Errorf("run %d: %d fixes, %v; want 3, nil", run, len(fixes), err)
		}
	}
	if s := r.Stats(); s.Emitted != 6 {
		t.Errorf("Stats.Emitted = %d over two runs, want 6", s.Emitted)
	}
}
