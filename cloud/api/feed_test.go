package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/feed"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// feedLimits sets the feed's per-token rate (0: unlimited).
func (e *env) feedLimits(rate float64, burst int) {
	e.srv.Config.Handler.(*API).feed.limiter.set(rate, burst)
}

// newEvent is an event as a vehicle would produce it; tags go to data.tags.
func newEvent(account, vehicle string, seq uint64, typ event.Type, tags ...string) event.Event {
	ev := event.Event{ID: event.NewID(time.Now()), Type: typ, SchemaVersion: event.SchemaVersion,
		OccurredAt: event.Time{Time: time.Now()}, Account: account, Vehicle: event.Vehicle{ID: vehicle}, Seq: seq}
	if tags != nil {
		ev.Data, _ = json.Marshal(event.GeofenceEnteredData{GeofenceID: "f-" + tags[0], Tags: tags})
	}
	return ev
}

// store publishes ev on the hub as an edge forwarder would (usable from
// any goroutine).
func (e *env) store(ev event.Event) (*jetstream.PubAck, error) {
	b, err := ev.Marshal()
	if err != nil {
		return nil, err
	}
	m := &nats.Msg{Subject: ev.Subject(), Data: b, Header: nats.Header{event.HeaderSeq: []string{strconv.FormatUint(ev.Seq, 10)}}}
	return e.hub.JS.PublishMsg(e.ctx, m, jetstream.WithMsgID(ev.ID))
}

func (e *env) mustStore(ev event.Event) *jetstream.PubAck {
	e.t.Helper()
	ack, err := e.store(ev)
	if err != nil {
		e.t.Fatal(err)
	}
	return ack
}

func (e *env) feedPage(who, query string) FeedPage {
	e.t.Helper()
	var p FeedPage
	e.must(200, who, "GET", "/v1/feed"+query, nil).json(e.t, &p)
	return p
}

// envelopeOf decodes an item's event.
func envelopeOf(t *testing.T, it FeedItem) event.Event {
	t.Helper()
	ev, err := event.Unmarshal(it.Event)
	if err != nil {
		t.Fatalf("item %d: %v: %s", it.StreamSeq, err, it.Event)
	}
	return *ev
}

// TestFeedPagingWithConcurrentIngest: a client paging with small limits
// while 2,000 events are stored gets each of its account's events once, in
// stream order, each vehicle's seqs gap-free.
func TestFeedPagingWithConcurrentIngest(t *testing.T) {
	e := newEnv(t)
	e.feedLimits(0, 0)
	const n = 2000
	vehicles := []string{"v1", "v2", "v3", "v4"}
	published := make(chan error, 1)
	go func() {
		var err error
		for i := 0; i < n && err == nil; i++ {
			_, err = e.store(newEvent("acme", vehicles[i%4], uint64(i/4+1), event.TypePosition))
			if err == nil && i%5 == 0 {
				_, err = e.store(newEvent("other", "x1", uint64(i/5+1), event.TypePosition))
			}
		}
		published <- err
	}()
	seen := map[string]bool{}
	last := map[string]uint64{}
	var lastStream uint64
	cursor, pages, done, seenAtDone := "", 0, false, 0
	for len(seen) < n {
		if pages++; pages > 3*n {
			t.Fatalf("%d pages and %d of %d events", pages, len(seen), n)
		}
		q := url.Values{"limit": {strconv.Itoa(3 + pages%9)}, "wait": {"5"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		p := e.feedPage("viewer", "?"+q.Encode())
		for _, it := range p.Items {
			ev := envelopeOf(t, it)
			switch {
			case ev.Account != "acme":
				t.Fatalf("account %s's event in acme's feed", ev.Account)
			case it.StreamSeq <= lastStream:
				t.Fatalf("stream seq %d after %d", it.StreamSeq, lastStream)
			case seen[ev.ID]:
				t.Fatalf("event %s twice", ev.ID)
			case it.Seq != last[it.Vehicle]+1 || ev.Seq != it.Seq || it.Vehicle != ev.Vehicle.ID:
				t.Fatalf("vehicle %s: seq %d after %d", it.Vehicle, it.Seq, last[it.Vehicle])
			}
			seen[ev.ID], last[it.Vehicle], lastStream = true, it.Seq, it.StreamSeq
		}
		if p.Next == "" {
			t.Fatal("a page without next")
		}
		cursor = p.Next
		select {
		case err := <-published:
			if err != nil {
				t.Fatal(err)
			}
			done, seenAtDone = true, len(seen)
		default:
		}
	}
	if !done {
		if err := <-published; err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range vehicles {
		if last[v] != n/4 {
			t.Fatalf("vehicle %s: last seq %d, want %d", v, last[v], n/4)
		}
	}
	if p := e.feedPage("viewer", "?cursor="+cursor); len(p.Items) != 0 || p.More || p.Next == "" {
		t.Fatalf("after the end: %+v", p)
	}
	if seenAtDone == n {
		t.Logf("note: the reader was not behind when ingest ended")
	}
	t.Logf("%d events in %d pages; %d read while the ingest ran", len(seen), pages, seenAtDone)
}

// TestFeedParameters: malformed and stale cursors, and the other
// parameters' problems.
func TestFeedParameters(t *testing.T) {
	e := newEnv(t)
	e.feedLimits(0, 0)
	var evs []event.Event
	for i := uint64(1); i <= 30; i++ {
		ev := newEvent("acme", "v1", i, event.TypePosition)
		e.mustStore(ev)
		evs = append(evs, ev)
	}
	p := e.feedPage("viewer", "?limit=10")
	if len(p.Items) != 10 || !p.More || p.Items[0].Seq != 1 {
		t.Fatalf("first page %+v", p)
	}
	// Stored bytes, as stored.
	raw, _ := evs[0].Marshal()
	if string(p.Items[0].Event) != string(raw) {
		t.Fatalf("event not as stored:\n%s\n%s", p.Items[0].Event, raw)
	}
	stale := p.Next
	// Every item's cursor resumes right after it.
	if q := e.feedPage("viewer", "?limit=1&cursor="+p.Items[4].Cursor); q.Items[0].Seq != 6 {
		t.Fatalf("item cursor: %+v", q)
	}
	if err := e.hub.Events.Purge(e.ctx, jetstream.WithPurgeKeep(5)); err != nil {
		t.Fatal(err)
	}
	info, err := e.hub.Events.Info(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := e.must(410, "viewer", "GET", "/v1/feed?cursor="+stale, nil)
	if r.problem.Type != "urn:fleetwire:problem:expired" || r.problem.Oldest != info.State.FirstTime.UTC().Format(time.RFC3339Nano) {
		t.Fatalf("410 problem %s (first stored at %s)", r.body, info.State.FirstTime)
	}
	oldest, err := feed.ParseCursor(r.problem.OldestCursor)
	if err != nil || uint64(oldest) != info.State.FirstSeq-1 {
		t.Fatalf("oldestCursor %q = %d, %v; first seq %d", r.problem.OldestCursor, oldest, err, info.State.FirstSeq)
	}
	p = e.feedPage("viewer", "?cursor="+r.problem.OldestCursor)
	if len(p.Items) != 5 || p.Items[0].Seq != 26 || p.More {
		t.Fatalf("from the oldest %+v", p)
	}
	// No cursor: from the oldest stored event.
	if p := e.feedPage("viewer", ""); len(p.Items) != 5 || p.Items[0].Seq != 26 {
		t.Fatalf("no cursor: %+v", p)
	}
	// since: from the first event at or after it.
	if p := e.feedPage("viewer", "?since="+url.QueryEscape(p.Items[2].ReceivedAt.Format(time.RFC3339Nano))); len(p.Items) != 3 || p.Items[0].Seq != 28 {
		t.Fatalf("since: %+v", p)
	}

	cases := []struct {
		query  string
		status int
		field  string
	}{
		{"?cursor=zzz", 400, "cursor"},
		{"?cursor=" + feed.Cursor(1e6).String(), 400, "cursor"},
		{"?cursor=" + p.Next + "&since=2026-01-01T00:00:00Z", 400, "since"},
		{"?since=yesterday", 422, "since"},
		{"?limit=0", 422, "limit"},
		{"?limit=1001", 422, "limit"},
		{"?wait=31", 422, "wait"},
		{"?wait=-1", 422, "wait"},
		{"?events=a.b*c", 422, "events"},
		{"?vehicles=v.1", 422, "vehicles"},
		{"?vehicle_groups=g%20h", 422, "vehicle_groups"},
	}
	for _, c := range cases {
		r := e.do("viewer", "GET", "/v1/feed"+c.query, nil)
		if r.status != c.status || len(r.problem.Errors) == 0 || r.problem.Errors[0].Field != c.field {
			t.Errorf("%s: %d %s, want %d naming %s", c.query, r.status, r.body, c.status, c.field)
		}
	}

	// The vehicle's seqs 1–25 are gone too.
	r = e.must(410, "viewer", "GET", "/v1/vehicles/v1/events?fromSeq=3", nil)
	if r.problem.OldestSeq != 26 || r.problem.Oldest == "" {
		t.Fatalf("vehicle 410: %s", r.body)
	}
	var ve VehicleEvents
	e.must(200, "viewer", "GET", "/v1/vehicles/v1/events?fromSeq=26&limit=2", nil).json(t, &ve)
	if len(ve.Items) != 2 || ve.Items[0].Seq != 26 || ve.Next != 28 || !ve.More || ve.OldestSeq != 26 || ve.LastSeq != 30 {
		t.Fatalf("vehicle events %+v", ve)
	}
	for _, q := range []string{"fromSeq=0", "fromSeq=x", "limit=5000"} {
		e.must(422, "viewer", "GET", "/v1/vehicles/v1/events?"+q, nil)
	}
	// Seqs the hub never stored (dropped on the vehicle) are reported.
	for _, seq := range []uint64{1, 2, 5, 6} {
		e.mustStore(newEvent("acme", "v2", seq, event.TypePosition))
	}
	for from, want := range map[string][]SeqRange{"1": {{3, 4}}, "3": {{3, 4}}, "5": {}} {
		e.must(200, "viewer", "GET", "/v1/vehicles/v2/events?fromSeq="+from, nil).json(t, &ve)
		if fmt.Sprint(ve.Missing) != fmt.Sprint(want) || ve.Items[len(ve.Items)-1].Seq != 6 {
			t.Fatalf("from %s: missing %v, want %v", from, ve.Missing, want)
		}
	}
	e.must(404, "viewer", "GET", "/v1/vehicles/nope/events", nil)
	e.must(404, "viewer", "GET", "/v1/vehicles/v1/events?subscription=nope", nil)
}

// TestFeedLongPoll: a waiting read returns as soon as a matching event is
// stored (not on another account's), empty with its cursor when the time
// is up, and ends when the client leaves.
func TestFeedLongPoll(t *testing.T) {
	e := newEnv(t)
	e.feedLimits(0, 0)
	e.mustStore(newEvent("acme", "v1", 1, event.TypePosition))
	end := e.feedPage("viewer", "").Next

	// Timeout: empty, same cursor.
	start := time.Now()
	p := e.feedPage("viewer", "?wait=0.5&cursor="+end)
	if took := time.Since(start); len(p.Items) != 0 || p.Next != end || took < 450*time.Millisecond || took > 5*time.Second {
		t.Fatalf("timed-out poll: %+v after %s", p, took)
	}

	// Wake-up: the read waits on the hub; another account's event does not
	// end it, the account's next one does, at once.
	type answer struct {
		p   FeedPage
		at  time.Time
		err error
	}
	got := make(chan answer, 1)
	go func() {
		p, err := e.getFeed(e.ctx, "viewer", "?wait=20&cursor="+end)
		got <- answer{p, time.Now(), err}
	}()
	e.waitPullWaiting(1)
	e.mustStore(newEvent("other", "x1", 1, event.TypePosition))
	stored := time.Now()
	ev := e.mustStore(newEvent("acme", "v1", 2, event.TypePosition))
	a := <-got
	if a.err != nil {
		t.Fatal(a.err)
	}
	if len(a.p.Items) != 1 || a.p.Items[0].StreamSeq != ev.Sequence {
		t.Fatalf("woken with %+v", a.p)
	}
	latency := a.at.Sub(stored)
	if latency > 2*time.Second {
		t.Fatalf("the waiting read returned %s after the event", latency)
	}
	t.Logf("long poll returned %s after the event was stored", latency)

	// The client leaves: the read ends and its consumer goes.
	ctx, cancel := context.WithCancel(e.ctx)
	left := make(chan error, 1)
	go func() {
		_, err := e.getFeed(ctx, "viewer", "?wait=30&cursor="+a.p.Next)
		left <- err
	}()
	e.waitPullWaiting(1)
	cancel()
	if err := <-left; err == nil {
		t.Fatal("a cancelled request succeeded")
	}
	e.waitPullWaiting(0)
}

// getFeed reads one page with its own context (for waits in goroutines).
func (e *env) getFeed(ctx context.Context, who, query string) (FeedPage, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/v1/feed"+query, nil)
	if err != nil {
		return FeedPage{}, err
	}
	req.Header.Set("Authorization", "Bearer "+e.tok[who])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return FeedPage{}, err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return FeedPage{}, fmt.Errorf("status %d", res.StatusCode)
	}
	var p FeedPage
	return p, json.NewDecoder(res.Body).Decode(&p)
}

// waitPullWaiting waits until n feed reads exist on the hub and each has a
// pull request waiting (n = 0: until none is left).
func (e *env) waitPullWaiting(n int) {
	e.t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		count, waiting := 0, 0
		for ci := range e.hub.Events.ListConsumers(e.ctx).Info() {
			if ci.Config.Description == "fleetwire pull feed read" {
				count++
				if ci.NumWaiting > 0 {
					waiting++
				}
			}
		}
		if count == n && waiting == n {
			return
		}
		select {
		case <-e.ctx.Done():
			e.t.Fatalf("%d feed reads (%d waiting), want %d", count, waiting, n)
		case <-tick.C:
		}
	}
}

// TestFeedAccountIsolation: a token never reads another account's events.
func TestFeedAccountIsolation(t *testing.T) {
	e := newEnv(t)
	e.feedLimits(0, 0)
	for i := uint64(1); i <= 3; i++ {
		e.mustStore(newEvent("acme", "truck-1", i, event.TypePosition))
		e.mustStore(newEvent("other", "van-1", i, event.TypePosition))
	}
	accounts := func(p FeedPage) string {
		var s []string
		for _, it := range p.Items {
			s = append(s, envelopeOf(t, it).Account)
		}
		return strings.Join(s, ",")
	}
	if got := accounts(e.feedPage("other", "")); got != "other,other,other" {
		t.Fatalf("other's feed: %s", got)
	}
	if got := accounts(e.feedPage("viewer", "?vehicles=van-1")); got != "" {
		t.Fatalf("acme's feed of other's vehicle: %s", got)
	}
	if got := accounts(e.feedPage("operator", "?account=acme")); got != "acme,acme,acme" {
		t.Fatalf("operator's feed of acme: %s", got)
	}
	e.must(404, "other", "GET", "/v1/feed?account=acme", nil)
	e.must(422, "operator", "GET", "/v1/feed", nil)
	e.must(401, "", "GET", "/v1/feed", nil)

	e.must(404, "other", "GET", "/v1/vehicles/truck-1/events", nil)
	e.must(404, "other", "GET", "/v1/vehicles/truck-1/events?account=acme", nil)
	e.must(200, "viewer", "GET", "/v1/vehicles/truck-1/events", nil)
	e.must(201, "admin", "POST", "/v1/subscriptions", map[string]any{"id": "acme-sub", "url": "http://127.0.0.1:1/hook"})
	e.must(404, "other", "GET", "/v1/vehicles/van-1/events?subscription=acme-sub", nil)
	e.must(200, "viewer", "GET", "/v1/vehicles/truck-1/events?subscription=acme-sub", nil)
}

// TestFeedRateLimit: each token has its own bucket; a spent one answers
// 429 with Retry-After.
func TestFeedRateLimit(t *testing.T) {
	e := newEnv(t)
	e.feedLimits(0.5, 2)
	// The buckets' clock stands still: no token comes back, however slowly
	// the requests run.
	l := e.srv.Config.Handler.(*API).feed.limiter
	frozen := time.Now()
	l.mu.Lock()
	l.now = func() time.Time { return frozen }
	l.mu.Unlock()
	e.must(200, "viewer", "GET", "/v1/feed", nil)
	e.must(200, "viewer", "GET", "/v1/feed?limit=1", nil)
	r := e.must(429, "viewer", "GET", "/v1/feed", nil)
	if r.header.Get("Retry-After") != "2" || r.problem.Type != "urn:fleetwire:problem:rate-limited" {
		t.Fatalf("429: Retry-After %q, %s", r.header.Get("Retry-After"), r.body)
	}
	e.must(429, "viewer", "GET", "/v1/vehicles/v1/events", nil) // the same bucket
	e.must(200, "other", "GET", "/v1/feed", nil)                // another token's
}

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(20, 40, func() time.Time { return now })
	steps := []struct {
		advance time.Duration
		key     string
		n       int // requests
		allowed int
		wait    time.Duration // of the last refused one
	}{
		{0, "a", 45, 40, 50 * time.Millisecond},
		{0, "b", 1, 1, 0},
		{100 * time.Millisecond, "a", 3, 2, 50 * time.Millisecond},
		{10 * time.Second, "a", 41, 40, 50 * time.Millisecond},
		{2 * time.Minute, "a", 1, 1, 0},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		allowed := 0
		var wait time.Duration
		for range s.n {
			if ok, w := l.allow(s.key); ok {
				allowed++
			} else {
				wait = w
			}
		}
		if allowed != s.allowed || wait.Round(time.Millisecond) != s.wait {
			t.Fatalf("step %d: %d allowed (wait %s), want %d (wait %s)", i, allowed, wait, s.allowed, s.wait)
		}
	}
	if len(l.buckets) != 1 {
		t.Fatalf("%d buckets kept, want the idle ones swept", len(l.buckets))
	}
}
