package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/fleetwire/fleetwire/cloud/api"
	"github.com/fleetwire/fleetwire/cloud/console"
	"github.com/fleetwire/fleetwire/cloud/deliverylog"
	"github.com/fleetwire/fleetwire/cloud/dispatch"
	"github.com/fleetwire/fleetwire/cloud/fencestore"
	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/cloud/identities"
	"github.com/fleetwire/fleetwire/cloud/metrics"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/cloud/tokens"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

// Server is a running cloud: hub, dispatcher and API.
type Server struct {
	cfg        Config
	log        *slog.Logger
	onAttempt  func(dispatch.Attempt)
	hub        *hub.Hub
	store      *subscription.Store
	identities *identities.Store
	metrics    *metrics.Metrics
	ready      chan struct{}
	apiAddr    string
	fences     *fencestore.Store
	api        http.Handler // the /v1 API (nil until Run builds it)
}

// Option adjusts a Server.
type Option func(*Server)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithOnAttempt observes every delivery attempt (the demo prints them).
func WithOnAttempt(f func(dispatch.Attempt)) Option { return func(s *Server) { s.onAttempt = f } }

// New validates cfg; nothing starts until Run.
func New(cfg Config, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: slog.Default(), ready: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Ready is closed when the hub, its streams and the API are up.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Hub is the open hub (valid after Ready).
func (s *Server) Hub() *hub.Hub { return s.hub }

// Subscriptions is the subscription store (valid after Ready).
func (s *Server) Subscriptions() *subscription.Store { return s.store }

// APIAddr is the API's listening address (valid after Ready).
func (s *Server) APIAddr() string { return s.apiAddr }

// Run opens the hub, starts the dispatcher and the API, and blocks until
// ctx ends; then it stops the API, the dispatcher and the hub in that order.
func (s *Server) Run(ctx context.Context) error {
	tlsConfig, err := s.cfg.hubTLS()
	if err != nil {
		return err
	}
	h, err := hub.Open(ctx, hub.Config{
		URL: s.cfg.Hub.URL, Credentials: s.cfg.Hub.Credentials, NkeyFile: s.cfg.Hub.NkeyFile, CAFile: s.cfg.Hub.CAFile,
		StoreDir: s.cfg.Hub.StoreDir, Listen: s.cfg.Hub.Listen, LeafListen: s.cfg.Hub.LeafListen, MaxStore: s.cfg.Hub.MaxStore,
		Auth: s.cfg.Hub.Auth, TLS: tlsConfig,
		Events: hub.StreamConfig{MaxAge: s.cfg.Events.MaxAge, MaxBytes: s.cfg.Events.MaxBytes, Duplicates: s.cfg.Events.Duplicates, Replicas: s.cfg.Events.Replicas},
		Logger: s.log,
	})
	if err != nil {
		return err
	}
	s.hub = h
	s.metrics = metrics.New(h.JS, s.log)
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Close(cctx); err != nil {
			s.log.Warn("hub shutdown", "err", err)
		}
	}()
	watchIdentities, stopIngest, err := s.openIdentities(ctx, h)
	if err != nil {
		return err
	}
	defer stopIngest()
	if err := s.importFences(ctx); err != nil {
		return err
	}
	if err := s.importSettings(ctx, s.cfg.Settings); err != nil {
		return err
	}
	store, err := subscription.Open(ctx, h.JS, subscription.StoreConfig{Replicas: s.cfg.Events.Replicas, AllowHTTP: s.cfg.Dispatch.AllowHTTP})
	if err != nil {
		return err
	}
	s.store = store
	for i, sub := range s.cfg.Subscriptions {
		if _, err := store.Apply(ctx, sub); err != nil {
			return fmt.Errorf("server: subscriptions[%d]: %w", i, err)
		}
	}
	if len(s.cfg.Groups) > 0 {
		groups, err := subscription.OpenGroups(ctx, h.JS, s.cfg.Events.Replicas)
		if err != nil {
			return err
		}
		for i, g := range s.cfg.Groups {
			if err := groups.Put(ctx, g); err != nil {
				return fmt.Errorf("server: vehicle_groups[%d]: %w", i, err)
			}
		}
	}
	dlog, err := deliverylog.Open(ctx, h.JS, deliverylog.Config{Replicas: s.cfg.Events.Replicas})
	if err != nil {
		return err
	}
	d, err := dispatch.New(h.JS, dispatch.Config{
		Log:     dlog,
		Timeout: s.cfg.Dispatch.Timeout, ImmediateRetries: immediateRetries(s.cfg.Dispatch.ImmediateRetries),
		RetrySchedule: s.cfg.Dispatch.RetrySchedule, MaxRetryAfter: s.cfg.Dispatch.MaxRetryAfter,
		MaxAge: s.cfg.Dispatch.MaxAge, MaxPayload: s.cfg.Dispatch.MaxPayload, Replicas: s.cfg.Events.Replicas, LeaseTTL: s.cfg.Dispatch.LeaseTTL,
		AllowHTTP: s.cfg.Dispatch.AllowHTTP, AllowPrivate: s.cfg.Dispatch.AllowPrivate, OnAttempt: s.observeAttempt, Logger: s.log,
	})
	if err != nil {
		return err
	}

	var api *http.Server
	if s.cfg.API.Listen != "" {
		if s.api, err = s.openAPI(ctx, d, dlog); err != nil {
			return err
		}
		ln, err := net.Listen("tcp", s.cfg.API.Listen)
		if err != nil {
			return fmt.Errorf("server: api.listen %s: %w", s.cfg.API.Listen, err)
		}
		s.apiAddr = ln.Addr().String()
		api = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := api.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("api stopped", "err", err)
			}
		}()
	}
	s.log.Info("fleetwire cloud ready", "leaf_url", h.LeafURL(), "api", s.apiAddr, "subscriptions", len(s.cfg.Subscriptions))
	close(s.ready)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := d.Run(ctx, store); err != nil && ctx.Err() == nil {
			cancel(err)
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := watchIdentities(ctx); err != nil && ctx.Err() == nil {
			cancel(err)
		}
	}()
	<-ctx.Done()
	if api != nil {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = api.Shutdown(sctx)
		scancel()
	}
	wg.Wait()
	if err := context.Cause(ctx); !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// importFences loads the configured GeoJSON files into the fence bucket,
// from which every vehicle of the account mirrors them.
func (s *Server) importFences(ctx context.Context) error {
	store, err := fencestore.Open(ctx, s.hub.JS, s.cfg.Events.Replicas)
	if err != nil {
		return err
	}
	s.fences = store
	for i, g := range s.cfg.Geofences {
		n, err := store.ImportFile(ctx, g.File, geofence.LoadOptions{Account: g.Account, Tags: g.Tags, IDProperty: g.IDProperty, NameProperty: g.NameProperty})
		if err != nil {
			return fmt.Errorf("server: geofences[%d] %s: %w", i, g.File, err)
		}
		s.log.Info("geofences imported", "account", g.Account, "file", g.File, "fences", n)
	}
	return nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !s.hub.NC.IsConnected() {
			http.Error(w, "hub connection down", http.StatusServiceUnavailable)
			return
		}
		if _, err := s.hub.Events.Info(r.Context()); err != nil {
			http.Error(w, "EVENTS stream unavailable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", s.metrics.Handler())
	if s.api != nil {
		mux.Handle("/v1/", s.api)
		mux.Handle("/console/", console.Handler())
		mux.Handle("GET /{$}", console.RedirectRoot())
	}
	return mux
}

// openAPI builds the REST API and, on a fresh install, writes the first
// operator token to api.token_file.
func (s *Server) openAPI(ctx context.Context, d *dispatch.Dispatcher, dlog *deliverylog.Log) (http.Handler, error) {
	toks, err := tokens.Open(ctx, s.hub.JS, s.cfg.Events.Replicas)
	if err != nil {
		return nil, err
	}
	file := s.cfg.API.TokenFile
	if file == "" {
		file = filepath.Join(s.cfg.Hub.StoreDir, "operator.token")
	}
	created, err := toks.Bootstrap(ctx, file)
	if err != nil {
		return nil, fmt.Errorf("server: api.token_file: %w", err)
	}
	if created {
		s.log.Info("first start: operator token written (create the others with fleetwire token create)", "file", file)
	}
	return api.New(api.Config{
		Hub: s.hub, Subscriptions: s.store, Dispatcher: d, Deliveries: dlog, Fences: s.fences, Tokens: toks, Identities: s.identities,
		AllowHTTP: s.cfg.Dispatch.AllowHTTP, Logger: s.log,
	})
}

// immediateRetries maps the config's count (0 = none) to dispatch's
// (0 = default, -1 = none).
func immediateRetries(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
