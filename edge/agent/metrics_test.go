package agent

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/tcpproxy"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetricsEndpoint runs an agent replaying a broken NMEA log and a real
// OBD-II capture, connected to a hub through a link that is cut and
// restored: its /metrics shows the rejected sentences, the decoded frames,
// the events by type, and the link state and backlog following the link.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	hubSrv, _ := startHub(t, ctx)
	proxy, err := tcpproxy.Start(hubSrv.LeafURL()[len("nats-leaf://"):])
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()

	cfg := offlineConfig(t, "gpsd/et-332.log") // garbage lines and a bad checksum
	cfg.Vehicle = VehicleConfig{Account: "acme", ID: "truck-9"}
	cfg.Hub.URL = "nats-leaf://" + proxy.Addr()
	cfg.CAN.Replay = filepath.Join("..", "..", "testdata", "can", "canedge-obd2-car-7512BE4D.log")
	cfg.CAN.Speed = 0
	cfg.HeartbeatEvery = 50 * time.Millisecond // events keep coming while the link is down
	cfg.Metrics.Listen = "127.0.0.1:0"
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	defer func() {
		stopRun()
		if err := <-done; err != nil {
			t.Errorf("agent stopped with %v", err)
		}
	}()
	select {
	case <-a.Ready():
	case <-ctx.Done():
		t.Fatal("agent not ready")
	}
	url := "http://" + a.MetricsAddr() + "/metrics"

	var fams map[string]*dto.MetricFamily
	waitMetrics := func(what string, cond func() bool) {
		t.Helper()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			fams = scrapeMetrics(t, url)
			if cond() {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("waiting for %s: %v", what, ctx.Err())
			case <-tick.C:
			}
		}
	}
	get := func(name string, labels ...string) float64 { return metricValue(fams, name, labels...) }
	// Heartbeats keep coming, so the backlog is 0 only between forwarding
	// one and storing the next: a slow forward may never show it. What
	// shows the backlog forwarded is the forwarder passing a mark: every
	// event stored when the mark was taken is on the hub. The store is
	// new and nothing is dropped, so the events known to be on the hub are
	// those stored less those waiting.
	onHub := func() float64 {
		return get("fleetwire_edge_outbox_appended_total") - get("fleetwire_edge_outbox_backlog")
	}

	waitMetrics("link up, sources read, events forwarded", func() bool {
		return get("fleetwire_edge_hub_link_up") == 1 &&
			get("fleetwire_edge_events_total", "type", string(event.TypeHeartbeat)) > 0 &&
			get("fleetwire_edge_events_total", "type", string(event.TypePosition)) > 0 &&
			get("fleetwire_edge_can_frames_total", "result", "decoded") > 0 &&
			get("fleetwire_edge_nmea_sentences_total", "result", "checksum") > 0 &&
			get("fleetwire_edge_outbox_forwarded_total") > 0
	})
	mark := get("fleetwire_edge_outbox_appended_total")
	waitMetrics("the events stored so far forwarded", func() bool {
		return get("fleetwire_edge_hub_link_up") == 1 && onHub() >= mark
	})
	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"fleetwire_edge_nmea_sentences_total", []string{"result", "decoded"}},
		{"fleetwire_edge_nmea_sentences_total", []string{"result", "malformed"}},
		{"fleetwire_edge_gnss_fixes_total", []string{"result", "kept"}},
		{"fleetwire_edge_info", []string{"account", "acme", "vehicle", "truck-9"}},
	} {
		if v := get(c.name, c.labels...); v <= 0 {
			t.Errorf("%s%v = %g, want > 0", c.name, c.labels, v)
		}
	}
	for _, policy := range []string{"drop-oldest", "reject-new"} {
		if v := get("fleetwire_edge_outbox_dropped_total", "policy", policy); v != 0 {
			t.Errorf("dropped by %s: %g, want 0", policy, v)
		}
	}
	if v := get("fleetwire_edge_bus_decode_errors_total", "protocol", "obd2"); v < 0 {
		t.Errorf("OBD-II decode errors missing")
	}

	// Link cut: the link goes down and events pile up on the vehicle.
	proxy.Cut()
	waitMetrics("link down and a backlog", func() bool {
		return get("fleetwire_edge_hub_link_up") == 0 && get("fleetwire_edge_outbox_backlog") >= 3
	})
	// Restored: the link comes back and the backlog drains, everything
	// stored during the cut included.
	mark = get("fleetwire_edge_outbox_appended_total")
	proxy.Restore()
	waitMetrics("link up and the backlog forwarded", func() bool {
		return get("fleetwire_edge_hub_link_up") == 1 && onHub() >= mark
	})
}

// TestMetricsListenInvalid: a metrics.listen that is not host:port is
// refused naming the key.
func TestMetricsListenInvalid(t *testing.T) {
	cfg := offlineConfig(t, "gpsd/et-332.log")
	cfg.Metrics.Listen = "9464"
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "metrics.listen") {
		t.Fatalf("Validate: %v, want an error naming metrics.listen", err)
	}
}

func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// metricValue is the counter or gauge of name with the given label pairs,
// or -1 when there is none.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
next:
	for _, m := range fams[name].GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				found = found || lp.GetName() == labels[i] && lp.GetValue() == labels[i+1]
			}
			if !found {
				continue next
			}
		}
		if m.Counter != nil {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	return -1
}
