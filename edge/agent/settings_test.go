package agent

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/edge/settings"
	"github.com/fleetwire/fleetwire/shared/detectconfig"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/tcpproxy"
	"github.com/nats-io/nats.go/jetstream"
)

// gatedReplay replays an NMEA log once gate is closed, and closes done
// when the log has been played (every fix's events stored).
type gatedReplay struct {
	src  gnss.Source
	gate chan struct{}
	done chan struct{}
}

func (g *gatedReplay) Run(ctx context.Context, emit func(gnss.Fix) error) error {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil
	}
	if err := g.src.Run(ctx, emit); err != nil {
		return err
	}
	close(g.done)
	<-ctx.Done()
	return nil
}

// drive is one run of the agent over the Munich drive (62 km/h at most).
type drive struct {
	replay     *gatedReplay
	thresholds chan settings.Thresholds
	mu         sync.Mutex
	speeding   []event.SpeedingStartedData
	stop       func()
}

func startDrive(t *testing.T, ctx context.Context, cfg Config) *drive {
	t.Helper()
	src, err := gnss.NewReplay(cfg.GNSS.Replay, gnss.ReplayOptions{Rebase: true})
	if err != nil {
		t.Fatal(err)
	}
	d := &drive{
		replay:     &gatedReplay{src: src, gate: make(chan struct{}), done: make(chan struct{})},
		thresholds: make(chan settings.Thresholds, 16),
	}
	d.stop = runAgent(t, ctx, cfg, WithSource(d.replay),
		WithOnThresholds(func(th settings.Thresholds) { d.thresholds <- th }),
		WithOnStored(func(e *event.Event) {
			if e.Type != event.TypeSpeedingStarted {
				return
			}
			var data event.SpeedingStartedData
			if err := json.Unmarshal(e.Data, &data); err != nil {
				t.Errorf("speeding.started data: %v", err)
			}
			d.mu.Lock()
			d.speeding = append(d.speeding, data)
			d.mu.Unlock()
		}))
	return d
}

// waitThresholds waits until the agent has applied thresholds that cond
// accepts.
func (d *drive) waitThresholds(t *testing.T, ctx context.Context, what string, cond func(settings.Thresholds) bool) settings.Thresholds {
	t.Helper()
	for {
		select {
		case th := <-d.thresholds:
			if cond(th) {
				return th
			}
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// play replays the drive and returns the speeding episodes it started.
func (d *drive) play(t *testing.T, ctx context.Context) []event.SpeedingStartedData {
	t.Helper()
	close(d.replay.gate)
	select {
	case <-d.replay.done:
	case <-ctx.Done():
		t.Fatal("timed out replaying the drive")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]event.SpeedingStartedData(nil), d.speeding...)
}

// TestThresholdsFromHub: a vehicle picks up its account's and its own
// speeding threshold from the hub, and the replayed drive's speeding events
// follow them; restarted with the hub unreachable, it keeps them; a
// document it cannot use is ignored.
func TestThresholdsFromHub(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	hubSrv, hjs := startHub(t, ctx)
	kv, err := hjs.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: detectconfig.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	put := func(key, doc string) {
		t.Helper()
		if _, err := kv.Put(ctx, key, []byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
	proxy, err := tcpproxy.Start(hubSrv.LeafURL()[len("nats-leaf://"):])
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()

	cfg := Default()
	cfg.Vehicle = VehicleConfig{Account: "acme", ID: "munich-1"}
	cfg.Hub.URL = "nats-leaf://" + proxy.Addr()
	cfg.Store.Dir = t.TempDir()
	cfg.GNSS.Replay = filepath.Join("..", "..", "testdata", "nmea", "genivi", "munich-gps.nmea")
	cfg.GNSS.Speed = 0
	cfg.HeartbeatEvery = time.Hour

	// The local default (130 km/h) never fires on this drive.
	d := startDrive(t, ctx, cfg)
	d.waitThresholds(t, ctx, "the local thresholds", func(th settings.Thresholds) bool { return th.Source == "local" })
	if got := d.play(t, ctx); len(got) != 0 {
		t.Fatalf("local 130 km/h: %d speeding episodes, want none", len(got))
	}

	// Documents arrive while the agent runs, before the drive.
	put(detectconfig.AccountKey("acme"), "speeding:\n  threshold_kph: 40\n  min_duration: 3s\n")
	put(detectconfig.VehicleKey("acme", "other"), "speeding:\n  threshold_kph: 10\n")
	th := d.waitThresholds(t, ctx, "the account's threshold", func(th settings.Thresholds) bool {
		return th.Source == "local+account"
	})
	if th.Detect.Speeding.ThresholdKph != 40 {
		t.Fatalf("account thresholds %+v", th.Detect.Speeding)
	}
	put(detectconfig.VehicleKey("acme", "munich-1"), "speeding:\n  threshold_kph: 50\n")
	d.waitThresholds(t, ctx, "the vehicle's threshold", func(th settings.Thresholds) bool {
		return th.Source == "local+account+vehicle" && th.Detect.Speeding.ThresholdKph == 50
	})
	// A bad vehicle document, then an account update as the barrier.
	put(detectconfig.VehicleKey("acme", "munich-1"), "speeding:\n  threshold_kph: fast\n")
	put(detectconfig.AccountKey("acme"), "speeding:\n  threshold_kph: 40\n  min_duration: 4s\n")
	th = d.waitThresholds(t, ctx, "the account's update", func(th settings.Thresholds) bool {
		return th.Detect.Speeding.MinDuration == 4*time.Second
	})
	if th.Source != "local+account+vehicle" || th.Detect.Speeding.ThresholdKph != 50 {
		t.Fatalf("after a bad document: %s, %+v; want the vehicle's 50 km/h kept", th.Source, th.Detect.Speeding)
	}
	d.stop()

	// Restarted with the hub unreachable: the local copy has the
	// overrides before the first fix.
	proxy.Cut()
	d = startDrive(t, ctx, cfg)
	th = d.waitThresholds(t, ctx, "the thresholds at start", func(settings.Thresholds) bool { return true })
	if th.Source != "local+account+vehicle" || th.Detect.Speeding.ThresholdKph != 50 || th.Detect.Speeding.MinDuration != 4*time.Second {
		t.Fatalf("offline restart: %s, %+v; want 50 km/h for 4s", th.Source, th.Detect.Speeding)
	}
	got := d.play(t, ctx)
	if len(got) == 0 {
		t.Fatal("the 50 km/h threshold found no speeding on a drive reaching 62 km/h")
	}
	for _, s := range got {
		if s.ThresholdKph != 50 || s.SpeedKph < 50 {
			t.Errorf("speeding.started %+v, want at or above the vehicle's 50 km/h", s)
		}
	}
	t.Logf("offline restart: %d speeding episodes over 50 km/h", len(got))
	d.stop()
}
