package server

import (
	"fmt"
	"time"

	"github.com/fleetwire/fleetwire/cloud/dispatch"
	"github.com/fleetwire/fleetwire/cloud/identities"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/shared/config"
	"github.com/fleetwire/fleetwire/shared/event"
)

// Config is the cloud's configuration (fleetwire serve --config cloud.yaml).
type Config struct {
	Hub           HubConfig                   `koanf:"hub"`
	Events        EventsConfig                `koanf:"events"`
	Dispatch      DispatchConfig              `koanf:"dispatch"`
	API           APIConfig                   `koanf:"api"`
	Subscriptions []subscription.Subscription `koanf:"subscriptions" doc:"webhook subscriptions (see the subscriptions[] keys)"`
	Groups        []subscription.Group        `koanf:"vehicle_groups" doc:"vehicle groups (sites, depots) that subscriptions select by name (see the vehicle_groups[] keys)"`
	Settings      []DetectSettings            `koanf:"detect_settings" doc:"YAML files of detection overrides imported into the SETTINGS bucket at start (see the detect_settings[] keys)"`
	VehicleKeys   []VehicleKey                `koanf:"vehicle_keys" doc:"vehicles' public keys registered at start, in addition to those registered through the API (see the vehicle_keys[] keys)"`
	Geofences     []GeofenceImport            `koanf:"geofences" doc:"GeoJSON files imported into the fence bucket at start (see the geofences[] keys)"`
	LogLevel      string                      `koanf:"log_level" doc:"debug, info, warn or error"`
}

// HubConfig is where the hub runs.
type HubConfig struct {
	URL         string `koanf:"url" doc:"existing NATS cluster URL; empty embeds a nats-server"`
	Credentials string `koanf:"credentials" doc:"external cluster: NATS .creds file for url"`
	NkeyFile    string `koanf:"nkey_file" doc:"external cluster: seed file of fleetwire's own nkey user for url (written by fleetwire hub-auth init)"`
	CAFile      string `koanf:"ca_file" doc:"external cluster: PEM CA of the cluster's TLS certificate, when not a public CA"`
	StoreDir    string `koanf:"store_dir" doc:"embedded server: JetStream store directory"`
	Listen      string `koanf:"listen" doc:"embedded server: client listener host:port (empty: in-process only)"`
	LeafListen  string `koanf:"leaf_listen" doc:"embedded server: leaf-node listener for vehicles, host:port"`
	MaxStore    int64  `koanf:"max_store" doc:"embedded server: JetStream disk budget in bytes"`
	// Auth requires registered nkeys; see VehicleKeys and the identities API.
	Auth bool      `koanf:"auth" doc:"require every vehicle (leaf) and customer NATS client to authenticate with a registered nkey, and every event to carry its vehicle's signature"`
	TLS  TLSConfig `koanf:"tls" doc:"embedded server: TLS on the client and leaf listeners (see the hub.tls keys)"`
	// Callout admits vehicles and customers to an external cluster.
	Callout CalloutConfig `koanf:"callout" doc:"with hub.auth, how the hub's authorization callout is answered from the key registry (see the hub.callout keys)"`
}

// CalloutConfig is how fleetwire serve answers the hub's authorization
// callout: the embedded hub needs nothing; an external cluster needs the
// keys of deploy/nats/auth.conf.
type CalloutConfig struct {
	IssuerFile    string        `koanf:"issuer_file" doc:"external cluster: seed file of the account key (SA…) named as issuer in the cluster's auth_callout; set, fleetwire admits vehicles and customer clients from its key registry"`
	SystemKeyFile string        `koanf:"system_key_file" doc:"external cluster: seed file of a system-account user, used to disconnect a revoked key's connections at once"`
	SessionTTL    time.Duration `koanf:"session_ttl" doc:"how long an admitted connection lasts before it authenticates again (bounds a revoked key's connection when it cannot be disconnected), >= 1m"`
}

// TLSConfig is a server certificate.
type TLSConfig struct {
	CertFile string `koanf:"cert_file" doc:"PEM certificate chain of the hub (empty: no TLS)"`
	KeyFile  string `koanf:"key_file" doc:"PEM private key of cert_file"`
}

// VehicleKey registers a vehicle's public nkey at start.
type VehicleKey struct {
	Account string `koanf:"account" doc:"account of the vehicle"`
	Vehicle string `koanf:"vehicle" doc:"vehicle id"`
	Key     string `koanf:"key" doc:"the vehicle's public nkey (U…), printed by fleetwire-edge keygen"`
}

// EventsConfig shapes the EVENTS stream.
type EventsConfig struct {
	MaxAge     time.Duration `koanf:"max_age" doc:"how long events are kept (and deliverable), >= 1m"`
	MaxBytes   int64         `koanf:"max_bytes" doc:"size limit of the stream in bytes (-1: none)"`
	Duplicates time.Duration `koanf:"duplicates" doc:"de-duplication window for publish retries, 1s..max_age"`
	Replicas   int           `koanf:"replicas" doc:"stream replicas: 1, or 3 on a 3-node cluster"`
}

// DispatchConfig tunes webhook delivery.
type DispatchConfig struct {
	Timeout          time.Duration   `koanf:"timeout" doc:"time a receiver has to answer one attempt, > 0"`
	ImmediateRetries int             `koanf:"immediate_retries" doc:"quick retries of transport errors and 5xx within an attempt, 0..10"`
	RetrySchedule    []time.Duration `koanf:"retry_schedule" doc:"waits before each next attempt of a failed event, the last repeating (events behind it wait); ±10% jitter"`
	MaxRetryAfter    time.Duration   `koanf:"max_retry_after" doc:"cap on a receiver's Retry-After (429, 503), > 0"`
	MaxAge           time.Duration   `koanf:"max_age" doc:"how long an event may keep failing before its subscription is deactivated and its queue discarded (<= events.max_age)"`
	MaxPayload       int             `koanf:"max_payload" doc:"largest event delivered, bytes; larger ones are recorded as discarded"`
	AllowHTTP        bool            `koanf:"allow_http" doc:"allow plain http:// receiver URLs (development)"`
	AllowPrivate     bool            `koanf:"allow_private" doc:"allow receivers on loopback/private addresses (development; SSRF risk)"`
	LeaseTTL         time.Duration   `koanf:"lease_ttl" doc:"one replica delivers at a time: if it dies, deliveries pause this long before another takes over; a replica that cannot renew it for half of it stops delivering (>= 1s, the same on every replica)"`
}

// GeofenceImport is a GeoJSON file of fences for one account.
type GeofenceImport struct {
	Account      string   `koanf:"account" doc:"account the fences belong to"`
	File         string   `koanf:"file" doc:"GeoJSON FeatureCollection: Polygon/MultiPolygon, Point+radius, LineString+bufferMeters"`
	Tags         []string `koanf:"tags" doc:"tags added to every fence, e.g. depot, customer, low-emission-zone, route"`
	IDProperty   string   `koanf:"id_property" doc:"property holding the fence id when features have no id"`
	NameProperty string   `koanf:"name_property" doc:"property holding the fence name when features have no name"`
}

// APIConfig is the HTTP API.
type APIConfig struct {
	Listen string `koanf:"listen" doc:"HTTP API listener host:port (empty: no API)"`
	// TokenFile receives the first operator token.
	TokenFile string `koanf:"token_file" doc:"where the first start writes an operator token, mode 0600 (empty: operator.token in hub.store_dir)"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Hub:      HubConfig{StoreDir: "fleetwire-data", LeafListen: "127.0.0.1:7422", MaxStore: 10 << 30},
		Events:   EventsConfig{MaxAge: 7 * 24 * time.Hour, MaxBytes: -1, Duplicates: 2 * time.Minute, Replicas: 1},
		Dispatch: DispatchConfig{Timeout: 10 * time.Second, ImmediateRetries: 3, RetrySchedule: dispatch.DefaultRetrySchedule, MaxRetryAfter: time.Hour, MaxAge: 7 * 24 * time.Hour, MaxPayload: 256 << 10, LeaseTTL: 10 * time.Second},
		API:      APIConfig{Listen: "127.0.0.1:8080"},
		LogLevel: "info",
	}
}

// validateExternal checks the settings that only an external cluster uses.
func (c *Config) validateExternal() error {
	external := map[string]string{"hub.credentials": c.Hub.Credentials, "hub.nkey_file": c.Hub.NkeyFile, "hub.ca_file": c.Hub.CAFile, "hub.callout.issuer_file": c.Hub.Callout.IssuerFile}
	for _, k := range []string{"hub.credentials", "hub.nkey_file", "hub.ca_file", "hub.callout.issuer_file"} {
		if external[k] != "" && c.Hub.URL == "" {
			return config.Invalid(k, external[k], "empty unless hub.url names an external cluster")
		}
	}
	if c.Hub.Credentials != "" && c.Hub.NkeyFile != "" {
		return config.Invalid("hub.nkey_file", c.Hub.NkeyFile, "empty when hub.credentials is set (one identity per connection)")
	}
	co := c.Hub.Callout
	if co.IssuerFile != "" && !c.Hub.Auth {
		return config.Invalid("hub.callout.issuer_file", co.IssuerFile, "set only with hub.auth: true (the callout admits registered keys)")
	}
	if co.SystemKeyFile != "" && co.IssuerFile == "" {
		return config.Invalid("hub.callout.system_key_file", co.SystemKeyFile, "set only with hub.callout.issuer_file")
	}
	if co.SessionTTL != 0 && co.SessionTTL < time.Minute {
		return config.Invalid("hub.callout.session_ttl", co.SessionTTL, "at least 1m (or unset: 24h)")
	}
	return nil
}

// Validate reports the first invalid setting, naming its key.
func (c *Config) Validate() error {
	if c.Hub.URL == "" && c.Hub.StoreDir == "" {
		return config.Invalid("hub.store_dir", c.Hub.StoreDir, "a directory (required when hub.url is empty)")
	}
	if c.API.Listen != "" && c.API.TokenFile == "" && c.Hub.StoreDir == "" {
		return config.Invalid("api.token_file", c.API.TokenFile, "a file for the first operator token (required when hub.store_dir is empty)")
	}
	if (c.Hub.TLS.CertFile == "") != (c.Hub.TLS.KeyFile == "") {
		return config.Invalid("hub.tls.key_file", c.Hub.TLS.KeyFile, "set together with hub.tls.cert_file")
	}
	if c.Hub.TLS.CertFile != "" && c.Hub.URL != "" {
		return config.Invalid("hub.tls.cert_file", c.Hub.TLS.CertFile, "empty when hub.url is set (TLS of an external cluster is configured on the cluster)")
	}
	if err := c.validateExternal(); err != nil {
		return err
	}
	for i, k := range c.VehicleKeys {
		id := identities.Identity{Kind: identities.Vehicle, Account: k.Account, Vehicle: k.Vehicle, Key: k.Key}
		if err := id.Validate(); err != nil {
			return config.Invalid(fmt.Sprintf("vehicle_keys[%d]", i), k.Vehicle, err.Error())
		}
	}
	if c.Events.MaxAge < time.Minute {
		return config.Invalid("events.max_age", c.Events.MaxAge, "at least 1m")
	}
	if c.Events.Duplicates < time.Second || c.Events.Duplicates > c.Events.MaxAge {
		return config.Invalid("events.duplicates", c.Events.Duplicates, "between 1s and events.max_age")
	}
	if c.Events.Replicas != 1 && c.Events.Replicas != 3 {
		return config.Invalid("events.replicas", c.Events.Replicas, "1 or 3")
	}
	if c.Dispatch.Timeout <= 0 {
		return config.Invalid("dispatch.timeout", c.Dispatch.Timeout, "a positive duration such as 10s")
	}
	if len(c.Dispatch.RetrySchedule) == 0 {
		return config.Invalid("dispatch.retry_schedule", c.Dispatch.RetrySchedule, "at least one wait, e.g. [5m, 15m, 1h]")
	}
	for i, d := range c.Dispatch.RetrySchedule {
		if d <= 0 {
			return config.Invalid(fmt.Sprintf("dispatch.retry_schedule[%d]", i), d, "a positive duration such as 5m")
		}
	}
	if c.Dispatch.MaxRetryAfter <= 0 {
		return config.Invalid("dispatch.max_retry_after", c.Dispatch.MaxRetryAfter, "a positive duration such as 1h")
	}
	if c.Dispatch.MaxAge <= 0 || c.Dispatch.MaxAge > c.Events.MaxAge {
		return config.Invalid("dispatch.max_age", c.Dispatch.MaxAge, "a positive duration no longer than events.max_age (events older than that are gone)")
	}
	if c.Dispatch.MaxPayload < 1024 || c.Dispatch.MaxPayload > 8<<20 {
		return config.Invalid("dispatch.max_payload", c.Dispatch.MaxPayload, "1024..8388608 bytes")
	}
	if c.Dispatch.LeaseTTL < time.Second {
		return config.Invalid("dispatch.lease_ttl", c.Dispatch.LeaseTTL, "at least 1s (10s by default)")
	}
	if c.Dispatch.ImmediateRetries < 0 || c.Dispatch.ImmediateRetries > 10 {
		return config.Invalid("dispatch.immediate_retries", c.Dispatch.ImmediateRetries, "0..10")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return config.Invalid("log_level", c.LogLevel, "debug, info, warn or error")
	}
	for i, g := range c.Geofences {
		if err := event.ValidToken("account", g.Account); err != nil {
			return config.Invalid(fmt.Sprintf("geofences[%d].account", i), g.Account, "an account id (subject token)")
		}
		if g.File == "" {
			return config.Invalid(fmt.Sprintf("geofences[%d].file", i), g.File, "a GeoJSON file")
		}
	}
	if err := validateDetectSettings("detect_settings", c.Settings); err != nil {
		return err
	}
	for i, g := range c.Groups {
		if err := g.Validate(); err != nil {
			return config.Invalid(fmt.Sprintf("vehicle_groups[%d]", i), g.Name, err.Error())
		}
	}
	seen := map[string]bool{}
	for i, s := range c.Subscriptions {
		if s.Secret == "" {
			s.Secret = "whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // generated when stored
		}
		if err := s.Validate(c.Dispatch.AllowHTTP); err != nil {
			return config.Invalid(fmt.Sprintf("subscriptions[%d]", i), s.ID, err.Error())
		}
		if seen[s.ID] {
			return config.Invalid(fmt.Sprintf("subscriptions[%d].id", i), s.ID, "an id not used by another subscription")
		}
		seen[s.ID] = true
	}
	return nil
}
