package dispatch

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/fleetwire/fleetwire/cloud/deliverylog"
)

// DefaultRetrySchedule is Frotcom's published schedule: 5 min, 15 min,
// 35 min, 1 h, 2.5 h, 5 h, 10.5 h, 21 h, 2 days, then daily.
var DefaultRetrySchedule = []time.Duration{
	5 * time.Minute, 15 * time.Minute, 35 * time.Minute, time.Hour, 150 * time.Minute,
	5 * time.Hour, 630 * time.Minute, 21 * time.Hour, 48 * time.Hour, 24 * time.Hour,
}

// Config configures a Dispatcher.
type Config struct {
	// Stream is the hub's events stream (default "EVENTS").
	Stream string
	// Timeout bounds one HTTP attempt (default 10s).
	Timeout time.Duration
	// ImmediateRetries are quick retries of transport errors and 5xx
	// within one attempt (default 3), before the event waits for its next
	// scheduled attempt.
	// -1 means none (0 means the default).
	ImmediateRetries int
	// RetrySchedule is how long a failed event waits before each next
	// attempt: the n-th failure waits RetrySchedule[n-1], the last entry
	// repeating (default DefaultRetrySchedule, Frotcom's). Nothing behind
	// the event is delivered meanwhile.
	RetrySchedule []time.Duration
	// Jitter spreads each wait by ± this fraction (default 0.1), so that
	// receivers coming back are not hit by every subscription at once.
	Jitter float64
	// MaxRetryAfter caps a receiver's Retry-After on 429 and 503 (default 1h).
	MaxRetryAfter time.Duration
	// MaxAge is how long an event may keep failing (counted from its
	// arrival at the hub) before the subscription is deactivated and its
	// undelivered events discarded (default 7 days, the EVENTS retention).
	MaxAge time.Duration
	// MaxPayload is the largest event delivered, in bytes (default 256 KiB);
	// a larger one is recorded as discarded.
	MaxPayload int
	// Replicas of the buckets the dispatcher creates (default 1).
	Replicas int
	// LeaseTTL is how long a dispatcher replica that died keeps the
	// dispatch lease before a standby replica takes over (default 10s).
	LeaseTTL time.Duration
	// AllowHTTP permits plain http:// receivers (development only).
	AllowHTTP bool
	// AllowPrivate permits receivers on loopback and private networks.
	// Off by default: a subscription URL must not reach the hub's own
	// network (SSRF).
	AllowPrivate bool
	// UserAgent sent with every delivery.
	UserAgent string
	// Log records every attempt (opened with defaults by Run if nil).
	Log *deliverylog.Log
	// OnAttempt, if set, is called after every delivery attempt.
	OnAttempt func(Attempt)
	Logger    *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Stream == "" {
		c.Stream = "EVENTS"
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.ImmediateRetries == 0 {
		c.ImmediateRetries = 3
	}
	if len(c.RetrySchedule) == 0 {
		c.RetrySchedule = DefaultRetrySchedule
	}
	if c.Jitter == 0 {
		c.Jitter = 0.1
	}
	if c.MaxRetryAfter == 0 {
		c.MaxRetryAfter = time.Hour
	}
	if c.MaxAge == 0 {
		c.MaxAge = 7 * 24 * time.Hour
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = 256 << 10
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = 10 * time.Second
	}
	if c.UserAgent == "" {
		c.UserAgent = "fleetwire-webhooks/1"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports a configuration the dispatcher cannot run with.
func (c *Config) Validate() error {
	if c.Timeout <= 0 {
		return fmt.Errorf("dispatch: timeout %s must be positive", c.Timeout)
	}
	for _, d := range c.RetrySchedule {
		if d <= 0 {
			return fmt.Errorf("dispatch: retry schedule %v: every wait must be positive", c.RetrySchedule)
		}
	}
	if c.Jitter < 0 || c.Jitter >= 1 {
		return fmt.Errorf("dispatch: jitter %g must be within [0, 1)", c.Jitter)
	}
	if c.MaxAge <= 0 {
		return fmt.Errorf("dispatch: max age %s must be positive", c.MaxAge)
	}
	if c.MaxPayload <= 0 {
		return fmt.Errorf("dispatch: max payload %d must be positive", c.MaxPayload)
	}
	if c.LeaseTTL < time.Second {
		return fmt.Errorf("dispatch: lease TTL %s must be at least 1s", c.LeaseTTL)
	}
	if c.ImmediateRetries < -1 || c.ImmediateRetries > 10 {
		return fmt.Errorf("dispatch: immediate retries %d must be within 0..10", c.ImmediateRetries)
	}
	return nil
}

// Attempt describes one delivery attempt.
type Attempt struct {
	Subscription string
	EventID      string
	EventType    string
	Vehicle      string
	Seq          uint64 // the event's per-vehicle sequence
	StreamSeq    uint64 // its EVENTS stream sequence
	Number       int    // 1 for the first attempt of this event
	StatusCode   int    // 0 when no response was received
	Err          error  // nil on success
	Latency      time.Duration
	// EndToEnd is the time from hub ingest to the receiver's 2xx.
	EndToEnd time.Duration
	// Body is the delivered request body.
	Body []byte
	// Response is the first KiB of the receiver's answer.
	Response []byte
}

// Delivered reports whether the receiver accepted the event.
func (a Attempt) Delivered() bool { return a.Err == nil }
