// Package metrics exposes the cloud's Prometheus metrics: what the hub
// ingested, what the dispatcher delivered and how fast, how many events
// wait per subscription, and how large the streams are.
//
// Delivery counters and latencies are fed by ObserveAttempt (chained into
// dispatch.Config.OnAttempt). Stream and queue figures are read from the
// hub when Prometheus scrapes, at most once per cache interval and within a
// timeout, however often and however many scrapers ask: a scrape storm
// costs the hub one stream-info request and one consumer listing per
// interval.
//
// The metrics live in their own prometheus.Registry (with the Go runtime
// and process collectors), never the global default one.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fleetwire/fleetwire/cloud/dispatch"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Defaults of the options.
const (
	DefaultTopN     = 20
	DefaultCacheTTL = 10 * time.Second
	DefaultTimeout  = 5 * time.Second
)

// OtherSubscriptions is the subscription label of the queue depth summed
// over the subscriptions beyond the top N. Subscription ids cannot contain
// parentheses, so it never names a real one.
const OtherSubscriptions = "(other)"

// Delivery outcomes (label outcome of fleetwire_deliveries_total).
const (
	OutcomeDelivered = "delivered"
	OutcomeFailed    = "failed"
)

// Metrics collects the cloud's metrics. Its methods are safe for
// concurrent use.
type Metrics struct {
	js  jetstream.JetStream
	log *slog.Logger
	reg *prometheus.Registry

	topN             int
	ttl, timeout     time.Duration
	events, delivLog string // stream names

	deliveries *prometheus.CounterVec
	latency    prometheus.Histogram
	endToEnd   prometheus.Histogram

	hub *hubCollector
}

// Option adjusts Metrics.
type Option func(*Metrics)

// WithTopN sets how many subscriptions get their own queue-depth series
// (default DefaultTopN); the others are summed under OtherSubscriptions.
func WithTopN(n int) Option { return func(m *Metrics) { m.topN = max(n, 0) } }

// WithCacheTTL sets how long figures read from the hub are served before
// they are read again (default DefaultCacheTTL; 0 reads on every scrape).
func WithCacheTTL(d time.Duration) Option { return func(m *Metrics) { m.ttl = max(d, 0) } }

// WithTimeout bounds one read of the hub's figures (default DefaultTimeout).
func WithTimeout(d time.Duration) Option {
	return func(m *Metrics) {
		if d > 0 {
			m.timeout = d
		}
	}
}

// WithStreams names the events stream and the delivery log's stream
// (defaults EVENTS and DELIVERIES).
func WithStreams(events, deliveries string) Option {
	return func(m *Metrics) { m.events, m.delivLog = events, deliveries }
}

// New returns the metrics of the hub that js reaches; log (nil:
// slog.Default) hears about failures to read the hub.
func New(js jetstream.JetStream, log *slog.Logger, opts ...Option) *Metrics {
	if log == nil {
		log = slog.Default()
	}
	m := &Metrics{
		js: js, log: log, reg: prometheus.NewRegistry(),
		topN: DefaultTopN, ttl: DefaultCacheTTL, timeout: DefaultTimeout,
		events: "EVENTS", delivLog: "DELIVERIES",
	}
	for _, o := range opts {
		o(m)
	}
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fleetwire_deliveries_total",
		Help: "Delivery attempts, by outcome (delivered, failed) and the receiver's status class (2xx, 3xx, 4xx, 5xx, other; none when no response came).",
	}, []string{"outcome", "status_class"})
	for _, c := range []struct{ outcome, class string }{
		{OutcomeDelivered, "2xx"}, {OutcomeFailed, "3xx"}, {OutcomeFailed, "4xx"}, {OutcomeFailed, "5xx"}, {OutcomeFailed, "none"},
	} {
		m.deliveries.WithLabelValues(c.outcome, c.class) // present from the start, so rate() sees the first one
	}
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "fleetwire_delivery_attempt_duration_seconds",
		Help:    "Duration of one delivery attempt (the HTTP request, with its immediate retries).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	})
	m.endToEnd = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "fleetwire_delivery_end_to_end_seconds",
		Help:    "Time from an event's arrival at the hub to the receiver's 2xx, retries and waits included.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600},
	})
	m.hub = newHubCollector(m)
	m.reg.MustRegister(m.deliveries, m.latency, m.endToEnd, m.hub,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveAttempt counts one delivery attempt; chain it into
// dispatch.Config.OnAttempt.
func (m *Metrics) ObserveAttempt(a dispatch.Attempt) {
	outcome := OutcomeFailed
	if a.Delivered() {
		outcome = OutcomeDelivered
	}
	m.deliveries.WithLabelValues(outcome, StatusClass(a.StatusCode)).Inc()
	m.latency.Observe(a.Latency.Seconds())
	if a.Delivered() && a.EndToEnd > 0 {
		m.endToEnd.Observe(a.EndToEnd.Seconds())
	}
}

// StatusClass is the label of an HTTP status: "2xx" … "5xx", "none" for 0
// (no response), "other" outside 200–599.
func StatusClass(code int) string {
	switch {
	case code == 0:
		return "none"
	case code >= 200 && code < 600:
		return strconv.Itoa(code/100) + "xx"
	default:
		return "other"
	}
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             m.timeout + 5*time.Second,
	})
}

// Registry is the registry behind Handler, for tests and for adding
// collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// hubCollector reads the streams and the subscriptions' consumers on
// scrape, through a cache.
type hubCollector struct {
	m *Metrics

	ingested, messages, bytes, depth, consumers, up, refreshErrors *prometheus.Desc

	mu      sync.Mutex // held during a refresh: concurrent scrapes wait for it and share its result
	snap    snapshot
	readAt  time.Time
	errs    uint64
	lastErr error
}

// snapshot is what one refresh read from the hub.
type snapshot struct {
	ok       bool
	streams  []streamFigures
	ingested float64 // last sequence of the events stream
	hasEvent bool
	depths   []queueDepth // top N by depth, then the others summed
	subs     int          // subscription consumers found
}

type streamFigures struct {
	name            string
	messages, bytes uint64
}

type queueDepth struct {
	subscription string
	depth        uint64
}

func newHubCollector(m *Metrics) *hubCollector {
	return &hubCollector{
		m: m,
		ingested: prometheus.NewDesc("fleetwire_events_ingested_total",
			"Events stored in the hub's events stream since it was created (its last sequence).", nil, nil),
		messages: prometheus.NewDesc("fleetwire_stream_messages",
			"Messages held by a hub stream (EVENTS, DELIVERIES).", []string{"stream"}, nil),
		bytes: prometheus.NewDesc("fleetwire_stream_bytes",
			"Bytes held by a hub stream (EVENTS, DELIVERIES).", []string{"stream"}, nil),
		depth: prometheus.NewDesc("fleetwire_subscription_queue_depth",
			"Events waiting for a subscription, in flight included: the deepest subscriptions by id, the rest summed under subscription=\"(other)\".",
			[]string{"subscription"}, nil),
		consumers: prometheus.NewDesc("fleetwire_subscription_consumers",
			"Subscriptions with a queue on the hub (active or paused).", nil, nil),
		up: prometheus.NewDesc("fleetwire_hub_stats_up",
			"1 if the last read of the hub's stream and queue figures succeeded.", nil, nil),
		refreshErrors: prometheus.NewDesc("fleetwire_hub_stats_errors_total",
			"Failed reads of the hub's stream and queue figures.", nil, nil),
	}
}

func (c *hubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.ingested, c.messages, c.bytes, c.depth, c.consumers, c.up, c.refreshErrors} {
		ch <- d
	}
}

func (c *hubCollector) Collect(ch chan<- prometheus.Metric) {
	s, errs, ok := c.read()
	up := 0.0
	if ok {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(c.refreshErrors, prometheus.CounterValue, float64(errs))
	if !s.ok {
		return // nothing read yet
	}
	if s.hasEvent {
		ch <- prometheus.MustNewConstMetric(c.ingested, prometheus.CounterValue, s.ingested)
	}
	for _, st := range s.streams {
		ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, float64(st.messages), st.name)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(st.bytes), st.name)
	}
	for _, d := range s.depths {
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(d.depth), d.subscription)
	}
	ch <- prometheus.MustNewConstMetric(c.consumers, prometheus.GaugeValue, float64(s.subs))
}

// read returns the cached snapshot, refreshed first if it is older than
// the cache interval. After a failed refresh the previous figures are
// served (ok false) and the next scrape after the interval tries again.
func (c *hubCollector) read() (snapshot, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readAt.IsZero() || time.Since(c.readAt) >= c.m.ttl {
		ctx, cancel := context.WithTimeout(context.Background(), c.m.timeout)
		s, err := c.m.refresh(ctx)
		cancel()
		c.readAt = time.Now()
		if err != nil {
			c.errs++
			if c.lastErr == nil || c.lastErr.Error() != err.Error() {
				c.m.log.Warn("metrics: hub figures not read; serving the previous ones", "err", err)
			}
			c.lastErr = err
		} else {
			c.snap, c.lastErr = s, nil
		}
	}
	return c.snap, c.errs, c.lastErr == nil
}

// refresh reads the streams' state and the subscriptions' queue depths.
func (m *Metrics) refresh(ctx context.Context) (snapshot, error) {
	s := snapshot{ok: true}
	var events jetstream.Stream
	for _, name := range []string{m.events, m.delivLog} {
		st, err := m.js.Stream(ctx, name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue // the delivery log is created when the dispatcher first needs it
		}
		if err != nil {
			return snapshot{}, err
		}
		info := st.CachedInfo()
		s.streams = append(s.streams, streamFigures{name: name, messages: info.State.Msgs, bytes: info.State.Bytes})
		if name == m.events {
			events, s.ingested, s.hasEvent = st, float64(info.State.LastSeq), true
		}
	}
	if events == nil {
		return s, nil
	}
	// Subscription consumers are named by subscription.ConsumerName:
	// a fixed prefix before the id.
	prefix := (&subscription.Subscription{}).ConsumerName()
	var all []queueDepth
	list := events.ListConsumers(ctx)
	for info := range list.Info() {
		id, ok := strings.CutPrefix(info.Name, prefix)
		if !ok {
			continue
		}
		all = append(all, queueDepth{subscription: id, depth: info.NumPending + uint64(info.NumAckPending)})
	}
	if err := list.Err(); err != nil {
		return snapshot{}, err
	}
	s.subs = len(all)
	s.depths = topN(all, m.topN)
	return s, nil
}

// topN keeps the n deepest queues (ties by id) and sums the rest into one
// entry named OtherSubscriptions, which is always present: at most n+1
// series whatever the number of subscriptions.
func topN(all []queueDepth, n int) []queueDepth {
	sort.Slice(all, func(i, j int) bool {
		if all[i].depth != all[j].depth {
			return all[i].depth > all[j].depth
		}
		return all[i].subscription < all[j].subscription
	})
	other := queueDepth{subscription: OtherSubscriptions}
	if len(all) > n {
		for _, d := range all[n:] {
			other.depth += d.depth
		}
		all = all[:n]
	}
	return append(all, other)
}
