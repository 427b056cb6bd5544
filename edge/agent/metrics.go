package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/edge/outbox"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// agentMetrics are the agent's Prometheus metrics, in a registry of their
// own. Counters the agent already keeps (the outbox's, the sources') are
// read on scrape; only the events stored by type are counted here.
type agentMetrics struct {
	reg    *prometheus.Registry
	events *prometheus.CounterVec
}

func newAgentMetrics(a *Agent) *agentMetrics {
	m := &agentMetrics{
		reg: prometheus.NewRegistry(),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fleetwire_edge_events_total",
			Help: "Events stored in the outbox, by type.",
		}, []string{"type"}),
	}
	for _, t := range event.Catalogue() {
		m.events.WithLabelValues(string(t.Type))
	}
	m.reg.MustRegister(m.events, &agentCollector{a: a},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// MetricsHandler serves the agent's metrics in the Prometheus exposition
// formats (what metrics.listen serves at /metrics).
func (a *Agent) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{MaxRequestsInFlight: 2, Timeout: 10 * time.Second})
}

// MetricsAddr is the address metrics.listen bound (valid after Ready; ""
// when off).
func (a *Agent) MetricsAddr() string { return a.metricsAddr }

// serveMetrics listens on metrics.listen, if set, and serves /metrics
// until the returned stop is called.
func (a *Agent) serveMetrics() (stop func(), err error) {
	if a.cfg.Metrics.Listen == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", a.cfg.Metrics.Listen)
	if err != nil {
		return nil, fmt.Errorf("agent: metrics.listen %s: %w", a.cfg.Metrics.Listen, err)
	}
	a.metricsAddr = ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.MetricsHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("metrics endpoint stopped", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// agentCollector reads the agent's state on scrape: all of it is in
// memory, so a scrape costs no I/O.
type agentCollector struct{ a *Agent }

var (
	descInfo = prometheus.NewDesc("fleetwire_edge_info",
		"The vehicle this agent runs on (always 1).", []string{"account", "vehicle"}, nil)
	descLinkUp = prometheus.NewDesc("fleetwire_edge_hub_link_up",
		"1 while the leaf node is connected to the hub.", nil, nil)
	descFences = prometheus.NewDesc("fleetwire_edge_fences",
		"Geofences in the vehicle's copy of its account's fences (what detection uses now).", nil, nil)
	descBacklog = prometheus.NewDesc("fleetwire_edge_outbox_backlog",
		"Events stored on the vehicle and not yet known to be on the hub.", nil, nil)
	descAppended = prometheus.NewDesc("fleetwire_edge_outbox_appended_total",
		"Events stored in the outbox.", nil, nil)
	descForwarded = prometheus.NewDesc("fleetwire_edge_outbox_forwarded_total",
		"Events the forwarder stored on the hub.", nil, nil)
	descRetries = prometheus.NewDesc("fleetwire_edge_outbox_retries_total",
		"Forwards retried after a failure or an unknown outcome.", nil, nil)
	descAppendRetries = prometheus.NewDesc("fleetwire_edge_outbox_append_retries_total",
		"Local store attempts repeated because the vehicle's own store did not answer (a timeout, no responders).", nil, nil)
	descDropped = prometheus.NewDesc("fleetwire_edge_outbox_dropped_total",
		"Events lost to the store's limits, by the policy that dropped them: drop-oldest discards the oldest, reject-new refuses the new.",
		[]string{"policy"}, nil)
	descNMEA = prometheus.NewDesc("fleetwire_edge_nmea_sentences_total",
		"NMEA sentences read from the GNSS source, by result: decoded, unsupported (valid, type not used), malformed, checksum (mismatch).",
		[]string{"result"}, nil)
	descFixes = prometheus.NewDesc("fleetwire_edge_gnss_fixes_total",
		"GNSS fixes assembled, by the filter's verdict: kept, or the reason it dropped them (no_fix, no_time, too_old, backwards, jump).",
		[]string{"result"}, nil)
	descCAN = prometheus.NewDesc("fleetwire_edge_can_frames_total",
		"CAN frames read from the vehicle bus, by result: decoded, unsupported (CAN FD, error frames …), malformed, filtered (from another interface than can.interface; decoded ones also count as decoded).",
		[]string{"result"}, nil)
	descBusErrors = prometheus.NewDesc("fleetwire_edge_bus_decode_errors_total",
		"Decoded CAN frames whose OBD-II or J1939 content could not be decoded, by protocol.", []string{"protocol"}, nil)
)

func (c *agentCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInfo, descLinkUp, descFences, descBacklog, descAppended, descForwarded, descRetries, descAppendRetries, descDropped, descNMEA, descFixes, descCAN, descBusErrors} {
		ch <- d
	}
}

func (c *agentCollector) Collect(ch chan<- prometheus.Metric) {
	a := c.a
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(descInfo, 1, a.cfg.Vehicle.Account, a.cfg.Vehicle.ID)
	ready := false
	select {
	case <-a.ready:
		ready = true
	default:
	}
	link := 0.0
	if ready && a.leaf.LeafConnected() {
		link = 1
	}
	gauge(descLinkUp, link)
	if ready && a.fences != nil {
		gauge(descFences, float64(a.fences.Index().Len()))
	}
	st := a.Stats() // zero before Ready
	gauge(descBacklog, float64(st.Backlog()))
	counter(descAppended, float64(st.Appended))
	counter(descForwarded, float64(st.Forwarded))
	counter(descRetries, float64(st.Retries))
	counter(descAppendRetries, float64(st.AppendRetries))
	counter(descDropped, float64(st.Discarded), string(outbox.PolicyDropOldest))
	counter(descDropped, float64(st.Rejected), string(outbox.PolicyRejectNew))

	// Sources report what they read when they can (replays, serial
	// receivers, gpsd, SocketCAN); one injected by a test may not.
	var gs *gnss.Stats
	switch s := a.src.(type) {
	case interface{ Stats() gnss.GPSDStats }:
		v := s.Stats().Stats
		gs = &v
	case interface{ Stats() gnss.Stats }:
		v := s.Stats()
		gs = &v
	}
	if gs != nil {
		counter(descNMEA, float64(gs.Sentences), "decoded")
		counter(descNMEA, float64(gs.Unsupported), "unsupported")
		counter(descNMEA, float64(gs.Malformed), "malformed")
		counter(descNMEA, float64(gs.ChecksumErrors), "checksum")
		f := gs.Filter
		for _, r := range []struct {
			name string
			n    int
		}{{"kept", f.Kept}, {"no_fix", f.NoFix}, {"no_time", f.NoTime}, {"too_old", f.TooOld}, {"backwards", f.Backwards}, {"jump", f.Jump}} {
			counter(descFixes, float64(r.n), r.name)
		}
	}
	if a.bus == nil {
		return
	}
	if s, ok := a.bus.(interface{ Stats() can.Stats }); ok {
		cs := s.Stats()
		counter(descCAN, float64(cs.Frames), "decoded")
		counter(descCAN, float64(cs.Unsupported), "unsupported")
		counter(descCAN, float64(cs.Malformed), "malformed")
		counter(descCAN, float64(cs.Filtered), "filtered")
	}
	counter(descBusErrors, float64(a.decoder.obdErrs.Load()), "obd2")
	counter(descBusErrors, float64(a.decoder.j1939Errs.Load()), "j1939")
}
