package subscription

import (
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/webhooks"
)

// ErrInvalid wraps every validation problem of a subscription.
var ErrInvalid = errors.New("invalid subscription")

// AllEvents in Events selects every event type.
const AllEvents = "*"

// Subscription sends the events of one account that match its filters to
// one URL, in order, signed with its secret.
type Subscription struct {
	// ID is unique and stable: it names the subscription's durable consumer.
	ID string `koanf:"id" json:"id" doc:"unique id (letters, digits, '-', '_'); names the durable consumer"`
	// Account whose events are delivered.
	Account string `koanf:"account" json:"account" doc:"account whose events are delivered"`
	// Name is for people.
	Name string `koanf:"name" json:"name,omitempty" doc:"display name"`
	// URL receives one HTTP POST per event.
	URL string `koanf:"url" json:"url" doc:"receiver URL (https; http only when dispatch.allow_http)"`
	// Secret signs deliveries (whsec_…).
	Secret string `koanf:"secret" json:"-" secret:"true" doc:"Standard Webhooks secret, whsec_ + base64"`
	// Events are the event types delivered ("*" or empty: all).
	Events []string `koanf:"events" json:"events,omitempty" doc:"event types to deliver, or * for all"`
	// Vehicles restricts delivery to these vehicle ids (empty: all).
	Vehicles []string `koanf:"vehicles" json:"vehicles,omitempty" doc:"vehicle ids to deliver (empty: all)"`
}

// Validate checks ids, URL shape, secret and filters. allowHTTP permits
// plain http:// URLs.
func (s *Subscription) Validate(allowHTTP bool) error {
	if err := event.ValidToken("id", s.ID); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := event.ValidToken("account", s.Account); err != nil {
		return fmt.Errorf("%w %s: %w", ErrInvalid, s.ID, err)
	}
	u, err := url.Parse(s.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w %s: url %q is not an absolute URL", ErrInvalid, s.ID, s.URL)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP:
	case u.Scheme == "http":
		return fmt.Errorf("%w %s: url %q: plain http is not allowed (use https, or set dispatch.allow_http for development)", ErrInvalid, s.ID, s.URL)
	default:
		return fmt.Errorf("%w %s: url %q: scheme must be https", ErrInvalid, s.ID, s.URL)
	}
	if u.User != nil {
		return fmt.Errorf("%w %s: url must not carry credentials (use a header)", ErrInvalid, s.ID)
	}
	if _, err := webhooks.ParseSecret(s.Secret); err != nil {
		return fmt.Errorf("%w %s: secret: %w", ErrInvalid, s.ID, err)
	}
	for _, t := range s.Events {
		if t == AllEvents {
			continue
		}
		if err := event.ValidToken("event type", event.TypeToken(event.Type(t))); err != nil {
			return fmt.Errorf("%w %s: %w", ErrInvalid, s.ID, err)
		}
	}
	for _, v := range s.Vehicles {
		if err := event.ValidToken("vehicle", v); err != nil {
			return fmt.Errorf("%w %s: %w", ErrInvalid, s.ID, err)
		}
	}
	return nil
}

// FilterSubjects are the EVENTS subjects this subscription receives: the
// product of its vehicles and event types within its account.
func (s *Subscription) FilterSubjects() []string {
	vehicles := s.Vehicles
	if len(vehicles) == 0 {
		vehicles = []string{"*"}
	}
	types := []string{">"}
	if len(s.Events) > 0 && !slices.Contains(s.Events, AllEvents) {
		types = types[:0]
		for _, t := range s.Events {
			types = append(types, event.TypeToken(event.Type(t)))
		}
	}
	var out []string
	for _, v := range vehicles {
		for _, t := range types {
			out = append(out, event.SubjectRoot+"."+s.Account+"."+v+"."+t)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ConsumerName is the durable consumer of the subscription.
func (s *Subscription) ConsumerName() string { return "sub-" + s.ID }
