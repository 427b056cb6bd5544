package replay

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// t0 is when the records of the tests were recorded, from.
var t0 = time.Date(2010, 4, 11, 10, 0, 0, 0, time.UTC)

// at returns the times t0 + s seconds, one for each of secs.
func at(secs ...float64) []time.Time {
	ts := make([]time.Time, len(secs))
	for i, s := range secs {
		ts[i] = t0.Add(time.Duration(s * float64(time.Second)))
	}
	return ts
}

func TestPacerStamps(t *testing.T) {
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		rebase bool
		passes [][]time.Time // the recorded times, pass by pass
		want   []float64     // the stamps, in seconds from the first
	}{
		{"one pass", false, [][]time.Time{at(0, 0.5, 2)}, []float64{0, 0.5, 2}},
		{"loop continues one interval on", false,
			[][]time.Time{at(0, 0.5, 2), at(0, 0.5, 2), at(0, 0.5)},
			[]float64{0, 0.5, 2, 2.5, 3, 4.5, 5, 5.5}},
		{"a pass of one record is 1 s long", false,
			[][]time.Time{at(7), at(7), at(7)}, []float64{0, 1, 2}},
		{"an empty pass does not move time on", false,
			[][]time.Time{at(0, 2), {}, at(0, 2)}, []float64{0, 2, 4, 6}},
		{"a step back between the first two is no step", false,
			[][]time.Time{at(5, 4, 6), at(5)}, []float64{0, -1, 1, 1}},
		{"later passes are measured from their own first record", false,
			[][]time.Time{at(10, 12), at(0, 2)}, []float64{0, 2, -6, -4}},
		{"rebase", true, [][]time.Time{at(0, 0.5, 2), at(0)}, []float64{0, 0.5, 2, 2.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPacer(Options{Rebase: tt.rebase, Now: func() time.Time { return start }})
			var got []time.Time
			for i, pass := range tt.passes {
				if i > 0 {
					if had := p.NextPass(); had != (len(tt.passes[i-1]) > 0) {
						t.Errorf("NextPass after pass %d = %v", i-1, had)
					}
				}
				for _, rec := range pass {
					stamp, err := p.Pace(t.Context(), rec)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, stamp)
				}
			}
			base := tt.passes[0][0]
			if tt.rebase {
				base = start
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d stamps, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				if want := base.Add(time.Duration(w * float64(time.Second))); !got[i].Equal(want) {
					t.Errorf("record %d stamped %v, want %v", i, got[i].Sub(base), want.Sub(base))
				}
			}
		})
	}
}

func TestPacerNextPassWithoutRecords(t *testing.T) {
	p := NewPacer(Options{})
	if p.NextPass() {
		t.Error("NextPass before any record = true")
	}
	p.Pace(t.Context(), t0)
	if !p.NextPass() || p.NextPass() {
		t.Error("NextPass does not report the passes with records only")
	}
}

// TestPacerWaits paces records 0.5 s and then 1.5 s apart. Inside a
// synctest bubble the clock is fake, so the waits are exact.
func TestPacerWaits(t *testing.T) {
	tests := []struct {
		speed float64
		want  []time.Duration // since the first record, when each was due
	}{
		{0, []time.Duration{0, 0, 0}},
		{1, []time.Duration{0, 500 * time.Millisecond, 2 * time.Second}},
		{10, []time.Duration{0, 50 * time.Millisecond, 200 * time.Millisecond}},
		{0.5, []time.Duration{0, time.Second, 4 * time.Second}},
		{math.Inf(1), []time.Duration{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("speed %g", tt.speed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := NewPacer(Options{Speed: tt.speed})
				start := time.Now()
				for i, rec := range at(100, 100.5, 102) {
					if _, err := p.Pace(t.Context(), rec); err != nil {
						t.Fatal(err)
					}
					if got := time.Since(start); got != tt.want[i] {
						t.Errorf("record %d due after %v, want %v", i, got, tt.want[i])
					}
				}
			})
		})
	}
}

// TestPacerCatchesUp checks that a slow consumer delays the records that
// are then due, not all the records after it.
func TestPacerCatchesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(Options{Speed: 1})
		start := time.Now()
		want := []time.Duration{0, time.Second, 2 * time.Second}
		for i, rec := range at(0, 0.5, 2) {
			if _, err := p.Pace(t.Context(), rec); err != nil {
				t.Fatal(err)
			}
			if got := time.Since(start); got != want[i] {
				t.Errorf("record %d due after %v, want %v", i, got, want[i])
			}
			if i == 0 {
				time.Sleep(time.Second) // a slow consumer
			}
		}
	})
}

// TestPacerFollowsTheClock paces by the injected clock: records are due
// by what it says, and only the remaining wait is a real timer.
func TestPacerFollowsTheClock(t *testing.T) {
	tests := []struct {
		name  string
		speed float64
		tick  time.Duration // how far the clock moves on per look
		waits bool          // whether the second record, an hour on, is waited for
	}{
		{"clock stands still", 1, 0, true},
		{"clock races ahead", 10, time.Hour, false},
		{"clock just behind", 1, 59 * time.Minute, true},
		{"clock exactly on time", 1, 60 * time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				clock := t0
				now := func() time.Time { clock = clock.Add(tt.tick); return clock }
				p := NewPacer(Options{Speed: tt.speed, Now: now})
				start := time.Now()
				for _, rec := range at(0, 3600) {
					if _, err := p.Pace(t.Context(), rec); err != nil {
						t.Fatal(err)
					}
				}
				if waited := time.Since(start) > 0; waited != tt.waits {
					t.Errorf("waited %v", time.Since(start))
				}
			})
		})
	}
}

func TestPacerRebaseUsesTheClock(t *testing.T) {
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	looks := 0
	p := NewPacer(Options{Rebase: true, Now: func() time.Time { looks++; return start }})
	if looks != 1 {
		t.Errorf("NewPacer looked at the clock %d times, want 1", looks)
	}
	if stamp, _ := p.Pace(t.Context(), t0); !stamp.Equal(start) || looks != 1 {
		t.Errorf("first record stamped %v after %d looks at the clock, want %v after 1", stamp, looks, start)
	}
}

// TestPacerCancel checks that cancelling stops a wait of an hour, without
// that hour passing, and that records already due are not held up.
func TestPacerCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(Options{Speed: 1})
		ctx, cancel := context.WithCancel(t.Context())
		start := time.Now()
		if _, err := p.Pace(ctx, t0); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := p.Pace(ctx, t0.Add(time.Hour))
			done <- err
		}()
		synctest.Wait() // Pace waits for the hour to pass
		select {
		case err := <-done:
			t.Fatalf("Pace returned %v before the record was due", err)
		default:
		}
		cancel()
		synctest.Wait()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Pace = %v, want context.Canceled", err)
			}
		default:
			t.Fatal("Pace did not return after cancel")
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("Pace returned after %v", waited)
		}
		// A record that is due is paced even with ctx done.
		time.Sleep(2 * time.Second)
		if _, err := p.Pace(ctx, t0.Add(time.Second)); err != nil {
			t.Errorf("Pace of a record due = %v", err)
		}
	})
}

func TestScale(t *testing.T) {
	tests := []struct {
		d    time.Duration
		f    float64
		want time.Duration
	}{
		{time.Second, 0.5, 500 * time.Millisecond},
		{time.Second, 0, 0},
		{-time.Second, 2, -2 * time.Second},
		{math.MaxInt64 / 2, 4, math.MaxInt64},
		{math.MinInt64 / 2, 4, math.MinInt64},
		{time.Hour, math.Inf(1), math.MaxInt64},
	}
	for _, tt := range tests {
		if got := scale(tt.d, tt.f); got != tt.want {
			t.Errorf("scale(%v, %v) = %v, want %v", tt.d, tt.f, got, tt.want)
		}
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "drive.log")
	if err := os.WriteFile(file, []byte("log\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.log")
	tests := []struct {
		name     string
		path     string
		mention  string // in the error; "" for none
		notExist bool   // the error is fs.ErrNotExist
	}{
		{"file", file, "", false},
		{"missing file", missing, missing, true},
		{"directory", dir, dir + " is a directory", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Open(tt.path)
			if err == nil {
				f.Close()
			}
			if (err != nil) != (tt.mention != "") {
				t.Fatalf("Open = %v", err)
			}
			if err != nil && !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("Open = %q, want it to mention %q", err, tt.mention)
			}
			if errors.Is(err, fs.ErrNotExist) != tt.notExist {
				t.Errorf("Open = %v; fs.ErrNotExist: %v, want %v", err, errors.Is(err, fs.ErrNotExist), tt.notExist)
			}
		})
	}
}
