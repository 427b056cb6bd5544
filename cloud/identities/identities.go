package identities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/fleetwire/fleetwire/cloud/callout"
	"github.com/fleetwire/fleetwire/cloud/internal/ensure"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket holds one entry per identity.
const Bucket = "IDENTITIES"

// Errors callers branch on.
var (
	ErrInvalid  = errors.New("invalid identity")
	ErrNotFound = errors.New("identity not found")
	// ErrKeyInUse: the public key already belongs to another identity.
	ErrKeyInUse = errors.New("key already registered to another identity")
)

// Kind says what holds the key.
type Kind string

const (
	// Vehicle: a gateway's leaf node (and the signer of its events).
	Vehicle Kind = "vehicle"
	// Customer: a customer's own NATS client, reading its account's events.
	Customer Kind = "customer"
)

// Identity is a registered public key.
type Identity struct {
	Kind    Kind   `json:"kind"`
	Account string `json:"account"`
	// Vehicle is the vehicle id (Vehicle kind only).
	Vehicle string `json:"vehicle,omitempty"`
	// Key is the public nkey, "U…".
	Key       string    `json:"key"`
	Label     string    `json:"label,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// Validate checks the names and the key.
func (id *Identity) Validate() error {
	if err := event.ValidToken("account", id.Account); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	switch id.Kind {
	case Vehicle:
		if err := event.ValidToken("vehicle", id.Vehicle); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	case Customer:
		if id.Vehicle != "" {
			return fmt.Errorf("%w: a customer credential names no vehicle", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: kind %q (want %q or %q)", ErrInvalid, id.Kind, Vehicle, Customer)
	}
	if err := identity.ValidPublicKey(id.Key); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(id.Label) > 200 {
		return fmt.Errorf("%w: label is longer than 200 bytes", ErrInvalid)
	}
	return nil
}

// entryKey is the bucket key: vehicle.<account>.<vehicle> (one key per
// vehicle: registering again replaces it) or customer.<account>.<key>.
func (id *Identity) entryKey() string {
	if id.Kind == Vehicle {
		return string(Vehicle) + "." + id.Account + "." + id.Vehicle
	}
	return string(Customer) + "." + id.Account + "." + id.Key
}

// User is what id is admitted as by the hub, with its permissions.
func (id *Identity) User(hubDomain, eventsStream string) callout.User {
	if id.Kind == Vehicle {
		return callout.User{Nkey: id.Key, Kind: callout.KindLeaf,
			Permissions: identity.VehiclePermissions(hubDomain, eventsStream, id.Account, id.Vehicle)}
	}
	return callout.User{Nkey: id.Key, Kind: callout.KindClient,
		Permissions: identity.CustomerPermissions(eventsStream, id.Account)}
}

// Store is the registry.
type Store struct {
	kv  jetstream.KeyValue
	now func() time.Time
}

// Open creates or opens the bucket.
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Store, error) {
	kv, err := ensure.Retry(ctx, "create bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      Bucket,
			Description: "fleetwire: public keys of vehicles and customer NATS clients",
			Storage:     jetstream.FileStorage,
			Replicas:    max(replicas, 1),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("identities: bucket %s: %w", Bucket, err)
	}
	return &Store{kv: kv, now: time.Now}, nil
}

// Put registers id (replacing a vehicle's previous key). A key registered
// to any other identity is refused with ErrKeyInUse: one key, one holder.
func (s *Store) Put(ctx context.Context, id Identity) (Identity, error) {
	if err := id.Validate(); err != nil {
		return Identity{}, err
	}
	all, err := s.List(ctx, "")
	if err != nil {
		return Identity{}, err
	}
	for _, o := range all {
		if o.Key == id.Key && o.entryKey() != id.entryKey() {
			return Identity{}, fmt.Errorf("%w: %s", ErrKeyInUse, describe(o))
		}
	}
	if id.CreatedAt.IsZero() {
		id.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	}
	b, err := json.Marshal(id)
	if err != nil {
		return Identity{}, fmt.Errorf("identities: %w", err)
	}
	if _, err := s.kv.Put(ctx, id.entryKey(), b); err != nil {
		return Identity{}, fmt.Errorf("identities: put %s: %w", describe(id), err)
	}
	return id, nil
}

// Vehicle returns the identity registered for a vehicle.
func (s *Store) Vehicle(ctx context.Context, account, vehicle string) (Identity, error) {
	id := Identity{Kind: Vehicle, Account: account, Vehicle: vehicle}
	e, err := s.kv.Get(ctx, id.entryKey())
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Identity{}, fmt.Errorf("%w: vehicle %s/%s has no registered key", ErrNotFound, account, vehicle)
	}
	if err != nil {
		return Identity{}, fmt.Errorf("identities: %w", err)
	}
	return decode(e.Value())
}

// Delete removes the identity holding key in account; its connections are
// closed when the server applies the change.
func (s *Store) Delete(ctx context.Context, account, key string) error {
	all, err := s.List(ctx, account)
	if err != nil {
		return err
	}
	for _, id := range all {
		if id.Key == key {
			return s.Remove(ctx, id)
		}
	}
	return fmt.Errorf("%w: no key %s in account %s", ErrNotFound, key, account)
}

// Remove deletes id, as read from the registry; its connections are
// closed when the server applies the change.
func (s *Store) Remove(ctx context.Context, id Identity) error {
	if err := s.kv.Delete(ctx, id.entryKey()); err != nil {
		return fmt.Errorf("identities: delete %s: %w", describe(id), err)
	}
	return nil
}

// List returns the identities of account ("" for all), sorted by kind,
// account, vehicle and key.
func (s *Store) List(ctx context.Context, account string) ([]Identity, error) {
	filter := ">"
	if account != "" {
		filter = "*." + account + ".>"
	}
	lister, err := s.kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("identities: list: %w", err)
	}
	var out []Identity
	for k := range lister.Keys() {
		e, err := s.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("identities: get %s: %w", k, err)
		}
		id, err := decode(e.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	sortIdentities(out)
	return out, nil
}

func sortIdentities(ids []Identity) {
	slices.SortFunc(ids, func(a, b Identity) int {
		return strings.Compare(string(a.Kind)+"\x00"+a.Account+"\x00"+a.Vehicle+"\x00"+a.Key,
			string(b.Kind)+"\x00"+b.Account+"\x00"+b.Vehicle+"\x00"+b.Key)
	})
}

// Watch calls apply with the whole registry now and after every change,
// until ctx ends. Changes that arrive together are applied once.
func (s *Store) Watch(ctx context.Context, apply func([]Identity)) error {
	w, err := s.kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("identities: watch: %w", err)
	}
	defer func() { _ = w.Stop() }()
	current := map[string]Identity{}
	initial := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("identities: watch closed")
			}
			if e == nil { // end of the initial values
				initial = false
				apply(values(current))
				continue
			}
			if e.Operation() != jetstream.KeyValuePut {
				delete(current, e.Key())
			} else if id, err := decode(e.Value()); err == nil {
				current[e.Key()] = id
			}
			if !initial && len(w.Updates()) == 0 {
				apply(values(current))
			}
		}
	}
}

func values(m map[string]Identity) []Identity {
	out := make([]Identity, 0, len(m))
	for _, id := range m {
		out = append(out, id)
	}
	sortIdentities(out)
	return out
}

func decode(b []byte) (Identity, error) {
	var id Identity
	if err := json.Unmarshal(b, &id); err != nil {
		return Identity{}, fmt.Errorf("identities: stored entry: %w", err)
	}
	return id, nil
}

func describe(id Identity) string {
	if id.Kind == Vehicle {
		return "vehicle " + id.Account + "/" + id.Vehicle
	}
	return "customer credential " + id.Key + " of account " + id.Account
}

// Keys is a concurrent snapshot of the vehicles' keys, for the ingest
// verifier.
type Keys struct {
	mu sync.RWMutex
	m  map[string]string // account "." vehicle → key
}

// Set replaces the snapshot with the vehicles among ids.
func (k *Keys) Set(ids []Identity) {
	m := make(map[string]string, len(ids))
	for _, id := range ids {
		if id.Kind == Vehicle {
			m[id.Account+"."+id.Vehicle] = id.Key
		}
	}
	k.mu.Lock()
	k.m = m
	k.mu.Unlock()
}

// VehicleKey is the key registered for a vehicle.
func (k *Keys) VehicleKey(account, vehicle string) (string, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	key, ok := k.m[account+"."+vehicle]
	return key, ok
}
