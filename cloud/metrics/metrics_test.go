package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/dispatch"
	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
	"github.com/fleetwire/fleetwire/cloud/metrics"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// TestCloudMetrics runs a real hub and dispatcher with two subscriptions:
// s1 delivers to a receiver that fails its first request, s2 is paused
// with its queue filling. The scraped figures must be those a user would
// check against what happened.
func TestCloudMetrics(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h, err := hub.Open(ctx, hub.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })

	ok, err := receiver.Start("127.0.0.1:0", secret, receiver.WithStatus(func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ok.Close() })
	refuse, err := receiver.Start("127.0.0.1:0", secret, receiver.WithStatus(func(int) int { return http.StatusServiceUnavailable }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { refuse.Close() })

	// TopN 1: s2 (the deep queue) has its own series, s1 is summed under
	// "(other)".
	m := metrics.New(h.JS, nil, metrics.WithCacheTTL(0), metrics.WithTopN(1))
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)

	var rec recorder
	store, err := subscription.Open(ctx, h.JS, subscription.StoreConfig{AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []subscription.Subscription{
		{ID: "s1", Account: "acme", URL: ok.URL(), Secret: secret},
		{ID: "s2", Account: "acme", URL: refuse.URL(), Secret: secret, RetrySchedule: []time.Duration{time.Hour}},
	} {
		if _, err := store.Apply(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	d, err := dispatch.New(h.JS, dispatch.Config{
		AllowHTTP: true, AllowPrivate: true, ImmediateRetries: -1, RetrySchedule: []time.Duration{20 * time.Millisecond},
		OnAttempt: func(a dispatch.Attempt) { m.ObserveAttempt(a); rec.add(a) },
	})
	if err != nil {
		t.Fatal(err)
	}
	dctx, dcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(dctx, store) }()
	t.Cleanup(func() {
		dcancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("dispatcher: %v", err)
		}
	})

	// s2's queue exists once its worker started; then it is paused.
	waitFor(t, ctx, "s2's consumer", func() bool {
		_, err := h.JS.Consumer(ctx, "EVENTS", "sub-s2")
		return err == nil
	})
	if _, err := store.Update(ctx, "s2", func(s *subscription.Subscription) error { s.State = subscription.Paused; return nil }); err != nil {
		t.Fatal(err)
	}

	const n = 12
	publish(t, ctx, h.JS, n)
	if _, err := ok.WaitFor(ctx, n); err != nil {
		t.Fatalf("receiver: %v", err)
	}

	// s2 may have made one attempt (refused, then an hour's wait) before
	// its pause took effect: every failure the dispatcher reported counts.
	var (
		fams              map[string]*dto.MetricFamily
		delivered, failed int
	)
	waitFor(t, ctx, "all figures", func() bool {
		fams = scrape(t, srv.URL)
		delivered, failed = rec.counts()
		return value(fams, "fleetwire_deliveries_total", "outcome", "delivered", "status_class", "2xx") == n &&
			value(fams, "fleetwire_deliveries_total", "outcome", "failed", "status_class", "5xx") == float64(failed) &&
			value(fams, "fleetwire_subscription_queue_depth", "subscription", "s2") == n &&
			value(fams, "fleetwire_subscription_queue_depth", "subscription", metrics.OtherSubscriptions) == 0 &&
			// The delivery log stores a success's record alongside the ack.
			value(fams, "fleetwire_stream_messages", "stream", "DELIVERIES") >= float64(delivered+failed)
	})
	if delivered != n {
		t.Fatalf("OnAttempt saw %d deliveries, want %d", delivered, n)
	}
	if failed < 1 {
		t.Fatalf("OnAttempt saw %d failed attempts, want >= 1 (the receiver failed its first request)", failed)
	}
	if v := value(fams, "fleetwire_deliveries_total", "outcome", "failed", "status_class", "none"); v != 0 {
		t.Fatalf("failed attempts without response: %g, want 0", v)
	}
	if hist := fams["fleetwire_delivery_attempt_duration_seconds"].GetMetric()[0].GetHistogram(); hist.GetSampleCount() != uint64(delivered+failed) {
		t.Fatalf("attempt latency histogram has %d samples, want %d", hist.GetSampleCount(), delivered+failed)
	}
	if hist := fams["fleetwire_delivery_end_to_end_seconds"].GetMetric()[0].GetHistogram(); hist.GetSampleCount() != n || hist.GetSampleSum() <= 0 {
		t.Fatalf("end-to-end histogram: %d samples summing %gs, want %d with a positive sum", hist.GetSampleCount(), hist.GetSampleSum(), n)
	}
	if v := value(fams, "fleetwire_events_ingested_total"); v != n {
		t.Fatalf("events ingested %g, want %d", v, n)
	}
	if v := value(fams, "fleetwire_stream_messages", "stream", "EVENTS"); v != n {
		t.Fatalf("EVENTS messages %g, want %d", v, n)
	}
	for _, st := range []string{"EVENTS", "DELIVERIES"} {
		if v := value(fams, "fleetwire_stream_bytes", "stream", st); v <= 0 {
			t.Fatalf("%s bytes %g, want > 0", st, v)
		}
	}
	// The label bound: one series per top-N subscription plus "(other)".
	if got := len(fams["fleetwire_subscription_queue_depth"].GetMetric()); got != 2 {
		t.Fatalf("%d queue-depth series, want 2 (top 1 + other)", got)
	}
	if v := value(fams, "fleetwire_subscription_consumers"); v != 2 {
		t.Fatalf("subscription consumers %g, want 2", v)
	}
	if v := value(fams, "fleetwire_hub_stats_up"); v != 1 {
		t.Fatalf("hub stats up %g, want 1", v)
	}
}

// TestScrapesAreCached: within the cache interval, scrapes are served from
// the figures read first, so a scrape storm does not reach the hub.
func TestScrapesAreCached(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := hub.Open(ctx, hub.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	cached := httptest.NewServer(metrics.New(h.JS, nil, metrics.WithCacheTTL(time.Hour)).Handler())
	t.Cleanup(cached.Close)
	fresh := httptest.NewServer(metrics.New(h.JS, nil, metrics.WithCacheTTL(0)).Handler())
	t.Cleanup(fresh.Close)

	publish(t, ctx, h.JS, 3)
	if v := value(scrape(t, cached.URL), "fleetwire_events_ingested_total"); v != 3 {
		t.Fatalf("events ingested %g, want 3", v)
	}
	publish(t, ctx, h.JS, 2)
	var wg sync.WaitGroup
	for range 4 { // the handler serves 4 scrapes at once, and answers 503 beyond
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				fams, err := get(cached.URL)
				if err != nil {
					t.Error(err)
					return
				}
				if v := value(fams, "fleetwire_events_ingested_total"); v != 3 {
					t.Errorf("cached scrape: events ingested %g, want the cached 3", v)
				}
			}
		}()
	}
	wg.Wait()
	if v := value(scrape(t, fresh.URL), "fleetwire_events_ingested_total"); v != 5 {
		t.Fatalf("uncached scrape: events ingested %g, want 5", v)
	}
	// No subscription: the "(other)" series is there anyway, at 0.
	if v := value(scrape(t, fresh.URL), "fleetwire_subscription_queue_depth", "subscription", metrics.OtherSubscriptions); v != 0 {
		t.Fatalf("other queue depth %g, want 0", v)
	}
}

func TestStatusClass(t *testing.T) {
	for code, want := range map[int]string{0: "none", 200: "2xx", 204: "2xx", 301: "3xx", 410: "4xx", 429: "4xx", 503: "5xx", 599: "5xx", 101: "other", 600: "other"} {
		if got := metrics.StatusClass(code); got != want {
			t.Errorf("StatusClass(%d) = %q, want %q", code, got, want)
		}
	}
}

type recorder struct {
	mu                sync.Mutex
	delivered, failed int
}

func (r *recorder) add(a dispatch.Attempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a.Delivered() {
		r.delivered++
	} else {
		r.failed++
	}
}

func (r *recorder) counts() (delivered, failed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.delivered, r.failed
}

// publish stores n events of one vehicle on the hub as its forwarder would.
func publish(t *testing.T, ctx context.Context, js jetstream.JetStream, n int) {
	t.Helper()
	last, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	from := last.CachedInfo().State.LastSeq
	for i := from + 1; i <= from+uint64(n); i++ {
		e := &event.Event{ID: event.NewID(time.Now()), Type: event.TypePosition, SchemaVersion: event.SchemaVersion,
			OccurredAt: event.Time{Time: time.Now()}, Account: "acme", Vehicle: event.Vehicle{ID: "truck-1"}, Seq: i,
			Location: &event.Location{Lat: 49, Lon: 12}}
		b, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		msg := &nats.Msg{Subject: e.Subject(), Data: b, Header: nats.Header{event.HeaderSeq: []string{strconv.FormatUint(e.Seq, 10)}}}
		if _, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(e.ID)); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
}

// scrape GETs /metrics and parses the text exposition.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := get(url)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

func get(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parse /metrics: %w", err)
	}
	return fams, nil
}

// value is the counter or gauge of family with the given label pairs, or
// -1 when there is none.
func value(fams map[string]*dto.MetricFamily, family string, labels ...string) float64 {
	for _, m := range fams[family].GetMetric() {
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Untyped != nil:
			return m.GetUntyped().GetValue()
		}
	}
	return -1
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}
