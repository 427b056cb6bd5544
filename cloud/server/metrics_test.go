package server

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/dispatch"
	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestMetricsServed: `fleetwire serve` answers GET /metrics on its API, and
// a delivery is counted there and still reaches the WithOnAttempt observer.
func TestMetricsServed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	rcv, err := receiver.Start("127.0.0.1:0", secret)
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	cfg := Default()
	cfg.Hub.StoreDir, cfg.Hub.LeafListen, cfg.API.Listen = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.Dispatch.AllowHTTP, cfg.Dispatch.AllowPrivate = true, true
	cfg.Subscriptions = []subscription.Subscription{{ID: "s1", Account: "acme", URL: rcv.URL(), Secret: secret}}
	var observed atomic.Int64
	srv, err := New(cfg, WithOnAttempt(func(dispatch.Attempt) { observed.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	// The subscription's consumer delivers new events only: publish once it exists.
	for {
		if _, err := srv.Hub().JS.Consumer(ctx, "EVENTS", "sub-s1"); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("subscription consumer never created")
		case <-time.After(20 * time.Millisecond):
		}
	}
	e := &event.Event{ID: event.NewID(time.Now()), Type: event.TypePosition, SchemaVersion: event.SchemaVersion,
		OccurredAt: event.Time{Time: time.Now()}, Account: "acme", Vehicle: event.Vehicle{ID: "truck-1"}, Seq: 1,
		Location: &event.Location{Lat: 49, Lon: 12}}
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	msg := &nats.Msg{Subject: e.Subject(), Data: b, Header: nats.Header{event.HeaderSeq: []string{strconv.FormatUint(e.Seq, 10)}}}
	if _, err := srv.Hub().JS.PublishMsg(ctx, msg, jetstream.WithMsgID(e.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := rcv.WaitFor(ctx, 1); err != nil {
		t.Fatal(err)
	}
	const want = `fleetwire_deliveries_total{outcome="delivered",status_class="2xx"} 1`
	for {
		body := httpGetBody(t, "http://"+srv.APIAddr()+"/metrics")
		if strings.Contains(body, want) && observed.Load() == 1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("observer saw %d attempts; /metrics lacks %q:\n%s", observed.Load(), want, body)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func httpGetBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return string(b)
}
