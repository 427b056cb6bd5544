package fences_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/fences"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/fleetwire/fleetwire/shared/tcpproxy"
	"github.com/nats-io/nats.go/jetstream"
)

// square is a GeoJSON Feature: a 0.02° square around lat, lon.
func square(id string, lat, lon float64) []byte {
	ring := func(dLat, dLon float64) string {
		return "[" + ftoa(lon+dLon) + "," + ftoa(lat+dLat) + "]"
	}
	return []byte(`{"type":"Feature","properties":{"id":"` + id + `","name":"` + id + `","tags":["depot"]},` +
		`"geometry":{"type":"Polygon","coordinates":[[` + ring(-0.01, -0.01) + "," + ring(-0.01, 0.01) + "," +
		ring(0.01, 0.01) + "," + ring(0.01, -0.01) + "," + ring(-0.01, -0.01) + `]]}}`)
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }

// kvStore writes fences to the hub bucket the way the cloud does.
type kvStore struct{ kv jetstream.KeyValue }

func (s kvStore) Put(ctx context.Context, account, id string, feature []byte) error {
	_, err := s.kv.Put(ctx, account+"."+id, feature)
	return err
}

func (s kvStore) Delete(ctx context.Context, account, id string) error {
	return s.kv.Delete(ctx, account+"."+id)
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func inside(s *fences.Sync, lat, lon float64) []string {
	var ids []string
	for _, f := range s.Index().Lookup(lat, lon, nil) {
		ids = append(ids, f.ID)
	}
	return ids
}

// TestMirrorFollowsHubAndWorksOffline: fences put on the hub reach the
// vehicle's index; a restart of the vehicle without the hub still has them;
// only the vehicle's own account is mirrored.
func TestMirrorFollowsHubAndWorksOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// The hub as vehicles expect it: domain "hub" with a FENCES bucket keyed
	// <account>.<fence> (the cloud's fencestore writes it so).
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
	kv, err := hjs.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: fences.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	store := kvStore{kv}
	if err := store.Put(ctx, "acme", "depot", square("depot", 49.0, 12.1)); err != nil {
		t.Fatal(err)
	}
	if err := store.Put(ctx, "other", "secret", square("secret", 49.0, 12.1)); err != nil {
		t.Fatal(err)
	}
	proxy, err := tcpproxy.Start(hubSrv.LeafURL()[len("nats-leaf://"):])
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	dir := t.TempDir()
	start := func() (*natsembed.Server, *fences.Sync, context.CancelFunc) {
		leaf, err := natsembed.Start(ctx, natsembed.Config{Name: "v1", Domain: "v1", StoreDir: dir, LeafRemotes: []string{"nats-leaf://" + proxy.Addr()}, LeafReconnect: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		nc, err := leaf.Connect("fences")
		if err != nil {
			t.Fatal(err)
		}
		s, err := fences.Open(ctx, nc, fences.Config{Account: "acme", Vehicle: "v1"})
		if err != nil {
			t.Fatal(err)
		}
		rctx, stop := context.WithCancel(ctx)
		go s.Run(rctx)
		return leaf, s, func() { stop(); nc.Close(); leaf.Shutdown(ctx) }
	}
	_, s, stop := start()
	waitFor(t, ctx, "the depot fence on the vehicle", func() bool { return len(inside(s, 49.0, 12.1)) == 1 })
	if got := inside(s, 49.0, 12.1); got[0] != "depot" {
		t.Fatalf("inside %v, want only acme's depot", got)
	}
	// A new fence arrives while running.
	if err := store.Put(ctx, "acme", "customer", square("customer", 49.5, 12.5)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the customer fence", func() bool { return len(inside(s, 49.5, 12.5)) == 1 })
	stop()

	// Offline restart: the local copy serves the index at once.
	proxy.Cut()
	_, s, stop = start()
	defer stop()
	if got := inside(s, 49.5, 12.5); len(got) != 1 || got[0] != "customer" {
		t.Fatalf("offline restart: inside %v, want [customer]", got)
	}
	// A deletion on the hub reaches the vehicle once the link is back.
	if err := store.Delete(ctx, "acme", "depot"); err != nil {
		t.Fatal(err)
	}
	proxy.Restore()
	waitFor(t, ctx, "the depot deletion", func() bool { return len(inside(s, 49.0, 12.1)) == 0 })
}
