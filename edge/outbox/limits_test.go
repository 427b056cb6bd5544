package outbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/outbox"
	"github.com/fleetwire/fleetwire/shared/event"
)

// appendUntil appends position events while the link is down; it returns
// how many were stored and how many were refused with ErrFull.
func (r *rig) appendN(ctx context.Context, n int) (stored, refused int) {
	r.t.Helper()
	pad := make([]byte, 900) // ~1 KiB events fill the 1 MiB store quickly
	for i := range pad {
		pad[i] = 'x'
	}
	for i := 0; i < n; i++ {
		e := &event.Event{Type: event.TypePosition, OccurredAt: event.Time{Time: time.Now()},
			Data: []byte(`{"pad":"` + string(pad) + `"}`)}
		err := r.box.Append(ctx, e)
		switch {
		case err == nil:
			stored++
		case errors.Is(err, outbox.ErrFull):
			refused++
		default:
			r.t.Fatalf("append %d: %v", i, err)
		}
	}
	return stored, refused
}

// TestDropOldestWhenFull: offline with a full store, the oldest events are
// discarded, counted (already during the outage) and reported; the rest
// arrive in order with the gap visible in seq.
func TestDropOldestWhenFull(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := newRigWith(t, ctx, outbox.Config{MaxBytes: 1 << 20, Policy: outbox.PolicyDropOldest})
	r.proxy.Cut()
	stored, refused := r.appendN(ctx, 3000) // ~3 MiB into a 1 MiB store
	if stored != 3000 || refused != 0 {
		t.Fatalf("stored %d refused %d, want 3000 and 0", stored, refused)
	}
	// The loss shows while the link is still down, not only once it is back.
	for r.box.Stats().Discarded == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("discards not counted during the outage")
		case <-time.After(20 * time.Millisecond):
		}
	}
	during := r.box.Stats().Discarded
	r.proxy.Restore()
	// The newest event always survives: wait for it on the hub.
	var seqs []uint64
	for {
		seqs = r.hubAll(ctx)
		if len(seqs) > 0 && seqs[len(seqs)-1] == 3000 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("newest event never reached the hub; hub has %d", len(seqs))
		case <-time.After(20 * time.Millisecond):
		}
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("seq %d after %d: reordered or doubled", seqs[i], seqs[i-1])
		}
	}
	lost := 3000 - len(seqs)
	if lost == 0 {
		t.Fatal("nothing was discarded: the store limit did not apply")
	}
	if st := r.box.Stats(); int(st.Discarded) != lost || st.Discarded < during {
		t.Fatalf("Stats.Discarded = %d (%d during the outage), but %d events are missing on the hub", st.Discarded, during, lost)
	}
}

// TestRejectNewWhenFull: offline with a full store, new events are refused
// with ErrFull and counted; every stored one arrives, numbering gap-free.
func TestRejectNewWhenFull(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := newRigWith(t, ctx, outbox.Config{MaxBytes: 1 << 20, Policy: outbox.PolicyRejectNew})
	r.proxy.Cut()
	stored, refused := r.appendN(ctx, 3000)
	if refused == 0 || stored == 0 {
		t.Fatalf("stored %d refused %d: the limit did not apply", stored, refused)
	}
	if st := r.box.Stats(); int(st.Rejected) != refused {
		t.Fatalf("Stats.Rejected = %d, want %d", st.Rejected, refused)
	}
	r.proxy.Restore()
	assertExactlyOnceInOrder(t, r.hubSeqs(ctx, stored), stored)
	// Once forwarded, the events leave the store: recording resumes.
	if s, ref := r.appendN(ctx, 10); s != 10 || ref != 0 {
		t.Fatalf("after the backlog drained: stored %d refused %d, want 10 and 0", s, ref)
	}
}
