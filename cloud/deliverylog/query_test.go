package deliverylog_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/deliverylog"
	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/shared/event"
)

func openLog(t *testing.T, ctx context.Context) *deliverylog.Log {
	t.Helper()
	h, err := hub.Open(ctx, hub.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	l, err := deliverylog.Open(ctx, h.JS, deliverylog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// fill appends n records per subscription, interleaved, every third failed.
func fill(t *testing.T, ctx context.Context, l *deliverylog.Log, subs []string, n int) map[string][]deliverylog.Record {
	t.Helper()
	out := map[string][]deliverylog.Record{}
	for i := range n {
		for _, s := range subs {
			o := deliverylog.Delivered
			if i%3 == 0 {
				o = deliverylog.Failed
			}
			r := deliverylog.Record{Subscription: s, EventID: event.NewID(time.Now()), EventType: "position",
				Vehicle: fmt.Sprintf("v%d", i%2), Seq: uint64(i + 1), Attempt: 1, Time: time.Now(), Outcome: o}
			if err := l.Append(ctx, r); err != nil {
				t.Fatal(err)
			}
			out[s] = append(out[s], r)
		}
	}
	return out
}

func TestListPagesNewestFirst(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l := openLog(t, ctx)
	// s2 is sparse among s1's records: the windows must widen to find it.
	fill(t, ctx, l, []string{"s1"}, 200)
	want := fill(t, ctx, l, []string{"s1", "s2"}, 30)
	fill(t, ctx, l, []string{"s1"}, 200)

	cases := []struct {
		name  string
		q     deliverylog.Query
		match func(deliverylog.Record) bool
	}{
		{"all", deliverylog.Query{Limit: 7}, func(deliverylog.Record) bool { return true }},
		{"failed", deliverylog.Query{Limit: 4, Outcome: deliverylog.Failed}, func(r deliverylog.Record) bool { return r.Outcome == deliverylog.Failed }},
		{"vehicle", deliverylog.Query{Limit: 100, Vehicle: "v1"}, func(r deliverylog.Record) bool { return r.Vehicle == "v1" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var expect []string
			for i := len(want["s2"]) - 1; i >= 0; i-- {
				if r := want["s2"][i]; c.match(r) {
					expect = append(expect, r.EventID)
				}
			}
			var got []string
			q := c.q
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatal("pagination does not end")
				}
				p, err := l.List(ctx, "s2", q)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Records) > q.Limit {
					t.Fatalf("page of %d records, limit %d", len(p.Records), q.Limit)
				}
				for _, e := range p.Records {
					got = append(got, e.EventID)
				}
				if p.Next == 0 {
					break
				}
				q.Before = p.Next
			}
			if fmt.Sprint(got) != fmt.Sprint(expect) {
				t.Fatalf("got %d records %v\nwant %d %v", len(got), got, len(expect), expect)
			}
		})
	}
	p, err := l.List(ctx, "nobody", deliverylog.Query{})
	if err != nil || len(p.Records) != 0 || p.Next != 0 {
		t.Fatalf("unknown subscription: %+v, %v", p, err)
	}
}

func TestForEvent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l := openLog(t, ctx)
	fill(t, ctx, l, []string{"s1", "s2"}, 10)
	id := event.NewID(time.Now())
	for i, o := range []deliverylog.Outcome{deliverylog.Failed, deliverylog.Failed, deliverylog.Delivered} {
		for _, s := range []string{"s1", "s2"} {
			r := deliverylog.Record{Subscription: s, EventID: id, Vehicle: "v9", Attempt: i + 1, Outcome: o, StatusCode: 500}
			if err := l.Append(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	fill(t, ctx, l, []string{"s1"}, 10)
	for _, vehicle := range []string{"", "v9"} {
		rs, err := l.ForEvent(ctx, "s1", id, vehicle)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 3 || rs[0].Attempt != 1 || rs[2].Outcome != deliverylog.Delivered || rs[0].Subscription != "s1" {
			t.Fatalf("vehicle %q: %+v", vehicle, rs)
		}
	}
	if rs, err := l.ForEvent(ctx, "s1", id, "v1"); err != nil || len(rs) != 0 {
		t.Fatalf("other vehicle: %v, %v", rs, err)
	}
	if _, err := l.ForEvent(ctx, "s1", "not-a-ulid", ""); !errors.Is(err, deliverylog.ErrInvalidEventID) {
		t.Fatalf("bad id: %v", err)
	}
}
