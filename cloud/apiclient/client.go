// Package apiclient is a small client of fleetwire's REST API (cloud/api),
// used by the fleetwire CLI and by tests.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fleetwire/fleetwire/cloud/api"
	"github.com/fleetwire/fleetwire/cloud/tokens"
)

// Client talks to one API with one token.
type Client struct {
	// Base is the API's URL, e.g. http://127.0.0.1:8080.
	Base  string
	Token string
	// HTTP is the client used (default: one with a 30s timeout).
	HTTP *http.Client
}

// New returns a client of the API at base.
func New(base, token string) *Client {
	return &Client{Base: strings.TrimRight(base, "/"), Token: token, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Error is an answer other than 2xx: the problem the API sent.
type Error struct {
	Status  int
	Problem api.Problem
}

func (e *Error) Error() string {
	msg := e.Problem.Detail
	if msg == "" {
		msg = e.Problem.Title
	}
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%d %s", e.Status, msg)
}

// StatusOf is the HTTP status of an API error (0 for other errors, such as
// a network failure).
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Do sends in (JSON, or raw bytes sent as GeoJSON when a []byte) and
// decodes a 2xx answer into out (when not nil; a *[]byte gets it raw).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	contentType := ""
	switch v := in.(type) {
	case nil:
	case []byte:
		body, contentType = bytes.NewReader(v), "application/geo+json"
	default:
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("apiclient: %w", err)
		}
		body, contentType = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return fmt.Errorf("apiclient: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("apiclient: %s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("apiclient: %s %s: %w", method, path, err)
	}
	if res.StatusCode/100 != 2 {
		e := &Error{Status: res.StatusCode}
		if json.Unmarshal(raw, &e.Problem) != nil {
			e.Problem.Detail = strings.TrimSpace(string(raw))
		}
		return e
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*o = raw
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("apiclient: %s %s: answer: %w", method, path, err)
	}
	return nil
}

func esc(s string) string { return url.PathEscape(s) }

// SubscriptionInput is the body of CreateSubscription (zero fields omitted).
type SubscriptionInput struct {
	ID            string    `json:"id,omitempty"`
	Account       string    `json:"account,omitempty"`
	Name          string    `json:"name,omitempty"`
	URL           string    `json:"url"`
	Secret        string    `json:"secret,omitempty"`
	Events        []string  `json:"events,omitempty"`
	Vehicles      []string  `json:"vehicles,omitempty"`
	GeofenceTags  []string  `json:"geofenceTags,omitempty"`
	Format        string    `json:"format,omitempty"`
	Payload       string    `json:"payload,omitempty"`
	Ordering      string    `json:"ordering,omitempty"`
	MaxInFlight   int       `json:"maxInFlight,omitempty"`
	RetrySchedule []string  `json:"retrySchedule,omitempty"`
	Auth          *AuthPair `json:"auth,omitempty"`
}

// AuthPair is a static header sent with every delivery.
type AuthPair struct {
	Header string `json:"header"`
	Value  string `json:"value"`
}

// CreateSubscription creates one; the answer holds its secret.
func (c *Client) CreateSubscription(ctx context.Context, in SubscriptionInput) (api.SubscriptionView, error) {
	var out api.SubscriptionView
	return out, c.Do(ctx, "POST", "/v1/subscriptions", in, &out)
}

// Subscriptions lists the visible subscriptions.
func (c *Client) Subscriptions(ctx context.Context) ([]api.SubscriptionView, error) {
	var out struct{ Items []api.SubscriptionView }
	return out.Items, c.Do(ctx, "GET", "/v1/subscriptions", nil, &out)
}

// Subscription shows one.
func (c *Client) Subscription(ctx context.Context, id string) (api.SubscriptionView, error) {
	var out api.SubscriptionView
	return out, c.Do(ctx, "GET", "/v1/subscriptions/"+esc(id), nil, &out)
}

// Action posts one of pause, resume, replay, rotate-secret with body in.
func (c *Client) Action(ctx context.Context, id, action string, in any) (api.SubscriptionView, error) {
	var out api.SubscriptionView
	return out, c.Do(ctx, "POST", "/v1/subscriptions/"+esc(id)+"/"+action, in, &out)
}

// Test sends a sample event of type t.
func (c *Client) Test(ctx context.Context, id, t string) (api.AttemptView, error) {
	var out api.AttemptView
	var in any
	if t != "" {
		in = map[string]string{"type": t}
	}
	return out, c.Do(ctx, "POST", "/v1/subscriptions/"+esc(id)+"/test", in, &out)
}

// DeleteSubscription deletes one.
func (c *Client) DeleteSubscription(ctx context.Context, id string) error {
	return c.Do(ctx, "DELETE", "/v1/subscriptions/"+esc(id), nil, nil)
}

// Deliveries lists a page of a subscription's delivery log; q holds
// status, vehicle, limit and cursor.
func (c *Client) Deliveries(ctx context.Context, id string, q url.Values) (api.DeliveryPage, error) {
	var out api.DeliveryPage
	path := "/v1/subscriptions/" + esc(id) + "/deliveries"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return out, c.Do(ctx, "GET", path, nil, &out)
}

// Delivery shows every attempt at one event.
func (c *Client) Delivery(ctx context.Context, id, eventID, vehicle string) (api.DeliveryDetail, error) {
	var out api.DeliveryDetail
	path := "/v1/subscriptions/" + esc(id) + "/deliveries/" + esc(eventID)
	if vehicle != "" {
		path += "?vehicle=" + url.QueryEscape(vehicle)
	}
	return out, c.Do(ctx, "GET", path, nil, &out)
}

// CreateToken creates a token; its value is in the answer only.
func (c *Client) CreateToken(ctx context.Context, account string, role tokens.Role, name string) (api.CreatedToken, error) {
	var out api.CreatedToken
	in := map[string]string{"role": string(role)}
	if account != "" {
		in["account"] = account
	}
	if name != "" {
		in["name"] = name
	}
	return out, c.Do(ctx, "POST", "/v1/tokens", in, &out)
}
