package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/deliverylog"
	"github.com/fleetwire/fleetwire/cloud/dispatch"
	"github.com/fleetwire/fleetwire/cloud/fencestore"
	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/cloud/identities"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/cloud/tokens"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// env is a real hub, dispatcher and API on a loopback HTTP server, with
// tokens of two accounts.
type env struct {
	t        *testing.T
	ctx      context.Context
	hub      *hub.Hub
	subs     *subscription.Store
	log      *deliverylog.Log
	srv      *httptest.Server
	tok      map[string]string // operator, admin, viewer (account acme), other (admin of account other)
	tokenIDs map[string]string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	h, err := hub.Open(ctx, hub.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	subs, err := subscription.Open(ctx, h.JS, subscription.StoreConfig{AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	dlog, err := deliverylog.Open(ctx, h.JS, deliverylog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	fences, err := fencestore.Open(ctx, h.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := tokens.Open(ctx, h.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dispatch.New(h.JS, dispatch.Config{AllowHTTP: true, AllowPrivate: true, Log: dlog,
		RetrySchedule: []time.Duration{50 * time.Millisecond}, ImmediateRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	dctx, dcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(dctx, subs) }()
	t.Cleanup(func() {
		dcancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("dispatcher: %v", err)
		}
	})
	ids, err := identities.Open(ctx, h.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	handler, err := New(Config{Hub: h, Subscriptions: subs, Dispatcher: d, Deliveries: dlog, Fences: fences, Tokens: toks, Identities: ids,
		AllowHTTP: true, MaxBody: 4096, MaxGeoJSON: 64 << 10, LiveHeartbeat: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	e := &env{t: t, ctx: ctx, hub: h, subs: subs, log: dlog, srv: srv, tok: map[string]string{}, tokenIDs: map[string]string{}}
	for name, tk := range map[string]tokens.Token{
		"operator": {Role: tokens.Operator}, "admin": {Account: "acme", Role: tokens.Admin},
		"viewer": {Account: "acme", Role: tokens.Viewer}, "other": {Account: "other", Role: tokens.Admin},
	} {
		secret, stored, err := toks.Create(ctx, tk)
		if err != nil {
			t.Fatal(err)
		}
		e.tok[name], e.tokenIDs[name] = secret, stored.ID
	}
	return e
}

// response is an answer read whole.
type response struct {
	status  int
	header  http.Header
	body    []byte
	problem Problem
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %s: %v", r.body, err)
	}
}

// do sends a request as who (a token name, or "" for none); body is sent
// as is when a string, else as JSON.
func (e *env) do(who, method, path string, body any) response {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+e.tok[who])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	out := response{status: res.StatusCode, header: res.Header, body: b}
	if res.StatusCode >= 400 {
		if got := res.Header.Get("Content-Type"); got != "application/problem+json" {
			e.t.Fatalf("%s %s: %d with Content-Type %q, want problem+json: %s", method, path, res.StatusCode, got, b)
		}
		if err := json.Unmarshal(b, &out.problem); err != nil {
			e.t.Fatalf("%s %s: problem %s: %v", method, path, b, err)
		}
		if out.problem.Status != res.StatusCode || out.problem.Type == "" || out.problem.Title == "" {
			e.t.Fatalf("%s %s: incomplete problem %s", method, path, b)
		}
	}
	return out
}

// must sends a request and fails unless the status is want.
func (e *env) must(want int, who, method, path string, body any) response {
	e.t.Helper()
	r := e.do(who, method, path, body)
	if r.status != want {
		e.t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, who, r.status, want, r.body)
	}
	return r
}

// publish stores an event on the hub as an edge forwarder would.
func (e *env) publish(account, vehicle string, seq uint64, typ event.Type) event.Event {
	e.t.Helper()
	ev := event.Event{ID: event.NewID(time.Now()), Type: typ, SchemaVersion: event.SchemaVersion,
		OccurredAt: event.Time{Time: time.Now()}, Account: account, Vehicle: event.Vehicle{ID: vehicle, Name: "Truck " + vehicle}, Seq: seq,
		Location: &event.Location{Lat: 49.01, Lon: 12.1}}
	b, _ := ev.Marshal()
	m := &nats.Msg{Subject: ev.Subject(), Data: b, Header: nats.Header{event.HeaderSeq: []string{strconv.FormatUint(seq, 10)}}}
	if _, err := e.hub.JS.PublishMsg(e.ctx, m, jetstream.WithMsgID(ev.ID)); err != nil {
		e.t.Fatal(err)
	}
	return ev
}

// waitConsumer waits for the dispatcher to start a subscription's consumer.
func (e *env) waitConsumer(id string) {
	e.t.Helper()
	for {
		if _, err := e.hub.JS.Consumer(e.ctx, "EVENTS", "sub-"+id); err == nil {
			return
		}
		select {
		case <-e.ctx.Done():
			e.t.Fatalf("consumer of %s never created", id)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitRecords waits until the subscription's log holds n records.
func (e *env) waitRecords(id string, n int) []deliverylog.Entry {
	e.t.Helper()
	for {
		p, err := e.log.List(e.ctx, id, deliverylog.Query{Limit: 100})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(p.Records) >= n {
			return p.Records
		}
		select {
		case <-e.ctx.Done():
			e.t.Fatalf("%s: %d records, want %d", id, len(p.Records), n)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// sse reads Server-Sent Events.
type sse struct {
	res *http.Response
	br  *bufio.Reader
}

func (e *env) openLive(who, query string) (*sse, int) {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(e.ctx, "GET", e.srv.URL+"/v1/events/live"+query, nil)
	req.Header.Set("Authorization", "Bearer "+e.tok[who])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if res.StatusCode != 200 {
		res.Body.Close()
		return nil, res.StatusCode
	}
	s := &sse{res: res, br: bufio.NewReader(res.Body)}
	e.t.Cleanup(func() { res.Body.Close() })
	return s, 200
}

// next returns the next event's fields (comments skipped).
func (s *sse) next(t *testing.T) map[string]string {
	t.Helper()
	fields := map[string]string{}
	for {
		line, err := s.br.ReadString('\n')
		if err != nil {
			t.Fatalf("live feed: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && len(fields) > 0:
			return fields
		case line == "", strings.HasPrefix(line, ":"):
		default:
			k, v, _ := strings.Cut(line, ": ")
			fields[k] = v
		}
	}
}

// comment reads up to the first comment line (the feed's opening).
func (s *sse) comment(t *testing.T) {
	t.Helper()
	for {
		line, err := s.br.ReadString('\n')
		if err != nil {
			t.Fatalf("live feed: %v", err)
		}
		if strings.HasPrefix(line, ":") {
			return
		}
	}
}
