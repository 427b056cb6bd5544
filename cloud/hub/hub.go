package hub

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fleetwire/fleetwire/cloud/internal/ensure"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// PublishAsyncTimeout bounds the wait for the PubAck of an asynchronous
// publish on the hub's JetStream (delivery records).
const PublishAsyncTimeout = 5 * time.Second

// ErrUnreachable is returned when an external NATS cluster cannot be reached.
var ErrUnreachable = errors.New("hub: NATS not reachable")

// Config says where the hub is and how the EVENTS stream is shaped.
type Config struct {
	// URL of an existing NATS cluster ("" embeds a server).
	URL string
	// Credentials is a .creds file for URL (optional).
	Credentials string
	// NkeyFile is a user seed file for URL (optional; an nkey user of the
	// cluster's configuration, such as `fleetwire hub-auth init` writes).
	NkeyFile string
	// CAFile is the PEM CA that signed the cluster's certificate, for a
	// tls:// URL with a private CA (optional).
	CAFile string
	// Embedded server settings, used when URL is "".
	Name       string // server name (default "fleetwire-hub")
	Domain     string // JetStream domain (default "hub")
	StoreDir   string // JetStream store directory
	Listen     string // client listener host:port ("" in-process only)
	LeafListen string // leaf-node listener host:port for vehicles
	MaxStore   int64  // JetStream disk budget in bytes (0: 10 GiB)
	// Auth requires every connection but fleetwire's own to be admitted by
	// the authorization callout (cloud/callout, started later), so until
	// then no vehicle is admitted.
	Auth bool
	TLS  *tls.Config // on the client and leaf listeners

	// Events is the EVENTS stream.
	Events StreamConfig
	Logger *slog.Logger
}

// StreamConfig shapes the EVENTS stream.
type StreamConfig struct {
	Name       string        // default "EVENTS"
	MaxAge     time.Duration // default 7 days
	MaxBytes   int64         // default unlimited (-1)
	Duplicates time.Duration // de-duplication window for publish retries (default 2m)
	Replicas   int           // 1 embedded, 3 in a cluster
}

func (c *Config) setDefaults() {
	if c.Name == "" {
		c.Name = "fleetwire-hub"
	}
	if c.Domain == "" {
		c.Domain = "hub"
	}
	if c.MaxStore == 0 {
		c.MaxStore = 10 << 30
	}
	if c.Events.Name == "" {
		c.Events.Name = "EVENTS"
	}
	if c.Events.MaxAge == 0 {
		c.Events.MaxAge = 7 * 24 * time.Hour
	}
	if c.Events.MaxBytes == 0 {
		c.Events.MaxBytes = -1
	}
	if c.Events.Duplicates == 0 {
		c.Events.Duplicates = 2 * time.Minute
	}
	if c.Events.Replicas == 0 {
		c.Events.Replicas = 1
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Hub is a connection to the hub's JetStream, and the embedded server if any.
type Hub struct {
	cfg    Config
	Server *natsembed.Server // nil when connected to an external cluster
	NC     *nats.Conn
	JS     jetstream.JetStream
	Events jetstream.Stream
}

// Open starts or connects to the hub and ensures the EVENTS stream exists
// with the configured shape (created or updated idempotently).
func Open(ctx context.Context, cfg Config) (*Hub, error) {
	cfg.setDefaults()
	h := &Hub{cfg: cfg}
	var err error
	if cfg.URL == "" {
		if cfg.StoreDir == "" {
			return nil, errors.New("hub: store directory is required for the embedded server")
		}
		h.Server, err = natsembed.Start(ctx, natsembed.Config{
			Name: cfg.Name, Domain: cfg.Domain, StoreDir: cfg.StoreDir,
			ClientListen: cfg.Listen, LeafListen: cfg.LeafListen,
			MaxStore: cfg.MaxStore, MaxMemory: 256 << 20, Logger: cfg.Logger,
			Auth: cfg.Auth, TLS: cfg.TLS,
		})
		if err != nil {
			return nil, fmt.Errorf("hub: %w", err)
		}
		h.NC, err = h.Server.Connect("fleetwire-hub-client")
	} else {
		opts := []nats.Option{nats.Name("fleetwire"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(false)}
		opts, err = appendAuth(opts, cfg)
		if err == nil {
			h.NC, err = nats.Connect(cfg.URL, opts...)
			if err != nil {
				err = fmt.Errorf("%w at %s: %w", ErrUnreachable, cfg.URL, err)
			}
		}
	}
	if err != nil {
		h.Close(ctx)
		return nil, err
	}
	// An async publish whose PubAck never comes (the stream leader died
	// with it, on a cluster) fails after this instead of waiting forever.
	h.JS, err = jetstream.New(h.NC, jetstream.WithPublishAsyncTimeout(PublishAsyncTimeout))
	if err != nil {
		h.Close(ctx)
		return nil, fmt.Errorf("hub: %w", err)
	}
	if h.Events, err = EnsureEvents(ctx, h.JS, cfg.Events); err != nil {
		h.Close(ctx)
		return nil, err
	}
	return h, nil
}

// appendAuth adds the credentials and CA of an external cluster.
func appendAuth(opts []nats.Option, cfg Config) ([]nats.Option, error) {
	if cfg.Credentials != "" {
		opts = append(opts, nats.UserCredentials(cfg.Credentials))
	}
	if cfg.NkeyFile != "" {
		o, err := nats.NkeyOptionFromSeed(cfg.NkeyFile)
		if err != nil {
			return nil, fmt.Errorf("hub: nkey file: %w", err)
		}
		opts = append(opts, o)
	}
	if cfg.CAFile != "" {
		opts = append(opts, nats.RootCAs(cfg.CAFile))
	}
	return opts, nil
}

// EnsureEvents creates the EVENTS stream or updates it to cfg.
func EnsureEvents(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (jetstream.Stream, error) {
	sc := jetstream.StreamConfig{
		Name:        cfg.Name,
		Description: "fleetwire: every vehicle event, in hub ingest order",
		Subjects:    []string{event.SubjectRoot + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      cfg.MaxAge,
		MaxBytes:    cfg.MaxBytes,
		Duplicates:  cfg.Duplicates,
		Replicas:    cfg.Replicas,
		AllowDirect: true, // fast last-event lookups by forwarders
	}
	st, err := ensure.Retry(ctx, "create stream", func(ctx context.Context) (jetstream.Stream, error) {
		return js.CreateOrUpdateStream(ctx, sc)
	})
	if err != nil {
		return nil, fmt.Errorf("hub: stream %s: %w", cfg.Name, err)
	}
	return st, nil
}

// Close closes the connection and shuts the embedded server down.
func (h *Hub) Close(ctx context.Context) error {
	if h.NC != nil {
		h.NC.Close()
	}
	if h.Server != nil {
		return h.Server.Shutdown(ctx)
	}
	return nil
}

// Domain is the hub's JetStream domain.
func (h *Hub) Domain() string { return h.cfg.Domain }

// EventsName is the EVENTS stream's name.
func (h *Hub) EventsName() string { return h.cfg.Events.Name }

// LeafURL is where vehicles connect ("" for an external cluster).
func (h *Hub) LeafURL() string {
	if h.Server == nil {
		return ""
	}
	return h.Server.LeafURL()
}

// ConnectAs opens another connection to the external cluster, as the user
// of nkeyFile (a seed file), with the hub's CA. It is an error on an
// embedded hub, whose in-process clients need no key.
func (h *Hub) ConnectAs(name, nkeyFile string) (*nats.Conn, error) {
	if h.cfg.URL == "" {
		return nil, errors.New("hub: ConnectAs needs an external cluster (hub.url)")
	}
	opts, err := appendAuth([]nats.Option{nats.Name(name), nats.MaxReconnects(-1)}, Config{NkeyFile: nkeyFile, CAFile: h.cfg.CAFile})
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(h.cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w at %s as %s: %w", ErrUnreachable, h.cfg.URL, name, err)
	}
	return nc, nil
}
