package subscription

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/webhooks"
)

// ErrInvalid wraps every validation problem of a subscription.
var ErrInvalid = errors.New("invalid subscription")

// AllEvents in Events selects every event type.
const AllEvents = "*"

// State is whether a subscription delivers.
type State string

const (
	// Active subscriptions deliver.
	Active State = "active"
	// Paused subscriptions keep their queue: events accumulate (within the
	// stream's retention) and are delivered, in order, on resume.
	Paused State = "paused"
	// Deactivated subscriptions have no queue: the dispatcher gave up (410
	// Gone, or events failing for longer than the maximum age) and recorded
	// every undelivered event as discarded. Reactivating starts from new
	// events or from a chosen time (replay).
	Deactivated State = "deactivated"
)

// Ordering is the order a subscription promises.
type Ordering string

const (
	// OrderSubscription delivers one event at a time in stream order: while
	// an event is retried, nothing behind it moves (the default).
	OrderSubscription Ordering = "subscription"
	// OrderVehicle keeps order per vehicle only: up to MaxInFlight events
	// of different vehicles are delivered at once, and a failing vehicle
	// holds back only its own events.
	OrderVehicle Ordering = "vehicle"
)

// Body formats (rendered by cloud/payload).
const (
	FormatJSON = "json"
	FormatForm = "form"
	ShapeFull  = "full"
	ShapeMin   = "minimal"
)

// DefaultMaxInFlight is MaxInFlight in vehicle ordering when unset.
const DefaultMaxInFlight = 16

// Auth is a static header sent with every delivery, in addition to the
// Standard Webhooks signature, for receivers that check a token.
type Auth struct {
	Header string `koanf:"header" json:"header" doc:"header name, e.g. Authorization or Auth"`
	Value  string `koanf:"value" json:"value" secret:"true" doc:"header value, e.g. Bearer <token>"`
}

// Subscription sends the events of one account that match its filters to
// one URL, signed with its secret, in the order it promises.
type Subscription struct {
	// ID is unique and stable: it names the subscription's durable consumer.
	ID string `koanf:"id" json:"id" doc:"unique id (letters, digits, '-', '_'); names the durable consumer"`
	// Account whose events are delivered.
	Account string `koanf:"account" json:"account" doc:"account whose events are delivered"`
	// Name is for people.
	Name string `koanf:"name" json:"name,omitempty" doc:"display name"`
	// URL receives one HTTP POST per event.
	URL string `koanf:"url" json:"url" doc:"receiver URL (https; http only when dispatch.allow_http)"`
	// Secret signs deliveries (whsec_…). Generated when empty.
	Secret string `koanf:"secret" json:"secret,omitempty" secret:"true" doc:"Standard Webhooks secret, whsec_ + base64 (generated when empty)"`
	// PreviousSecret also signs deliveries until PreviousSecretUntil, so a
	// receiver can switch to the new secret at its own pace.
	PreviousSecret      string    `koanf:"-" json:"previousSecret,omitempty"`
	PreviousSecretUntil time.Time `koanf:"-" json:"previousSecretUntil,omitzero"`
	// Events are the event types delivered ("*" or empty: all).
	Events []string `koanf:"events" json:"events,omitempty" doc:"event types to deliver, or * for all"`
	// Vehicles restricts delivery to these vehicle ids (empty: all).
	Vehicles []string `koanf:"vehicles" json:"vehicles,omitempty" doc:"vehicle ids to deliver (empty: all)"`
	// VehicleGroups adds the vehicles of these groups (sites, depots) of
	// the account to Vehicles; group changes apply at once.
	VehicleGroups []string `koanf:"vehicle_groups" json:"vehicleGroups,omitempty" doc:"vehicle groups (sites, depots) whose vehicles are delivered"`
	// GeofenceTags restricts delivery to events about a fence carrying one
	// of these tags (geofence.*, posted_speed.*, route.*); other events are
	// not delivered (empty: no restriction).
	GeofenceTags []string `koanf:"geofence_tags" json:"geofenceTags,omitempty" doc:"deliver only events about a fence with one of these tags (empty: all)"`
	// Format of the body: json (default) or form.
	Format string `koanf:"format" json:"format,omitempty" doc:"body format: json or form (application/x-www-form-urlencoded, flattened keys)"`
	// Payload shape: full (default) or minimal.
	Payload string `koanf:"payload" json:"payload,omitempty" doc:"body content: full event, or minimal (ids, type, time, vehicle, seq)"`
	// Auth is an optional static header.
	Auth Auth `koanf:"auth" json:"auth,omitzero" doc:"static header sent with every delivery (header, value)"`
	// Ordering is subscription (default) or vehicle.
	Ordering Ordering `koanf:"ordering" json:"ordering,omitempty" doc:"subscription (strict, one event in flight) or vehicle (order per vehicle, max_in_flight at once)"`
	// MaxInFlight bounds concurrent deliveries in vehicle ordering.
	MaxInFlight int `koanf:"max_in_flight" json:"maxInFlight,omitempty" doc:"vehicle ordering: events in flight at once (default 16)"`
	// RetrySchedule overrides the dispatcher's schedule.
	RetrySchedule []time.Duration `koanf:"retry_schedule" json:"retrySchedule,omitempty" doc:"waits between attempts of a failing event, the last repeating (empty: dispatch.retry_schedule)"`

	// State and what led to it; maintained by the dispatcher and the API.
	State          State     `koanf:"-" json:"state,omitempty"`
	StateReason    string    `koanf:"-" json:"stateReason,omitempty"`
	StateChangedAt time.Time `koanf:"-" json:"stateChangedAt,omitzero"`
	// Epoch identifies the generation of the subscription's queue: set at
	// creation, incremented by each reactivation or replay, each of which
	// gets a fresh consumer starting at StartAt (zero: new events only).
	Epoch   uint64    `koanf:"-" json:"epoch,omitempty"`
	StartAt time.Time `koanf:"-" json:"startAt,omitzero"`

	CreatedAt time.Time `koanf:"-" json:"createdAt,omitzero"`
	UpdatedAt time.Time `koanf:"-" json:"updatedAt,omitzero"`
	// Revision is the store's revision of this version (set when read,
	// not stored): the dispatcher records the one it serves.
	Revision uint64 `koanf:"-" json:"-"`
}

// SetDefaults fills what a new subscription leaves empty, generating its
// secret.
func (s *Subscription) SetDefaults() error {
	if s.Secret == "" {
		sec, err := webhooks.NewSecret()
		if err != nil {
			return fmt.Errorf("subscription %s: %w", s.ID, err)
		}
		s.Secret = sec
	}
	if s.Format == "" {
		s.Format = FormatJSON
	}
	if s.Payload == "" {
		s.Payload = ShapeFull
	}
	if s.Ordering == "" {
		s.Ordering = OrderSubscription
	}
	if s.Ordering == OrderVehicle && s.MaxInFlight == 0 {
		s.MaxInFlight = DefaultMaxInFlight
	}
	if s.State == "" {
		s.State = Active
	}
	return nil
}

// reservedHeaders may not be set through Auth: they carry the signature,
// the body's framing or the event's identity.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", "User-Agent", "Webhook-Id", "Webhook-Timestamp", "Webhook-Signature", "Fleetwire-Vehicle-Seq", "Transfer-Encoding", "Connection"}

// Validate checks ids, URL shape, secret, filters and options. allowHTTP
// permits plain http:// URLs.
func (s *Subscription) Validate(allowHTTP bool) error {
	if err := event.ValidToken("id", s.ID); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %s: %s", ErrInvalid, s.ID, fmt.Sprintf(format, args...))
	}
	if err := event.ValidToken("account", s.Account); err != nil {
		return bad("%v", err)
	}
	if err := ValidURL(s.URL, allowHTTP); err != nil {
		return bad("%v", err)
	}
	if _, err := webhooks.ParseSecret(s.Secret); err != nil {
		return bad("secret: %v", err)
	}
	if s.PreviousSecret != "" {
		if _, err := webhooks.ParseSecret(s.PreviousSecret); err != nil {
			return bad("previous secret: %v", err)
		}
	}
	for _, t := range s.Events {
		if t == AllEvents {
			continue
		}
		if err := event.ValidToken("event type", event.TypeToken(event.Type(t))); err != nil {
			return bad("%v", err)
		}
	}
	for _, v := range s.Vehicles {
		if err := event.ValidToken("vehicle", v); err != nil {
			return bad("%v", err)
		}
	}
	for _, g := range s.VehicleGroups {
		if err := event.ValidToken("vehicle group", g); err != nil {
			return bad("%v", err)
		}
	}
	for _, tag := range s.GeofenceTags {
		if strings.TrimSpace(tag) == "" {
			return bad("geofence tag must not be empty")
		}
	}
	switch s.Format {
	case "", FormatJSON, FormatForm:
	default:
		return bad("format %q: want json or form", s.Format)
	}
	switch s.Payload {
	case "", ShapeFull, ShapeMin:
	default:
		return bad("payload %q: want full or minimal", s.Payload)
	}
	if s.Auth != (Auth{}) {
		h := http.CanonicalHeaderKey(s.Auth.Header)
		if h == "" || strings.ContainsAny(h, " :\r\n\t") {
			return bad("auth header %q is not a valid header name", s.Auth.Header)
		}
		if slices.Contains(reservedHeaders, h) {
			return bad("auth header %q is set by fleetwire itself", s.Auth.Header)
		}
		if s.Auth.Value == "" || strings.ContainsAny(s.Auth.Value, "\r\n") {
			return bad("auth value must be non-empty and on one line")
		}
	}
	switch s.Ordering {
	case "", OrderSubscription:
		if s.MaxInFlight > 1 {
			return bad("max_in_flight %d needs ordering vehicle (subscription ordering has one event in flight)", s.MaxInFlight)
		}
	case OrderVehicle:
		if s.MaxInFlight < 0 || s.MaxInFlight > 1000 {
			return bad("max_in_flight %d: want 1..1000", s.MaxInFlight)
		}
	default:
		return bad("ordering %q: want subscription or vehicle", s.Ordering)
	}
	for i, d := range s.RetrySchedule {
		if d <= 0 {
			return bad("retry_schedule[%d] %s: every wait must be positive", i, d)
		}
	}
	switch s.State {
	case "", Active, Paused, Deactivated:
	default:
		return bad("state %q: want active, paused or deactivated", s.State)
	}
	return nil
}

// ValidURL checks a receiver URL's shape: absolute, https (or http when
// allowed), no credentials. Where it may connect is checked at connect time.
func ValidURL(raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("url %q is not an absolute URL", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP:
	case u.Scheme == "http":
		return fmt.Errorf("url %q: plain http is not allowed (use https, or set dispatch.allow_http for development)", raw)
	default:
		return fmt.Errorf("url %q: scheme must be https", raw)
	}
	if u.User != nil {
		return fmt.Errorf("url must not carry credentials (use auth)")
	}
	if u.Fragment != "" {
		return fmt.Errorf("url %q must not have a fragment", raw)
	}
	return nil
}

// Secrets are the secrets that sign a delivery at now: the current one and,
// during a rotation's overlap, the previous one.
func (s *Subscription) Secrets(now time.Time) []string {
	if s.PreviousSecret != "" && now.Before(s.PreviousSecretUntil) {
		return []string{s.Secret, s.PreviousSecret}
	}
	return []string{s.Secret}
}

// FilterSubjects are the EVENTS subjects this subscription receives: the
// product of its vehicles and event types within its account. Vehicle
// groups are not expanded here (see FilterSubjectsFor).
func (s *Subscription) FilterSubjects() []string {
	return s.FilterSubjectsFor(s.Vehicles)
}

// FilterSubjectsFor is FilterSubjects for the given vehicles (empty: all):
// FilterFor(vehicles).Subjects().
func (s *Subscription) FilterSubjectsFor(vehicles []string) []string {
	return s.FilterFor(vehicles).Subjects()
}

// ConsumerName is the durable consumer of the subscription.
func (s *Subscription) ConsumerName() string { return "sub-" + s.ID }
