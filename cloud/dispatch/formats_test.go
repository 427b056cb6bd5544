package dispatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/webhooks"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// captured is one raw request as a receiver saw it.
type captured struct {
	header http.Header
	body   []byte
}

// capture starts a loopback receiver that keeps every request and answers 204.
func capture(t *testing.T) (url string, got func(n int, ctx context.Context) []captured) {
	t.Helper()
	var mu sync.Mutex
	var reqs []captured
	notify := make(chan struct{}, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, captured{header: r.Header.Clone(), body: b})
		mu.Unlock()
		select {
		case notify <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/hook", func(n int, ctx context.Context) []captured {
		t.Helper()
		for {
			mu.Lock()
			if len(reqs) >= n {
				out := append([]captured(nil), reqs...)
				mu.Unlock()
				return out
			}
			mu.Unlock()
			select {
			case <-ctx.Done():
				t.Fatalf("only %d of %d requests arrived", len(reqs), n)
			case <-notify:
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// TestFormatsAndAuth: each body format and shape arrives as promised,
// with the static auth header and a signature that the npm reference
// implementation of Standard Webhooks accepts (during a secret rotation too,
// when two signatures are sent).
func TestFormatsAndAuth(t *testing.T) {
	cases := []struct {
		format, shape string
		contentType   string
		check         func(t *testing.T, body []byte)
	}{
		{"json", "full", "application/json", func(t *testing.T, body []byte) {
			var e event.Event
			if err := json.Unmarshal(body, &e); err != nil || e.Location == nil || e.Vehicle.ID != "v1" {
				t.Fatalf("full JSON body %s: %v", body, err)
			}
		}},
		{"json", "minimal", "application/json", func(t *testing.T, body []byte) {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil || m["id"] == nil || m["seq"] == nil {
				t.Fatalf("minimal JSON body %s: %v", body, err)
			}
			if _, ok := m["data"]; ok {
				t.Fatalf("minimal body carries data: %s", body)
			}
		}},
		{"form", "full", "application/x-www-form-urlencoded", func(t *testing.T, body []byte) {
			v, err := url.ParseQuery(string(body))
			if err != nil || v.Get("id") == "" || v.Get("vehicle[id]") != "v1" || v.Get("location[lat]") != "49" {
				t.Fatalf("form body %s: %v", body, err)
			}
		}},
		{"form", "minimal", "application/x-www-form-urlencoded", func(t *testing.T, body []byte) {
			v, err := url.ParseQuery(string(body))
			if err != nil || v.Get("type") != "position" || v.Get("seq") == "" {
				t.Fatalf("minimal form body %s: %v", body, err)
			}
		}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h := openHub(t, ctx)
	var all []captured
	var secrets []string
	for i, c := range cases {
		t.Run(c.format+"-"+c.shape, func(t *testing.T) {
			u, got := capture(t)
			s := sub(u)
			s.ID = "s" + strconv.Itoa(i)
			s.Format, s.Payload = c.format, c.shape
			s.Auth = subscription.Auth{Header: "Auth", Value: "token-" + s.ID}
			if i == len(cases)-1 { // mid-rotation: two signatures
				s.PreviousSecret, s.PreviousSecretUntil = "whsec_c2VjcmV0LXJvdGF0ZWQtZm9yLXRoZS10ZXN0", time.Now().Add(time.Hour)
			}
			var a attempts
			startDispatcher(t, ctx, h.JS, devConfig(&a), s)
			waitConsumer(t, ctx, h.JS, s.ConsumerName())
			publish(t, ctx, h.JS, []string{"v1"}, 3*i, 3)
			for _, r := range got(3, ctx) {
				if ct := r.header.Get("Content-Type"); ct != c.contentType {
					t.Fatalf("Content-Type %q, want %q", ct, c.contentType)
				}
				if r.header.Get("Auth") != "token-"+s.ID {
					t.Fatalf("auth header %q", r.header.Get("Auth"))
				}
				if n := len(strings.Fields(r.header.Get(webhooks.HeaderSignature))); n != len(s.Secrets(time.Now())) {
					t.Fatalf("%d signatures, want %d", n, len(s.Secrets(time.Now())))
				}
				c.check(t, r.body)
				all = append(all, r)
				secrets = append(secrets, s.Secret)
			}
		})
	}
	verifyWithNPM(t, all, secrets)
}

// verifyWithNPM has the npm package standardwebhooks verify each request
// with its secret (see scripts/interop/webhooks/verify.mjs).
func verifyWithNPM(t *testing.T, reqs []captured, secrets []string) {
	t.Helper()
	dir := filepath.Join("..", "..", "scripts", "interop", "webhooks")
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not on PATH: install Node.js to cross-check deliveries against npm standardwebhooks")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks")); err != nil {
		t.Skipf("%s/node_modules missing: run npm ci there", dir)
	}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for i, r := range reqs {
		ts, _ := strconv.ParseInt(r.header.Get(webhooks.HeaderTimestamp), 10, 64)
		_ = enc.Encode(map[string]any{
			"secret": secrets[i], "id": r.header.Get(webhooks.HeaderID), "timestamp": ts,
			"body": string(r.body), "signature": r.header.Get(webhooks.HeaderSignature),
		})
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "verify.mjs")
	cmd.Dir, cmd.Stdin = dir, &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node verify.mjs: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	n := 0
	for ; dec.More(); n++ {
		var a struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		if err := dec.Decode(&a); err != nil {
			t.Fatal(err)
		}
		if !a.OK {
			t.Fatalf("npm standardwebhooks rejected delivery %d: %s", n, a.Error)
		}
	}
	if n != len(reqs) {
		t.Fatalf("verify.mjs answered %d of %d", n, len(reqs))
	}
}

// TestOversizedEventDiscarded: an event over the payload limit is recorded
// as discarded and does not hold up the ones behind it.
func TestOversizedEventDiscarded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := openHub(t, ctx)
	u, got := capture(t)
	var a attempts
	cfg := devConfig(&a)
	cfg.MaxPayload = 2048
	st := storeWith(t, ctx, h.JS, sub(u))
	d := runDispatcher(t, ctx, h.JS, cfg, st)
	waitConsumer(t, ctx, h.JS, "sub-s1")
	big := &event.Event{ID: event.NewID(time.Now()), Type: event.TypeDriverChanged, SchemaVersion: event.SchemaVersion,
		OccurredAt: event.Time{Time: time.Now()}, Account: "acme", Vehicle: event.Vehicle{ID: "v1", Name: strings.Repeat("x", 4096)}, Seq: 1}
	publishEvent(t, ctx, h.JS, big)
	publish(t, ctx, h.JS, []string{"v1"}, 1, 1)
	reqs := got(1, ctx)
	var e event.Event
	if err := json.Unmarshal(reqs[0].body, &e); err != nil || e.Seq != 2 {
		t.Fatalf("first delivery is %s, want seq 2", reqs[0].body)
	}
	waitFor(t, ctx, "discard and delivery recorded", func() bool {
		s := status(t, ctx, d, st, "s1")
		return s.Discarded == 1 && s.Delivered == 1
	})
	if s := status(t, ctx, d, st, "s1"); s.Failed != 0 {
		t.Fatalf("status %+v: an oversized event must not be retried", s)
	}
}

func publishEvent(t *testing.T, ctx context.Context, js jetstream.JetStream, e *event.Event) {
	t.Helper()
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m := &nats.Msg{Subject: e.Subject(), Data: b, Header: nats.Header{event.HeaderSeq: []string{strconv.FormatUint(e.Seq, 10)}}}
	if _, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(e.ID)); err != nil {
		t.Fatal(err)
	}
}
