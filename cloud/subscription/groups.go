package subscription

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/fleetwire/fleetwire/cloud/internal/ensure"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go/jetstream"
)

// GroupBucket holds vehicle groups (sites, depots, customers' fleets),
// keyed <account>.<group>. Subscriptions select vehicles by group; a
// change to a group takes effect on its subscriptions at once.
const GroupBucket = "VEHICLE_GROUPS"

// Group is a named set of an account's vehicles.
type Group struct {
	Account  string   `koanf:"account" json:"account" doc:"account the group belongs to"`
	Name     string   `koanf:"name" json:"name" doc:"group name (letters, digits, '-', '_'), e.g. a site or depot"`
	Vehicles []string `koanf:"vehicles" json:"vehicles" doc:"vehicle ids in the group"`
}

// Validate checks the group's names.
func (g *Group) Validate() error {
	if err := event.ValidToken("account", g.Account); err != nil {
		return fmt.Errorf("%w: group: %w", ErrInvalid, err)
	}
	if err := event.ValidToken("group name", g.Name); err != nil {
		return fmt.Errorf("%w: group: %w", ErrInvalid, err)
	}
	for _, v := range g.Vehicles {
		if err := event.ValidToken("vehicle", v); err != nil {
			return fmt.Errorf("%w: group %s: %w", ErrInvalid, g.Name, err)
		}
	}
	return nil
}

// Groups stores vehicle groups.
type Groups struct {
	kv jetstream.KeyValue
}

// OpenGroups creates or opens the group bucket.
func OpenGroups(ctx context.Context, js jetstream.JetStream, replicas int) (*Groups, error) {
	kv, err := ensure.Retry(ctx, "create bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      GroupBucket,
			Description: "fleetwire: vehicle groups (sites, depots) that subscriptions select",
			Storage:     jetstream.FileStorage,
			Replicas:    max(replicas, 1),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("subscription: bucket %s: %w", GroupBucket, err)
	}
	return &Groups{kv: kv}, nil
}

// Put stores g, replacing the group of that name.
func (gs *Groups) Put(ctx context.Context, g Group) error {
	if err := g.Validate(); err != nil {
		return err
	}
	slices.Sort(g.Vehicles)
	g.Vehicles = slices.Compact(g.Vehicles)
	b, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("subscription: group %s: %w", g.Name, err)
	}
	if _, err := gs.kv.Put(ctx, g.Account+"."+g.Name, b); err != nil {
		return fmt.Errorf("subscription: group %s/%s: %w", g.Account, g.Name, err)
	}
	return nil
}

// Get returns the group; ErrNotFound when there is none.
func (gs *Groups) Get(ctx context.Context, account, name string) (Group, error) {
	if gs.kv == nil { // BindGroups before the bucket exists
		return Group{}, fmt.Errorf("%w: group %s/%s", ErrNotFound, account, name)
	}
	e, err := gs.kv.Get(ctx, account+"."+name)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return Group{}, fmt.Errorf("%w: group %s/%s", ErrNotFound, account, name)
	}
	if err != nil {
		return Group{}, fmt.Errorf("subscription: group %s/%s: %w", account, name, err)
	}
	var g Group
	if err := json.Unmarshal(e.Value(), &g); err != nil {
		return Group{}, fmt.Errorf("subscription: group %s/%s: %w", account, name, err)
	}
	return g, nil
}

// Delete removes a group.
func (gs *Groups) Delete(ctx context.Context, account, name string) error {
	if err := gs.kv.Delete(ctx, account+"."+name); err != nil {
		return fmt.Errorf("subscription: group %s/%s: %w", account, name, err)
	}
	return nil
}

// Resolve returns the vehicles s delivers for: its Vehicles plus the
// members of its VehicleGroups (a missing group has none). all is true
// when s selects no vehicles at all, i.e. every vehicle of the account.
func (gs *Groups) Resolve(ctx context.Context, s Subscription) (vehicles []string, all bool, err error) {
	if len(s.Vehicles) == 0 && len(s.VehicleGroups) == 0 {
		return nil, true, nil
	}
	vehicles = append(vehicles, s.Vehicles...)
	for _, name := range s.VehicleGroups {
		g, err := gs.Get(ctx, s.Account, name)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		vehicles = append(vehicles, g.Vehicles...)
	}
	slices.Sort(vehicles)
	return slices.Compact(vehicles), false, nil
}

// WatchAccounts calls changed with the account of every group that
// changes, until ctx ends.
func (gs *Groups) WatchAccounts(ctx context.Context, changed func(account string)) error {
	w, err := gs.kv.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		return fmt.Errorf("subscription: watch groups: %w", err)
	}
	go func() {
		defer func() { _ = w.Stop() }()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil {
					continue
				}
				k := e.Key()
				for i := 0; i < len(k); i++ {
					if k[i] == '.' {
						changed(k[:i])
						break
					}
				}
			}
		}
	}()
	return nil
}
