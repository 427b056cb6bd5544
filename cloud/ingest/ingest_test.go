package ingest_test

import (
	"context"
	"errors"
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

func envelope(t *testing.T, account, vehicle string, seq uint64) []byte {
	t.Helper()
	e := event.Event{ID: event.NewID(time.Now()), Type: event.TypeHeartbeat, SchemaVersion: event.SchemaVersion,
		OccurredAt: event.Time{Time: time.Now()}, Account: account, Vehicle: event.Vehicle{ID: vehicle}, Seq: seq}
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signed(t *testing.T, kp nkeys.KeyPair, account, vehicle string, body []byte) *nats.Msg {
	t.Helper()
	sig, err := identity.SignEvent(kp, body)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(identity.IngestSubject(account, vehicle, event.TypeHeartbeat))
	m.Header.Set(identity.HeaderKey, identity.PublicKey(kp))
	m.Header.Set(identity.HeaderSignature, sig)
	m.Data = body
	return m
}

// TestVerifierAdmitsOnlyTheVehiclesOwnSignature publishes through the real
// verifier into a real EVENTS stream: the vehicle's own signed event is
// stored, with its signature, and the publisher gets the stream's ack; a
// modified copy, an event signed with another vehicle's key, an unsigned
// one, one whose envelope names another vehicle and one from an
// unregistered vehicle are refused with an error the JetStream client
// reports, counted by reason, and never stored.
func TestVerifierAdmitsOnlyTheVehiclesOwnSignature(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := hub.Open(ctx, hub.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	v1, v2 := mustKey(t), mustKey(t)
	keys := &identities.Keys{}
	keys.Set([]identities.Identity{
		{Kind: identities.Vehicle, Account: "acme", Vehicle: "v1", Key: identity.PublicKey(v1)},
		{Kind: identities.Vehicle, Account: "acme", Vehicle: "v2", Key: identity.PublicKey(v2)},
	})
	ver, err := ingest.New(ingest.Config{NC: h.NC, Keys: keys, RequireSignature: true})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := ver.Start(context.Background()) // as in fleetwire serve: no deadline
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	pub, err := h.Server.Connect("a publisher")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	js, _ := jetstream.New(pub)

	good := signed(t, v1, "acme", "v1", envelope(t, "acme", "v1", 1))
	ack, err := js.PublishMsg(ctx, good)
	if err != nil {
		t.Fatalf("the vehicle's own signed event: %v", err)
	}
	if ack.Stream != "EVENTS" || ack.Sequence != 1 {
		t.Fatalf("ack %+v, want EVENTS seq 1", ack)
	}

	tampered := signed(t, v1, "acme", "v1", envelope(t, "acme", "v1", 2))
	tampered.Data = append([]byte(nil), tampered.Data...)
	tampered.Data[len(tampered.Data)-2] ^= 1 // one changed byte
	otherKey := signed(t, v2, "acme", "v1", envelope(t, "acme", "v1", 2))
	unsigned := nats.NewMsg(identity.IngestSubject("acme", "v1", event.TypeHeartbeat))
	unsigned.Data = envelope(t, "acme", "v1", 2)
	mismatch := signed(t, v1, "acme", "v1", envelope(t, "acme", "v2", 2))
	stranger := signed(t, mustKey(t), "acme", "v9", envelope(t, "acme", "v9", 1))
	cases := []struct {
		name, reason string
		msg          *nats.Msg
	}{
		{"modified copy", ingest.ReasonBadSignature, tampered},
		{"another vehicle's key", ingest.ReasonWrongKey, otherKey},
		{"unsigned", ingest.ReasonUnsigned, unsigned},
		{"envelope names another vehicle", ingest.ReasonMismatch, mismatch},
		{"unregistered vehicle", ingest.ReasonUnknown, stranger},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := js.PublishMsg(ctx, c.msg)
			var apiErr *jetstream.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode != ingest.ErrCodeRejected {
				t.Fatalf("publish: %v, want an API error %d", err, ingest.ErrCodeRejected)
			}
			if got := ver.Stats().Rejected[c.reason]; got != 1 {
				t.Fatalf("rejected[%s] = %d, want 1 (all: %v)", c.reason, got, ver.Stats().Rejected)
			}
		})
	}
	info, err := h.Events.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("EVENTS holds %d messages, want only the good one", info.State.Msgs)
	}
	stored, err := h.Events.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Subject != event.Subject("acme", "v1", event.TypeHeartbeat) {
		t.Fatalf("stored on %s", stored.Subject)
	}
	// A consumer checks the vehicle's signature with the documented key.
	if err := identity.VerifyEvent(identity.PublicKey(v1), stored.Header.Get(identity.HeaderKey), stored.Header.Get(identity.HeaderSignature), stored.Data); err != nil {
		t.Fatalf("stored event does not verify: %v", err)
	}
	if got := ver.Stats().Accepted; got != 1 {
		t.Fatalf("accepted %d", got)
	}
}

func mustKey(t *testing.T) nkeys.KeyPair {
	t.Helper()
	kp, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return kp
}
