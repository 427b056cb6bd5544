package can

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
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

// writeLog writes content to a file in a temporary directory.
func writeLog(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "candump.log")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var errEnough = errors.New("enough frames")

// emission is a frame emitted by a replay and when, on the test's clock.
type emission struct {
	frame Frame
	after time.Duration // since the replay started
}

// play runs r until it ends or n frames have been emitted, and notes when
// each frame was emitted. Inside a synctest bubble the clock is fake, so
// the times are exact.
func play(ctx context.Context, r *Replay, n int) ([]emission, error) {
	start := time.Now()
	var got []emission
	err := r.Run(ctx, func(f Frame) error {
		got = append(got, emission{f, time.Since(start)})
		if len(got) == n {
			return errEnough
		}
		return nil
	})
	return got, err
}

// threeFrames are 0.5 s and then 1.5 s apart.
const threeFrames = "(100.000000) can1 7E0#01\n" +
	"(100.500000) can1 7E8#02\n" +
	"(102.000000) can1 7E0#03\n"

func TestReplayPacing(t *testing.T) {
	tests := []struct {
		speed float64
		after []time.Duration
	}{
		{0, []time.Duration{0, 0, 0}},
		{1, []time.Duration{0, 500 * time.Millisecond, 2 * time.Second}},
		{10, []time.Duration{0, 50 * time.Millisecond, 200 * time.Millisecond}},
		{0.5, []time.Duration{0, time.Second, 4 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("speed %g", tt.speed), func(t *testing.T) {
			path := writeLog(t, threeFrames)
			synctest.Test(t, func(t *testing.T) {
				r := newReplay(t, path, ReplayOptions{Speed: tt.speed})
				got, err := play(t.Context(), r, -1)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 3 {
					t.Fatalf("%d frames emitted, want 3", len(got))
				}
				for i, e := range got {
					if e.after != tt.after[i] {
						t.Errorf("frame %d emitted after %v, want %v", i, e.after, tt.after[i])
					}
					// Without Rebase the frames keep the times of the log.
					if want := time.Unix(100, 0).Add([]time.Duration{0, 500 * time.Millisecond, 2 * time.Second}[i]); !e.frame.Time.Equal(want) {
						t.Errorf("frame %d stamped %v, want %v", i, e.frame.Time, want)
					}
				}
			})
		})
	}
}

// TestReplayCatchesUp checks that a slow emit delays the frames that are
// then due, not all the frames after it.
func TestReplayCatchesUp(t *testing.T) {
	path := writeLog(t, threeFrames)
	synctest.Test(t, func(t *testing.T) {
		r := newReplay(t, path, ReplayOptions{Speed: 1})
		start := time.Now()
		var after []time.Duration
		err := r.Run(t.Context(), func(Frame) error {
			after = append(after, time.Since(start))
			if len(after) == 1 {
				time.Sleep(time.Second) // a slow consumer
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []time.Duration{0, time.Second, 2 * time.Second}
		for i := range want {
			if after[i] != want[i] {
				t.Errorf("frame %d emitted after %v, want %v", i, after[i], want[i])
			}
		}
	})
}

// TestReplayCancel checks that cancelling stops a replay waiting an hour
// for its next frame, without that hour passing.
func TestReplayCancel(t *testing.T) {
	path := writeLog(t, "(100.000000) can1 7E0#01\n(3700.000000) can1 7E0#02\n")
	synctest.Test(t, func(t *testing.T) {
		r := newReplay(t, path, ReplayOptions{Speed: 1})
		ctx, cancel := context.WithCancel(t.Context())
		start := time.Now()
		done := make(chan error, 1)
		emitted := 0
		go func() {
			done <- r.Run(ctx, func(Frame) error { emitted++; return nil })
		}()
		synctest.Wait() // Run has emitted the first frame and waits for the second
		if emitted != 1 {
			t.Fatalf("%d frames emitted before the wait, want 1", emitted)
		}
		cancel()
		synctest.Wait()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
		default:
			t.Fatal("Run did not return after cancel")
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("Run returned after %v", waited)
		}
	})
}

func TestReplayRebase(t *testing.T) {
	path := writeLog(t, threeFrames)
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		r := newReplay(t, path, ReplayOptions{Speed: 1, Rebase: true})
		got, err := play(t.Context(), r, -1)
		if err != nil {
			t.Fatal(err)
		}
		for i, offset := range []time.Duration{0, 500 * time.Millisecond, 2 * time.Second} {
			if want := start.Add(offset); !got[i].frame.Time.Equal(want) {
				t.Errorf("frame %d stamped %v, want %v", i, got[i].frame.Time, want)
			}
			if got[i].after != offset {
				t.Errorf("frame %d emitted after %v, want %v", i, got[i].after, offset)
			}
		}
	})
}

func TestReplayLoop(t *testing.T) {
	path := writeLog(t, threeFrames)
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		r := newReplay(t, path, ReplayOptions{Speed: 1, Loop: true, Rebase: true})
		got, err := play(t.Context(), r, 7)
		if !errors.Is(err, errEnough) {
			t.Fatalf("Run = %v", err)
		}
		// Each pass starts one interval of the first two frames (0.5 s)
		// after the last frame of the pass before.
		ms := time.Millisecond
		want := []time.Duration{0, 500 * ms, 2000 * ms, 2500 * ms, 3000 * ms, 4500 * ms, 5000 * ms}
		for i, e := range got {
			if !e.frame.Time.Equal(start.Add(want[i])) || e.after != want[i] {
				t.Errorf("frame %d stamped %v, emitted after %v; want %v", i, e.frame.Time.Sub(start), e.after, want[i])
			}
		}
		if s := r.Stats(); s.Frames != 7 || s.Emitted != 6 {
			t.Errorf("Stats = %+v; want 7 frames read, 6 emitted", s)
		}
	})
}

func TestReplayLoopWithoutFrames(t *testing.T) {
	path := writeLog(t, "# nothing but a comment\n(1.0) can0 123##1AA\n")
	r := newReplay(t, path, ReplayOptions{Loop: true})
	if _, err := play(t.Context(), r, -1); !errors.Is(err, ErrNoFrames) || !strings.Contains(err.Error(), path) {
		t.Errorf("Run = %v, want ErrNoFrames naming the file", err)
	}
}

// TestReplayWithoutTimestamps checks that frames in the screen format,
// which has no times, are emitted at once and keep a zero Time.
func TestReplayWithoutTimestamps(t *testing.T) {
	path := writeLog(t, "  can0  7E8   [1]  01\n  can0  7E8   [1]  02\n")
	synctest.Test(t, func(t *testing.T) {
		r := newReplay(t, path, ReplayOptions{Speed: 1, Rebase: true})
		got, err := play(t.Context(), r, -1)
		if err != nil || len(got) != 2 {
			t.Fatalf("Run = %v with %d frames", err, len(got))
		}
		for _, e := range got {
			if !e.frame.Time.IsZero() || e.after != 0 {
				t.Errorf("frame %+v emitted after %v", e.frame, e.after)
			}
		}
	})
}

func TestReplayInterface(t *testing.T) {
	path := writeLog(t, "(1.0) can0 7E0#01\n(1.1) can1 7E8#02\n(1.2) can0 7E0#03\n")
	r := newReplay(t, path, ReplayOptions{Interface: "can0"})
	got, err := play(t.Context(), r, -1)
	if err != nil || len(got) != 2 || got[0].frame.Data[0] != 1 || got[1].frame.Data[0] != 3 {
		t.Errorf("Run = %v, frames %+v", err, got)
	}
	if s := r.Stats(); s.Filtered != 1 || s.Emitted != 2 {
		t.Errorf("Stats = %+v", s)
	}
}

// TestReplayLogs replays every log in testdata/can as fast as possible.
func TestReplayLogs(t *testing.T) {
	for _, path := range logFiles(t) {
		want := len(readLines(t, path))
		r := newReplay(t, path, ReplayOptions{})
		got, err := play(t.Context(), r, -1)
		if err != nil || len(got) != want {
			t.Errorf("%s: Run = %v with %d frames, want %d", path, err, len(got), want)
		}
		if s := r.Stats(); s.Malformed != 0 || s.Unsupported != 0 {
			t.Errorf("%s: Stats = %+v", path, s)
		}
	}
}

func TestNewReplayErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		opts ReplayOptions
	}{
		{"negative speed", kona, ReplayOptions{Speed: -1}},
		{"NaN speed", kona, ReplayOptions{Speed: math.NaN()}},
		{"infinite speed", kona, ReplayOptions{Speed: math.Inf(1)}},
		{"missing file", filepath.Join(dir, "missing.log"), ReplayOptions{}},
		{"directory", dir, ReplayOptions{}},
	}
	for _, tt := range tests {
		if r, err := NewReplay(tt.path, tt.opts); err == nil {
			r.Close()
			t.Errorf("%s: NewReplay succeeded", tt.name)
		}
	}
}
