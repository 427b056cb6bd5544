package natsembed

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ErrNotReady is returned when the server did not accept connections in time.
var ErrNotReady = errors.New("embedded nats-server not ready")

// Config describes one embedded server. The zero value of every optional
// field means "the sensible default for fleetwire", not nats-server's default.
type Config struct {
	// Name is the server name; it must be unique among the hub and all leaves.
	Name string
	// StoreDir holds the JetStream store. Required.
	StoreDir string
	// Domain is the JetStream domain ("hub" on the cloud, one per vehicle).
	Domain string
	// MaxMemory and MaxStore bound JetStream memory and disk (bytes). nats-server
	// would otherwise take 75% of RAM, unacceptable on a gateway. Defaults:
	// 64 MiB memory, 1 GiB store.
	MaxMemory, MaxStore int64

	// ClientListen is host:port for client connections; "" serves in-process
	// connections only (nats.InProcessServer); port 0 picks a free port.
	ClientListen string
	// LeafListen is host:port of the leaf-node listener (the hub); "" for none.
	LeafListen string
	// LeafRemotes are the hub URLs a leaf connects to (nats-leaf://host:port).
	LeafRemotes []string
	// LeafReconnect is the delay between leaf reconnect attempts (default 1s).
	LeafReconnect time.Duration
	// PingInterval detects dead links (default 5s, so a black-holed mobile
	// link is noticed in about 15 s instead of nats-server's ~6 minutes).
	PingInterval time.Duration
	// Auth requires every client and leaf connection other than the
	// server's own in-process clients to be admitted by the authorization
	// callout: a responder on $SYS.REQ.USER.AUTH (cloud/callout) that signs
	// its answers with CalloutIssuer. Until one answers, no one else gets
	// in. Without Auth anyone who can reach the listeners connects.
	Auth bool
	// TLS, when not nil, is required on the client and leaf-node listeners.
	TLS *tls.Config
	// LeafSeed is this leaf's nkey seed ("SU…"), to authenticate with a hub
	// that requires it; "" connects without credentials.
	LeafSeed string
	// LeafTLS, when not nil, makes the leaf dial its hub over TLS (set
	// RootCAs to trust a private CA).
	LeafTLS *tls.Config
	// Logger receives the server's log lines (slog.Default if nil).
	Logger *slog.Logger
	// Debug forwards nats-server debug lines too.
	Debug bool
}

func (c *Config) setDefaults() {
	if c.MaxMemory == 0 {
		c.MaxMemory = 64 << 20
	}
	if c.MaxStore == 0 {
		c.MaxStore = 1 << 30
	}
	if c.LeafReconnect == 0 {
		c.LeafReconnect = time.Second
	}
	if c.PingInterval == 0 {
		c.PingInterval = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports configuration that nats-server would reject or that
// breaks fleetwire's topology.
func (c *Config) Validate() error {
	if c.Name == "" {
		return errors.New("natsembed: Name is required (unique per server)")
	}
	if c.StoreDir == "" {
		return errors.New("natsembed: StoreDir is required")
	}
	return nil
}

// Server is a running embedded nats-server.
type Server struct {
	cfg  Config
	opts *server.Options // nats-server writes resolved random ports back here
	ns   *server.Server

	auth *auth // nil without Config.Auth
}

// Start starts the server and waits until it accepts connections or ctx ends.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName:         cfg.Name,
		JetStream:          true,
		JetStreamDomain:    cfg.Domain,
		StoreDir:           cfg.StoreDir,
		JetStreamMaxMemory: cfg.MaxMemory,
		JetStreamMaxStore:  cfg.MaxStore,
		PingInterval:       cfg.PingInterval,
		MaxPingsOut:        2,
		NoSigs:             true,
		Debug:              cfg.Debug,
	}
	if cfg.ClientListen == "" {
		opts.DontListen = true
		// Only this process's own clients: one that stops reading for a
		// while (a starved gateway CPU) is waited for, not disconnected
		// after nats-server's default 10 s.
		opts.WriteDeadline = time.Minute
	} else {
		host, port, err := splitHostPort(cfg.ClientListen)
		if err != nil {
			return nil, fmt.Errorf("natsembed: client listen %q: %w", cfg.ClientListen, err)
		}
		opts.Host, opts.Port = host, port
		if port == 0 {
			opts.Port = server.RANDOM_PORT
		}
	}
	if cfg.LeafListen != "" {
		host, port, err := splitHostPort(cfg.LeafListen)
		if err != nil {
			return nil, fmt.Errorf("natsembed: leaf listen %q: %w", cfg.LeafListen, err)
		}
		if port == 0 {
			port = server.RANDOM_PORT
		}
		opts.LeafNode.Host, opts.LeafNode.Port = host, port
		// Each vehicle sees only its own interest: without this every
		// vehicle's local publishes would reach every other vehicle.
		opts.LeafNode.IsolateLeafnodeInterest = true
	}
	var a *auth
	if cfg.Auth {
		var err error
		if a, err = newAuth(); err != nil {
			return nil, err
		}
		a.apply(opts)
	}
	if cfg.TLS != nil {
		opts.TLSConfig, opts.TLS, opts.TLSVerify = cfg.TLS, true, cfg.TLS.ClientAuth >= tls.VerifyClientCertIfGiven
		opts.TLSTimeout = 5
		if cfg.LeafListen != "" {
			opts.LeafNode.TLSConfig = cfg.TLS
			opts.LeafNode.TLSTimeout = 5
		}
	}
	for _, r := range cfg.LeafRemotes {
		u, err := url.Parse(r)
		if err != nil {
			return nil, fmt.Errorf("natsembed: leaf remote %q: %w", r, err)
		}
		opts.LeafNode.Remotes = append(opts.LeafNode.Remotes, &server.RemoteLeafOpts{
			URLs: []*url.URL{u},
			// Keep using the URL we were given (a proxy, a load balancer)
			// rather than addresses the hub advertises.
			IgnoreDiscoveredServers: true,
			Nkey:                    cfg.LeafSeed,
			TLS:                     cfg.LeafTLS != nil,
			TLSConfig:               cfg.LeafTLS,
			TLSTimeout:              5,
		})
	}
	if len(cfg.LeafRemotes) > 0 {
		opts.LeafNode.ReconnectInterval = cfg.LeafReconnect
	}

	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsembed: %s: %w", cfg.Name, err)
	}
	ns.SetLoggerV2(&slogAdapter{l: cfg.Logger.With("nats_server", cfg.Name)}, cfg.Debug, false, false)
	ns.Start()
	if err := waitReady(ctx, ns); err != nil {
		ns.Shutdown()
		return nil, fmt.Errorf("natsembed: %s: %w", cfg.Name, err)
	}
	return &Server{cfg: cfg, opts: opts, ns: ns, auth: a}, nil
}

func waitReady(ctx context.Context, ns *server.Server) error {
	deadline := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		deadline = time.Until(d)
	}
	// ReadyForConnections polls internally; it also covers JetStream start-up
	// (recovering a large store from disk can take seconds).
	if !ns.ReadyForConnections(deadline) {
		if err := ctx.Err(); err != nil {
			return err
		}
		return ErrNotReady
	}
	if !ns.JetStreamEnabled() {
		return fmt.Errorf("%w: JetStream did not start (see the server log)", ErrNotReady)
	}
	return nil
}

func splitHostPort(hp string) (string, int, error) {
	host, ps, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q is not a number in 0..65535", ps)
	}
	return host, port, nil
}

// Connect opens a client connection in-process (no TCP), with infinite
// reconnects so that a client survives the server's own restarts.
func (s *Server) Connect(name string, opts ...nats.Option) (*nats.Conn, error) {
	base := []nats.Option{nats.Name(name), nats.InProcessServer(s.ns), nats.MaxReconnects(-1), s.serviceOption()}
	nc, err := nats.Connect("", append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("natsembed: connect to %s: %w", s.cfg.Name, err)
	}
	return nc, nil
}

// ClientURL is the nats:// URL clients can dial ("" when in-process only).
func (s *Server) ClientURL() string {
	if s.cfg.ClientListen == "" {
		return ""
	}
	return s.ns.ClientURL()
}

// LeafURL is the nats-leaf:// URL of the leaf-node listener ("" when none).
func (s *Server) LeafURL() string {
	if s.cfg.LeafListen == "" {
		return ""
	}
	host := s.opts.LeafNode.Host
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "nats-leaf://" + net.JoinHostPort(host, strconv.Itoa(s.opts.LeafNode.Port))
}

// LeafConnected reports whether this (leaf) server has a live link to a hub,
// or this hub has at least one leaf connected.
func (s *Server) LeafConnected() bool { return s.ns.NumLeafNodes() > 0 }

// Shutdown stops the server, flushing the JetStream store to disk, and waits
// until it has stopped or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ns.Shutdown()
	done := make(chan struct{})
	go func() { s.ns.WaitForShutdown(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("natsembed: %s shutdown: %w", s.cfg.Name, ctx.Err())
	}
}

// WaitLeafConnected waits until LeafConnected is true or ctx ends.
// A link that is up has not necessarily carried the hub's subscriptions
// yet: a request sent at once may still get nats.ErrNoResponders, which
// callers treat as "not yet" and retry.
func (s *Server) WaitLeafConnected(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !s.LeafConnected() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("natsembed: %s: no leaf-node link: %w", s.cfg.Name, ctx.Err())
		case <-t.C:
		}
	}
	return nil
}
