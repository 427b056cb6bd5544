package api

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fleetwire/fleetwire/cloud/feed"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/cloud/tokens"
	"github.com/fleetwire/fleetwire/shared/event"
)

// The pull feed's per-token rate (a token bucket): requests per second
// and burst. A long poll counts as one request however long it waits.
const (
	DefaultFeedRate  = 20
	DefaultFeedBurst = 40
)

// maxFeedSubjects bounds the filter's size (vehicles × event types).
const maxFeedSubjects = 1000

// FeedItem is one event of the pull feed or of a vehicle's events.
type FeedItem = feed.Item

// FeedPage is an answer of GET /v1/feed.
type FeedPage struct {
	Items []FeedItem `json:"items"`
	// Next is the cursor to read after this page (also when it is empty).
	Next string `json:"next"`
	// More is true when events are known to follow: read again at once.
	More bool `json:"more"`
}

// Skipped is a vehicle seq the subscription's filter does not deliver.
type Skipped struct {
	Seq  uint64 `json:"seq"`
	Type string `json:"type"`
	// Reason is the filter that skips it: type, vehicle or geofence_tags.
	Reason string `json:"reason"`
}

// SeqRange is a range of vehicle seqs, both ends included.
type SeqRange struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

// VehicleEvents is an answer of GET /v1/vehicles/{id}/events.
type VehicleEvents struct {
	Account string `json:"account"`
	Vehicle string `json:"vehicle"`
	// Subscription whose filter was applied, if any.
	Subscription string     `json:"subscription,omitempty"`
	Items        []FeedItem `json:"items"`
	// Skipped are the seqs of the page the subscription does not deliver.
	Skipped []Skipped `json:"skipped"`
	// Missing are seqs of the page's range the hub never stored (lost on
	// the vehicle to its store's drop-oldest limit); normally none.
	Missing []SeqRange `json:"missing"`
	// Next is the fromSeq of the next page.
	Next uint64 `json:"next"`
	More bool   `json:"more"`
	// OldestSeq and LastSeq are the vehicle's oldest and last stored seqs.
	OldestSeq uint64 `json:"oldestSeq"`
	LastSeq   uint64 `json:"lastSeq"`
}

// feedState is what the feed routes keep between requests.
type feedState struct {
	reader  *feed.Reader
	limiter *limiter

	mu     sync.Mutex
	groups *subscription.Groups // bound once the bucket exists
}

func newFeedState(cfg Config) *feedState {
	var r *feed.Reader
	if cfg.Hub != nil {
		r = feed.NewReader(cfg.Hub.Events, cfg.Logger)
	}
	return &feedState{reader: r, limiter: newLimiter(cfg.FeedRate, cfg.FeedBurst, cfg.Now), groups: cfg.Groups}
}

// groupsOf returns the vehicle groups, binding the bucket when it exists.
func (a *API) groupsOf(ctx context.Context) (*subscription.Groups, error) {
	a.feed.mu.Lock()
	defer a.feed.mu.Unlock()
	if a.feed.groups != nil {
		return a.feed.groups, nil
	}
	gs, ok, err := subscription.BindGroups(ctx, a.cfg.Hub.JS)
	if err != nil {
		return nil, err
	}
	if ok {
		a.feed.groups = gs
	}
	return gs, nil
}

// rateLimit takes one request from tok's bucket, or answers 429.
func (a *API) rateLimit(w http.ResponseWriter, tok tokens.Token) error {
	ok, wait := a.feed.limiter.allow(tok.ID)
	if ok {
		return nil
	}
	secs := max(int(math.Ceil(wait.Seconds())), 1)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return problem(http.StatusTooManyRequests, "rate-limited", "Too many requests",
		"this token may make "+strconv.FormatFloat(a.cfg.FeedRate, 'f', -1, 64)+" feed requests per second (burst "+
			strconv.Itoa(a.cfg.FeedBurst)+"); retry after "+strconv.Itoa(secs)+"s")
}

// readFeed: GET /v1/feed. The account's events after ?cursor= (or from
// ?since=, or from the oldest), in stream order, filtered as a
// subscription with the same events, vehicles, vehicle_groups and
// geofence_tags would be; ?wait= long-polls up to 30 s for a first event.
func (a *API) readFeed(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	if err := a.rateLimit(w, tok); err != nil {
		return err
	}
	account, err := accountOf(r, tok, true)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	o := feed.Options{Oldest: true}
	if o.Limit, err = limitParam(q); err != nil {
		return err
	}
	if v := q.Get("wait"); v != "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs < 0 || secs > feed.MaxWait.Seconds() || math.IsNaN(secs) {
			return invalidField("wait", "seconds from 0 to 30")
		}
		o.Wait = time.Duration(secs * float64(time.Second))
	}
	c, since := q.Get("cursor"), q.Get("since")
	switch {
	case c != "" && since != "":
		return badRequest("give cursor or since, not both", FieldError{"since", "not with cursor"})
	case c != "":
		cur, err := feed.ParseCursor(c)
		if err != nil {
			return badRequest("cursor: not a cursor this API returned", FieldError{"cursor", "not a cursor this API returned"})
		}
		o.After, o.Oldest = cur, false
	case since != "":
		t, err := time.Parse(time.RFC3339Nano, since)
		if err != nil {
			return invalidField("since", "an RFC 3339 time such as 2026-01-02T15:04:05Z")
		}
		o.Since = t
	}
	sel, err := selectionParams(q, account)
	if err != nil {
		return err
	}
	groups, err := a.groupsOf(r.Context())
	if err != nil {
		return err
	}
	f, err := groups.Filter(r.Context(), sel)
	if errors.Is(err, subscription.ErrNoVehicles) {
		// Its groups are empty: nothing to read; the cursor stays.
		next := q.Get("cursor")
		if next == "" {
			next = o.After.String()
		}
		return writeCompactJSON(w, FeedPage{Items: []FeedItem{}, Next: next})
	}
	if err != nil {
		return err
	}
	if o.Subjects = f.Subjects(); len(o.Subjects) > maxFeedSubjects {
		return invalid("the filter is too large: vehicles × events may be at most 1000",
			FieldError{"vehicles", "too many vehicles for these event types"})
	}
	o.Match = f.MatchesEvent
	page, err := a.feed.reader.Read(r.Context(), o)
	var exp *feed.ExpiredError
	switch {
	case errors.As(err, &exp):
		return expiredProblem(exp, "the cursor is older than the oldest stored event; start again from oldestCursor (received at oldest)")
	case errors.Is(err, feed.ErrCursorAhead):
		return badRequest("cursor: beyond the last stored event (a cursor of another hub?)", FieldError{"cursor", "beyond the last stored event"})
	case err != nil:
		return err
	}
	return writeCompactJSON(w, FeedPage{Items: page.Items, Next: page.Next.String(), More: page.More})
}

// vehicleEvents: GET /v1/vehicles/{id}/events?fromSeq=N&limit=&subscription=.
// The vehicle's events with seq ≥ fromSeq in seq order; with subscription,
// those its filter does not deliver are listed under skipped instead.
func (a *API) vehicleEvents(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	if err := a.rateLimit(w, tok); err != nil {
		return err
	}
	account, err := accountOf(r, tok, true)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if event.ValidToken("vehicle", id) != nil {
		return notFound("vehicle " + id)
	}
	q := r.URL.Query()
	o := feed.VehicleOptions{Account: account, Vehicle: id, FromSeq: 1}
	if o.Limit, err = limitParam(q); err != nil {
		return err
	}
	if v := q.Get("fromSeq"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n < 1 {
			return invalidField("fromSeq", "a vehicle seq, from 1")
		}
		o.FromSeq = n
	}
	var filter *subscription.Filter
	var subID string
	noVehicle := false
	if subID = q.Get("subscription"); subID != "" {
		s, _, err := a.cfg.Subscriptions.Get(r.Context(), subID)
		if err != nil {
			return storeError(err, subID)
		}
		if !sees(tok, s.Account) || s.Account != account {
			return notFound("subscription " + subID)
		}
		groups, err := a.groupsOf(r.Context())
		if err != nil {
			return err
		}
		f, err := groups.Filter(r.Context(), s)
		switch {
		case errors.Is(err, subscription.ErrNoVehicles):
			noVehicle = true // only empty groups: it delivers none of these
		case err != nil:
			return err
		}
		filter = &f
	}
	page, err := a.feed.reader.Vehicle(r.Context(), o)
	var exp *feed.ExpiredError
	switch {
	case errors.Is(err, feed.ErrNoEvents):
		return notFound("vehicle " + id)
	case errors.As(err, &exp):
		return expiredProblem(exp, "events of vehicle "+id+" before seq "+strconv.FormatUint(exp.OldestSeq, 10)+
			" are no longer stored on the hub (retention, or never forwarded); read from oldestSeq")
	case err != nil:
		return err
	}
	out := VehicleEvents{Account: account, Vehicle: id, Subscription: subID, Items: []FeedItem{}, Skipped: []Skipped{},
		Missing: []SeqRange{}, Next: page.Next, More: page.More, OldestSeq: page.OldestSeq, LastSeq: page.LastSeq}
	want := o.FromSeq
	for _, it := range page.Items {
		if it.Seq > want {
			out.Missing = append(out.Missing, SeqRange{want, it.Seq - 1})
		}
		want = it.Seq + 1
		if filter != nil {
			ok, reason := filter.CheckEvent(it.Subject, it.Event)
			if noVehicle {
				ok, reason = false, subscription.ReasonVehicle
			}
			if !ok {
				out.Skipped = append(out.Skipped, Skipped{Seq: it.Seq, Type: it.Type, Reason: reason})
				continue
			}
		}
		out.Items = append(out.Items, it)
	}
	return writeCompactJSON(w, out)
}

// expiredProblem is the 410 of a start older than the stream's retention.
func expiredProblem(e *feed.ExpiredError, detail string) *Problem {
	p := problem(http.StatusGone, "expired", "Gone", detail)
	p.OldestCursor = e.Oldest.String()
	p.OldestSeq = e.OldestSeq
	if !e.OldestTime.IsZero() {
		p.Oldest = e.OldestTime.UTC().Format(time.RFC3339Nano)
	}
	return p
}

// limitParam reads ?limit= (default 100, 1 to 1000).
func limitParam(q url.Values) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return feed.DefaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > feed.MaxLimit {
		return 0, invalidField("limit", "a number from 1 to 1000")
	}
	return n, nil
}

// selectionParams reads the filter parameters (each a comma-separated
// list, or repeated) as the subscription they stand for.
func selectionParams(q url.Values, account string) (subscription.Subscription, error) {
	s := subscription.Subscription{Account: account}
	for _, p := range []struct {
		name  string
		dst   *[]string
		check func(string) error
	}{
		{"events", &s.Events, func(v string) error {
			if v == subscription.AllEvents {
				return nil
			}
			return event.ValidToken("event type", event.TypeToken(event.Type(v)))
		}},
		{"vehicles", &s.Vehicles, func(v string) error { return event.ValidToken("vehicle", v) }},
		{"vehicle_groups", &s.VehicleGroups, func(v string) error { return event.ValidToken("vehicle group", v) }},
		{"geofence_tags", &s.GeofenceTags, func(string) error { return nil }},
	} {
		for _, raw := range q[p.name] {
			for v := range strings.SplitSeq(raw, ",") {
				if v = strings.TrimSpace(v); v == "" {
					continue
				}
				if err := p.check(v); err != nil {
					return s, invalidField(p.name, err.Error())
				}
				*p.dst = append(*p.dst, v)
			}
		}
	}
	return s, nil
}

// writeCompactJSON answers 200 with v as compact JSON, HTML characters
// unescaped, so that stored envelopes appear byte for byte.
func writeCompactJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// limiter is a token bucket per key (API token id).
type limiter struct {
	rate, burst float64
	now         func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	if now == nil {
		now = time.Now
	}
	return &limiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// set changes the rate and burst (0 rate: unlimited) and forgets the buckets.
func (l *limiter) set(rate float64, burst int) {
	l.mu.Lock()
	l.rate, l.burst, l.buckets = rate, float64(burst), map[string]*bucket{}
	l.mu.Unlock()
}

// allow takes a token from key's bucket; when empty, it says how long
// until the next one.
func (l *limiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate <= 0 {
		return true, 0 // unlimited
	}
	now := l.now()
	if now.Sub(l.lastSweep) > time.Minute {
		// Forget full buckets: they are as a new one.
		full := time.Duration(l.burst / l.rate * float64(time.Second))
		for k, b := range l.buckets {
			if now.Sub(b.at) >= full {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}
