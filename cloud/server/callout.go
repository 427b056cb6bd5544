package server

import (
	"context"
	"reflect"
	"sync"

	"github.com/fleetwire/fleetwire/cloud/callout"
	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// calloutGate admits vehicles and customer clients to the hub from the key
// registry (hub.auth): the registry's users and the Authorizer that answers
// the hub's authorization callout, on the embedded hub or on a cluster
// (hub.callout), with the system connection that disconnects revoked keys
// there.
type calloutGate struct {
	a      *callout.Authorizer
	system *nats.Conn
	stop   func()
	s      *Server

	mu    sync.RWMutex
	users map[string]callout.User
}

// openCallout prepares the gate with hub.auth, on the embedded hub or on a
// cluster with hub.callout; nil otherwise. start subscribes it.
func (s *Server) openCallout(ctx context.Context, h *hub.Hub) (*calloutGate, error) {
	co := s.cfg.Hub.Callout
	if !s.cfg.Hub.Auth || (h.Server == nil && co.IssuerFile == "") {
		return nil, nil
	}
	g := &calloutGate{s: s, users: map[string]callout.User{}}
	ttl := co.SessionTTL
	if ttl == 0 {
		ttl = callout.DefaultSessionTTL
	}
	// Shared by the replicas and kept across restarts: whichever sees a
	// revocation disconnects every connection of that key.
	sessions, err := callout.KVSessions(ctx, h.JS, ttl, s.cfg.Events.Replicas)
	if err != nil {
		return nil, err
	}
	cfg := callout.Config{NC: h.NC, Users: g.lookup, SessionTTL: ttl, Sessions: sessions, Logger: s.log}
	if h.Server != nil {
		if cfg.Issuer, err = h.Server.CalloutIssuer(); err != nil {
			return nil, err
		}
		cfg.Disconnect = func(_ context.Context, serverID string, cid uint64) (bool, error) {
			return h.Server.Disconnect(serverID, cid)
		}
	} else {
		if cfg.Issuer, err = callout.LoadIssuer(co.IssuerFile); err != nil {
			return nil, err
		}
		if co.SystemKeyFile != "" {
			if g.system, err = h.ConnectAs("fleetwire-system", co.SystemKeyFile); err != nil {
				return nil, err
			}
			cfg.Disconnect = callout.SystemDisconnect(g.system)
		}
	}
	g.a, err = callout.New(cfg)
	if err != nil {
		g.close()
		return nil, err
	}
	return g, nil
}

func (g *calloutGate) start(ctx context.Context) error {
	if g == nil {
		return nil
	}
	stop, err := g.a.Start(ctx)
	if err != nil {
		return err
	}
	g.stop = stop
	g.s.log.Info("hub: admitting registered vehicles and customer clients", "keys", len(g.users))
	return nil
}

func (g *calloutGate) lookup(key string) (callout.User, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	u, ok := g.users[key]
	return u, ok
}

// set replaces the users; the connections of keys removed or whose
// permissions changed are disconnected (they reconnect with the new ones).
func (g *calloutGate) set(ctx context.Context, users []callout.User) {
	next := make(map[string]callout.User, len(users))
	for _, u := range users {
		next[u.Nkey] = u
	}
	g.mu.Lock()
	prev := g.users
	g.users = next
	g.mu.Unlock()
	var revoked []string
	for k, u := range prev {
		if n, ok := next[k]; !ok || !reflect.DeepEqual(u, n) {
			revoked = append(revoked, k)
		}
	}
	if len(revoked) == 0 {
		return
	}
	n, err := g.a.Revoke(ctx, revoked...)
	if err != nil {
		g.s.log.Warn("hub: could not disconnect every connection of a revoked key", "keys", len(revoked), "disconnected", n, "err", err)
		return
	}
	g.s.log.Info("hub: revoked keys disconnected", "keys", len(revoked), "connections", n)
}

func (g *calloutGate) close() {
	if g == nil {
		return
	}
	if g.stop != nil {
		g.stop()
	}
	if g.system != nil {
		g.system.Close()
	}
}

var (
	calloutAdmitted = prometheus.NewDesc("fleetwire_callout_admitted_total",
		"Connections the authorization callout admitted to the external cluster.", nil, nil)
	calloutRefused = prometheus.NewDesc("fleetwire_callout_refused_total",
		"Connections the authorization callout refused, by reason (no_key, bad_signature, unregistered).", []string{"reason"}, nil)
	calloutDisconnected = prometheus.NewDesc("fleetwire_callout_disconnected_total",
		"Connections of revoked keys that the cluster disconnected.", nil, nil)
)

// calloutCollector exports the Authorizer's counters.
type calloutCollector struct{ a *callout.Authorizer }

func (c calloutCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- calloutAdmitted
	ch <- calloutRefused
	ch <- calloutDisconnected
}

func (c calloutCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.a.Stats()
	ch <- prometheus.MustNewConstMetric(calloutAdmitted, prometheus.CounterValue, float64(st.Admitted))
	for reason, n := range st.Refused {
		ch <- prometheus.MustNewConstMetric(calloutRefused, prometheus.CounterValue, float64(n), reason)
	}
	ch <- prometheus.MustNewConstMetric(calloutDisconnected, prometheus.CounterValue, float64(st.Disconnected))
}
