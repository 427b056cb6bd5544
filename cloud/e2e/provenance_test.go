package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
	"github.com/fleetwire/fleetwire/edge/agent"
	"github.com/fleetwire/fleetwire/edge/detect"
	"github.com/fleetwire/fleetwire/shared/event"
)

// TestProvenanceBufferedOffline: events produced while the vehicle is
// connected arrive with provenance.bufferedOffline false; events produced
// while its link is cut arrive with bufferedOffline true and bufferedS
// covering the time they waited for the link (the measured outage).
func TestProvenanceBufferedOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := startCloud(t, ctx)
	v := startVehicle(t, ctx, c, "v1")
	fixes := loadFixes(t, "munich-gps.nmea", 60)

	v.drive(ctx, fixes[:20])
	online := len(v.storedEvents())
	ds, err := c.rcv.WaitFor(ctx, online)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		p := checkProvenance(t, d)
		if *p.BufferedOffline || d.Header.Get("Fleetwire-Buffered-Offline") != "false" {
			t.Fatalf("event %d produced online: bufferedOffline %v, header %q", d.Event.Seq, *p.BufferedOffline, d.Header.Get("Fleetwire-Buffered-Offline"))
		}
		if *p.BufferedS > 5 {
			t.Fatalf("event %d produced online waited %.3fs on the vehicle", d.Event.Seq, *p.BufferedS)
		}
	}

	cutAt := time.Now()
	v.proxy.Cut()
	v.drive(ctx, fixes[20:40]) // stored while offline
	offline := len(v.storedEvents())
	outage := time.NewTimer(2 * time.Second) // the outage itself, not a synchronisation
	<-outage.C
	restoreAt := time.Now()
	v.proxy.Restore()
	ds, err = c.rcv.WaitFor(ctx, offline)
	if err != nil {
		t.Fatal(err)
	}
	checkDeliveries(t, ds, v)
	cut := restoreAt.Sub(cutAt)
	const tol = 50 * time.Millisecond // millisecond rounding of the timestamps
	for i, d := range ds[online:offline] {
		p := checkProvenance(t, d)
		if !*p.BufferedOffline || d.Header.Get("Fleetwire-Buffered-Offline") != "true" {
			t.Fatalf("event %d produced during the cut: bufferedOffline %v, header %q", d.Event.Seq, *p.BufferedOffline, d.Header.Get("Fleetwire-Buffered-Offline"))
		}
		waited := time.Duration(*p.BufferedS * float64(time.Second))
		// It waited at least until the link came back, and at most until
		// the receiver had it.
		if lo, hi := restoreAt.Sub(p.StoredAt.Time), d.Received.Sub(p.StoredAt.Time); waited < lo-tol || waited > hi+tol {
			t.Fatalf("event %d: bufferedS %v, want between %v and %v", d.Event.Seq, waited, lo, hi)
		}
		if i == 0 {
			// The first one was produced as the cut began: it waited the
			// whole outage, plus the leaf's reconnection.
			if waited < cut-time.Second || waited > cut+10*time.Second { // reconnection and a backoff may add seconds on a loaded machine
				t.Fatalf("first event of the cut: bufferedS %v, cut lasted %v", waited, cut)
			}
		}
	}
}

// checkProvenance checks what every delivered event's provenance holds
// and returns it.
func checkProvenance(t *testing.T, d receiver.Delivery) *event.Provenance {
	t.Helper()
	p := d.Event.Provenance
	if p == nil || p.StoredAt == nil || p.BufferedOffline == nil || p.BufferedS == nil {
		t.Fatalf("event %d: incomplete provenance %+v in %s", d.Event.Seq, p, d.Body)
	}
	if p.AgentVersion != agent.Version || p.RuleVersion != detect.RuleVersion {
		t.Fatalf("event %d: versions %q/%q, want %q/%q", d.Event.Seq, p.AgentVersion, p.RuleVersion, agent.Version, detect.RuleVersion)
	}
	if p.ReceivedAt.Before(p.StoredAt.Time.Add(-time.Millisecond)) || p.ReceivedAt.After(d.Received) {
		t.Fatalf("event %d: received by the hub at %v, stored at %v, delivered at %v", d.Event.Seq, p.ReceivedAt, p.StoredAt, d.Received)
	}
	if h := d.Header.Get("Fleetwire-Received-At"); h != p.ReceivedAt.UTC().Format(event.TimeLayout) {
		t.Fatalf("event %d: Fleetwire-Received-At %q, body %v", d.Event.Seq, h, p.ReceivedAt)
	}
	return p
}
