package natsembed_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/nats-io/nkeys"
)

func seedOf(t *testing.T, kp nkeys.KeyPair) string {
	t.Helper()
	s, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	return string(s)
}

func newKey(t *testing.T) nkeys.KeyPair {
	t.Helper()
	kp, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// TestAuthAdmitsRegisteredLeavesOnly: with Auth on, a leaf with a
// registered key links up, one with an unknown key or none does not; a key
// added later is admitted without a restart and a removed one is cut off.
// The hub's own in-process clients keep working throughout.
func TestAuthAdmitsRegisteredLeavesOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	known, later := newKey(t), newKey(t)
	hub, err := natsembed.Start(ctx, natsembed.Config{Name: "hub", Domain: "hub", StoreDir: t.TempDir(), LeafListen: "127.0.0.1:0",
		Auth: &natsembed.Auth{Users: []natsembed.User{{Nkey: identity.PublicKey(known), Kind: natsembed.KindLeaf,
			Permissions: identity.Permissions{Publish: []string{"ok.>"}, Subscribe: []string{"back.>"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Shutdown(ctx)
	nc, err := hub.Connect("service")
	if err != nil {
		t.Fatalf("the hub's own client: %v", err)
	}
	defer nc.Close()

	leaf := func(name, seed string) *natsembed.Server {
		t.Helper()
		l, err := natsembed.Start(ctx, natsembed.Config{Name: name, Domain: name, StoreDir: t.TempDir(),
			LeafRemotes: []string{hub.LeafURL()}, LeafReconnect: 50 * time.Millisecond, LeafSeed: seed})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Shutdown(context.Background()) })
		return l
	}
	good := leaf("good", seedOf(t, known))
	if err := good.WaitLeafConnected(ctx); err != nil {
		t.Fatalf("registered key: %v", err)
	}
	stranger := leaf("stranger", seedOf(t, later))
	anonymous := leaf("anonymous", "")
	// Both keep retrying; neither is ever admitted while the good one is.
	short, scancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer scancel()
	if err := stranger.WaitLeafConnected(short); err == nil {
		t.Fatal("a leaf with an unregistered key linked up")
	}
	if anonymous.LeafConnected() {
		t.Fatal("a leaf without a key linked up")
	}

	// Registering the second key admits it without a restart.
	users := []natsembed.User{
		{Nkey: identity.PublicKey(known), Kind: natsembed.KindLeaf},
		{Nkey: identity.PublicKey(later), Kind: natsembed.KindLeaf},
	}
	if err := hub.SetUsers(users); err != nil {
		t.Fatal(err)
	}
	if err := stranger.WaitLeafConnected(ctx); err != nil {
		t.Fatalf("after registration: %v", err)
	}
	// Revoking the first cuts its link.
	if err := hub.SetUsers(users[1:]); err != nil {
		t.Fatal(err)
	}
	for good.LeafConnected() {
		select {
		case <-ctx.Done():
			t.Fatal("a revoked key's leaf stayed linked")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if !nc.IsConnected() {
		t.Fatal("the hub's own client lost its connection in a reload")
	}

	if err := hub.SetUsers([]natsembed.User{{Nkey: "nope"}}); err == nil {
		t.Fatal("SetUsers accepted a malformed key")
	}
	open, err := natsembed.Start(ctx, natsembed.Config{Name: "open", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Shutdown(ctx)
	if err := open.SetUsers(nil); !errors.Is(err, natsembed.ErrNoAuth) {
		t.Fatalf("SetUsers without Auth: %v, want ErrNoAuth", err)
	}
}
