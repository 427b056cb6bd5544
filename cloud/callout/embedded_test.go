package callout_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/callout"
	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

var quiet = slog.New(slog.DiscardHandler)

// startEmbedded is an embedded hub with Auth: only its own clients and the
// connections an Authorizer admits get in.
func startEmbedded(t *testing.T, ctx context.Context) *natsembed.Server {
	t.Helper()
	hub, err := natsembed.Start(ctx, natsembed.Config{Name: "hub", Domain: "hub", StoreDir: t.TempDir(), LeafListen: "127.0.0.1:0", Auth: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Shutdown(context.Background()) })
	return hub
}

// startReplica is an Authorizer on its own connection to hub, as a
// fleetwire serve replica runs it (sessions in the hub's KV bucket); stop
// stops it and closes its connection.
func startReplica(t *testing.T, ctx context.Context, hub *natsembed.Server, reg *registry, name string) (a *callout.Authorizer, stop func()) {
	t.Helper()
	issuer, err := hub.CalloutIssuer()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := hub.Connect(name)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := callout.KVSessions(ctx, js, time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	a, err = callout.New(callout.Config{NC: nc, Issuer: issuer, Users: reg.lookup, Sessions: sessions, Logger: quiet,
		Disconnect: func(_ context.Context, id string, cid uint64) (bool, error) { return hub.Disconnect(id, cid) }})
	if err != nil {
		t.Fatal(err)
	}
	stopA, err := a.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var once bool
	stop = func() {
		if !once {
			once = true
			stopA()
			nc.Close()
		}
	}
	t.Cleanup(stop)
	return a, stop
}

// startLeaf is a leaf server named name linking to hub with key kp (nil:
// no key).
func startLeaf(t *testing.T, ctx context.Context, hub *natsembed.Server, name string, kp nkeys.KeyPair) *natsembed.Server {
	t.Helper()
	seed := ""
	if kp != nil {
		s, err := kp.Seed()
		if err != nil {
			t.Fatal(err)
		}
		seed = string(s)
	}
	l, err := natsembed.Start(ctx, natsembed.Config{Name: name, Domain: name, StoreDir: t.TempDir(),
		LeafRemotes: []string{hub.LeafURL()}, LeafReconnect: 50 * time.Millisecond, LeafSeed: seed, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Shutdown(context.Background()) })
	return l
}

// vehicle is a new key registered as vehicle id of acme.
func vehicle(t *testing.T, id string) (nkeys.KeyPair, callout.User) {
	t.Helper()
	kp := mustKey(t, nkeys.CreateUser)
	return kp, callout.User{Nkey: pub(t, kp), Kind: callout.KindLeaf, Permissions: identity.VehiclePermissions("hub", "EVENTS", "acme", id)}
}

// TestEmbeddedHub: the embedded hub with Auth sends leaves to the
// Authorizer. A registered key links, unknown and missing keys do not, a
// key registered later is admitted on the leaf's next attempt, and
// revoking one key disconnects that leaf only: the other keeps its link
// (the same connection) throughout.
func TestEmbeddedHub(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hub := startEmbedded(t, ctx)
	reg := &registry{users: map[string]callout.User{}}
	a, _ := startReplica(t, ctx, hub, reg, "fleetwire")

	k1, u1 := vehicle(t, "v1")
	k2, u2 := vehicle(t, "v2")
	reg.set(u1)
	l1 := startLeaf(t, ctx, hub, "v1", k1)
	if err := l1.WaitLeafConnected(ctx); err != nil {
		t.Fatalf("registered key: %v", err)
	}
	l2 := startLeaf(t, ctx, hub, "v2", k2)
	anonymous := startLeaf(t, ctx, hub, "anonymous", nil)
	waitFor(t, ctx, "both refusals counted", func() bool {
		st := a.Stats()
		return st.Refused[callout.ReasonUnregistered] > 0 && st.Refused[callout.ReasonNoKey] > 0
	})
	if l2.LeafConnected() || anonymous.LeafConnected() {
		t.Fatalf("linked without registration: v2 %v, anonymous %v", l2.LeafConnected(), anonymous.LeafConnected())
	}

	reg.set(u2)
	if err := l2.WaitLeafConnected(ctx); err != nil {
		t.Fatalf("after registration: %v", err)
	}
	links := func() map[string]uint64 { // leaf server name → connection ID on the hub
		lz, err := hub.Leafz()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]uint64{}
		for _, l := range lz {
			m[l.Name] = l.ID
		}
		return m
	}
	before := links()
	reg.remove(u2.Nkey)
	if n, err := a.Revoke(ctx, u2.Nkey); err != nil || n != 1 {
		t.Fatalf("Revoke: %d disconnected, %v; want 1", n, err)
	}
	waitFor(t, ctx, "v2's link cut", func() bool { return !l2.LeafConnected() })
	if after := links(); after["v1"] != before["v1"] || after["v1"] == 0 {
		t.Fatalf("v1's link changed when v2 was revoked: %v → %v", before, after)
	}
}

// TestRevokeAcrossReplicas: with KVSessions, a key admitted by one
// Authorizer (a fleetwire serve replica, since stopped) is disconnected
// when another one revokes it.
func TestRevokeAcrossReplicas(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hub := startEmbedded(t, ctx)
	reg := &registry{users: map[string]callout.User{}}
	first, stopFirst := startReplica(t, ctx, hub, reg, "first")
	kp, u := vehicle(t, "v1")
	reg.set(u)
	l := startLeaf(t, ctx, hub, "v1", kp)
	if err := l.WaitLeafConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if first.Stats().Admitted != 1 {
		t.Fatalf("first replica admitted %d, want 1", first.Stats().Admitted)
	}
	stopFirst() // restarted, or gone: its memory is lost

	second, _ := startReplica(t, ctx, hub, reg, "second")
	reg.remove(u.Nkey)
	if n, err := second.Revoke(ctx, u.Nkey); err != nil || n != 1 {
		t.Fatalf("the other replica's Revoke: %d disconnected, %v; want 1", n, err)
	}
	waitFor(t, ctx, "v1's link cut", func() bool { return !l.LeafConnected() })
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
