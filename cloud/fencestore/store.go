package fencestore

import (
	"context"
	"errors"
	"fmt"
	"github.com/fleetwire/fleetwire/cloud/internal/ensure"
	"github.com/fleetwire/fleetwire/shared/event"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the key-value bucket holding the fences.
const Bucket = "FENCES"

// ErrNotFound is returned for a fence that does not exist.
var ErrNotFound = errors.New("fencestore: fence not found")

// Store reads and writes fences on the hub.
type Store struct {
	kv jetstream.KeyValue
}

// Open creates or updates the bucket. replicas is 1, or 3 on a cluster.
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Store, error) {
	if replicas == 0 {
		replicas = 1
	}
	kv, err := ensure.Retry(ctx, "create bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      Bucket,
			Description: "fleetwire geofences: <account>.<fence> = GeoJSON Feature",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("fencestore: bucket %s: %w", Bucket, err)
	}
	return &Store{kv: kv}, nil
}

// Key is the bucket key of a fence: <account>.<escaped fence id>.
func Key(account, id string) string { return account + "." + event.KeyToken(id) }

// AccountKeys is the key filter matching one account's fences.
func AccountKeys(account string) string { return account + ".>" }

// Put stores one fence's GeoJSON Feature.
func (s *Store) Put(ctx context.Context, account, id string, feature []byte) error {
	if _, err := s.kv.Put(ctx, Key(account, id), feature); err != nil {
		return fmt.Errorf("fencestore: put %s/%s: %w", account, id, err)
	}
	return nil
}

// Get returns one fence's GeoJSON Feature.
func (s *Store) Get(ctx context.Context, account, id string) ([]byte, error) {
	e, err := s.kv.Get(ctx, Key(account, id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %s/%s", ErrNotFound, account, id)
	}
	if err != nil {
		return nil, fmt.Errorf("fencestore: get %s/%s: %w", account, id, err)
	}
	return e.Value(), nil
}

// Delete removes a fence; vehicles drop it from their index.
func (s *Store) Delete(ctx context.Context, account, id string) error {
	if err := s.kv.Delete(ctx, Key(account, id)); err != nil {
		return fmt.Errorf("fencestore: delete %s/%s: %w", account, id, err)
	}
	return nil
}

// List returns the ids of an account's fences.
func (s *Store) List(ctx context.Context, account string) ([]string, error) {
	lister, err := s.kv.ListKeysFiltered(ctx, AccountKeys(account))
	if err != nil {
		return nil, fmt.Errorf("fencestore: list %s: %w", account, err)
	}
	var ids []string
	for k := range lister.Keys() {
		ids = append(ids, event.FromKeyToken(strings.TrimPrefix(k, account+".")))
	}
	return ids, nil
}
