package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/fleetwire/fleetwire/cloud/dispatch"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/cloud/tokens"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/webhooks"
)

// SubscriptionView is a subscription as the API shows it: never its secrets
// (Secret is set only in the answers to create and rotate-secret) nor its
// auth header's value.
type SubscriptionView struct {
	ID            string    `json:"id"`
	Account       string    `json:"account"`
	Name          string    `json:"name,omitempty"`
	URL           string    `json:"url"`
	Events        []string  `json:"events"`
	Vehicles      []string  `json:"vehicles,omitempty"`
	VehicleGroups []string  `json:"vehicleGroups,omitempty"`
	GeofenceTags  []string  `json:"geofenceTags,omitempty"`
	Format        string    `json:"format"`
	Payload       string    `json:"payload"`
	AuthHeader    string    `json:"authHeader,omitempty"`
	Ordering      string    `json:"ordering"`
	MaxInFlight   int       `json:"maxInFlight,omitempty"`
	RetrySchedule []string  `json:"retrySchedule,omitempty"`
	State         string    `json:"state"`
	StateReason   string    `json:"stateReason,omitempty"`
	StateChanged  time.Time `json:"stateChangedAt,omitzero"`
	Epoch         uint64    `json:"epoch"`
	StartAt       time.Time `json:"startAt,omitzero"`
	// PreviousSecretUntil: during a rotation, the old secret also signs
	// until then.
	PreviousSecretUntil time.Time `json:"previousSecretUntil,omitzero"`
	CreatedAt           time.Time `json:"createdAt"`
	UpdatedAt           time.Time `json:"updatedAt"`
	Secret              string    `json:"secret,omitempty"`
}

func view(s subscription.Subscription, now time.Time) SubscriptionView {
	v := SubscriptionView{
		ID: s.ID, Account: s.Account, Name: s.Name, URL: s.URL, Events: s.Events, Vehicles: s.Vehicles,
		VehicleGroups: s.VehicleGroups, GeofenceTags: s.GeofenceTags, Format: s.Format, Payload: s.Payload, AuthHeader: s.Auth.Header,
		Ordering: string(s.Ordering), MaxInFlight: s.MaxInFlight, State: string(s.State), StateReason: s.StateReason,
		StateChanged: s.StateChangedAt, Epoch: s.Epoch, StartAt: s.StartAt, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
	if len(v.Events) == 0 {
		v.Events = []string{subscription.AllEvents}
	}
	for _, d := range s.RetrySchedule {
		v.RetrySchedule = append(v.RetrySchedule, d.String())
	}
	if s.PreviousSecret != "" && now.Before(s.PreviousSecretUntil) {
		v.PreviousSecretUntil = s.PreviousSecretUntil
	}
	return v
}

// subscriptionFields are the fields a client sets, on create and patch.
type subscriptionFields struct {
	Name          *string   `json:"name"`
	URL           *string   `json:"url"`
	Events        *[]string `json:"events"`
	Vehicles      *[]string `json:"vehicles"`
	VehicleGroups *[]string `json:"vehicleGroups"`
	GeofenceTags  *[]string `json:"geofenceTags"`
	Format        *string   `json:"format"`
	Payload       *string   `json:"payload"`
	Auth          *authIn   `json:"auth"`
	Ordering      *string   `json:"ordering"`
	MaxInFlight   *int      `json:"maxInFlight"`
	RetrySchedule *[]string `json:"retrySchedule"`
}

type authIn struct {
	Header string `json:"header"`
	Value  string `json:"value"`
}

type createIn struct {
	ID      string `json:"id"`
	Account string `json:"account"`
	// Secret is optional: generated when empty.
	Secret string `json:"secret"`
	subscriptionFields
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// apply checks each field and sets it on s, listing every field at fault.
func (f *subscriptionFields) apply(s *subscription.Subscription, allowHTTP bool) []FieldError {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	if f.Name != nil {
		if len(*f.Name) > 200 || strings.ContainsAny(*f.Name, "\r\n") {
			bad("name", "one line of at most 200 bytes")
		}
		s.Name = *f.Name
	}
	if f.URL != nil {
		if err := subscription.ValidURL(*f.URL, allowHTTP); err != nil {
			bad("url", "%v", err)
		}
		s.URL = *f.URL
	}
	if f.Events != nil {
		known := map[string]bool{subscription.AllEvents: true}
		for _, ti := range event.Catalogue() {
			known[string(ti.Type)] = true
		}
		for i, t := range *f.Events {
			if !known[t] {
				bad(fmt.Sprintf("events[%d]", i), "unknown event type %q (see the event catalogue, or * for all)", t)
			}
		}
		s.Events = *f.Events
	}
	if f.Vehicles != nil {
		for i, v := range *f.Vehicles {
			if err := event.ValidToken("vehicle", v); err != nil {
				bad(fmt.Sprintf("vehicles[%d]", i), "%v", err)
			}
		}
		s.Vehicles = *f.Vehicles
	}
	if f.VehicleGroups != nil {
		for i, g := range *f.VehicleGroups {
			if err := event.ValidToken("vehicle group", g); err != nil {
				bad(fmt.Sprintf("vehicleGroups[%d]", i), "%v", err)
			}
		}
		s.VehicleGroups = *f.VehicleGroups
	}
	if f.GeofenceTags != nil {
		for i, t := range *f.GeofenceTags {
			if strings.TrimSpace(t) == "" {
				bad(fmt.Sprintf("geofenceTags[%d]", i), "must not be empty")
			}
		}
		s.GeofenceTags = *f.GeofenceTags
	}
	if f.Format != nil {
		if !slices.Contains([]string{subscription.FormatJSON, subscription.FormatForm}, *f.Format) {
			bad("format", "want json or form")
		}
		s.Format = *f.Format
	}
	if f.Payload != nil {
		if !slices.Contains([]string{subscription.ShapeFull, subscription.ShapeMin}, *f.Payload) {
			bad("payload", "want full or minimal")
		}
		s.Payload = *f.Payload
	}
	if f.Auth != nil {
		s.Auth = subscription.Auth{Header: f.Auth.Header, Value: f.Auth.Value}
	}
	if f.Ordering != nil {
		if !slices.Contains([]string{string(subscription.OrderSubscription), string(subscription.OrderVehicle)}, *f.Ordering) {
			bad("ordering", "want subscription or vehicle")
		}
		s.Ordering = subscription.Ordering(*f.Ordering)
		if s.Ordering == subscription.OrderSubscription && f.MaxInFlight == nil {
			s.MaxInFlight = 0
		}
	}
	if f.MaxInFlight != nil {
		s.MaxInFlight = *f.MaxInFlight
	}
	if f.RetrySchedule != nil {
		s.RetrySchedule = nil
		for i, raw := range *f.RetrySchedule {
			d, err := time.ParseDuration(raw)
			if err != nil || d <= 0 {
				bad(fmt.Sprintf("retrySchedule[%d]", i), "a positive duration such as 5m, not %q", raw)
			}
			s.RetrySchedule = append(s.RetrySchedule, d)
		}
	}
	return errs
}

// storeError turns the subscription store's errors into problems.
func storeError(err error, id string) error {
	switch {
	case errors.Is(err, subscription.ErrNotFound):
		return notFound("subscription " + id)
	case errors.Is(err, subscription.ErrExists):
		return problem(http.StatusConflict, "conflict", "Conflict", "the subscription id "+id+" is taken; choose another (or omit id to have one generated)",
			FieldError{Field: "id", Detail: "taken"})
	case errors.Is(err, subscription.ErrInvalid):
		msg := err.Error()
		if _, rest, ok := strings.Cut(msg, id+": "); ok {
			msg = rest
		}
		return invalid(msg, FieldError{Field: guessField(msg), Detail: msg})
	}
	return err
}

// guessField names the field a validation message of the subscription
// store is about (the API checks most fields itself before).
func guessField(msg string) string {
	for _, p := range []struct{ prefix, field string }{
		{"url", "url"}, {"secret", "secret"}, {"previous secret", "secret"}, {"auth", "auth"},
		{"max_in_flight", "maxInFlight"}, {"ordering", "ordering"}, {"format", "format"}, {"payload", "payload"},
		{"retry_schedule", "retrySchedule"}, {"geofence tag", "geofenceTags"}, {"state", "state"},
	} {
		if strings.HasPrefix(msg, p.prefix) {
			return p.field
		}
	}
	switch {
	case strings.Contains(msg, "vehicle"):
		return "vehicles"
	case strings.Contains(msg, "event type"):
		return "events"
	case strings.Contains(msg, "account"):
		return "account"
	}
	return "id"
}

// getVisible reads a subscription the token may see; others are not found.
func (a *API) getVisible(r *http.Request, tok tokens.Token) (subscription.Subscription, error) {
	id := r.PathValue("id")
	s, _, err := a.cfg.Subscriptions.Get(r.Context(), id)
	if err != nil {
		return s, storeError(err, id)
	}
	if !sees(tok, s.Account) {
		return subscription.Subscription{}, notFound("subscription " + id)
	}
	return s, nil
}

// update changes a visible subscription.
func (a *API) update(r *http.Request, tok tokens.Token, change func(*subscription.Subscription) error) (subscription.Subscription, error) {
	s, err := a.getVisible(r, tok)
	if err != nil {
		return s, err
	}
	s, err = a.cfg.Subscriptions.Update(r.Context(), s.ID, change)
	if err != nil {
		return s, storeError(err, s.ID)
	}
	return s, nil
}

func (a *API) listSubscriptions(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	account, err := accountOf(r, tok, false)
	if err != nil {
		return err
	}
	all, err := a.cfg.Subscriptions.List(r.Context())
	if err != nil {
		return err
	}
	out := []SubscriptionView{}
	for _, s := range all {
		if account == "" || s.Account == account {
			out = append(out, view(s, a.cfg.Now()))
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (a *API) createSubscription(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	var in createIn
	if err := decode(w, r, a.cfg.MaxBody, &in, false); err != nil {
		return err
	}
	var errs []FieldError
	switch {
	case tok.Role != tokens.Operator && in.Account == "":
		in.Account = tok.Account
	case tok.Role != tokens.Operator && in.Account != tok.Account:
		return notFound("account " + in.Account)
	case in.Account == "":
		errs = append(errs, FieldError{"account", "operator tokens must name the account"})
	}
	if in.Account != "" {
		if err := event.ValidToken("account", in.Account); err != nil {
			errs = append(errs, FieldError{"account", err.Error()})
		}
	}
	if in.ID == "" {
		id, err := webhooks.NewSecret() // 24 random bytes, base64
		if err != nil {
			return err
		}
		in.ID = "sub_" + strings.NewReplacer("+", "", "/", "", "=", "").Replace(strings.TrimPrefix(id, "whsec_"))[:16]
	} else if !idPattern.MatchString(in.ID) {
		errs = append(errs, FieldError{"id", "1 to 64 letters, digits, '-' or '_'"})
	}
	if in.URL == nil {
		errs = append(errs, FieldError{"url", "required"})
	}
	if in.Secret != "" {
		if _, err := webhooks.ParseSecret(in.Secret); err != nil {
			errs = append(errs, FieldError{"secret", err.Error()})
		}
	}
	s := subscription.Subscription{ID: in.ID, Account: in.Account, Secret: in.Secret}
	errs = append(errs, in.apply(&s, a.cfg.AllowHTTP)...)
	if len(errs) > 0 {
		return invalid(fieldSummary(errs), errs...)
	}
	s, err := a.cfg.Subscriptions.Create(r.Context(), s)
	if err != nil {
		return storeError(err, in.ID)
	}
	v := view(s, a.cfg.Now())
	v.Secret = s.Secret
	w.Header().Set("Location", "/v1/subscriptions/"+s.ID)
	return writeJSON(w, http.StatusCreated, v)
}

func fieldSummary(errs []FieldError) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Field + ": " + e.Detail
	}
	return strings.Join(parts, "; ")
}

func (a *API) getSubscription(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	s, err := a.getVisible(r, tok)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, view(s, a.cfg.Now()))
}

// patchSubscription: a JSON merge patch of the definition (absent or null
// fields stay; an empty list clears one). State and secret have their own
// operations.
func (a *API) patchSubscription(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	if _, err := a.getVisible(r, tok); err != nil {
		return err // before reading the body: other accounts learn nothing
	}
	var in subscriptionFields
	if err := decode(w, r, a.cfg.MaxBody, &in, false); err != nil {
		return err
	}
	var errs []FieldError
	probe := subscription.Subscription{}
	if errs = in.apply(&probe, a.cfg.AllowHTTP); len(errs) > 0 {
		return invalid(fieldSummary(errs), errs...)
	}
	s, err := a.update(r, tok, func(s *subscription.Subscription) error {
		in.apply(s, a.cfg.AllowHTTP)
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, view(s, a.cfg.Now()))
}

func (a *API) deleteSubscription(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	s, err := a.getVisible(r, tok)
	if err != nil {
		return err
	}
	if err := a.cfg.Subscriptions.Delete(r.Context(), s.ID); err != nil {
		return storeError(err, s.ID)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// noBody accepts an empty body or {}.
func (a *API) noBody(w http.ResponseWriter, r *http.Request) error {
	var in struct{}
	return decode(w, r, a.cfg.MaxBody, &in, true)
}

func (a *API) pauseSubscription(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	if _, err := a.getVisible(r, tok); err != nil {
		return err
	}
	if err := a.noBody(w, r); err != nil {
		return err
	}
	s, err := a.update(r, tok, func(s *subscription.Subscription) error {
		switch s.State {
		case subscription.Deactivated:
			return problem(http.StatusConflict, "conflict", "Conflict", "the subscription is deactivated ("+s.StateReason+"); resume or replay it")
		case subscription.Active:
			s.State, s.StateReason = subscription.Paused, "paused through the API"
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, view(s, a.cfg.Now()))
}

// resumeSubscription: a paused subscription delivers what accumulated; a
// deactivated one starts over with new events only.
func (a *API) resumeSubscription(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	if _, err := a.getVisible(r, tok); err != nil {
		return err
	}
	if err := a.noBody(w, r); err != nil {
		return err
	}
	s, err := a.update(r, tok, func(s *subscription.Subscription) error {
		switch s.State {
		case subscription.Paused:
			s.State, s.StateReason = subscription.Active, ""
		case subscription.Deactivated:
			s.State, s.StateReason = subscription.Active, "reactivated through the API: new events only"
			s.Epoch++
			s.StartAt = time.Time{}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, view(s, a.cfg.Now()))
}

// replaySubscription delivers again every matching event since a time.
func (a *API) replaySubscription(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	if _, err := a.getVisible(r, tok); err != nil {
		return err
	}
	var in struct {
		Since string `json:"since"`
	}
	if err := decode(w, r, a.cfg.MaxBody, &in, false); err != nil {
		return err
	}
	since, err := time.Parse(time.RFC3339Nano, in.Since)
	if err != nil {
		return invalidField("since", "an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	info, err := a.cfg.Hub.Events.Info(r.Context())
	if err != nil {
		return fmt.Errorf("api: events stream: %w", err)
	}
	now := a.cfg.Now()
	oldest := info.State.FirstTime
	if info.State.Msgs == 0 {
		oldest = now
	}
	switch {
	case since.After(now):
		p := invalidField("since", "is in the future")
		p.Oldest = oldest.UTC().Format(time.RFC3339Nano)
		return p
	case info.State.Msgs > 0 && since.Before(oldest):
		p := invalidField("since", "is older than the oldest stored event, "+oldest.UTC().Format(time.RFC3339))
		p.Oldest = oldest.UTC().Format(time.RFC3339Nano)
		return p
	}
	s, err := a.update(r, tok, func(s *subscription.Subscription) error {
		s.Epoch++
		s.StartAt = since.UTC()
		s.State, s.StateReason = subscription.Active, "replay from "+since.UTC().Format(time.RFC3339)
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, view(s, a.cfg.Now()))
}

// maxOverlap bounds a rotation's overlap.
const maxOverlap = 7 * 24 * time.Hour

// rotateSecret makes a new secret; the old one keeps signing (as a second
// signature) for the overlap. The new secret is in this answer only.
func (a *API) rotateSecret(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	if _, err := a.getVisible(r, tok); err != nil {
		return err
	}
	in := struct {
		Overlap string `json:"overlap"`
	}{Overlap: "24h"}
	if err := decode(w, r, a.cfg.MaxBody, &in, true); err != nil {
		return err
	}
	overlap, err := time.ParseDuration(in.Overlap)
	if err != nil || overlap < 0 || overlap > maxOverlap {
		return invalidField("overlap", "a duration from 0s to 168h, such as 24h")
	}
	secret, err := webhooks.NewSecret()
	if err != nil {
		return err
	}
	s, err := a.update(r, tok, func(s *subscription.Subscription) error {
		s.PreviousSecret, s.PreviousSecretUntil = s.Secret, a.cfg.Now().Add(overlap).UTC()
		if overlap == 0 {
			s.PreviousSecret, s.PreviousSecretUntil = "", time.Time{}
		}
		s.Secret = secret
		return nil
	})
	if err != nil {
		return err
	}
	v := view(s, a.cfg.Now())
	v.Secret = s.Secret
	return writeJSON(w, http.StatusOK, v)
}

// AttemptView is the outcome of a test delivery.
type AttemptView struct {
	EventID    string  `json:"eventId"`
	EventType  string  `json:"eventType"`
	Delivered  bool    `json:"delivered"`
	StatusCode int     `json:"statusCode,omitempty"`
	Error      string  `json:"error,omitempty"`
	LatencyMs  float64 `json:"latencyMs"`
	Request    string  `json:"request"`
	Response   string  `json:"response,omitempty"`
}

func (a *API) testSubscription(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	s, err := a.getVisible(r, tok)
	if err != nil {
		return err
	}
	in := struct {
		Type string `json:"type"`
	}{Type: string(event.TypePosition)}
	if err := decode(w, r, a.cfg.MaxBody, &in, true); err != nil {
		return err
	}
	at, err := a.cfg.Dispatcher.SendTest(r.Context(), s, event.Type(in.Type))
	if errors.Is(err, dispatch.ErrUnknownType) {
		return invalidField("type", fmt.Sprintf("unknown event type %q", in.Type))
	}
	if err != nil {
		return err
	}
	v := AttemptView{EventID: at.EventID, EventType: at.EventType, Delivered: at.Delivered(), StatusCode: at.StatusCode,
		LatencyMs: float64(at.Latency.Microseconds()) / 1000, Request: string(at.Body), Response: string(at.Response)}
	if at.Err != nil {
		v.Error = at.Err.Error()
	}
	return writeJSON(w, http.StatusOK, v)
}

func (a *API) subscriptionStatus(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	s, err := a.getVisible(r, tok)
	if err != nil {
		return err
	}
	st, err := a.cfg.Dispatcher.Status(r.Context(), s)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}
