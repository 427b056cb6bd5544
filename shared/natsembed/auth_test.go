package natsembed_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// TestAuthAdmitsOnlyItsOwnClients: with Auth on and no callout responder,
// the server's in-process clients connect and no one else does; its callout
// issuer is an account key. Admitting others is cloud/callout's job (tested
// there against this server).
func TestAuthAdmitsOnlyItsOwnClients(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hub, err := natsembed.Start(ctx, natsembed.Config{Name: "hub", Domain: "hub", StoreDir: t.TempDir(), ClientListen: "127.0.0.1:0", Auth: true})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Shutdown(ctx)
	nc, err := hub.Connect("service")
	if err != nil {
		t.Fatalf("the hub's own client: %v", err)
	}
	defer nc.Close()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	if c, err := nats.Connect(hub.ClientURL(), nats.Nkey(pub, kp.Sign), nats.MaxReconnects(0)); err == nil {
		c.Close()
		t.Fatal("a key no callout admitted connected")
	}
	issuer, err := hub.CalloutIssuer()
	if err != nil {
		t.Fatal(err)
	}
	if ipub, _ := issuer.PublicKey(); !nkeys.IsValidPublicAccountKey(ipub) {
		t.Fatalf("callout issuer %q is not an account key", ipub)
	}
	if _, err := hub.Disconnect("NOT-THIS-SERVER", 1); err == nil {
		t.Fatal("Disconnect accepted another server's ID")
	}

	open, err := natsembed.Start(ctx, natsembed.Config{Name: "open", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Shutdown(ctx)
	if _, err := open.CalloutIssuer(); !errors.Is(err, natsembed.ErrNoAuth) {
		t.Fatalf("CalloutIssuer without Auth: %v, want ErrNoAuth", err)
	}
}
