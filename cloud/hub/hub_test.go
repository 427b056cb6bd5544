package hub_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/shared/natsembed"
)

// TestEventsStreamIdempotent: opening the hub again on the same store keeps
// the events and applies a changed retention.
func TestEventsStreamIdempotent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dir := t.TempDir()
	h, err := hub.Open(ctx, hub.Config{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.JS.Publish(ctx, "fleet.events.acme.v1.position", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	h.Close(ctx)
	h, err = hub.Open(ctx, hub.Config{StoreDir: dir, Events: hub.StreamConfig{MaxAge: 48 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	info, err := h.Events.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 || info.Config.MaxAge != 48*time.Hour {
		t.Fatalf("after reopen: %d messages, max age %s; want 1 and 48h", info.State.Msgs, info.Config.MaxAge)
	}
}

// TestExternalCluster: with a URL, the hub connects to an existing server
// instead of embedding one, and sets up the same stream there.
func TestExternalCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv, err := natsembed.Start(ctx, natsembed.Config{Name: "external", StoreDir: t.TempDir(), ClientListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(ctx)
	h, err := hub.Open(ctx, hub.Config{URL: srv.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	if h.Server != nil || h.LeafURL() != "" {
		t.Fatal("an embedded server was started although a URL was given")
	}
	if _, err := h.Events.Info(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestUnreachableCluster fails at once with ErrUnreachable naming the URL.
func TestUnreachableCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := hub.Open(ctx, hub.Config{URL: "nats://127.0.0.1:1"})
	if !errors.Is(err, hub.ErrUnreachable) {
		t.Fatalf("error %v, want ErrUnreachable", err)
	}
}
