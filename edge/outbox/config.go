package outbox

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nkeys"
)

// Policy says what happens when the local store reaches its size or age limit.
type Policy string

const (
	// PolicyDropOldest keeps recording: the oldest unforwarded events are
	// discarded to make room (counted in Stats.Discarded and logged). Receivers
	// see the gap in seq. This is the default: recent data matters most.
	PolicyDropOldest Policy = "drop-oldest"
	// PolicyRejectNew keeps the oldest events: Append fails with ErrFull
	// (counted in Stats.Rejected) until the link returns and space is freed.
	PolicyRejectNew Policy = "reject-new"
)

// Config configures an Outbox.
type Config struct {
	// Account and Vehicle name the vehicle; both are subject tokens.
	Account, Vehicle string
	// Stream is the local stream name (default "OUTBOX").
	Stream string
	// MaxBytes and MaxAge bound the local store (defaults 256 MiB, 30 days):
	// they are how long the vehicle can stay offline without losing data.
	MaxBytes int64
	MaxAge   time.Duration
	// Policy applies when a limit is reached (default PolicyDropOldest).
	Policy Policy
	// HubDomain is the hub's JetStream domain (default "hub").
	HubDomain string
	// HubStream is the hub's events stream (default "EVENTS").
	HubStream string
	// Signer is the vehicle's key (see shared/identity). When set, each
	// forward signs the event's bytes and goes to the hub's ingest
	// verifier (identity.IngestSubject) instead of straight to the stream;
	// events stored before the vehicle had a key are signed too.
	Signer nkeys.KeyPair
	// FetchWait is how long one pull of the local consumer waits for an
	// event (default 20s).
	FetchWait time.Duration
	// PublishTimeout bounds one publish to the hub (default 5s).
	PublishTimeout time.Duration
	// AppendTimeout bounds one attempt to store an event locally (default
	// 5s), and AppendAttempts is how many attempts Append makes when the
	// local store does not answer (a timeout under CPU starvation, no
	// responders while the leaf node starts) before it gives up with
	// ErrUnavailable (default 6; RetryMin and RetryMax pace them).
	AppendTimeout  time.Duration
	AppendAttempts int
	// RetryMin and RetryMax bound the backoff between failed forwards
	// (defaults 100ms and 5s).
	RetryMin, RetryMax time.Duration
	// Logger (slog.Default if nil).
	Logger *slog.Logger

	// AgentVersion and RuleVersion are stored with each event (headers
	// event.HeaderAgentVersion and event.HeaderRuleVersion) and forwarded
	// with it: the versions that produced it, even if the agent is
	// upgraded before the event leaves the vehicle. Empty: not recorded.
	AgentVersion, RuleVersion string
	// LinkUp reports whether the leaf node has a live link to the hub
	// (natsembed.Server.LeafConnected). An event stored while it is false
	// is marked as buffered offline. Nil: only forward failures mark
	// events (see Provenance in shared/event).
	LinkUp func() bool
}

func (c *Config) setDefaults() {
	if c.Stream == "" {
		c.Stream = "OUTBOX"
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 256 << 20
	}
	if c.MaxAge == 0 {
		c.MaxAge = 30 * 24 * time.Hour
	}
	if c.Policy == "" {
		c.Policy = PolicyDropOldest
	}
	if c.HubDomain == "" {
		c.HubDomain = "hub"
	}
	if c.HubStream == "" {
		c.HubStream = "EVENTS"
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = 5 * time.Second
	}
	if c.FetchWait == 0 {
		c.FetchWait = 20 * time.Second
	}
	if c.AppendTimeout == 0 {
		c.AppendTimeout = 5 * time.Second
	}
	if c.AppendAttempts == 0 {
		c.AppendAttempts = 6
	}
	if c.RetryMin == 0 {
		c.RetryMin = 100 * time.Millisecond
	}
	if c.RetryMax == 0 {
		c.RetryMax = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate checks the configuration after defaults are applied.
func (c *Config) Validate() error {
	if err := event.ValidToken("account", c.Account); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if err := event.ValidToken("vehicle", c.Vehicle); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	switch c.Policy {
	case PolicyDropOldest, PolicyRejectNew:
	default:
		return fmt.Errorf("%w: policy %q (allowed: %s, %s)", ErrInvalidConfig, c.Policy, PolicyDropOldest, PolicyRejectNew)
	}
	if c.MaxBytes < 1<<20 {
		return fmt.Errorf("%w: max bytes %d is below 1 MiB", ErrInvalidConfig, c.MaxBytes)
	}
	if c.MaxAge < time.Minute {
		return fmt.Errorf("%w: max age %s is below one minute", ErrInvalidConfig, c.MaxAge)
	}
	if c.AppendTimeout < 0 || c.AppendAttempts < 0 {
		return fmt.Errorf("%w: append timeout %s and attempts %d must not be negative", ErrInvalidConfig, c.AppendTimeout, c.AppendAttempts)
	}
	if c.RetryMin <= 0 || c.RetryMax < c.RetryMin {
		return fmt.Errorf("%w: retry backoff %s..%s must be positive and increasing", ErrInvalidConfig, c.RetryMin, c.RetryMax)
	}
	return nil
}
