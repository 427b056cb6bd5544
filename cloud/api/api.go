package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/fleetwire/fleetwire/cloud/deliverylog"
	"github.com/fleetwire/fleetwire/cloud/dispatch"
	"github.com/fleetwire/fleetwire/cloud/fencestore"
	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/cloud/identities"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/cloud/tokens"
	"github.com/fleetwire/fleetwire/shared/event"
)

// Dispatcher is what the API asks of the dispatcher (*dispatch.Dispatcher).
type Dispatcher interface {
	Status(ctx context.Context, sub subscription.Subscription) (dispatch.Status, error)
	SendTest(ctx context.Context, sub subscription.Subscription, t event.Type) (dispatch.Attempt, error)
}

// Config is what the API serves from.
type Config struct {
	Hub           *hub.Hub
	Subscriptions *subscription.Store
	Dispatcher    Dispatcher
	Deliveries    *deliverylog.Log
	Fences        *fencestore.Store
	Tokens        *tokens.Store
	// Identities is the key registry of vehicles and customer NATS
	// clients (nil: those routes answer 503).
	Identities *identities.Store
	// AllowHTTP accepts plain http:// subscription URLs (as dispatch.allow_http).
	AllowHTTP bool
	// MaxBody bounds JSON request bodies (default 64 KiB).
	MaxBody int64
	// MaxGeoJSON bounds GeoJSON bodies (default 16 MiB).
	MaxGeoJSON int64
	// LiveHeartbeat is the period of keep-alive comments on the live feed
	// (default 15s).
	LiveHeartbeat time.Duration
	Logger        *slog.Logger
	// Groups are the vehicle groups the pull feed expands (default: the
	// dispatcher's VEHICLE_GROUPS bucket, bound when first needed).
	Groups *subscription.Groups
	// FeedRate and FeedBurst shape each token's bucket on the pull feed and
	// vehicle event routes (default 20 requests/s, burst 40).
	FeedRate  float64
	FeedBurst int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.MaxBody == 0 {
		c.MaxBody = 64 << 10
	}
	if c.MaxGeoJSON == 0 {
		c.MaxGeoJSON = 16 << 20
	}
	if c.LiveHeartbeat == 0 {
		c.LiveHeartbeat = 15 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.FeedRate == 0 {
		c.FeedRate = DefaultFeedRate
	}
	if c.FeedBurst == 0 {
		c.FeedBurst = DefaultFeedBurst
	}
}

// Validate reports a missing part.
func (c *Config) Validate() error {
	switch {
	case c.Hub == nil:
		return errors.New("api: Config.Hub is required")
	case c.Subscriptions == nil:
		return errors.New("api: Config.Subscriptions is required")
	case c.Dispatcher == nil:
		return errors.New("api: Config.Dispatcher is required")
	case c.Deliveries == nil:
		return errors.New("api: Config.Deliveries is required")
	case c.Fences == nil:
		return errors.New("api: Config.Fences is required")
	case c.Tokens == nil:
		return errors.New("api: Config.Tokens is required")
	case c.MaxBody < 1024 || c.MaxGeoJSON < 1024:
		return errors.New("api: body limits must be at least 1 KiB")
	}
	return nil
}

// API serves the routes.
type API struct {
	cfg  Config
	log  *slog.Logger
	mux  *http.ServeMux
	feed *feedState
}

// handler serves one route for an authenticated token.
type handler func(w http.ResponseWriter, r *http.Request, tok tokens.Token) error

// Route is one operation of the API.
type Route struct {
	Method, Pattern string
	// Role is the least role allowed ("" for no authentication).
	Role tokens.Role
	// Scoped routes act on one account's objects.
	Scoped bool
	h      handler
}

func (a *API) routes() []Route {
	return []Route{
		{"GET", "/v1/openapi.json", "", false, a.openAPI},

		{"POST", "/v1/tokens", tokens.Admin, true, a.createToken},
		{"GET", "/v1/tokens", tokens.Admin, true, a.listTokens},
		{"DELETE", "/v1/tokens/{id}", tokens.Admin, true, a.deleteToken},

		{"GET", "/v1/subscriptions", tokens.Viewer, true, a.listSubscriptions},
		{"POST", "/v1/subscriptions", tokens.Admin, true, a.createSubscription},
		{"GET", "/v1/subscriptions/{id}", tokens.Viewer, true, a.getSubscription},
		{"PATCH", "/v1/subscriptions/{id}", tokens.Admin, true, a.patchSubscription},
		{"DELETE", "/v1/subscriptions/{id}", tokens.Admin, true, a.deleteSubscription},
		{"POST", "/v1/subscriptions/{id}/test", tokens.Admin, true, a.testSubscription},
		{"POST", "/v1/subscriptions/{id}/pause", tokens.Admin, true, a.pauseSubscription},
		{"POST", "/v1/subscriptions/{id}/resume", tokens.Admin, true, a.resumeSubscription},
		{"POST", "/v1/subscriptions/{id}/replay", tokens.Admin, true, a.replaySubscription},
		{"POST", "/v1/subscriptions/{id}/rotate-secret", tokens.Admin, true, a.rotateSecret},
		{"GET", "/v1/subscriptions/{id}/status", tokens.Viewer, true, a.subscriptionStatus},
		{"GET", "/v1/subscriptions/{id}/deliveries", tokens.Viewer, true, a.listDeliveries},
		{"GET", "/v1/subscriptions/{id}/deliveries/{eventId}", tokens.Viewer, true, a.showDelivery},

		{"GET", "/v1/geofences", tokens.Viewer, true, a.listGeofences},
		{"POST", "/v1/geofences", tokens.Admin, true, a.importGeofences},
		{"GET", "/v1/geofences/{id}", tokens.Viewer, true, a.getGeofence},
		{"PUT", "/v1/geofences/{id}", tokens.Admin, true, a.putGeofence},
		{"DELETE", "/v1/geofences/{id}", tokens.Admin, true, a.deleteGeofence},

		{"GET", "/v1/vehicles", tokens.Viewer, true, a.listVehicles},
		{"GET", "/v1/vehicles/{id}/events", tokens.Viewer, true, a.vehicleEvents},
		{"GET", "/v1/vehicles/{id}/key", tokens.Viewer, true, a.getVehicleKey},
		{"PUT", "/v1/vehicles/{id}/key", tokens.Admin, true, a.putVehicleKey},
		{"DELETE", "/v1/vehicles/{id}/key", tokens.Admin, true, a.deleteVehicleKey},
		{"GET", "/v1/nats-credentials", tokens.Viewer, true, a.listNATSCredentials},
		{"POST", "/v1/nats-credentials", tokens.Admin, true, a.createNATSCredential},
		{"DELETE", "/v1/nats-credentials/{key}", tokens.Admin, true, a.deleteNATSCredential},
		{"GET", "/v1/feed", tokens.Viewer, true, a.readFeed},
		{"GET", "/v1/streams", tokens.Operator, false, a.listStreams},
		{"GET", "/v1/events/live", tokens.Viewer, true, a.liveEvents},
	}
}

// New returns the API's handler for /v1/ paths.
func New(cfg Config) (http.Handler, error) {
	a, err := newAPI(cfg)
	if err != nil {
		return nil, err
	}
	return a, nil
}

func newAPI(cfg Config) (*API, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &API{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	a.feed = newFeedState(cfg)
	for _, rt := range a.routes() {
		a.mux.Handle(rt.Method+" "+rt.Pattern, a.wrap(rt))
	}
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.writeProblem(w, r, notFound("route "+r.Method+" "+r.URL.Path))
	})
	return a, nil
}

// ServeHTTP serves the API.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pattern := a.mux.Handler(r)
	if pattern == "" || pattern == "/" {
		// The mux answers 405 with a plain body for a known path and
		// wrong method; answer problem+json instead.
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, p := a.mux.Handler(probe); p != "" && p != "/" {
				a.writeProblem(w, r, problem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", r.Method+" is not allowed on "+r.URL.Path))
				return
			}
		}
	}
	a.mux.ServeHTTP(w, r)
}

// wrap authenticates, checks the role and turns errors into problems.
func (a *API) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var tok tokens.Token
		if rt.Role != "" {
			var err error
			if tok, err = a.authenticate(r); err != nil {
				a.writeProblem(w, r, err)
				return
			}
			if !tok.Role.AtLeast(rt.Role) {
				a.writeProblem(w, r, problem(http.StatusForbidden, "forbidden", "Forbidden",
					"this needs the "+string(rt.Role)+" role; the token has "+string(tok.Role)))
				return
			}
		}
		if err := rt.h(w, r, tok); err != nil {
			a.writeProblem(w, r, err)
		}
		a.log.Debug("api", "method", r.Method, "path", r.URL.Path, "account", tok.Account, "role", tok.Role, "took", time.Since(start))
	})
}
