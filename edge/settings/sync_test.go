package settings_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/settings"
	"github.com/fleetwire/fleetwire/shared/detectconfig"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/fleetwire/fleetwire/shared/tcpproxy"
	"github.com/nats-io/nats.go/jetstream"
)

// syncLog collects log output for assertions; safe for concurrent use.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor waits until the log contains want, or fails at ctx's deadline.
func (l *syncLog) waitFor(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(l.String(), want) {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %q in the log:\n%s", want, l.String())
		case <-tick.C:
		}
	}
}

// vehicle is one run of a Sync on the vehicle's leaf node.
type vehicle struct {
	sync    *settings.Sync
	changes chan settings.Thresholds
	local   jetstream.KeyValue // the local mirror, to inspect
	stop    func()
}

// waitFor returns the thresholds once cond holds, waiting on the changes
// Sync reports until ctx ends.
func (v *vehicle) waitFor(t *testing.T, ctx context.Context, what string, cond func(settings.Thresholds) bool) settings.Thresholds {
	t.Helper()
	if cur := v.sync.Current(); cond(cur) {
		return cur
	}
	for {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s; thresholds from %s, speeding %+v", what, v.sync.Current().Source, v.sync.Current().Detect.Speeding)
		case th := <-v.changes:
			if cond(th) {
				return th
			}
		}
	}
}

func threshold(kph float64, source string) func(settings.Thresholds) bool {
	return func(th settings.Thresholds) bool {
		return th.Detect.Speeding.ThresholdKph == kph && th.Source == source
	}
}

// TestMirrorLayersAndWorksOffline: the account's and the vehicle's own
// documents reach the vehicle and layer over its local configuration;
// other vehicles' and accounts' documents are not mirrored; a document the
// vehicle cannot use is ignored, the previous thresholds staying; a restart
// without the hub has the last usable documents at once.
func TestMirrorLayersAndWorksOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	// The hub as vehicles expect it: domain "hub" with a SETTINGS bucket
	// (the cloud's settingsstore writes it so, validating first; here
	// documents are written raw, so that a bad one can reach the vehicle).
	hubSrv, err := natsembed.Start(ctx, natsembed.Config{Name: "hub", Domain: "hub", StoreDir: t.TempDir(), LeafListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer hubSrv.Shutdown(ctx)
	hnc, err := hubSrv.Connect("hub-test")
	if err != nil {
		t.Fatal(err)
	}
	defer hnc.Close()
	hjs, err := jetstream.New(hnc)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := hjs.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: detectconfig.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	put := func(key, doc string) {
		t.Helper()
		if _, err := hub.Put(ctx, key, []byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
	acme, v1 := detectconfig.AccountKey("acme"), detectconfig.VehicleKey("acme", "v1")
	put(acme, "speeding:\n  threshold_kph: 90\n  min_duration: 5s\n")
	put(v1, "speeding:\n  threshold_kph: 80\n")
	put(detectconfig.VehicleKey("acme", "v2"), "speeding: {threshold_kph: 20}\n")
	put(detectconfig.AccountKey("other"), "speeding: {threshold_kph: 10}\n")

	proxy, err := tcpproxy.Start(hubSrv.LeafURL()[len("nats-leaf://"):])
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	dir := t.TempDir()
	base := detectconfig.Default()
	base.Idle.After = 7 * time.Minute // a local setting no document touches
	logs := &syncLog{}
	start := func() *vehicle {
		t.Helper()
		leaf, err := natsembed.Start(ctx, natsembed.Config{Name: "v1", Domain: "v1", StoreDir: dir, LeafRemotes: []string{"nats-leaf://" + proxy.Addr()}, LeafReconnect: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		nc, err := leaf.Connect("settings")
		if err != nil {
			t.Fatal(err)
		}
		v := &vehicle{changes: make(chan settings.Thresholds, 64)}
		v.sync, err = settings.Open(ctx, nc, settings.Config{
			Account: "acme", Vehicle: "v1", Base: base,
			OnChange: func(th settings.Thresholds) { v.changes <- th },
			Logger:   slog.New(slog.NewTextHandler(logs, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		if v.local, err = js.KeyValue(ctx, settings.Bucket); err != nil {
			t.Fatal(err)
		}
		rctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- v.sync.Run(rctx) }()
		v.stop = func() {
			stop()
			if err := <-done; err != context.Canceled {
				t.Errorf("Run ended with %v", err)
			}
			nc.Close()
			leaf.Shutdown(ctx)
		}
		return v
	}

	v := start()
	th := v.waitFor(t, ctx, "the account's and the vehicle's documents", threshold(80, "local+account+vehicle"))
	if th.Detect.Speeding.MinDuration != 5*time.Second || th.Detect.Idle.After != 7*time.Minute || th.Detect.Motion != base.Motion {
		t.Fatalf("layers: speeding %+v idle %+v, want min_duration from the account, idle from the local config", th.Detect.Speeding, th.Detect.Idle)
	}
	keys, err := v.local.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mirrored []string
	for k := range keys.Keys() {
		mirrored = append(mirrored, k)
	}
	slices.Sort(mirrored)
	if !slices.Equal(mirrored, []string{acme, v1}) {
		t.Fatalf("mirrored %v, want only %s and %s", mirrored, acme, v1)
	}

	// Documents the vehicle cannot use are ignored, the vehicle's 80 km/h
	// staying. Each key has its own source, so the refusal is awaited in
	// the log, then an account update shows the thresholds kept.
	bad := []struct{ name, doc, logged string }{
		{"bad value", "speeding:\n  threshold_kph: -1\n", "speeding.threshold_kph = -1"},
		{"unknown key", "speeding:\n  treshold_kph: 50\n", "speeding.treshold_kph"},
		{"not YAML", "speeding: [\n", "did not find expected node"},
		{"not over the account's", "speeding:\n  hysteresis_kph: 100\n", "speeding.hysteresis_kph = 100"},
	}
	for i, c := range bad {
		put(v1, c.doc)
		logs.waitFor(t, ctx, c.logged)
		minDuration := time.Duration(i+6) * time.Second
		put(acme, "speeding:\n  threshold_kph: 95\n  min_duration: "+minDuration.String()+"\n")
		v.waitFor(t, ctx, "the account's update after the "+c.name, func(th settings.Thresholds) bool {
			return th.Detect.Speeding.MinDuration == minDuration
		})
		th := v.sync.Current()
		if th.Source != "local+account+vehicle" || th.Detect.Speeding.ThresholdKph != 80 {
			t.Fatalf("after the %s: thresholds from %s, speeding %+v; want the vehicle's 80 km/h", c.name, th.Source, th.Detect.Speeding)
		}
		for _, want := range []string{"previous thresholds stay", "vehicle acme/v1"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("after the %s, the log lacks %q:\n%s", c.name, want, logs.String())
			}
		}
	}

	// Deleting the vehicle's document falls back to the account's.
	if err := hub.Delete(ctx, v1); err != nil {
		t.Fatal(err)
	}
	v.waitFor(t, ctx, "the vehicle document's deletion", threshold(95, "local+account"))
	// A good vehicle document again, then a bad one as the newest.
	put(v1, "speeding:\n  threshold_kph: 70\n")
	v.waitFor(t, ctx, "the vehicle's new document", threshold(70, "local+account+vehicle"))
	put(v1, "speeding:\n  hysteresis_kph: 200\n")
	put(acme, "speeding:\n  threshold_kph: 97\n")
	v.waitFor(t, ctx, "the account's last update", func(th settings.Thresholds) bool {
		return th.Source == "local+account+vehicle" && th.Detect.Speeding.ThresholdKph == 70 && th.Detect.Speeding.MinDuration == base.Speeding.MinDuration
	})
	v.stop()

	// Offline restart: the local copy serves the last usable documents at
	// once, skipping the bad newest vehicle document.
	proxy.Cut()
	v = start()
	defer v.stop()
	if th := v.sync.Current(); !threshold(70, "local+account+vehicle")(th) || th.Detect.Idle.After != 7*time.Minute {
		t.Fatalf("offline restart: thresholds from %s, speeding %+v; want 70 km/h from the vehicle's last usable document", th.Source, th.Detect.Speeding)
	}
	// Back online, a deletion of the account's document reaches the vehicle.
	if err := hub.Delete(ctx, acme); err != nil {
		t.Fatal(err)
	}
	proxy.Restore()
	v.waitFor(t, ctx, "the account document's deletion", threshold(70, "local+vehicle"))
}
