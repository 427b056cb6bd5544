package agent

import (
	"context"
	"testing"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/nats-io/nats.go/jetstream"
)

// startHub starts a hub as the vehicle expects it (domain "hub", a leaf
// listener and the EVENTS stream; the cloud creates these so, and the edge
// does not import cloud packages), shut down when the test ends.
func startHub(t *testing.T, ctx context.Context) (*natsembed.Server, jetstream.JetStream) {
	t.Helper()
	srv, err := natsembed.Start(ctx, natsembed.Config{Name: "hub", Domain: "hub", StoreDir: t.TempDir(), LeafListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	nc, err := srv.Connect("hub-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// AllowDirect as cloud/hub has it: the forwarder's last-event lookups
	// use direct gets. (Without it, the STREAM.MSG.GET requests of an
	// agent's leaf node were seen going unanswered for a whole test.)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{event.SubjectRoot + ".>"}, AllowDirect: true}); err != nil {
		t.Fatal(err)
	}
	return srv, js
}
