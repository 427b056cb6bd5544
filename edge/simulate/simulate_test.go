package simulate_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/simulate"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/nats-io/nats.go/jetstream"
)

// startHub starts a hub as the vehicles expect it: JetStream domain "hub",
// an EVENTS stream on fleet.events.>, and a leaf-node listener. (The cloud's
// hub package is not imported: edge and cloud only share shared/.)
func startHub(t *testing.T, ctx context.Context) *natsembed.Server {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	srv, err := natsembed.Start(ctx, natsembed.Config{Name: "hub", Domain: "hub", StoreDir: t.TempDir(), LeafListen: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := srv.Connect("test-hub")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close(); srv.Shutdown(context.Background()) })
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{event.SubjectRoot + ".>"},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute, AllowDirect: true}); err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestFleetSmall runs 50 simulated vehicles on two shared leaf nodes
// against an embedded hub for a few seconds and checks, by reading the hub's
// EVENTS stream, that every vehicle's events arrived once each, gap-free and
// in order, and that nothing recorded is missing.
func TestFleetSmall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	hub := startHub(t, ctx)

	cfg := simulate.Default()
	cfg.Hub.URL = hub.LeafURL()
	cfg.Vehicles, cfg.PerLeaf = 50, 25
	cfg.Drive = "../../testdata/nmea/genivi/20100411_Geko_Regensburg.txt"
	cfg.Speed = 20 // a position every 10 s of device time: two per second and vehicle
	cfg.Duration, cfg.Drain = 3*time.Second, 15*time.Second
	cfg.HeartbeatEvery = time.Hour // none: the check compares every vehicle's last seq
	cfg.Store.Dir = t.TempDir()
	cfg.Verify = true
	cfg.ProgressEvery = 0
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	rep, err := simulate.Run(ctx, cfg, simulate.Hooks{}, log)
	if err != nil {
		t.Fatalf("run: %v (report %+v)", err, rep)
	}
	if rep.Leaves != 2 || !rep.Drained || rep.Verified == nil || !rep.Verified.OK() {
		t.Fatalf("report %+v, verification %+v", rep, rep.Verified)
	}
	// The hub may also hold an event recorded after the drive (a trip
	// closing as the fleet stops), read back by the check.
	if rep.Verified.Vehicles != 50 || uint64(rep.Verified.Events) < rep.Recorded || rep.OnHub != rep.Recorded {
		t.Fatalf("hub has %d vehicles and %d events; recorded %d, on hub %d", rep.Verified.Vehicles, rep.Verified.Events, rep.Recorded, rep.OnHub)
	}
	for id, last := range rep.LastSeq {
		if last < 4 { // a first position and at least three more in 3 s
			t.Errorf("%s recorded only %d events", id, last)
		}
	}
	t.Logf("%d vehicles on %d leaves: setup %s, %d fixes, %d events in %s (%.0f events/s onto the hub while driving), drained in %s, hub read in %s",
		rep.Vehicles, rep.Leaves, rep.Setup.Round(time.Millisecond), rep.Fixes, rep.Recorded, rep.Drive.Round(time.Millisecond),
		rep.IngestRate(), rep.Drain.Round(time.Millisecond), rep.Verified.Took.Round(time.Millisecond))
}
