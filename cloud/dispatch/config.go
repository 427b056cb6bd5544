package dispatch

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/fleetwire/fleetwire/cloud/deliverylog"
)

// Config configures a Dispatcher.
type Config struct {
	// Stream is the hub's events stream (default "EVENTS").
	Stream string
	// Timeout bounds one HTTP attempt (default 10s).
	Timeout time.Duration
	// ImmediateRetries are quick retries of transport errors and 5xx
	// within one attempt (default 2), before the event goes back to JetStream.
	ImmediateRetries int
	// Backoff is how long a failed event waits before the next attempt
	// (default 5s). Nothing behind it is delivered meanwhile.
	Backoff time.Duration
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
		c.ImmediateRetries = 2
	}
	if c.Backoff == 0 {
		c.Backoff = 5 * time.Second
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
	if c.Timeout <= 0 || c.Backoff <= 0 {
		return fmt.Errorf("dispatch: timeout %s and backoff %s must be positive", c.Timeout, c.Backoff)
	}
	if c.ImmediateRetries < 0 || c.ImmediateRetries > 10 {
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
}

// Delivered reports whether the receiver accepted the event.
func (a Attempt) Delivered() bool { return a.Err == nil }
