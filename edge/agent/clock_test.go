package agent

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/shared/event"
)

// TestDeviceClockOffGNSS: the gateway's clock is a day ahead of, or behind,
// GNSS time (no NTP yet, a wrong RTC) while fixes keep coming. Heartbeats,
// stamped by the gateway's clock, must still see the fix as current, and a
// fix that stops must still go stale after PositionMaxAge of silence.
//
// The gateway's clock is a fake only the test moves (the heartbeat ticker
// is still real: it only decides when heartbeats come, not what they
// report), so what each heartbeat must report is exact: fixes come 20 ms
// apart in GNSS time while the clock moves 20 ms per fix, and the silence
// is the clock moving past PositionMaxAge with no fix.
func TestDeviceClockOffGNSS(t *testing.T) {
	for _, off := range []time.Duration{24 * time.Hour, -24 * time.Hour} {
		t.Run(off.String(), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			const (
				maxAge = time.Second
				step   = 20 * time.Millisecond // between fixes, in GNSS and device time alike
				fixes  = 25
			)
			cfg := offlineConfig(t, "unused")
			cfg.GNSS.Replay = "unused: WithSource"
			cfg.HeartbeatEvery = 5 * time.Millisecond
			cfg.State.MaxAge = map[string]time.Duration{"position": maxAge}

			gnssBase := time.Now().UTC().Truncate(time.Millisecond) // GNSS (true) time of the first fix
			devBase := gnssBase.Add(off)                            // the gateway's clock then
			clock := newHeldClock(devBase)
			src := make(feed)
			hb := &heartbeats{changed: make(chan struct{}, 1)}
			stop := runAgent(t, ctx, cfg, WithSource(src), WithClock(clock.now), WithOnStored(hb.record))
			defer stop()
			defer clock.release() // a test failing before the release must not leave the heartbeat blocked

			fix := gnss.Fix{Lat: 48.137, Lon: 11.575, FixQuality: 1, Satellites: 9, HDOP: 0.9, Valid: true}
			send := func(i int) {
				t.Helper()
				fix.Time = gnssBase.Add(time.Duration(i) * step)
				fix.Lat += 0.0001
				select {
				case src <- fix:
				case <-ctx.Done():
					t.Fatalf("fix %d not taken", i)
				}
			}

			// The first fix before any heartbeat: see heldClock.
			send(0)
			clock.releaseOnceFixIn(t, ctx)

			// A fix every 20 ms (GNSS and device time): every heartbeat
			// reports it, and one comes at each step at least.
			for i := range fixes {
				at := devBase.Add(time.Duration(i) * step)
				if i > 0 {
					clock.set(at)
					send(i)
				}
				hb.next(t, ctx, at, true)
			}
			// Silence: half PositionMaxAge after the last fix it is current,
			// twice PositionMaxAge after it, stale.
			last := devBase.Add((fixes - 1) * step)
			clock.set(last.Add(maxAge / 2))
			hb.next(t, ctx, last.Add(maxAge/2), true)
			clock.set(last.Add(2 * maxAge))
			hb.next(t, ctx, last.Add(2*maxAge), false)
		})
	}
}

// heldClock is a gateway clock only the test moves. Until released it
// also holds whoever reads it, so that the first fix is in before any
// heartbeat: every heartbeat the test then checks must report a fix
// (heartbeats before the first fix are TestDeviceClockOffHeartbeatBeforeFirstFix's).
//
// Only the heartbeat and the agent taking a fix read the clock here (no
// replay, no bus), the latter under the agent's lock once the fix is in
// its state. So two readers held at once are the heartbeat and the agent
// with the first fix in: released then, the heartbeat ticks the state
// after the fix, whichever read the clock first.
type heldClock struct {
	nanos atomic.Int64

	mu      sync.Mutex
	held    int           // readers waiting for the release
	arrived chan struct{} // a reader started waiting (capacity 1)
	open    chan struct{} // closed by the release
	once    sync.Once
}

func newHeldClock(at time.Time) *heldClock {
	c := &heldClock{arrived: make(chan struct{}, 1), open: make(chan struct{})}
	c.set(at)
	return c
}

func (c *heldClock) now() time.Time {
	select {
	case <-c.open:
	default:
		c.mu.Lock()
		c.held++
		c.mu.Unlock()
		select {
		case c.arrived <- struct{}{}:
		default:
		}
		<-c.open
	}
	return time.Unix(0, c.nanos.Load())
}

func (c *heldClock) set(at time.Time) { c.nanos.Store(at.UnixNano()) }

func (c *heldClock) release() { c.once.Do(func() { close(c.open) }) }

// releaseOnceFixIn waits until two readers are held, the agent taking the
// first fix and the heartbeat, and releases the clock.
func (c *heldClock) releaseOnceFixIn(t *testing.T, ctx context.Context) {
	t.Helper()
	for {
		c.mu.Lock()
		n := c.held
		c.mu.Unlock()
		if n >= 2 {
			c.release()
			return
		}
		select {
		case <-c.arrived:
		case <-ctx.Done():
			t.Fatalf("the first fix and a heartbeat never both read the clock (%d did)", n)
		}
	}
}

// heartbeats collects the heartbeats the agent stores, in order (a single
// goroutine ticks and stores them).
type heartbeats struct {
	mu      sync.Mutex
	beats   []heartbeat
	seen    int           // beats already checked (by the test goroutine only)
	changed chan struct{} // a beat was recorded (capacity 1)
}

type heartbeat struct {
	at     time.Time // stamped by the gateway's clock
	hasFix bool
}

func (h *heartbeats) record(e *event.Event) {
	if e.Type != event.TypeHeartbeat {
		return
	}
	var d event.HeartbeatData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return
	}
	h.mu.Lock()
	h.beats = append(h.beats, heartbeat{at: e.OccurredAt.Time, hasFix: d.HasFix})
	h.mu.Unlock()
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

// next waits for the first heartbeat stamped at (the clock as the test
// set it) and checks it reports has_fix want; every heartbeat before it,
// stamped earlier while fixes were coming, must have reported the fix.
func (h *heartbeats) next(t *testing.T, ctx context.Context, at time.Time, want bool) {
	t.Helper()
	for {
		h.mu.Lock()
		beats := h.beats[h.seen:]
		h.mu.Unlock()
		for _, b := range beats {
			h.seen++
			switch {
			case b.at.Before(at):
				if !b.hasFix {
					t.Fatalf("heartbeat at %v reported no fix while fixes came every 20 ms", b.at)
				}
			case !b.at.Equal(at):
				t.Fatalf("heartbeat at %v, after the clock's %v", b.at, at)
			case b.hasFix != want:
				t.Fatalf("heartbeat at %v: has_fix %v, want %v", b.at, b.hasFix, want)
			default:
				return
			}
		}
		select {
		case <-h.changed:
		case <-ctx.Done():
			t.Fatalf("no heartbeat stamped %v", at)
		}
	}
}

// TestDeviceClockOffHeartbeatBeforeFirstFix: the gateway's clock is off
// GNSS time and heartbeats come before the receiver has its first fix (a
// cold start): once fixes come, heartbeats report them.
func TestDeviceClockOffHeartbeatBeforeFirstFix(t *testing.T) {
	for _, off := range []time.Duration{24 * time.Hour, -24 * time.Hour} {
		t.Run(off.String(), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cfg := offlineConfig(t, "unused")
			cfg.GNSS.Replay = "unused: WithSource"
			cfg.HeartbeatEvery = 5 * time.Millisecond
			cfg.State.MaxAge = map[string]time.Duration{"position": time.Second}
			gnssBase := time.Now().UTC().Truncate(time.Millisecond)
			devBase := gnssBase.Add(off)
			clock := newHeldClock(devBase)
			clock.release() // not held: heartbeats come before the fix
			src := make(feed)
			hb := &heartbeats{changed: make(chan struct{}, 1)}
			stop := runAgent(t, ctx, cfg, WithSource(src), WithClock(clock.now), WithOnStored(hb.record))
			defer stop()
			// A heartbeat with no fix yet, one clock step later.
			clock.set(devBase.Add(time.Millisecond))
			for {
				hb.mu.Lock()
				n := len(hb.beats)
				var last heartbeat
				if n > 0 {
					last = hb.beats[n-1]
				}
				hb.mu.Unlock()
				if n > 0 && last.at.Equal(devBase.Add(time.Millisecond)) {
					if last.hasFix {
						t.Fatal("has_fix before any fix")
					}
					break
				}
				select {
				case <-hb.changed:
				case <-ctx.Done():
					t.Fatal("no heartbeat before the fix")
				}
			}
			clock.set(devBase.Add(2 * time.Millisecond))
			fix := gnss.Fix{Lat: 48.137, Lon: 11.575, FixQuality: 1, Satellites: 9, HDOP: 0.9, Valid: true, Time: gnssBase.Add(2 * time.Millisecond)}
			select {
			case src <- fix:
			case <-ctx.Done():
				t.Fatal("fix not taken")
			}
			// Heartbeats stamped before the next step may predate the fix;
			// those of the next step come after it.
			target := devBase.Add(3 * time.Millisecond)
			clock.set(target)
			for {
				hb.mu.Lock()
				beats := append([]heartbeat(nil), hb.beats...)
				hb.mu.Unlock()
				for _, b := range beats {
					if b.at.Equal(target) {
						if !b.hasFix {
							t.Fatalf("heartbeat at %v, after the fix: has_fix false", b.at)
						}
						return
					}
				}
				select {
				case <-hb.changed:
				case <-ctx.Done():
					t.Fatal("no heartbeat after the fix")
				}
			}
		})
	}
}
