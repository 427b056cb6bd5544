package fences

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/fleetwire/fleetwire/edge/internal/hubcopy"
	"github.com/fleetwire/fleetwire/shared/geofence"
	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the hub's fence bucket, mirrored locally under the same name.
const Bucket = identity.GeofenceBucket

// Config configures a Sync.
type Config struct {
	// Account whose fences the vehicle follows, and the Vehicle (its
	// mirror's deliveries use the vehicle's own subjects, see
	// identity.DeliverPrefix).
	Account, Vehicle string
	// HubDomain is the hub's JetStream domain (default "hub").
	HubDomain string
	Logger    *slog.Logger
}

// Sync mirrors the account's fences and serves the current index.
type Sync struct {
	cfg   Config
	kv    jetstream.KeyValue
	index atomic.Pointer[geofence.Index]
	// raw holds each key's fences; only Run touches it after Open.
	raw map[string][]*geofence.Fence
}

// Open creates the local mirror (or reopens it from the leaf's store) and
// builds the index from what it already holds, so a vehicle starting
// without the hub has its last known fences at once.
func Open(ctx context.Context, nc *nats.Conn, cfg Config) (*Sync, error) {
	if cfg.HubDomain == "" {
		cfg.HubDomain = "hub"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Account == "" || cfg.Vehicle == "" {
		return nil, errors.New("fences: Account and Vehicle are required")
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("fences: %w", err)
	}
	kv, err := hubcopy.Open(ctx, js, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "fleetwire: this vehicle's copy of its account's geofences",
		Storage:     jetstream.FileStorage,
		Mirror: &jetstream.StreamSource{
			Name:          Bucket,
			FilterSubject: identity.GeofenceFilter(cfg.Account),
			External:      hubcopy.External(cfg.HubDomain, cfg.Account, cfg.Vehicle),
		},
	}, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("fences: local mirror: %w", err)
	}
	s := &Sync{cfg: cfg, kv: kv, raw: map[string][]*geofence.Fence{}}
	s.index.Store(geofence.NewIndex(nil))
	if err := s.loadAll(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Index is the current fence index; never nil. Lookups on an index keep
// working while a newer one replaces it.
func (s *Sync) Index() *geofence.Index { return s.index.Load() }

func (s *Sync) loadAll(ctx context.Context) error {
	keys, err := s.kv.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("fences: local copy: %w", err)
	}
	for k := range keys.Keys() {
		e, err := s.kv.Get(ctx, k)
		if err != nil {
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				continue
			}
			return fmt.Errorf("fences: local copy %s: %w", k, err)
		}
		s.set(k, e.Value())
	}
	s.rebuild()
	return nil
}

// Run follows changes until ctx ends, swapping in a new index after each
// batch of updates.
func (s *Sync) Run(ctx context.Context) error {
	w, err := s.kv.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		return fmt.Errorf("fences: watch: %w", err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("fences: watcher closed")
			}
			s.apply(e)
			// Take whatever else is already queued before rebuilding.
			for more := true; more; {
				select {
				case e, ok := <-w.Updates():
					if !ok {
						return fmt.Errorf("fences: watcher closed")
					}
					s.apply(e)
				default:
					more = false
				}
			}
			s.rebuild()
		}
	}
}

func (s *Sync) apply(e jetstream.KeyValueEntry) {
	if e == nil {
		return
	}
	if e.Operation() != jetstream.KeyValuePut {
		delete(s.raw, e.Key())
		return
	}
	s.set(e.Key(), e.Value())
}

// set parses one stored feature; an invalid one is logged and left out
// (the hub validates on import, so this means a newer format or damage).
func (s *Sync) set(key string, feature []byte) {
	fs, err := geofence.Load(bytes.NewReader(feature), geofence.LoadOptions{Account: s.cfg.Account})
	if err != nil {
		s.cfg.Logger.Warn("fences: stored fence not usable, ignored", "key", key, "err", err)
		delete(s.raw, key)
		return
	}
	s.raw[key] = fs
}

func (s *Sync) rebuild() {
	var all []*geofence.Fence
	for _, fs := range s.raw {
		all = append(all, fs...)
	}
	s.index.Store(geofence.NewIndex(all))
	s.cfg.Logger.Info("fences: index updated", "fences", len(all))
}
