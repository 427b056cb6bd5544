package ingest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/cloud/identities"
	"github.com/fleetwire/fleetwire/cloud/ingest"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// BenchmarkIngest stores signed events of 100 vehicles in EVENTS through
// the verifier (verify, re-publish with the vehicle's reply subject) and,
// as the baseline of the same run, the same events published straight to
// EVENTS; both with 256 asynchronous publishes in flight, one publisher.
// Compare events/s of the two sub-benchmarks.
func BenchmarkIngest(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h, err := hub.Open(ctx, hub.Config{StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close(ctx)
	const vehicles = 100
	kps := make([]nkeys.KeyPair, vehicles)
	var ids []identities.Identity
	for i := range kps {
		if kps[i], err = identity.NewKey(); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, identities.Identity{Kind: identities.Vehicle, Account: "acme", Vehicle: fmt.Sprintf("v%d", i), Key: identity.PublicKey(kps[i])})
	}
	keys := &identities.Keys{}
	keys.Set(ids)
	ver, err := ingest.New(ingest.Config{NC: h.NC, Keys: keys, RequireSignature: true})
	if err != nil {
		b.Fatal(err)
	}
	stop, err := ver.Start(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	nc, err := h.Server.Connect("publisher")
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(256))

	// Pre-signed: the vehicle's signing cost is not the cloud's.
	msg := func(n uint64, viaIngest bool) *nats.Msg {
		i := int(n % vehicles)
		vehicle := fmt.Sprintf("v%d", i)
		e := event.Event{ID: event.NewID(time.Now()), Type: event.TypePosition, SchemaVersion: event.SchemaVersion,
			OccurredAt: event.Time{Time: time.Now()}, Account: "acme", Vehicle: event.Vehicle{ID: vehicle}, Seq: n/vehicles + 1,
			Location: &event.Location{Lat: 49.01, Lon: 12.1, SpeedKph: 42}}
		body, _ := e.Marshal()
		m := nats.NewMsg(event.Subject("acme", vehicle, event.TypePosition))
		if viaIngest {
			sig, _ := identity.SignEvent(kps[i], body)
			m.Subject = identity.IngestSubject("acme", vehicle, event.TypePosition)
			m.Header.Set(identity.HeaderKey, identity.PublicKey(kps[i]))
			m.Header.Set(identity.HeaderSignature, sig)
		}
		m.Data = body
		return m
	}
	var seq uint64
	for _, c := range []struct {
		name string
		via  bool
	}{{"direct", false}, {"verified", true}} {
		b.Run(c.name, func(b *testing.B) {
			msgs := make([]*nats.Msg, b.N)
			for i := range msgs {
				msgs[i] = msg(seq, c.via)
				seq++
			}
			b.ResetTimer()
			for _, m := range msgs {
				if _, err := js.PublishMsgAsync(m); err != nil {
					b.Fatal(err)
				}
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-ctx.Done():
				b.Fatal("acks did not come")
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
	if st := ver.Stats(); len(st.Rejected) != 0 {
		b.Fatalf("refused: %v", st.Rejected)
	}
	info, err := h.Events.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if info.State.Msgs != seq {
		b.Fatalf("EVENTS holds %d of %d events", info.State.Msgs, seq)
	}
}
