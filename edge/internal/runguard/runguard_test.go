package runguard

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

var errRunning = errors.New("source is already running")

func TestGuard(t *testing.T) {
	var g Guard
	tests := []struct {
		op      string // "start" or "stop"
		wantErr bool   // of a start
	}{
		{"start", false},
		{"start", true},
		{"start", true},
		{"stop", false},
		{"start", false},
		{"stop", false},
		{"start", false},
	}
	for i, tt := range tests {
		if tt.op == "stop" {
			g.Stop()
			continue
		}
		err := g.Start(errRunning, "can0")
		switch {
		case !tt.wantErr && err != nil:
			t.Errorf("step %d: Start = %v", i, err)
		case tt.wantErr && (!errors.Is(err, errRunning) || !strings.Contains(err.Error(), "can0")):
			t.Errorf("step %d: Start = %v, want errRunning naming the source", i, err)
		}
	}
}

// TestGuardConcurrent starts many runs at once: exactly one of them must
// be admitted.
func TestGuardConcurrent(t *testing.T) {
	var g Guard
	for round := range 100 {
		var (
			wg      sync.WaitGroup
			started atomic.Int32
		)
		for range 8 {
			wg.Go(func() {
				if g.Start(errRunning, "x") == nil {
					started.Add(1)
				}
			})
		}
		wg.Wait()
		if n := started.Load(); n != 1 {
			t.Fatalf("round %d: %d runs started, want 1", round, n)
		}
		g.Stop()
	}
}

func TestGuardDoesNotAllocate(t *testing.T) {
	var g Guard
	allocs := testing.AllocsPerRun(100, func() {
		if err := g.Start(errRunning, "x"); err != nil {
			t.Fatal(err)
		}
		g.Stop()
	})
	if allocs != 0 {
		t.Errorf("a run allocates %v times", allocs)
	}
}
