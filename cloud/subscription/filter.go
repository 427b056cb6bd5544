package subscription

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrNoVehicles: a filter selects only vehicle groups, and they are all
// empty (or missing), so it selects no event at all.
var ErrNoVehicles = errors.New("subscription: selects no vehicle (its vehicle groups are empty)")

// Filter selects events of one account. It is what a webhook subscription
// delivers and what the pull feed returns for the same parameters: both
// call Subjects (the JetStream filter) and Matches (the whole decision,
// including what subjects cannot express: geofence tags).
type Filter struct {
	Account string
	// Events are event types ("trip.started"); empty or containing "*":
	// every type.
	Events []string
	// Vehicles are vehicle ids, vehicle groups already expanded (see
	// Groups.Filter); empty: every vehicle of the account.
	Vehicles []string
	// GeofenceTags keep only events about a fence with one of these tags
	// (their data.tags); empty: no restriction.
	GeofenceTags []string
}

// FilterFor is s's filter over the given vehicles (s's own with its
// groups expanded, see Groups.Resolve; empty: every vehicle).
func (s *Subscription) FilterFor(vehicles []string) Filter {
	return Filter{Account: s.Account, Events: s.Events, Vehicles: vehicles, GeofenceTags: s.GeofenceTags}
}

// Filter returns s's filter with its vehicle groups expanded from gs, or
// ErrNoVehicles when s selects only groups and they have no vehicle.
func (gs *Groups) Filter(ctx context.Context, s Subscription) (Filter, error) {
	vehicles, all, err := gs.Resolve(ctx, s)
	if err != nil {
		return Filter{}, err
	}
	if !all && len(vehicles) == 0 {
		return Filter{}, ErrNoVehicles
	}
	return s.FilterFor(vehicles), nil
}

// allTypes reports whether f selects every event type.
func (f Filter) allTypes() bool { return len(f.Events) == 0 || slices.Contains(f.Events, AllEvents) }

// Subjects are the EVENTS subjects f selects: the product of its vehicles
// and event types within its account, sorted, without duplicates.
func (f Filter) Subjects() []string {
	vehicles := f.Vehicles
	if len(vehicles) == 0 {
		vehicles = []string{"*"}
	}
	types := []string{">"}
	if !f.allTypes() {
		types = types[:0]
		for _, t := range f.Events {
			types = append(types, event.TypeToken(event.Type(t)))
		}
	}
	out := make([]string, 0, len(vehicles)*len(types))
	for _, v := range vehicles {
		for _, t := range types {
			out = append(out, event.SubjectRoot+"."+f.Account+"."+v+"."+t)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// NeedsBody reports whether Matches looks at more than the subject (the
// event's geofence tags).
func (f Filter) NeedsBody() bool { return len(f.GeofenceTags) > 0 }

// Why an event does not match a filter (Check's reasons).
const (
	ReasonAccount = "account"       // another account's event
	ReasonVehicle = "vehicle"       // its vehicle is not selected
	ReasonType    = "type"          // its event type is not selected
	ReasonTags    = "geofence_tags" // it is not about a fence with a wanted tag
	ReasonSubject = "subject"       // its subject is not an event subject
)

// Matches reports whether the event stored under subject, whose data.tags
// are tags, passes f. It decides exactly as a JetStream consumer filtered
// on Subjects plus the tag check.
func (f Filter) Matches(subject string, tags []string) bool {
	ok, _ := f.Check(subject, tags)
	return ok
}

// MatchesEvent is Matches for a stored event's subject and envelope JSON
// (read only when f needs its tags).
func (f Filter) MatchesEvent(subject string, envelope []byte) bool {
	ok, _ := f.CheckEvent(subject, envelope)
	return ok
}

// CheckEvent is Check for a stored event's subject and envelope JSON.
func (f Filter) CheckEvent(subject string, envelope []byte) (bool, string) {
	var tags []string
	if f.NeedsBody() {
		tags = EventTags(envelope)
	}
	return f.Check(subject, tags)
}

// Check is Matches with the reason of a refusal (one of the Reason…
// constants; "" when it matches).
func (f Filter) Check(subject string, tags []string) (bool, string) {
	rest, ok := strings.CutPrefix(subject, event.SubjectRoot+".")
	if !ok {
		return false, ReasonSubject
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return false, ReasonSubject
	}
	account, vehicle, typ := parts[0], parts[1], parts[2]
	switch {
	case account != f.Account:
		return false, ReasonAccount
	case len(f.Vehicles) > 0 && !slices.Contains(f.Vehicles, vehicle):
		return false, ReasonVehicle
	case !f.allTypes() && !slices.ContainsFunc(f.Events, func(t string) bool { return event.TypeToken(event.Type(t)) == typ }):
		return false, ReasonType
	case len(f.GeofenceTags) > 0 && !slices.ContainsFunc(tags, func(t string) bool { return slices.Contains(f.GeofenceTags, t) }):
		return false, ReasonTags
	}
	return true, ""
}

// EventTags reads an envelope's data.tags (the fence tags geofence,
// posted-speed and route events carry); nil when it has none or is not
// JSON.
func EventTags(envelope []byte) []string {
	var e struct {
		Data struct {
			Tags []string `json:"tags"`
		} `json:"data"`
	}
	if json.Unmarshal(envelope, &e) != nil {
		return nil
	}
	return e.Data.Tags
}

// BindGroups opens the existing vehicle group bucket for reading, without
// creating or reconfiguring it (the dispatcher owns it). When it does not
// exist yet, the groups it returns are all empty, and ok is false so the
// caller can try again later.
func BindGroups(ctx context.Context, js jetstream.JetStream) (gs *Groups, ok bool, err error) {
	kv, err := js.KeyValue(ctx, GroupBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return &Groups{}, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("subscription: bucket %s: %w", GroupBucket, err)
	}
	return &Groups{kv: kv}, true, nil
}
