package server

import (
	"context"
	"reflect"
	"sync"

	"github.com/fleetwire/fleetwire/cloud/callout"
	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// calloutGate admits vehicles and customer clients to an external cluster
// from the key registry (hub.callout): the registry's users, the
// Authorizer that answers the cluster, and its system connection.
type calloutGate struct {
	a      *callout.Authorizer
	system *nats.Conn
	stop   func()
	s      *Server

	mu    sync.RWMutex
	users map[string]natsembed.User
}

// openCallout prepares the gate when hub.callout is set on an external
// cluster; nil otherwise. start subscribes it.
func (s *Server) openCallout(h *hub.Hub) (*calloutGate, error) {
	co := s.cfg.Hub.Callout
	if co.IssuerFile == "" || h.Server != nil {
		return nil, nil
	}
	issuer, err := callout.LoadIssuer(co.IssuerFile)
	if err != nil {
		return nil, err
	}
	g := &calloutGate{s: s, users: map[string]natsembed.User{}}
	if co.SystemKeyFile != "" {
		if g.system, err = h.ConnectAs("fleetwire-system", co.SystemKeyFile); err != nil {
			return nil, err
		}
	}
	g.a, err = callout.New(callout.Config{NC: h.NC, Issuer: issuer, Users: g.lookup, System: g.system, SessionTTL: co.SessionTTL, Logger: s.log})
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
	g.s.log.Info("hub: admitting vehicles and customer clients by authorization callout", "users", len(g.users), "disconnects_revoked", g.system != nil)
	return nil
}

func (g *calloutGate) lookup(key string) (natsembed.User, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	u, ok := g.users[key]
	return u, ok
}

// set replaces the users; the connections of keys removed or whose
// permissions changed are disconnected (they reconnect with the new ones).
func (g *calloutGate) set(ctx context.Context, users []natsembed.User) {
	next := make(map[string]natsembed.User, len(users))
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
