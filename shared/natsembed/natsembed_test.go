package natsembed_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestLeafReachesHubJetStream starts a hub and a leaf as fleetwire does and
// checks that a client of the leaf reaches both JetStream domains.
func TestLeafReachesHubJetStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hub, err := natsembed.Start(ctx, natsembed.Config{Name: "hub", Domain: "hub", StoreDir: t.TempDir(), LeafListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Shutdown(ctx)
	if hub.LeafURL() == "nats-leaf://127.0.0.1:0" || hub.LeafURL() == "" {
		t.Fatalf("leaf URL not resolved: %q", hub.LeafURL())
	}
	leaf, err := natsembed.Start(ctx, natsembed.Config{Name: "v1", Domain: "v1", StoreDir: t.TempDir(), LeafRemotes: []string{hub.LeafURL()}, LeafReconnect: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer leaf.Shutdown(ctx)
	if err := leaf.WaitLeafConnected(ctx); err != nil {
		t.Fatal(err)
	}
	nc, err := leaf.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	hjs, err := jetstream.NewWithDomain(nc, "hub")
	if err != nil {
		t.Fatal(err)
	}
	// The hub's subscriptions cross the link just after it comes up, and
	// until then a request may find no responder, or a server answering
	// 503 for a JetStream it cannot reach yet (as the edge outbox, which
	// retries both, sees it).
	for {
		_, err := hjs.AccountInfo(ctx)
		if err == nil {
			break
		}
		var apiErr *jetstream.APIError
		notYet := errors.Is(err, nats.ErrNoResponders) || errors.As(err, &apiErr) && apiErr.Code == 503
		if !notYet || ctx.Err() != nil {
			t.Fatalf("hub JetStream through the leaf: %v", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	if _, err := hjs.CreateStream(ctx, jetstream.StreamConfig{Name: "X", Subjects: []string{"x.>"}}); err != nil {
		t.Fatal(err)
	}
	ack, err := hjs.Publish(ctx, "x.1", []byte("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if ack.Domain != "hub" {
		t.Fatalf("stored in domain %q, want hub", ack.Domain)
	}
	ljs, _ := jetstream.New(nc)
	info, err := ljs.AccountInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Domain != "v1" {
		t.Fatalf("local domain %q, want v1", info.Domain)
	}
}
