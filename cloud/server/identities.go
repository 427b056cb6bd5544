package server

import (
	"context"
	"crypto/tls"
	"fmt"

	"github.com/fleetwire/fleetwire/cloud/callout"
	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/cloud/identities"
	"github.com/fleetwire/fleetwire/cloud/ingest"
	"github.com/prometheus/client_golang/prometheus"
)

// hubTLS loads hub.tls, nil when it is not set.
func (c *Config) hubTLS() (*tls.Config, error) {
	if c.Hub.TLS.CertFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.Hub.TLS.CertFile, c.Hub.TLS.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("server: hub.tls: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// openIdentities opens the key registry, registers vehicle_keys, applies
// the registry to the embedded hub's users (when hub.auth is on) and
// starts the ingest verifier. The returned run keeps both up to date until
// ctx ends; stop drains the verifier.
func (s *Server) openIdentities(ctx context.Context, h *hub.Hub) (run func(context.Context) error, stop func(), err error) {
	var gate *calloutGate
	defer func() {
		if err != nil {
			gate.close()
		}
	}()
	ids, err := identities.Open(ctx, h.JS, s.cfg.Events.Replicas)
	if err != nil {
		return nil, nil, err
	}
	for i, k := range s.cfg.VehicleKeys {
		if _, err := ids.Put(ctx, identities.Identity{Kind: identities.Vehicle, Account: k.Account, Vehicle: k.Vehicle, Key: k.Key}); err != nil {
			return nil, nil, fmt.Errorf("server: vehicle_keys[%d]: %w", i, err)
		}
	}
	s.identities = ids
	keys := &identities.Keys{}
	if gate, err = s.openCallout(ctx, h); err != nil {
		return nil, nil, err
	}
	apply := func(all []identities.Identity) error {
		keys.Set(all)
		if !s.cfg.Hub.Auth {
			return nil
		}
		if gate != nil {
			users := make([]callout.User, 0, len(all))
			for _, id := range all {
				users = append(users, id.User(h.Domain(), h.EventsName()))
			}
			gate.set(ctx, users)
		}
		return nil
	}
	all, err := ids.List(ctx, "")
	if err != nil {
		return nil, nil, err
	}
	if err := apply(all); err != nil {
		return nil, nil, err
	}
	if s.cfg.Hub.Auth && h.Server == nil && gate == nil {
		s.log.Warn("hub.auth with an external cluster but no hub.callout.issuer_file: events must be signed by registered keys, but who may connect is the cluster's own configuration (see deploy/README.md, fleetwire hub-auth init)")
	}
	v, err := ingest.New(ingest.Config{NC: h.NC, Keys: keys, RequireSignature: s.cfg.Hub.Auth, Logger: s.log})
	if err != nil {
		return nil, nil, err
	}
	if err := gate.start(ctx); err != nil {
		return nil, nil, err
	}
	stopIngest, err := v.Start(ctx)
	if err != nil {
		return nil, nil, err
	}
	if gate != nil {
		s.metrics.Registry().MustRegister(calloutCollector{gate.a})
		stopIngest = func(stop func()) func() { return func() { stop(); gate.close() } }(stopIngest)
	}
	s.metrics.Registry().MustRegister(ingestCollector{v})
	run = func(ctx context.Context) error {
		return ids.Watch(ctx, func(all []identities.Identity) {
			if err := apply(all); err != nil {
				s.log.Error("identities: could not apply the registry; the previous users stay", "err", err)
			}
		})
	}
	return run, stopIngest, nil
}

var (
	ingestAccepted = prometheus.NewDesc("fleetwire_ingest_accepted_total",
		"Events whose signature (or, without hub.auth, whose envelope) the ingest verifier accepted into EVENTS.", nil, nil)
	ingestRejected = prometheus.NewDesc("fleetwire_ingest_rejected_total",
		"Events the ingest verifier refused, by reason (unsigned, bad_signature, wrong_key, unregistered_vehicle, envelope_mismatch, bad_subject).", []string{"reason"}, nil)
)

// ingestCollector exports the verifier's counters.
type ingestCollector struct{ v *ingest.Verifier }

func (c ingestCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- ingestAccepted
	ch <- ingestRejected
}

func (c ingestCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.v.Stats()
	ch <- prometheus.MustNewConstMetric(ingestAccepted, prometheus.CounterValue, float64(st.Accepted))
	for reason, n := range st.Rejected {
		ch <- prometheus.MustNewConstMetric(ingestRejected, prometheus.CounterValue, float64(n), reason)
	}
}
