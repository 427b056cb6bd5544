package feed_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/bits"
	"strconv"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/feed"
	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func openHub(t testing.TB) (*hub.Hub, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	h, err := hub.Open(ctx, hub.Config{StoreDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h, ctx
}

// publish stores one event as an edge forwarder would.
func publish(t testing.TB, ctx context.Context, js jetstream.JetStream, account, vehicle string, seq uint64, typ event.Type) *jetstream.PubAck {
	t.Helper()
	e := event.Event{ID: event.NewID(time.Now()), Type: typ, SchemaVersion: event.SchemaVersion,
		OccurredAt: event.Time{Time: time.Now()}, Account: account, Vehicle: event.Vehicle{ID: vehicle}, Seq: seq}
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m := &nats.Msg{Subject: e.Subject(), Data: b, Header: nats.Header{event.HeaderSeq: []string{strconv.FormatUint(seq, 10)}}}
	ack, err := js.PublishMsg(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	return ack
}

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []feed.Cursor{0, 1, 2, 1 << 20, math.MaxUint64} {
		got, err := feed.ParseCursor(c.String())
		if err != nil || got != c {
			t.Fatalf("ParseCursor(%q) = %d, %v; want %d", c.String(), got, err, c)
		}
	}
	for _, bad := range []string{"", "x", "AQAAAAAAAAAB=", "AgAAAAAAAAAB", "AQAAAAAAAAAC!", "AQAAAAAAAAAAAA", "AQAAAAAAAAA+"} {
		if _, err := feed.ParseCursor(bad); !errors.Is(err, feed.ErrBadCursor) {
			t.Errorf("ParseCursor(%q) = %v, want ErrBadCursor", bad, err)
		}
	}
}

// FuzzParseCursor: the decoder never panics, and what it accepts is a
// canonical encoding (one string per cursor).
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{feed.Cursor(0).String(), feed.Cursor(42).String(), feed.Cursor(math.MaxUint64).String(), "", "AQ", "AQAAAAAAAAAB", "AQAAAAAAAAAr", "AgAAAAAAAAAq", "AQAAAAAAAAAq=", "////////////"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := feed.ParseCursor(s)
		if err != nil {
			if !errors.Is(err, feed.ErrBadCursor) {
				t.Fatalf("ParseCursor(%q): %v does not wrap ErrBadCursor", s, err)
			}
			return
		}
		if c.String() != s {
			t.Fatalf("ParseCursor(%q) = %d, which encodes as %q", s, c, c.String())
		}
	})
}

// TestVehicleFindsSeq: the binary search finds every seq of interleaved
// vehicles within about log2(stream length) direct gets.
func TestVehicleFindsSeq(t *testing.T) {
	h, ctx := openHub(t)
	const n = 300
	vehicles := []string{"v1", "v2", "v3"}
	for i := uint64(1); i <= n; i++ {
		for j, v := range vehicles {
			if j == 2 && i%3 != 0 { // v3 is sparse: one event in three rounds
				continue
			}
			seq := i
			if j == 2 {
				seq = i / 3
			}
			publish(t, ctx, h.JS, "acme", v, seq, event.TypePosition)
		}
	}
	r := feed.NewReader(h.Events, nil)
	streamLen := uint64(2*n + n/3)
	bound := 2*bits.Len64(streamLen) + 2
	cases := []struct {
		vehicle   string
		from      uint64
		limit     int
		wantFirst uint64 // 0: empty page
		wantLen   int
		more      bool
	}{
		{"v1", 1, 5, 1, 5, true},
		{"v1", 2, 5, 2, 5, true},
		{"v1", 150, 10, 150, 10, true},
		{"v1", 299, 10, 299, 2, false},
		{"v1", 300, 10, 300, 1, false},
		{"v1", 301, 10, 0, 0, false},
		{"v2", 77, 1, 77, 1, true},
		{"v3", 1, 3, 1, 3, true},
		{"v3", 57, 100, 57, 44, false},
		{"v3", 100, 100, 100, 1, false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s-from-%d", c.vehicle, c.from), func(t *testing.T) {
			p, err := r.Vehicle(ctx, feed.VehicleOptions{Account: "acme", Vehicle: c.vehicle, FromSeq: c.from, Limit: c.limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) != c.wantLen || p.More != c.more {
				t.Fatalf("%d items, more %v; want %d, %v", len(p.Items), p.More, c.wantLen, c.more)
			}
			for i, it := range p.Items {
				if it.Seq != c.wantFirst+uint64(i) || it.Vehicle != c.vehicle {
					t.Fatalf("item %d: %s seq %d, want %s seq %d", i, it.Vehicle, it.Seq, c.vehicle, c.wantFirst+uint64(i))
				}
			}
			if c.wantLen > 0 && p.Next != p.Items[len(p.Items)-1].Seq+1 {
				t.Fatalf("next %d after seq %d", p.Next, p.Items[len(p.Items)-1].Seq)
			}
			if p.Probes > bound {
				t.Fatalf("%d direct gets to find seq %d in a stream of %d, want at most %d", p.Probes, c.from, streamLen, bound)
			}
		})
	}
	if _, err := r.Vehicle(ctx, feed.VehicleOptions{Account: "acme", Vehicle: "nope", FromSeq: 1}); !errors.Is(err, feed.ErrNoEvents) {
		t.Fatalf("unknown vehicle: %v", err)
	}
	if _, err := r.Vehicle(ctx, feed.VehicleOptions{Account: "other", Vehicle: "v1", FromSeq: 1}); !errors.Is(err, feed.ErrNoEvents) {
		t.Fatalf("another account's vehicle: %v", err)
	}
	// Retention: v1's seqs below its oldest stored one are gone.
	if err := h.Events.Purge(ctx, jetstream.WithPurgeSubject("fleet.events.acme.v1.>"), jetstream.WithPurgeSequence(100)); err != nil {
		t.Fatal(err)
	}
	_, err := r.Vehicle(ctx, feed.VehicleOptions{Account: "acme", Vehicle: "v1", FromSeq: 3})
	var exp *feed.ExpiredError
	if !errors.As(err, &exp) || !errors.Is(err, feed.ErrSeqExpired) || exp.OldestSeq < 30 || exp.OldestTime.IsZero() {
		t.Fatalf("purged seqs: %v", err)
	}
	p, err := r.Vehicle(ctx, feed.VehicleOptions{Account: "acme", Vehicle: "v1", FromSeq: exp.OldestSeq, Limit: 1})
	if err != nil || len(p.Items) != 1 || p.Items[0].Seq != exp.OldestSeq || p.OldestSeq != exp.OldestSeq {
		t.Fatalf("from the oldest: %+v, %v", p, err)
	}
}

// TestReadPages: pages in stream order, next cursors, expiry, cursor ahead.
func TestReadPages(t *testing.T) {
	h, ctx := openHub(t)
	for i := uint64(1); i <= 30; i++ {
		publish(t, ctx, h.JS, "acme", "v1", i, event.TypePosition)
		publish(t, ctx, h.JS, "other", "v9", i, event.TypePosition)
	}
	r := feed.NewReader(h.Events, nil)
	subj := []string{"fleet.events.acme.*.>"}
	var seen []uint64
	o := feed.Options{Subjects: subj, Oldest: true, Limit: 7}
	for range 10 {
		p, err := r.Read(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			seen = append(seen, it.Seq)
		}
		o.After, o.Oldest = p.Next, false
		if !p.More {
			if uint64(p.Next) != 60 {
				t.Fatalf("caught up at cursor %d, want the stream's end 60", p.Next)
			}
			break
		}
	}
	if len(seen) != 30 || seen[0] != 1 || seen[29] != 30 {
		t.Fatalf("seen %v", seen)
	}
	// Caught up: an empty page keeps the cursor at the end.
	if p, err := r.Read(ctx, o); err != nil || len(p.Items) != 0 || p.Next != 60 || p.More {
		t.Fatalf("empty page %+v, %v", p, err)
	}
	if _, err := r.Read(ctx, feed.Options{Subjects: subj, After: 61}); !errors.Is(err, feed.ErrCursorAhead) {
		t.Fatalf("cursor ahead: %v", err)
	}
	if err := h.Events.Purge(ctx, jetstream.WithPurgeKeep(10)); err != nil {
		t.Fatal(err)
	}
	_, err := r.Read(ctx, feed.Options{Subjects: subj, After: 20})
	var exp *feed.ExpiredError
	if !errors.As(err, &exp) || !errors.Is(err, feed.ErrCursorExpired) || exp.Oldest != 50 {
		t.Fatalf("expired cursor: %v", err)
	}
	p, err := r.Read(ctx, feed.Options{Subjects: subj, After: exp.Oldest})
	if err != nil || len(p.Items) != 5 || p.Items[0].Seq != 26 {
		t.Fatalf("from the oldest: %+v, %v", p, err)
	}
}

// BenchmarkRead: one page of 100 events of one account out of two,
// from a random place in a stream of 20,000 events.
func BenchmarkRead(b *testing.B) {
	h, ctx := openHub(b)
	for i := uint64(1); i <= 10000; i++ {
		publish(b, ctx, h.JS, "acme", "v"+strconv.Itoa(int(i%10)), i, event.TypePosition)
		publish(b, ctx, h.JS, "other", "v1", i, event.TypePosition)
	}
	r := feed.NewReader(h.Events, nil)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p, err := r.Read(ctx, feed.Options{Subjects: []string{"fleet.events.acme.*.>"}, After: feed.Cursor(i * 997 % 19000), Limit: 100})
		if err != nil || len(p.Items) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkVehicle: find a vehicle's seq and read 10 events.
func BenchmarkVehicle(b *testing.B) {
	h, ctx := openHub(b)
	for i := uint64(1); i <= 2000; i++ {
		for v := range 10 {
			publish(b, ctx, h.JS, "acme", "v"+strconv.Itoa(v), i, event.TypePosition)
		}
	}
	r := feed.NewReader(h.Events, nil)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p, err := r.Vehicle(ctx, feed.VehicleOptions{Account: "acme", Vehicle: "v3", FromSeq: uint64(1 + i*37%1990), Limit: 10})
		if err != nil || len(p.Items) != 10 {
			b.Fatal(err)
		}
	}
}
