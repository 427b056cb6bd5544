package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/shared/event"
)

func TestSubscriptionLifecycle(t *testing.T) {
	e := newEnv(t)
	rcv, err := receiver.Start("127.0.0.1:0", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()

	var created SubscriptionView
	e.must(201, "admin", "POST", "/v1/subscriptions", map[string]any{
		"id": "board", "url": rcv.URL(), "secret": testSecret, "events": []string{"position", "geofence.entered"}, "name": "Dispatch board",
	}).json(t, &created)
	if created.Secret != testSecret || created.Account != "acme" || created.State != "active" {
		t.Fatalf("created %+v", created)
	}
	// Secrets appear on create and rotate only.
	for _, path := range []string{"/v1/subscriptions/board", "/v1/subscriptions"} {
		if r := e.must(200, "viewer", "GET", path, nil); strings.Contains(string(r.body), "whsec_") || strings.Contains(string(r.body), `"secret"`) {
			t.Fatalf("GET %s shows a secret: %s", path, r.body)
		}
	}
	var list struct{ Items []SubscriptionView }
	e.must(200, "viewer", "GET", "/v1/subscriptions", nil).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != "board" {
		t.Fatalf("list %+v", list)
	}
	// A generated id.
	var gen SubscriptionView
	e.must(201, "admin", "POST", "/v1/subscriptions", map[string]any{"url": "https://example.com/hook"}).json(t, &gen)
	if !strings.HasPrefix(gen.ID, "sub_") || !strings.HasPrefix(gen.Secret, "whsec_") {
		t.Fatalf("generated %+v", gen)
	}
	e.must(409, "admin", "POST", "/v1/subscriptions", map[string]any{"id": "board", "url": rcv.URL()})

	var patched SubscriptionView
	e.must(200, "admin", "PATCH", "/v1/subscriptions/board", map[string]any{"events": []string{"*"}, "retrySchedule": []string{"1s", "2m"}}).json(t, &patched)
	if !slices.Equal(patched.Events, []string{"*"}) || !slices.Equal(patched.RetrySchedule, []string{"1s", "2m0s"}) || patched.Name != "Dispatch board" {
		t.Fatalf("patched %+v", patched)
	}

	// Delivery, then the log through the API.
	e.waitConsumer("board")
	ev := e.publish("acme", "truck-1", 1, event.TypePosition)
	if _, err := rcv.WaitFor(e.ctx, 1); err != nil {
		t.Fatal(err)
	}
	e.waitRecords("board", 1)
	var page DeliveryPage
	e.must(200, "viewer", "GET", "/v1/subscriptions/board/deliveries?status=delivered&limit=10", nil).json(t, &page)
	if len(page.Items) != 1 || page.Items[0].EventID != ev.ID || page.Items[0].StatusCode != 204 || page.Items[0].Request == "" {
		t.Fatalf("deliveries %+v", page)
	}
	e.must(200, "viewer", "GET", "/v1/subscriptions/board/deliveries?status=failed", nil).json(t, &page)
	if len(page.Items) != 0 {
		t.Fatalf("failed deliveries %+v", page)
	}
	var detail DeliveryDetail
	e.must(200, "viewer", "GET", "/v1/subscriptions/board/deliveries/"+ev.ID, nil).json(t, &detail)
	if len(detail.Attempts) != 1 || detail.Attempts[0].Outcome != "ok" {
		t.Fatalf("detail %+v", detail)
	}
	e.must(404, "viewer", "GET", "/v1/subscriptions/board/deliveries/"+event.NewID(time.Now()), nil)

	var st struct {
		State     string
		Delivered int
		Pending   uint64
	}
	e.must(200, "viewer", "GET", "/v1/subscriptions/board/status", nil).json(t, &st)
	if st.State != "active" || st.Delivered != 1 {
		t.Fatalf("status %+v", st)
	}

	// A test delivery reaches the receiver, signed with the secret.
	var at AttemptView
	e.must(200, "admin", "POST", "/v1/subscriptions/board/test", map[string]string{"type": "geofence.entered"}).json(t, &at)
	if !at.Delivered || at.StatusCode != 204 || at.EventType != "geofence.entered" {
		t.Fatalf("test attempt %+v", at)
	}
	if rcv.Rejected() != 0 {
		t.Fatal("receiver rejected a signature")
	}
	// Every type of the catalogue has a test event that is a valid event,
	// the corrections included (they need corrects and content).
	for _, ti := range event.Catalogue() {
		e.must(200, "admin", "POST", "/v1/subscriptions/board/test", map[string]string{"type": string(ti.Type)}).json(t, &at)
		ds := rcv.Deliveries()
		var sent event.Event
		err := json.Unmarshal(ds[len(ds)-1].Body, &sent)
		if err == nil {
			// Test events carry seq 0: they are outside the vehicle's numbering.
			sent.Provenance, sent.Seq = nil, 1
			err = sent.Validate()
		}
		if !at.Delivered || err != nil {
			t.Fatalf("test event of type %s: delivered %v, %v", ti.Type, at.Delivered, err)
		}
	}

	var v SubscriptionView
	e.must(200, "admin", "POST", "/v1/subscriptions/board/pause", nil).json(t, &v)
	if v.State != "paused" {
		t.Fatalf("pause: %+v", v)
	}
	e.must(200, "admin", "POST", "/v1/subscriptions/board/resume", "{}").json(t, &v)
	if v.State != "active" {
		t.Fatalf("resume: %+v", v)
	}
	info, err := e.hub.Events.Info(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	since := info.State.FirstTime.UTC().Format(time.RFC3339Nano)
	e.must(200, "admin", "POST", "/v1/subscriptions/board/replay", map[string]string{"since": since}).json(t, &v)
	if v.Epoch != patched.Epoch+1 || v.StartAt.IsZero() {
		t.Fatalf("replay: %+v", v)
	}

	e.must(200, "admin", "POST", "/v1/subscriptions/board/rotate-secret", map[string]string{"overlap": "1h"}).json(t, &v)
	if !strings.HasPrefix(v.Secret, "whsec_") || v.Secret == testSecret || v.PreviousSecretUntil.IsZero() {
		t.Fatalf("rotate: %+v", v)
	}
	stored, _, err := e.subs.Get(e.ctx, "board")
	if err != nil || stored.Secret != v.Secret || stored.PreviousSecret != testSecret {
		t.Fatalf("stored after rotation: %+v, %v", stored, err)
	}

	e.must(204, "admin", "DELETE", "/v1/subscriptions/board", nil)
	e.must(404, "viewer", "GET", "/v1/subscriptions/board", nil)
}

// TestResumeDeactivated: a deactivated subscription restarts with new
// events only, in a new epoch.
func TestResumeDeactivated(t *testing.T) {
	e := newEnv(t)
	var before SubscriptionView
	e.must(201, "admin", "POST", "/v1/subscriptions", map[string]any{"id": "gone", "url": "https://example.com/hook"}).json(t, &before)
	if _, err := e.subs.Update(e.ctx, "gone", func(s *subscription.Subscription) error {
		s.State, s.StateReason = "deactivated", "410 Gone"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.must(409, "admin", "POST", "/v1/subscriptions/gone/pause", nil)
	var v SubscriptionView
	e.must(200, "admin", "POST", "/v1/subscriptions/gone/resume", nil).json(t, &v)
	if v.State != "active" || v.Epoch != before.Epoch+1 || !v.StartAt.IsZero() {
		t.Fatalf("resumed %+v", v)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.must(201, "admin", "POST", "/v1/subscriptions", map[string]any{"id": "s1", "url": "https://example.com/hook"})
	e.publish("acme", "v1", 1, event.TypePosition)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	big := `{"url":"https://example.com/` + strings.Repeat("a", 5000) + `"}`
	cases := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"unknown field", "POST", "/v1/subscriptions", `{"url":"https://example.com/h","colour":"red"}`, 400, "colour"},
		{"bad url", "POST", "/v1/subscriptions", `{"url":"ftp://example.com/h"}`, 422, "url"},
		{"relative url", "POST", "/v1/subscriptions", `{"url":"/hook"}`, 422, "url"},
		{"missing url", "POST", "/v1/subscriptions", `{"id":"x"}`, 422, "url"},
		{"bad id", "POST", "/v1/subscriptions", `{"id":"a b","url":"https://example.com/h"}`, 422, "id"},
		{"unknown event type", "POST", "/v1/subscriptions", `{"url":"https://example.com/h","events":["position","teleported"]}`, 422, "events[1]"},
		{"bad retry wait", "POST", "/v1/subscriptions", `{"url":"https://example.com/h","retrySchedule":["5m","-1s"]}`, 422, "retrySchedule[1]"},
		{"bad secret", "POST", "/v1/subscriptions", `{"url":"https://example.com/h","secret":"hunter2"}`, 422, "secret"},
		{"wrong type", "POST", "/v1/subscriptions", `{"url":"https://example.com/h","events":"position"}`, 400, "events"},
		{"max in flight without vehicle ordering", "PATCH", "/v1/subscriptions/s1", `{"maxInFlight":5}`, 422, "maxInFlight"},
		{"malformed", "POST", "/v1/subscriptions", `{"url":`, 400, ""},
		{"two values", "POST", "/v1/subscriptions", `{"url":"https://example.com/h"} {}`, 400, ""},
		{"oversized", "POST", "/v1/subscriptions", big, 413, ""},
		{"patch secret", "PATCH", "/v1/subscriptions/s1", `{"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`, 400, "secret"},
		{"patch bad url", "PATCH", "/v1/subscriptions/s1", `{"url":"not a url"}`, 422, "url"},
		{"since in the future", "POST", "/v1/subscriptions/s1/replay", `{"since":"` + future + `"}`, 422, "since"},
		{"since before the stream", "POST", "/v1/subscriptions/s1/replay", `{"since":"` + past + `"}`, 422, "since"},
		{"since not a time", "POST", "/v1/subscriptions/s1/replay", `{"since":"yesterday"}`, 422, "since"},
		{"replay without body", "POST", "/v1/subscriptions/s1/replay", nil, 400, ""},
		{"bad overlap", "POST", "/v1/subscriptions/s1/rotate-secret", `{"overlap":"1y"}`, 422, "overlap"},
		{"unknown test type", "POST", "/v1/subscriptions/s1/test", `{"type":"teleported"}`, 422, "type"},
		{"body on pause", "POST", "/v1/subscriptions/s1/pause", `{"now":true}`, 400, "now"},
		{"bad status filter", "GET", "/v1/subscriptions/s1/deliveries?status=meh", nil, 422, "status"},
		{"bad limit", "GET", "/v1/subscriptions/s1/deliveries?limit=0", nil, 422, "limit"},
		{"bad cursor", "GET", "/v1/subscriptions/s1/deliveries?cursor=xyz", nil, 422, "cursor"},
		{"bad event id", "GET", "/v1/subscriptions/s1/deliveries/nope", nil, 422, "eventId"},
		{"bad token role", "POST", "/v1/tokens", `{"role":"root"}`, 422, "role"},
		{"geojson not a fence", "POST", "/v1/geofences", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"x"},"geometry":{"type":"Point","coordinates":[12,49]}}]}`, 422, "features[0]"},
		{"geojson malformed", "PUT", "/v1/geofences/x", `{"type":`, 400, ""},
		{"put a collection", "PUT", "/v1/geofences/x", `{"type":"FeatureCollection","features":[]}`, 422, "type"},
		{"vehicle limit", "GET", "/v1/vehicles?limit=5000", nil, 422, "limit"},
		{"method", "PUT", "/v1/subscriptions", `{}`, 405, ""},
		{"route", "GET", "/v1/nothing", nil, 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("admin", c.method, c.path, c.body)
			if r.status != c.status {
				t.Fatalf("%d, want %d: %s", r.status, c.status, r.body)
			}
			if c.field == "" {
				return
			}
			for _, f := range r.problem.Errors {
				if f.Field == c.field {
					return
				}
			}
			t.Fatalf("problem does not name field %q: %s", c.field, r.body)
		})
	}
	r := e.do("admin", "POST", "/v1/subscriptions/s1/replay", `{"since":"`+past+`"}`)
	if r.problem.Oldest == "" {
		t.Fatalf("replay problem lacks the oldest time: %s", r.body)
	}
	r = e.do("admin", "POST", "/v1/subscriptions", strings.NewReplacer().Replace(`{"url":"https://example.com/h"}`))
	if r.status != 201 {
		t.Fatalf("a good request after bad ones: %d %s", r.status, r.body)
	}
	req, _ := http.NewRequestWithContext(e.ctx, "POST", e.srv.URL+"/v1/subscriptions", strings.NewReader(`url=x`))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+e.tok["admin"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 415 {
		t.Fatalf("form body: %d, want 415", res.StatusCode)
	}
}

func TestAuthAndRoles(t *testing.T) {
	e := newEnv(t)
	e.must(201, "admin", "POST", "/v1/subscriptions", map[string]any{"id": "s1", "url": "https://example.com/hook"})
	cases := []struct {
		who, method, path string
		body              any
		status            int
	}{
		{"", "GET", "/v1/subscriptions", nil, 401},
		{"viewer", "POST", "/v1/subscriptions", `{"url":"https://example.com/h"}`, 403},
		{"viewer", "POST", "/v1/subscriptions/s1/pause", nil, 403},
		{"viewer", "DELETE", "/v1/subscriptions/s1", nil, 403},
		{"viewer", "POST", "/v1/tokens", `{"role":"viewer"}`, 403},
		{"viewer", "POST", "/v1/geofences", `{}`, 403},
		{"admin", "GET", "/v1/streams", nil, 403},
		{"admin", "POST", "/v1/tokens", `{"role":"operator"}`, 403},
		{"operator", "GET", "/v1/streams", nil, 200},
		{"operator", "GET", "/v1/vehicles", nil, 422}, // must name the account
		{"operator", "GET", "/v1/vehicles?account=acme", nil, 200},
		{"operator", "GET", "/v1/subscriptions/s1", nil, 200},
		{"", "GET", "/v1/openapi.json", nil, 200},
	}
	for _, c := range cases {
		if r := e.do(c.who, c.method, c.path, c.body); r.status != c.status {
			t.Errorf("%s %s as %q: %d, want %d: %s", c.method, c.path, c.who, r.status, c.status, r.body)
		}
	}
	req, _ := http.NewRequestWithContext(e.ctx, "GET", e.srv.URL+"/v1/subscriptions", nil)
	req.Header.Set("Authorization", "Bearer fwt_"+strings.Repeat("A", 43))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("unknown token: %d", res.StatusCode)
	}

	// Tokens: an admin creates a viewer of its account, which works, and revokes it.
	var tok CreatedToken
	e.must(201, "admin", "POST", "/v1/tokens", map[string]string{"role": "viewer", "name": "dashboard"}).json(t, &tok)
	if tok.Account != "acme" || !strings.HasPrefix(tok.Value, "fwt_") {
		t.Fatalf("created token %+v", tok)
	}
	e.tok["new"] = tok.Value
	e.must(200, "new", "GET", "/v1/subscriptions/s1", nil)
	var list struct{ Items []struct{ ID, Token string } }
	e.must(200, "admin", "GET", "/v1/tokens", nil).json(t, &list)
	if len(list.Items) != 3 { // admin, viewer, new
		t.Fatalf("tokens %+v", list.Items)
	}
	for _, it := range list.Items {
		if it.Token != "" {
			t.Fatal("token list shows a token value")
		}
	}
	e.must(204, "admin", "DELETE", "/v1/tokens/"+tok.ID, nil)
	e.must(401, "new", "GET", "/v1/subscriptions/s1", nil)
	var op CreatedToken
	e.must(201, "operator", "POST", "/v1/tokens", map[string]string{"role": "admin", "account": "newco"}).json(t, &op)
	if op.Account != "newco" {
		t.Fatalf("operator-made token %+v", op)
	}
}

// TestCrossAccount: a token of account "other" reaches none of acme's
// objects through any route: 404 for acme's objects, and lists without
// them. Every account-scoped route must have a case.
func TestCrossAccount(t *testing.T) {
	e := newEnv(t)
	rcv, err := receiver.Start("127.0.0.1:0", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	var created SubscriptionView
	e.must(201, "admin", "POST", "/v1/subscriptions", map[string]any{"id": "acme-sub", "url": rcv.URL(), "secret": testSecret}).json(t, &created)
	e.must(200, "admin", "PUT", "/v1/geofences/depot", `{"type":"Feature","properties":{"radius":200},"geometry":{"type":"Point","coordinates":[12.1,49.01]}}`)
	e.waitConsumer("acme-sub")
	ev := e.publish("acme", "acme-truck", 1, event.TypePosition)
	e.waitRecords("acme-sub", 1)
	truckKey, credKey := newPublicKey(t), newPublicKey(t)
	e.must(200, "admin", "PUT", "/v1/vehicles/acme-truck/key", map[string]any{"key": truckKey})
	e.must(201, "admin", "POST", "/v1/nats-credentials", map[string]any{"key": credKey})

	sub := "/v1/subscriptions/acme-sub"
	notFound := func(r response) error {
		if r.status != 404 {
			return fmt.Errorf("%d, want 404", r.status)
		}
		return nil
	}
	excludes := func(needle string) func(r response) error {
		return func(r response) error {
			if r.status != 200 || strings.Contains(string(r.body), needle) {
				return fmt.Errorf("%d, shows %q: %s", r.status, needle, r.body)
			}
			return nil
		}
	}
	cases := map[string]struct {
		method, path string
		body         any
		check        func(response) error
	}{
		"POST /v1/tokens":                                 {"POST", "/v1/tokens", `{"account":"acme","role":"admin"}`, notFound},
		"GET /v1/tokens":                                  {"GET", "/v1/tokens", nil, excludes(e.tokenIDs["admin"])},
		"DELETE /v1/tokens/{id}":                          {"DELETE", "/v1/tokens/" + e.tokenIDs["viewer"], nil, notFound},
		"GET /v1/subscriptions":                           {"GET", "/v1/subscriptions", nil, excludes("acme-sub")},
		"POST /v1/subscriptions":                          {"POST", "/v1/subscriptions", `{"account":"acme","url":"https://example.com/x"}`, notFound},
		"GET /v1/subscriptions/{id}":                      {"GET", sub, nil, notFound},
		"PATCH /v1/subscriptions/{id}":                    {"PATCH", sub, `{"url":"https://evil.example/x"}`, notFound},
		"DELETE /v1/subscriptions/{id}":                   {"DELETE", sub, nil, notFound},
		"POST /v1/subscriptions/{id}/test":                {"POST", sub + "/test", nil, notFound},
		"POST /v1/subscriptions/{id}/pause":               {"POST", sub + "/pause", nil, notFound},
		"POST /v1/subscriptions/{id}/resume":              {"POST", sub + "/resume", nil, notFound},
		"POST /v1/subscriptions/{id}/replay":              {"POST", sub + "/replay", `{"since":"2020-01-01T00:00:00Z"}`, notFound},
		"POST /v1/subscriptions/{id}/rotate-secret":       {"POST", sub + "/rotate-secret", nil, notFound},
		"GET /v1/subscriptions/{id}/status":               {"GET", sub + "/status", nil, notFound},
		"GET /v1/subscriptions/{id}/deliveries":           {"GET", sub + "/deliveries", nil, notFound},
		"GET /v1/subscriptions/{id}/deliveries/{eventId}": {"GET", sub + "/deliveries/" + ev.ID, nil, notFound},
		"GET /v1/geofences":                               {"GET", "/v1/geofences", nil, excludes("depot")},
		"POST /v1/geofences":                              {"POST", "/v1/geofences?account=acme", `{"type":"FeatureCollection","features":[]}`, notFound},
		"GET /v1/geofences/{id}":                          {"GET", "/v1/geofences/depot", nil, notFound},
		"PUT /v1/geofences/{id}":                          {"PUT", "/v1/geofences/depot?account=acme", `{"type":"Feature","properties":{"radius":1},"geometry":{"type":"Point","coordinates":[0,0]}}`, notFound},
		"DELETE /v1/geofences/{id}":                       {"DELETE", "/v1/geofences/depot", nil, notFound},
		"GET /v1/vehicles":                                {"GET", "/v1/vehicles", nil, excludes("acme-truck")},
		"GET /v1/events/live":                             {"GET", "/v1/events/live?account=acme", nil, notFound},
		"GET /v1/feed":                                    {"GET", "/v1/feed", nil, excludes("acme-truck")},
		"GET /v1/vehicles/{id}/events":                    {"GET", "/v1/vehicles/acme-truck/events", nil, notFound},
		"GET /v1/vehicles/{id}/key":                       {"GET", "/v1/vehicles/acme-truck/key", nil, notFound},
		"PUT /v1/vehicles/{id}/key":                       {"PUT", "/v1/vehicles/acme-truck/key?account=acme", map[string]any{"key": newPublicKey(t)}, notFound},
		"DELETE /v1/vehicles/{id}/key":                    {"DELETE", "/v1/vehicles/acme-truck/key", nil, notFound},
		"GET /v1/nats-credentials":                        {"GET", "/v1/nats-credentials", nil, excludes(credKey)},
		"POST /v1/nats-credentials":                       {"POST", "/v1/nats-credentials?account=acme", nil, notFound},
		"DELETE /v1/nats-credentials/{key}":               {"DELETE", "/v1/nats-credentials/" + credKey, nil, notFound},
	}
	// Extra cases: the account named explicitly.
	extra := []struct{ method, path string }{
		{"GET", "/v1/subscriptions?account=acme"}, {"GET", "/v1/geofences?account=acme"}, {"GET", "/v1/vehicles?account=acme"},
		{"GET", "/v1/tokens?account=acme"}, {"GET", "/v1/geofences/depot?account=acme"}, {"DELETE", "/v1/geofences/depot?account=acme"},
		{"GET", "/v1/feed?account=acme"}, {"GET", "/v1/vehicles/acme-truck/events?account=acme"},
	}
	a := &API{}
	for _, rt := range a.routes() {
		if !rt.Scoped {
			continue
		}
		key := rt.Method + " " + rt.Pattern
		c, ok := cases[key]
		if !ok {
			t.Errorf("no cross-account case for %s", key)
			continue
		}
		t.Run(key, func(t *testing.T) {
			if err := c.check(e.do("other", c.method, c.path, c.body)); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, x := range extra {
		if r := e.do("other", x.method, x.path, nil); r.status != 404 {
			t.Errorf("%s %s as other: %d, want 404", x.method, x.path, r.status)
		}
	}
	// acme's objects are untouched.
	var v SubscriptionView
	e.must(200, "admin", "GET", sub, nil).json(t, &v)
	if v.URL != rcv.URL() || v.State != "active" || v.Epoch != created.Epoch {
		t.Fatalf("acme's subscription changed: %+v", v)
	}
	e.must(200, "admin", "GET", "/v1/geofences/depot", nil)
	var key struct{ Key string }
	e.must(200, "admin", "GET", "/v1/vehicles/acme-truck/key", nil).json(t, &key)
	if key.Key != truckKey {
		t.Fatalf("acme's vehicle key changed: %s", key.Key)
	}
	if n := len(rcv.Deliveries()); n != 1 {
		t.Fatalf("receiver got %d deliveries, want 1 (no test event from other)", n)
	}
	// And the other way round, the operator sees both.
	e.must(201, "other", "POST", "/v1/subscriptions", map[string]any{"id": "other-sub", "url": "https://example.com/o"})
	var all struct{ Items []SubscriptionView }
	e.must(200, "operator", "GET", "/v1/subscriptions", nil).json(t, &all)
	if len(all.Items) != 2 {
		t.Fatalf("operator sees %d subscriptions", len(all.Items))
	}
	e.must(200, "operator", "GET", "/v1/subscriptions?account=other", nil).json(t, &all)
	if len(all.Items) != 1 || all.Items[0].ID != "other-sub" {
		t.Fatalf("operator filtered %+v", all.Items)
	}
}

func TestGeofences(t *testing.T) {
	e := newEnv(t)
	coll := `{"type":"FeatureCollection","features":[
	 {"type":"Feature","properties":{"id":"depot","name":"Depot","radius":150,"tags":["depot"]},"geometry":{"type":"Point","coordinates":[12.1,49.01]}},
	 {"type":"Feature","properties":{"id":"yard"},"geometry":{"type":"Polygon","coordinates":[[[12,49],[12.01,49],[12.01,49.01],[12,49.01],[12,49]]]}}]}`
	var imp struct {
		Account  string
		Imported []string
	}
	e.must(200, "admin", "POST", "/v1/geofences", coll).json(t, &imp)
	if imp.Account != "acme" || !slices.Equal(imp.Imported, []string{"depot", "yard"}) {
		t.Fatalf("import %+v", imp)
	}
	r := e.must(200, "viewer", "GET", "/v1/geofences", nil)
	if ct := r.header.Get("Content-Type"); ct != "application/geo+json" {
		t.Fatalf("content type %q", ct)
	}
	var fc struct {
		Type     string
		Features []struct {
			Properties map[string]any
		}
	}
	r.json(t, &fc)
	if fc.Type != "FeatureCollection" || len(fc.Features) != 2 || fc.Features[0].Properties["id"] != "depot" || fc.Features[0].Properties["account"] != "acme" {
		t.Fatalf("collection %s", r.body)
	}
	e.must(200, "admin", "PUT", "/v1/geofences/gate", `{"type":"Feature","properties":{"radius":30},"geometry":{"type":"Point","coordinates":[12.2,49.1]}}`)
	var f struct{ Properties map[string]any }
	e.must(200, "viewer", "GET", "/v1/geofences/gate", nil).json(t, &f)
	if f.Properties["id"] != "gate" || f.Properties["radius"] != 30.0 {
		t.Fatalf("gate %+v", f)
	}
	e.must(422, "admin", "PUT", "/v1/geofences/gate", `{"type":"Feature","properties":{"id":"other","radius":30},"geometry":{"type":"Point","coordinates":[12.2,49.1]}}`)
	e.must(422, "admin", "POST", "/v1/geofences", `{"type":"Feature","properties":{"id":"x","account":"other","radius":3},"geometry":{"type":"Point","coordinates":[12.2,49.1]}}`)
	e.must(204, "admin", "DELETE", "/v1/geofences/gate", nil)
	e.must(404, "viewer", "GET", "/v1/geofences/gate", nil)
	e.must(404, "admin", "DELETE", "/v1/geofences/gate", nil)
	e.must(200, "operator", "GET", "/v1/geofences?account=acme", nil)
	big := `{"type":"FeatureCollection","features":[` + strings.Repeat(" ", 70<<10) + `]}`
	e.must(413, "admin", "POST", "/v1/geofences", big)
}

func TestVehiclesAndStreams(t *testing.T) {
	e := newEnv(t)
	e.publish("acme", "truck-1", 1, event.TypePosition)
	e.publish("acme", "truck-1", 2, event.TypeIgnitionOff)
	e.publish("acme", "van-7", 1, event.TypeHeartbeat)
	e.publish("other", "bike-3", 1, event.TypePosition)
	var vs struct {
		Items []VehicleView
		Next  string
	}
	e.must(200, "viewer", "GET", "/v1/vehicles", nil).json(t, &vs)
	if len(vs.Items) != 2 || vs.Next != "" {
		t.Fatalf("vehicles %+v", vs)
	}
	tr := vs.Items[0]
	if tr.ID != "truck-1" || tr.Events != 2 || tr.LastSeq != 2 || tr.LastEventType != "ignition.off" || tr.LastPosition == nil || tr.LinkState != "recent" || tr.Name != "Truck truck-1" {
		t.Fatalf("truck %+v", tr)
	}
	e.must(200, "viewer", "GET", "/v1/vehicles?limit=1", nil).json(t, &vs)
	if len(vs.Items) != 1 || vs.Next == "" {
		t.Fatalf("page 1 %+v", vs)
	}
	e.must(200, "viewer", "GET", "/v1/vehicles?limit=1&cursor="+url.QueryEscape(vs.Next), nil).json(t, &vs)
	if len(vs.Items) != 1 || vs.Items[0].ID != "van-7" || vs.Next != "" {
		t.Fatalf("page 2 %+v", vs)
	}

	var ss struct{ Items []StreamView }
	e.must(200, "operator", "GET", "/v1/streams", nil).json(t, &ss)
	if len(ss.Items) != 2 || ss.Items[0].Name != "EVENTS" || ss.Items[0].Messages != 4 || ss.Items[1].Name != "DELIVERIES" || ss.Items[0].FirstTime.IsZero() {
		t.Fatalf("streams %+v", ss)
	}
}

func TestLiveEvents(t *testing.T) {
	e := newEnv(t)
	e.publish("acme", "old", 1, event.TypePosition) // before: not sent
	feed, status := e.openLive("viewer", "")
	if status != 200 {
		t.Fatalf("live: %d", status)
	}
	feed.comment(t) // the consumer exists from here on
	e.publish("other", "x", 1, event.TypePosition)
	want := e.publish("acme", "truck-1", 7, event.TypeIgnitionOn)
	got := feed.next(t)
	if got["event"] != "ignition.on" || !strings.Contains(got["data"], want.ID) || got["id"] == "" {
		t.Fatalf("live event %v", got)
	}
	// Narrowed to one vehicle.
	feed2, _ := e.openLive("admin", "?vehicle=van-7")
	feed2.comment(t)
	e.publish("acme", "truck-1", 8, event.TypePosition)
	w2 := e.publish("acme", "van-7", 1, event.TypePosition)
	if g := feed2.next(t); !strings.Contains(g["data"], w2.ID) {
		t.Fatalf("vehicle feed %v", g)
	}
	if _, status := e.openLive("viewer", "?vehicle=a.b"); status != 422 {
		t.Fatalf("bad vehicle: %d", status)
	}
}
