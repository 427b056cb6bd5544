package subscription

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/fleetwire/fleetwire/cloud/internal/ensure"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the hub's key-value bucket of subscriptions, keyed by id.
const Bucket = "SUBSCRIPTIONS"

var (
	// ErrNotFound: no subscription has that id.
	ErrNotFound = errors.New("subscription not found")
	// ErrExists: Create was given an id already in use.
	ErrExists = errors.New("subscription already exists")
)

// Store keeps subscriptions in a JetStream KV bucket, so they survive
// restarts and every dispatcher replica sees the same set. Writes are
// compare-and-set on the entry's revision: concurrent changes (an operator
// pausing while the dispatcher deactivates) never overwrite each other.
type Store struct {
	kv        jetstream.KeyValue
	allowHTTP bool
	now       func() time.Time
}

// StoreConfig configures Open.
type StoreConfig struct {
	// Replicas of the bucket (1, or 3 on a cluster).
	Replicas int
	// AllowHTTP accepts plain http:// URLs (development).
	AllowHTTP bool
}

// Open creates or opens the bucket.
func Open(ctx context.Context, js jetstream.JetStream, cfg StoreConfig) (*Store, error) {
	kv, err := ensure.Retry(ctx, "create bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      Bucket,
			Description: "fleetwire: webhook subscriptions",
			Storage:     jetstream.FileStorage,
			Replicas:    max(cfg.Replicas, 1),
			History:     5,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("subscription: bucket %s: %w", Bucket, err)
	}
	return &Store{kv: kv, allowHTTP: cfg.AllowHTTP, now: time.Now}, nil
}

// Create stores a new subscription, generating its secret when empty, and
// returns it as stored.
func (st *Store) Create(ctx context.Context, s Subscription) (Subscription, error) {
	if err := s.SetDefaults(); err != nil {
		return s, err
	}
	now := st.now().UTC()
	s.CreatedAt, s.UpdatedAt, s.StateChangedAt = now, now, now
	// The first epoch is the creation time, so that a subscription deleted
	// and created again under the same id never shares an epoch (and the
	// delivery log's cursor) with its predecessor.
	s.Epoch = uint64(now.UnixNano())
	if err := s.Validate(st.allowHTTP); err != nil {
		return s, err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return s, fmt.Errorf("subscription %s: %w", s.ID, err)
	}
	rev, err := st.kv.Create(ctx, s.ID, b)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return s, fmt.Errorf("%w: %s", ErrExists, s.ID)
		}
		return s, fmt.Errorf("subscription %s: create: %w", s.ID, err)
	}
	s.Revision = rev
	return s, nil
}

// Get returns the subscription and its revision.
func (st *Store) Get(ctx context.Context, id string) (Subscription, uint64, error) {
	e, err := st.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return Subscription{}, 0, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return Subscription{}, 0, fmt.Errorf("subscription %s: %w", id, err)
	}
	s, err := decode(e.Value())
	if err != nil {
		return Subscription{}, 0, fmt.Errorf("subscription %s: %w", id, err)
	}
	s.Revision = e.Revision()
	return s, e.Revision(), nil
}

// Update applies change to the stored subscription and writes it back if
// no one changed it meanwhile, retrying on conflicts. change may refuse
// by returning an error, which Update returns as is.
func (st *Store) Update(ctx context.Context, id string, change func(*Subscription) error) (Subscription, error) {
	for {
		s, rev, err := st.Get(ctx, id)
		if err != nil {
			return s, err
		}
		before := s.State
		if err := change(&s); err != nil {
			return s, err
		}
		s.ID = id
		now := st.now().UTC()
		s.UpdatedAt = now
		if s.State != before {
			s.StateChangedAt = now
		}
		if err := s.SetDefaults(); err != nil {
			return s, err
		}
		if err := s.Validate(st.allowHTTP); err != nil {
			return s, err
		}
		b, err := json.Marshal(s)
		if err != nil {
			return s, fmt.Errorf("subscription %s: %w", id, err)
		}
		newRev, err := st.kv.Update(ctx, id, b, rev)
		if err == nil {
			s.Revision = newRev
			return s, nil
		}
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			continue // changed under us: apply change to the new version
		}
		if ctx.Err() != nil {
			return s, fmt.Errorf("subscription %s: update: %w", id, ctx.Err())
		}
		return s, fmt.Errorf("subscription %s: update: %w", id, err)
	}
}

// Apply creates s or, when it exists, replaces its definition (URL,
// filters, options, secret) while keeping what the system maintains: state,
// epoch, rotation and timestamps. Configuration files use it, so a restart
// never reactivates a subscription the dispatcher deactivated.
func (st *Store) Apply(ctx context.Context, s Subscription) (Subscription, error) {
	out, err := st.Create(ctx, s)
	if !errors.Is(err, ErrExists) {
		return out, err
	}
	return st.Update(ctx, s.ID, func(cur *Subscription) error {
		keep := *cur
		*cur = s
		cur.State, cur.StateReason, cur.StateChangedAt = keep.State, keep.StateReason, keep.StateChangedAt
		cur.Epoch, cur.StartAt = keep.Epoch, keep.StartAt
		cur.PreviousSecret, cur.PreviousSecretUntil = keep.PreviousSecret, keep.PreviousSecretUntil
		cur.CreatedAt = keep.CreatedAt
		if cur.Secret == "" {
			cur.Secret = keep.Secret
		}
		return nil
	})
}

// Delete removes the subscription. Its consumer is removed by the
// dispatcher when it sees the deletion.
func (st *Store) Delete(ctx context.Context, id string) error {
	if _, _, err := st.Get(ctx, id); err != nil {
		return err
	}
	if err := st.kv.Delete(ctx, id); err != nil {
		return fmt.Errorf("subscription %s: delete: %w", id, err)
	}
	return nil
}

// List returns every subscription, ordered by id.
func (st *Store) List(ctx context.Context) ([]Subscription, error) {
	lister, err := st.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("subscription: list: %w", err)
	}
	var ids []string
	for k := range lister.Keys() {
		ids = append(ids, k)
	}
	var out []Subscription
	for _, id := range ids {
		s, _, err := st.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted while listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Change is one update seen by Watch: the subscription as stored, or
// Deleted with only ID set; or, once, Synced alone: every subscription
// stored when the watch began has been sent.
type Change struct {
	ID           string
	Subscription Subscription
	Deleted      bool
	Revision     uint64
	Synced       bool
}

// Watch sends every subscription, a Synced change, then each change, until
// ctx ends. The channel is closed when ctx ends (or the watch fails). A
// stored value that cannot be decoded is reported through bad and skipped.
func (st *Store) Watch(ctx context.Context, bad func(id string, err error)) (<-chan Change, error) {
	w, err := st.kv.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("subscription: watch: %w", err)
	}
	out := make(chan Change)
	go func() {
		defer close(out)
		defer func() { _ = w.Stop() }()
		for {
			var e jetstream.KeyValueEntry
			select {
			case <-ctx.Done():
				return
			case v, ok := <-w.Updates():
				if !ok {
					return
				}
				e = v
			}
			var c Change
			switch {
			case e == nil: // end of the initial values
				c.Synced = true
			case e.Operation() != jetstream.KeyValuePut:
				c.ID, c.Revision = e.Key(), e.Revision()
				c.Deleted = true
			default:
				s, err := decode(e.Value())
				if err != nil {
					if bad != nil {
						bad(e.Key(), err)
					}
					continue
				}
				s.Revision = e.Revision()
				c.ID, c.Revision, c.Subscription = e.Key(), e.Revision(), s
			}
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

func decode(b []byte) (Subscription, error) {
	var s Subscription
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("stored subscription is not valid JSON: %w", err)
	}
	return s, nil
}
