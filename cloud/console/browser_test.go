package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/fleetwire/fleetwire/cloud/console"
	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
	"github.com/fleetwire/fleetwire/cloud/server"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// chromium finds a Chromium or Chrome binary (FLEETWIRE_CHROMIUM first).
func chromium() string {
	if p := os.Getenv("FLEETWIRE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// stack is a real `fleetwire serve` (hub, dispatcher, API) with the console
// mounted next to its API, as server.go mounts it, on one loopback origin.
type stack struct {
	t      *testing.T
	ctx    context.Context
	srv    *server.Server
	rcv    *receiver.Receiver
	web    *httptest.Server
	admin  string // token of account acme, role admin
	seqs   map[string]uint64
	shots  string
	nshots int
}

func start(t *testing.T, ctx context.Context) *stack {
	t.Helper()
	// The receiver refuses the second webhook once (the dispatcher tries
	// the event again a second later and it goes through). A 4xx, because
	// the sender repeats a 5xx at once (dispatch.immediate_retries: 0 means
	// the default, 2), which would hide the failure from the log.
	rcv, err := receiver.Start("127.0.0.1:0", secret, receiver.WithStatus(func(n int) int {
		if n == 2 {
			return http.StatusUnprocessableEntity
		}
		return http.StatusNoContent
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcv.Close() })

	cfg := server.Default()
	cfg.Hub.StoreDir, cfg.Hub.LeafListen, cfg.API.Listen = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.Dispatch.AllowHTTP, cfg.Dispatch.AllowPrivate = true, true
	cfg.Dispatch.RetrySchedule = []time.Duration{time.Second}
	cfg.LogLevel = "warn"
	srv, err := server.New(cfg, server.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("server: %v", err)
	}

	// The API of the running server, and the console, on one origin.
	apiURL := &url.URL{Scheme: "http", Host: srv.APIAddr()}
	mux := http.NewServeMux()
	mux.Handle("/v1/", httputil.NewSingleHostReverseProxy(apiURL))
	mux.Handle("/console/", console.Handler())
	mux.Handle("GET /{$}", console.RedirectRoot())
	web := httptest.NewServer(mux)
	t.Cleanup(web.Close)

	shots := os.Getenv("FLEETWIRE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &stack{t: t, ctx: ctx, srv: srv, rcv: rcv, web: web, seqs: map[string]uint64{}, shots: shots}
	op, err := os.ReadFile(filepath.Join(cfg.Hub.StoreDir, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		Token string `json:"token"`
	}
	s.call(strings.TrimSpace(string(op)), "POST", "/v1/tokens", map[string]any{"account": "acme", "role": "admin", "name": "console test"}, &tok)
	s.admin = tok.Token
	return s
}

// call sends a request to the API through the console's origin.
func (s *stack) call(token, method, path string, body, out any) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(s.ctx, method, s.web.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		s.t.Fatalf("%s %s: %s: %s", method, path, res.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// publish stores an event on the hub as a vehicle's forwarder would.
func (s *stack) publish(vehicle, name string, typ event.Type, lat, lon float64) event.Event {
	s.t.Helper()
	s.seqs[vehicle]++
	seq := s.seqs[vehicle]
	now := time.Now()
	ev := event.Event{ID: event.NewID(now), Type: typ, SchemaVersion: event.SchemaVersion, OccurredAt: event.Time{Time: now},
		Account: "acme", Vehicle: event.Vehicle{ID: vehicle, Name: name}, Seq: seq,
		Location: &event.Location{Lat: lat, Lon: lon, SpeedKph: 42, HeadingDeg: 80, FixQuality: 1}}
	if typ == event.TypePosition {
		ev.Data = json.RawMessage(`{}`)
	}
	b, err := ev.Marshal()
	if err != nil {
		s.t.Fatal(err)
	}
	m := &nats.Msg{Subject: ev.Subject(), Data: b, Header: nats.Header{event.HeaderSeq: []string{strconv.FormatUint(seq, 10)}}}
	if _, err := s.srv.Hub().JS.PublishMsg(s.ctx, m, jetstream.WithMsgID(ev.ID)); err != nil {
		s.t.Fatal(err)
	}
	return ev
}

// until polls f until it holds.
func (s *stack) until(what string, f func() bool) {
	s.t.Helper()
	limit := time.After(30 * time.Second)
	for !f() {
		select {
		case <-limit:
			s.t.Fatalf("waiting for %s: gave up after 30s", what)
		case <-s.ctx.Done():
			s.t.Fatalf("waiting for %s: %v", what, s.ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// shot saves a full-page screenshot for a person to look at.
func (s *stack) shot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return err
		}
		s.nshots++
		file := filepath.Join(s.shots, fmt.Sprintf("%02d-%s.png", s.nshots, name))
		s.t.Logf("screenshot %s", file)
		return os.WriteFile(file, png, 0o644)
	})
}

// TestConsoleInBrowser drives the console in headless Chromium against a
// real server: sign in, the subscription list with its counts, the
// delivery log with ✔ and ✗, an attempt's request and response, errors
// only, a test event, pause, the create form (with a refused field), the
// live feed and the map.
func TestConsoleInBrowser(t *testing.T) {
	exe := chromium()
	if exe == "" {
		t.Skip("no Chromium binary: install the Debian package chromium (or set FLEETWIRE_CHROMIUM) to run the console's browser test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := start(t, ctx)

	// A subscription, and a few events for it: the receiver fails the
	// second delivery once.
	s.call(s.admin, "POST", "/v1/subscriptions", map[string]any{
		"id": "dispatch-board", "name": "Dispatch board", "url": s.rcv.URL(), "secret": secret,
	}, nil)
	s.until("the subscription's consumer", func() bool {
		_, err := s.srv.Hub().JS.Consumer(ctx, "EVENTS", "sub-dispatch-board")
		return err == nil
	})
	s.publish("truck-042", "Truck 42", event.TypePosition, 49.0134, 12.1016)
	failed := s.publish("van-7", "Van 7", event.TypePosition, 49.0195, 12.0940)
	s.publish("truck-042", "Truck 42", event.TypeIgnitionOff, 49.0139, 12.1030)
	s.publish("van-7", "Van 7", event.TypePosition, 49.0170, 12.0890)
	if _, err := s.rcv.WaitFor(ctx, 4); err != nil {
		t.Fatal(err)
	}
	var status struct {
		Delivered int `json:"delivered"`
		Failed    int `json:"failedAttempts"`
	}
	s.until("4 delivered and 1 failed in the log", func() bool {
		s.call(s.admin, "GET", "/v1/subscriptions/dispatch-board/status", nil, &status)
		return status.Delivered == 4 && status.Failed == 1
	})
	s.call(s.admin, "POST", "/v1/geofences", fences, nil)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1360, 900),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("lang", "en-GB"))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	defer bcancel()
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatal(err)
	}
	// Errors the page's code logs or throws fail the test.
	var mu sync.Mutex
	var pageErrors []string
	go func() {
		for m, err := range chromedp.Console(bctx) {
			if err != nil {
				return
			}
			// Refused requests the console shows (a role probe's 403, a
			// form's 422) are the browser's network log, not page errors.
			if m.IsException() || (m.Type == chromedp.ConsoleError && m.Source != "network") {
				mu.Lock()
				pageErrors = append(pageErrors, m.Text)
				mu.Unlock()
			}
		}
	}()

	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			html, _ := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("main")))
			_ = chromedp.Do(bctx, s.shot("failed-"+strings.ReplaceAll(what, " ", "-")))
			t.Fatalf("%s: %v\npage: %.3000s", what, err, html)
		}
	}
	text := func(sel string) string {
		t.Helper()
		out, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(out)
	}
	// wait waits until a JavaScript expression is true.
	wait := func(what, expr string) {
		t.Helper()
		do(what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(20*time.Second)))
	}
	js := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](expr)(ctx, tg)
			return err
		})
	}

	// Signing in.
	do("open the console", chromedp.Navigate(s.web.URL+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	do("sign in", chromedp.SendKeys(chromedp.ID("token"), s.admin), s.shot("sign-in"), chromedp.Click(chromedp.CSS(`form.signin button[type="submit"]`)))

	// The list: state, queue and the delivered count.
	row := `#subscriptions tr[data-id="dispatch-board"]`
	wait("the delivered count", `document.querySelector('`+row+` [data-col="delivered"]')?.textContent === "4"`)
	if got := text(row + ` [data-col="state"]`); got != "active" {
		t.Errorf("state in the list: %q", got)
	}
	if got := text(row + ` [data-col="failed"]`); got != "1" {
		t.Errorf("failed attempts in the list: %q", got)
	}
	do("list", s.shot("subscriptions"))

	// The delivery log: ✔ rows and the ✗ one.
	do("open the subscription", chromedp.Click(chromedp.CSS(row+" a")))
	wait("✔ and ✗ rows", `document.querySelectorAll('#deliveries tr[data-outcome="ok"]').length === 4 &&
		document.querySelectorAll('#deliveries tr[data-outcome="fail"]').length === 1`)
	if got := text(`#deliveries tr[data-outcome="fail"] .mark`); got != "✗" {
		t.Errorf("failed row's mark %q", got)
	}
	if got := text(`#deliveries tr[data-outcome="ok"] .mark`); got != "✔" {
		t.Errorf("delivered row's mark %q", got)
	}
	do("log", s.shot("delivery-log"))

	// The failed attempt: what was sent, and what came back.
	do("inspect the failed attempt", chromedp.Click(chromedp.CSS(`#deliveries tr[data-outcome="fail"] button`)))
	wait("the attempt's response", `document.querySelector('#attempt-status')?.textContent === "HTTP 422"`)
	if got := text("#attempt-response"); !strings.Contains(got, "receiver told to fail") {
		t.Errorf("response body %q", got)
	}
	if got := text("#attempt-request"); !strings.Contains(got, failed.ID) || !strings.Contains(got, `"van-7"`) {
		t.Errorf("request body lacks the event: %q", got)
	}
	wait("every attempt at the event", `document.querySelectorAll('ol.attempts li').length === 2`)
	do("attempt", s.shot("failed-attempt"))

	// Errors only.
	do("errors only", chromedp.SetValue(chromedp.ID("log-status"), "failed"),
		js(`document.querySelector('#log-status').dispatchEvent(new Event('change'))`))
	wait("only the ✗ row", `document.querySelectorAll('#deliveries tbody tr').length === 1 &&
		document.querySelectorAll('#deliveries tr[data-outcome="fail"]').length === 1`)
	do("errors", s.shot("errors-only"))

	// Send a test event.
	do("send a test", chromedp.SetValue(chromedp.ID("test-type"), "geofence.entered"), chromedp.Click(chromedp.ID("send-test")))
	wait("the test's outcome", `document.querySelector('.action-out')?.textContent.includes('geofence.entered delivered')`)
	if got := text("#attempt-request"); !strings.Contains(got, `"geofence.entered"`) {
		t.Errorf("test request %q", got)
	}
	do("test", s.shot("test-event"))

	// Pause: the state changes on the page and in the API.
	do("pause", chromedp.Click(chromedp.ID("pause")))
	wait("paused", `document.querySelector('#status [data-field="state"] .badge')?.textContent === "paused" &&
		document.querySelector('.page-head .badge')?.textContent === "paused" && !!document.querySelector('#resume')`)
	var sub struct {
		State string `json:"state"`
	}
	s.call(s.admin, "GET", "/v1/subscriptions/dispatch-board", nil, &sub)
	if sub.State != "paused" {
		t.Errorf("API state after Pause: %q", sub.State)
	}
	do("paused", js(`window.scrollTo(0, 0)`), s.shot("paused"))

	// The create form: a refused URL is shown at its field, then created.
	do("new subscription", chromedp.Navigate(s.web.URL+"/console/#/subscriptions/new"), chromedp.WaitVisible(chromedp.ID("f-url")))
	do("fill the form",
		chromedp.SendKeys(chromedp.ID("f-id"), "fence-alerts"),
		chromedp.SendKeys(chromedp.ID("f-name"), "Fence alerts"),
		chromedp.SendKeys(chromedp.ID("f-url"), "ftp://example.com/hook"),
		chromedp.Click(chromedp.ID("ev-all")),
		chromedp.Click(chromedp.CSS(`input[value="geofence.entered"]`)),
		chromedp.Click(chromedp.CSS(`input[value="geofence.exited"]`)),
		chromedp.SendKeys(chromedp.ID("f-geofenceTags"), "depot, customer"),
		chromedp.Click(chromedp.CSS(`input[name="ordering"][value="vehicle"]`)),
		chromedp.Click(chromedp.CSS(`#subscription-form button[type="submit"]`)))
	wait("the URL refused at its field", `document.querySelector('#f-url').getAttribute('aria-invalid') === 'true' && document.querySelector('#f-url-err').textContent !== ''`)
	do("form error", s.shot("form-error"))
	do("fix the URL", chromedp.SetValue(chromedp.ID("f-url"), s.rcv.URL()),
		chromedp.Click(chromedp.CSS(`#subscription-form button[type="submit"]`)))
	wait("created, secret shown once", `document.querySelector('.secret pre')?.textContent.startsWith('whsec_')`)
	do("created", s.shot("created"))
	var created struct {
		Events       []string `json:"events"`
		GeofenceTags []string `json:"geofenceTags"`
		Ordering     string   `json:"ordering"`
	}
	s.call(s.admin, "GET", "/v1/subscriptions/fence-alerts", nil, &created)
	if strings.Join(created.Events, ",") != "geofence.entered,geofence.exited" || strings.Join(created.GeofenceTags, ",") != "depot,customer" || created.Ordering != "vehicle" {
		t.Errorf("created from the form: %+v", created)
	}

	// Live events.
	do("live", chromedp.Navigate(s.web.URL+"/console/#/live"))
	wait("the feed connected", `document.querySelector('#live-state')?.textContent === 'live'`)
	s.publish("truck-042", "Truck 42", event.TypePosition, 49.0150, 12.1060)
	s.publish("van-7", "Van 7", event.TypePosition, 49.0160, 12.0860)
	wait("two live events", `document.querySelectorAll('#live-rows tr').length === 2`)
	do("live", s.shot("live-events"))

	// The map: fences and the vehicles' last positions.
	do("map", chromedp.Navigate(s.web.URL+"/console/#/map"))
	wait("vehicles and fences drawn", `document.querySelectorAll('#map .vehicle').length === 2 && document.querySelectorAll('#map .fence').length === 3`)
	do("map", s.shot("map"))

	// Signing out forgets the token.
	do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("token")))
	stored, err := chromedp.Run(bctx, chromedp.Evaluate[string](`sessionStorage.getItem('fleetwire.token') || ''`))
	if err != nil || stored != "" {
		t.Errorf("the token is still in sessionStorage after signing out (%v)", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pageErrors) > 0 {
		t.Errorf("the page logged errors: %q", pageErrors)
	}
}

// fences: a depot polygon, a customer circle and a route corridor in
// Regensburg.
var fences = json.RawMessage(`{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"id":"depot-east","name":"Depot East","tags":["depot"]},
  "geometry":{"type":"Polygon","coordinates":[[[12.098,49.011],[12.108,49.011],[12.108,49.017],[12.098,49.017],[12.098,49.011]]]}},
 {"type":"Feature","properties":{"id":"customer-1","name":"Customer Altstadt","tags":["customer"],"radius":350},
  "geometry":{"type":"Point","coordinates":[12.0905,49.0190]}},
 {"type":"Feature","properties":{"id":"route-a","name":"Route A","tags":["route"],"bufferMeters":60},
  "geometry":{"type":"LineString","coordinates":[[12.085,49.016],[12.095,49.014],[12.104,49.013],[12.112,49.009]]}}
]}`)
