package agent

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/shared/event"
)

// TestDeviceClockOffGNSS: the gateway's clock is a day ahead of, or behind,
// GNSS time (no NTP yet, a wrong RTC) while fixes keep coming. Heartbeats,
// stamped by the gateway's clock, must still see the fix as current, and a
// fix that stops must still go stale after PositionMaxAge of silence.
func TestDeviceClockOffGNSS(t *testing.T) {
	for _, off := range []time.Duration{24 * time.Hour, -24 * time.Hour} {
		t.Run(off.String(), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cfg := offlineConfig(t, "unused")
			cfg.GNSS.Replay = "unused: WithSource"
			cfg.HeartbeatEvery = 5 * time.Millisecond
			cfg.State.MaxAge = map[string]time.Duration{"position": time.Second} // far above the 20 ms between fixes, even on a loaded CI machine
			src := make(feed)
			beats := make(chan bool, 1024) // has_fix of each heartbeat, in order
			stop := runAgent(t, ctx, cfg, WithSource(src), WithClock(func() time.Time { return time.Now().Add(off) }),
				WithOnStored(func(e *event.Event) {
					if e.Type != event.TypeHeartbeat {
						return
					}
					var d event.HeartbeatData
					if err := json.Unmarshal(e.Data, &d); err == nil {
						select {
						case beats <- d.HasFix:
						default:
						}
					}
				}))
			defer stop()
			next := func(want bool, what string) {
				t.Helper()
				for {
					select {
					case got := <-beats:
						if got == want {
							return
						}
					case <-ctx.Done():
						t.Fatalf("no heartbeat with has_fix %v %s", want, what)
					}
				}
			}
			// Fixes every 20 ms with GNSS (true) time, for half a second:
			// every heartbeat in between must report the fix.
			fix := gnss.Fix{Lat: 48.137, Lon: 11.575, FixQuality: 1, Satellites: 9, HDOP: 0.9, Valid: true}
			for i := range 25 {
				fix.Time = time.Now().UTC()
				fix.Lat += 0.0001
				select {
				case src <- fix:
				case <-ctx.Done():
					t.Fatal("fix not taken")
				}
				if i == 0 {
					next(true, "after the first fix")
					for len(beats) > 0 { // earlier beats may predate it
						<-beats
					}
					continue
				}
				deadline := time.After(20 * time.Millisecond)
			drain:
				for {
					select {
					case got := <-beats:
						if !got {
							t.Fatalf("fix %d: a heartbeat reported no fix while fixes arrive every 20 ms", i)
						}
					case <-deadline:
						break drain
					}
				}
			}
			// Silence: the fix goes stale after PositionMaxAge.
			next(false, "after the fixes stopped")
		})
	}
}
