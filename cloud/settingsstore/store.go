package settingsstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetwire/fleetwire/cloud/internal/ensure"
	"github.com/fleetwire/fleetwire/shared/detectconfig"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the key-value bucket holding the overrides.
const Bucket = detectconfig.Bucket

// ErrNotFound is returned for overrides that do not exist.
var ErrNotFound = errors.New("settingsstore: no detection settings")

// Store reads and writes detection overrides on the hub.
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
			Description: "fleetwire detection overrides: <account>.detect and <account>.<vehicle>.detect = YAML of the detect: section",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("settingsstore: bucket %s: %w", Bucket, err)
	}
	return &Store{kv: kv}, nil
}

// Key is the bucket key of the overrides of an account (vehicle empty) or
// of one of its vehicles.
func Key(account, vehicle string) string {
	if vehicle == "" {
		return detectconfig.AccountKey(account)
	}
	return detectconfig.VehicleKey(account, vehicle)
}

// Name names the overrides of an account (vehicle empty) or of one of its
// vehicles in messages: "acme" or "acme/truck-7".
func Name(account, vehicle string) string {
	if vehicle == "" {
		return account
	}
	return account + "/" + vehicle
}

// Put validates doc, a YAML document with the keys of the edge agent's
// `detect:` section, and stores it as the overrides of the account (vehicle
// empty) or of one of its vehicles, replacing what was there. A document
// with an unknown key or a bad value is refused, naming the key, and
// nothing is stored. The document is checked over the built-in defaults;
// each vehicle checks the result over its own configuration again and
// ignores a document it cannot use.
func (s *Store) Put(ctx context.Context, account, vehicle string, doc []byte) error {
	if err := checkNames(account, vehicle); err != nil {
		return err
	}
	if err := detectconfig.Check(doc, "detection settings "+Name(account, vehicle)); err != nil {
		return fmt.Errorf("settingsstore: %w", err)
	}
	if _, err := s.kv.Put(ctx, Key(account, vehicle), doc); err != nil {
		return fmt.Errorf("settingsstore: put %s: %w", Name(account, vehicle), err)
	}
	return nil
}

// Get returns the stored document of the account (vehicle empty) or of one
// of its vehicles.
func (s *Store) Get(ctx context.Context, account, vehicle string) ([]byte, error) {
	if err := checkNames(account, vehicle); err != nil {
		return nil, err
	}
	e, err := s.kv.Get(ctx, Key(account, vehicle))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w for %s", ErrNotFound, Name(account, vehicle))
	}
	if err != nil {
		return nil, fmt.Errorf("settingsstore: get %s: %w", Name(account, vehicle), err)
	}
	return e.Value(), nil
}

// Delete removes the overrides; the vehicles concerned fall back to the
// next layer (the account's, then their local configuration).
func (s *Store) Delete(ctx context.Context, account, vehicle string) error {
	if err := checkNames(account, vehicle); err != nil {
		return err
	}
	if err := s.kv.Delete(ctx, Key(account, vehicle)); err != nil {
		return fmt.Errorf("settingsstore: delete %s: %w", Name(account, vehicle), err)
	}
	return nil
}

// checkNames refuses names that are not subject tokens, as the vehicles'
// configuration does.
func checkNames(account, vehicle string) error {
	if err := event.ValidToken("account", account); err != nil {
		return fmt.Errorf("settingsstore: %w", err)
	}
	if vehicle != "" {
		if err := event.ValidToken("vehicle", vehicle); err != nil {
			return fmt.Errorf("settingsstore: %w", err)
		}
	}
	return nil
}
