package outbox_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/outbox"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go"
)

// TestProvenanceHeaders: a forwarded event carries, on the hub, when it
// was stored, how long it waited, whether it waited offline and the
// versions that produced it; an event stored during a cut is marked
// buffered offline with its wait bounded by the measured outage.
func TestProvenanceHeaders(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var r *rig
	r = newRigWith(t, ctx, outbox.Config{
		AgentVersion: "agent-test", RuleVersion: "7",
		LinkUp: func() bool { return r.leaf.LeafConnected() },
	})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := r.leaf.WaitLeafConnected(wctx); err != nil {
		t.Fatal(err)
	}

	before := time.Now()
	r.append(ctx, 1)
	after := time.Now()
	r.hubSeqs(ctx, 1)
	h := r.hubHeaders(ctx, 1)
	stored, err := time.Parse(time.RFC3339Nano, h.Get(event.HeaderStoredAt))
	if err != nil {
		t.Fatalf("%s: %v", event.HeaderStoredAt, err)
	}
	if stored.Before(before.Truncate(time.Millisecond)) || stored.After(after) {
		t.Fatalf("stored at %v, want within the Append call [%v, %v]", stored, before, after)
	}
	for k, want := range map[string]string{
		event.HeaderBufferedOffline: "false", event.HeaderAgentVersion: "agent-test", event.HeaderRuleVersion: "7", event.HeaderSeq: "1",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("online event: %s = %q, want %q", k, got, want)
		}
	}
	if h.Get(event.HeaderStoredOffline) != "" {
		t.Errorf("outbox-only header %s reached the hub", event.HeaderStoredOffline)
	}

	// A cut: the leaf notices, an event is stored, the link returns after
	// a measured interval.
	r.proxy.Cut()
	for r.leaf.LeafConnected() {
		select {
		case <-ctx.Done():
			t.Fatal("the leaf never noticed the cut")
		case <-time.After(10 * time.Millisecond):
		}
	}
	appendAt := time.Now()
	r.append(ctx, 1)
	outage := time.NewTimer(1500 * time.Millisecond) // the outage itself, not a synchronisation
	<-outage.C
	r.proxy.Restore()
	minWait := time.Since(appendAt)
	r.hubSeqs(ctx, 2)
	maxWait := time.Since(appendAt)
	h = r.hubHeaders(ctx, 2)
	if got := h.Get(event.HeaderBufferedOffline); got != "true" {
		t.Fatalf("event stored during the cut: %s = %q, want true", event.HeaderBufferedOffline, got)
	}
	ms, err := strconv.ParseInt(h.Get(event.HeaderBufferedMs), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", event.HeaderBufferedMs, err)
	}
	if w := time.Duration(ms) * time.Millisecond; w < minWait-time.Millisecond || w > maxWait {
		t.Fatalf("buffered %v, want between the outage %v and its arrival %v", w, minWait, maxWait)
	}
	stored2, err := time.Parse(time.RFC3339Nano, h.Get(event.HeaderStoredAt))
	if err != nil || stored2.Before(appendAt.Truncate(time.Millisecond)) || stored2.After(appendAt.Add(time.Second)) {
		t.Fatalf("stored at %v (%v), want just after %v", stored2, err, appendAt)
	}

	// Back online: the next event is not marked.
	r.append(ctx, 1)
	r.hubSeqs(ctx, 3)
	if got := r.hubHeaders(ctx, 3).Get(event.HeaderBufferedOffline); got != "false" {
		t.Fatalf("event stored after the link returned: %s = %q, want false", event.HeaderBufferedOffline, got)
	}
}

// hubHeaders returns the headers of the hub's streamSeq-th event.
func (r *rig) hubHeaders(ctx context.Context, streamSeq uint64) nats.Header {
	r.t.Helper()
	m, err := r.hub.Events.GetMsg(ctx, streamSeq)
	if err != nil {
		r.t.Fatal(err)
	}
	return m.Header
}
