package settings

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/fleetwire/fleetwire/edge/internal/hubcopy"
	"github.com/fleetwire/fleetwire/shared/detectconfig"
	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the hub's settings bucket, mirrored locally under the same name.
const Bucket = detectconfig.Bucket

// history is how many versions of each document the local copy keeps, so
// that after a restart the newest usable one can be found behind a bad one.
const history = 8

// Config configures a Sync.
type Config struct {
	// Account and Vehicle whose documents the vehicle follows.
	Account, Vehicle string
	// HubDomain is the hub's JetStream domain (default "hub").
	HubDomain string
	// Base is the local configuration (defaults, file, environment, flags),
	// the layer the documents override.
	Base detectconfig.Config
	// OnChange is called, from Run's goroutine, with the new thresholds each
	// time they change. It is not called for those Open starts with.
	OnChange func(Thresholds)
	Logger   *slog.Logger
}

// Thresholds are the effective detection settings and where they come from.
type Thresholds struct {
	Detect detectconfig.Config
	// Source lists the layers applied, lowest first: "local",
	// "local+account", "local+vehicle" or "local+account+vehicle".
	Source string
	// AccountRevision and VehicleRevision are the bucket revisions of the
	// documents applied; 0 for a layer not applied.
	AccountRevision, VehicleRevision uint64
}

// Sync mirrors the vehicle's settings documents and serves the effective
// thresholds.
type Sync struct {
	cfg          Config
	kv           jetstream.KeyValue
	accountKey   string
	vehicleKey   string
	docs         map[string]doc    // the last usable document of each key; only Run writes it after Open
	rejected     map[string]uint64 // the revision of each key last refused, logged once
	mu           sync.Mutex
	current      Thresholds
	accountLayer string // "account acme", for messages
	vehicleLayer string
}

// doc is a stored document that applies over the local configuration (and
// the vehicle's over the account's, when it was stored).
type doc struct {
	value    []byte
	revision uint64
}

// Open creates the local mirror (or reopens it from the leaf's store) and
// computes the thresholds from what it already holds, so a vehicle starting
// without the hub has its last known overrides at once. Only the account's
// and the vehicle's own keys are mirrored.
func Open(ctx context.Context, nc *nats.Conn, cfg Config) (*Sync, error) {
	if cfg.HubDomain == "" {
		cfg.HubDomain = "hub"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := cfg.Base.Validate(); err != nil {
		return nil, fmt.Errorf("settings: local configuration: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	s := &Sync{
		cfg:          cfg,
		accountKey:   detectconfig.AccountKey(cfg.Account),
		vehicleKey:   detectconfig.VehicleKey(cfg.Account, cfg.Vehicle),
		docs:         map[string]doc{},
		rejected:     map[string]uint64{},
		accountLayer: "account " + cfg.Account,
		vehicleLayer: "vehicle " + cfg.Account + "/" + cfg.Vehicle,
	}
	// One source per key, each with its filter in the consumer's API
	// subject, so that the hub's permissions can pin what a vehicle reads
	// (a single mirror with two filters could not be pinned).
	var sources []*jetstream.StreamSource
	for _, k := range identity.SettingsKeys(cfg.Account, cfg.Vehicle) {
		sources = append(sources, &jetstream.StreamSource{
			Name:          Bucket,
			FilterSubject: "$KV." + Bucket + "." + k,
			External:      hubcopy.External(cfg.HubDomain, cfg.Account, cfg.Vehicle),
		})
	}
	s.kv, err = hubcopy.Open(ctx, js, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "fleetwire: this vehicle's copy of its account's and its own detection settings",
		History:     history,
		Storage:     jetstream.FileStorage,
		Sources:     sources,
	}, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("settings: local mirror: %w", err)
	}
	for _, k := range []string{s.accountKey, s.vehicleKey} {
		if err := s.loadNewestUsable(ctx, k); err != nil {
			return nil, err
		}
	}
	s.current = s.resolve()
	s.cfg.Logger.Info("detection settings: thresholds from "+s.current.Source, "source", s.current.Source,
		"account_revision", s.current.AccountRevision, "vehicle_revision", s.current.VehicleRevision)
	return s, nil
}

// Current returns the effective thresholds.
func (s *Sync) Current() Thresholds {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// loadNewestUsable takes the newest version of key that applies over the
// local configuration; a deletion, or no version at all, means no layer.
func (s *Sync) loadNewestUsable(ctx context.Context, key string) error {
	entries, err := s.kv.History(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("settings: local copy %s: %w", key, err)
	}
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Operation() != jetstream.KeyValuePut {
			return nil
		}
		if err := s.usable(key, e.Value()); err != nil {
			s.cfg.Logger.Error("detection settings: stored document not usable, ignored; trying the one before",
				"layer", s.layer(key), "key", key, "revision", e.Revision(), "err", err)
			if _, seen := s.rejected[key]; !seen {
				s.rejected[key] = e.Revision()
			}
			continue
		}
		s.docs[key] = doc{value: e.Value(), revision: e.Revision()}
		return nil
	}
	return nil
}

// usable reports why value, a document of key, cannot be used: it does not
// apply over the local configuration, or, for the vehicle's, over the
// local configuration and the account's document in force.
func (s *Sync) usable(key string, value []byte) error {
	c := s.cfg.Base
	if d, ok := s.docs[s.accountKey]; ok && key == s.vehicleKey {
		_ = c.Apply(d.value, "") // applies: checked when stored in docs
	}
	return c.Apply(value, "detection settings of "+s.layer(key))
}

func (s *Sync) layer(key string) string {
	if key == s.accountKey {
		return s.accountLayer
	}
	return s.vehicleLayer
}

// resolve layers the documents over the local configuration. A vehicle
// document that no longer applies over a newer account document (the two
// disagree on related keys, such as a hysteresis above the other's
// threshold) is left out, with an error, until one of them changes.
func (s *Sync) resolve() Thresholds {
	t := Thresholds{Detect: s.cfg.Base, Source: "local"}
	if d, ok := s.docs[s.accountKey]; ok {
		if err := t.Detect.Apply(d.value, "detection settings of "+s.accountLayer); err != nil {
			// Checked against the same base when stored in docs: unreachable.
			s.cfg.Logger.Error("detection settings: account document not usable, ignored", "err", err)
		} else {
			t.Source, t.AccountRevision = t.Source+"+account", d.revision
		}
	}
	if d, ok := s.docs[s.vehicleKey]; ok {
		if err := t.Detect.Apply(d.value, "detection settings of "+s.vehicleLayer); err != nil {
			s.cfg.Logger.Error("detection settings: vehicle document does not apply over the account's, ignored",
				"revision", d.revision, "err", err)
		} else {
			t.Source, t.VehicleRevision = t.Source+"+vehicle", d.revision
		}
	}
	return t
}

// Run follows changes until ctx ends, calling OnChange when the thresholds
// change. A document that does not apply is logged and ignored: the last
// usable one of its key stays in force.
func (s *Sync) Run(ctx context.Context) error {
	// Not UpdatesOnly: the watcher first replays the newest entry of each
	// key, which covers any change between Open and now.
	w, err := s.kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("settings: watch: %w", err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return s.closed(ctx)
			}
			changed := s.apply(e)
			// Take whatever else is already queued before resolving.
			for more := true; more; {
				select {
				case e, ok := <-w.Updates():
					if !ok {
						return s.closed(ctx)
					}
					changed = s.apply(e) || changed
				default:
					more = false
				}
			}
			if changed {
				s.update()
			}
		}
	}
}

// closed is Run's error when the watcher's channel closes: ctx's, when it
// ended (the watcher stops with it).
func (s *Sync) closed(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.New("settings: watcher closed")
}

// apply records one entry and reports whether a layer changed.
func (s *Sync) apply(e jetstream.KeyValueEntry) bool {
	if e == nil { // the end of the initial values
		return false
	}
	key := e.Key()
	if key != s.accountKey && key != s.vehicleKey {
		return false // not mirrored; an older mirror's leftovers
	}
	old, had := s.docs[key]
	if e.Operation() != jetstream.KeyValuePut {
		delete(s.docs, key)
		return had
	}
	if had && old.revision == e.Revision() || s.rejected[key] == e.Revision() {
		return false // known already (the watcher's replay of what Open read)
	}
	if err := s.usable(key, e.Value()); err != nil {
		s.rejected[key] = e.Revision()
		s.cfg.Logger.Error("detection settings: document from the hub not usable, ignored; the previous thresholds stay",
			"layer", s.layer(key), "key", key, "revision", e.Revision(), "err", err)
		return false
	}
	s.docs[key] = doc{value: e.Value(), revision: e.Revision()}
	return true
}

// update resolves the layers and reports new thresholds.
func (s *Sync) update() {
	t := s.resolve()
	s.mu.Lock()
	same := t == s.current
	s.current = t
	s.mu.Unlock()
	if same {
		return
	}
	s.cfg.Logger.Info("detection settings: thresholds changed, now from "+t.Source, "source", t.Source,
		"account_revision", t.AccountRevision, "vehicle_revision", t.VehicleRevision)
	if s.cfg.OnChange != nil {
		s.cfg.OnChange(t)
	}
}
