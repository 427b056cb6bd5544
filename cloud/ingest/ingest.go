// Package ingest admits vehicles' events into the EVENTS stream. Vehicles
// publish to fleet.ingest.<account>.<vehicle>.<type>; the verifier checks
// the event's ed25519 signature against the key registered for that vehicle
// and that the envelope names the same account and vehicle as the subject,
// then republishes it unchanged to fleet.events.… with the vehicle's reply
// subject, so the stream's publish acknowledgement (or its error, such as a
// wrong expected sequence) goes straight back to the vehicle. A refused
// event gets an error reply and is counted; the vehicle keeps it in its
// outbox, so nothing is lost while a key is fixed.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/nats-io/nats.go"
)

// Reasons a message is refused, as counted in Stats.
const (
	ReasonUnsigned     = "unsigned"
	ReasonBadSignature = "bad_signature"
	ReasonWrongKey     = "wrong_key"
	ReasonUnknown      = "unregistered_vehicle"
	ReasonMismatch     = "envelope_mismatch"
	ReasonBadSubject   = "bad_subject"
)

// ErrRejected wraps every refusal.
var ErrRejected = errors.New("ingest: event refused")

// KeyLookup returns the key registered for a vehicle.
type KeyLookup interface {
	VehicleKey(account, vehicle string) (string, bool)
}

// Config of the verifier.
type Config struct {
	// NC is a connection to the hub allowed to publish to the EVENTS stream.
	NC *nats.Conn
	// Keys are the registered vehicle keys. Required.
	Keys KeyLookup
	// RequireSignature refuses events of vehicles with no registered key
	// (on when the hub authenticates vehicles). A vehicle that has a key is
	// always checked.
	RequireSignature bool
	// Queue is the queue group shared by the cloud's replicas.
	Queue string
	// Workers verify in parallel (default GOMAXPROCS); one vehicle's
	// events always go to the same worker, so they keep their order.
	Workers int
	// Logger; refusals are logged at most once per second per reason.
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Queue == "" {
		c.Queue = "fleetwire-ingest"
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports a missing dependency.
func (c *Config) Validate() error {
	if c.NC == nil || c.Keys == nil {
		return errors.New("ingest: NC and Keys are required")
	}
	return nil
}

// Verifier is the running ingest gate.
type Verifier struct {
	cfg      Config
	accepted atomic.Uint64
	mu       sync.Mutex
	rejected map[string]uint64
	lastLog  map[string]time.Time
}

// New returns a verifier; Run starts it.
func New(cfg Config) (*Verifier, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Verifier{cfg: cfg, rejected: map[string]uint64{}, lastLog: map[string]time.Time{}}, nil
}

// Stats are the verifier's counters since start.
type Stats struct {
	Accepted uint64
	Rejected map[string]uint64 // by reason
}

// Stats returns a copy of the counters.
func (v *Verifier) Stats() Stats {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := make(map[string]uint64, len(v.rejected))
	for k, n := range v.rejected {
		r[k] = n
	}
	return Stats{Accepted: v.accepted.Load(), Rejected: r}
}

// Start subscribes and returns once the subscription is registered with
// the hub; stop drains it (what was received is still handled).
func (v *Verifier) Start(ctx context.Context) (stop func(), err error) {
	lanes := make([]chan *nats.Msg, v.cfg.Workers)
	var wg sync.WaitGroup
	for i := range lanes {
		lanes[i] = make(chan *nats.Msg, 1024)
		wg.Add(1)
		go func(lane <-chan *nats.Msg) {
			defer wg.Done()
			for m := range lane {
				v.handle(m)
			}
		}(lanes[i])
	}
	closeLanes := func() {
		for _, l := range lanes {
			close(l)
		}
		wg.Wait()
	}
	route := func(m *nats.Msg) { lanes[laneOf(m.Subject, len(lanes))] <- m }
	sub, err := v.cfg.NC.QueueSubscribe(identity.IngestRoot+".>", v.cfg.Queue, route)
	if err != nil {
		closeLanes()
		return nil, fmt.Errorf("ingest: subscribe: %w", err)
	}
	_ = sub.SetPendingLimits(1<<20, 1<<30)
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second) // FlushWithContext needs a deadline
	defer cancel()
	if err := v.cfg.NC.FlushWithContext(fctx); err != nil {
		_ = sub.Unsubscribe()
		closeLanes()
		return nil, fmt.Errorf("ingest: subscribe: %w", err)
	}
	return func() {
		// Handle what was received, for up to 5 s; a vehicle whose event
		// is dropped after that retries it.
		_ = sub.Drain()
		deadline := time.Now().Add(5 * time.Second)
		for sub.IsValid() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		_ = sub.Unsubscribe()
		closeLanes()
	}, nil
}

// laneOf picks the worker of a subject's vehicle (its account and vehicle
// tokens), so that one vehicle's events are handled in order.
func laneOf(subject string, n int) int {
	rest := strings.TrimPrefix(subject, identity.IngestRoot+".")
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		if j := strings.IndexByte(rest[i+1:], '.'); j >= 0 {
			rest = rest[:i+1+j]
		}
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(rest))
	return int(h.Sum32() % uint32(n))
}

// envelope is the part of an event the verifier cross-checks.
type envelope struct {
	Account string `json:"account"`
	Vehicle struct {
		ID string `json:"id"`
	} `json:"vehicle"`
}

func (v *Verifier) handle(m *nats.Msg) {
	account, vehicle, rest, ok := splitSubject(m.Subject)
	if !ok {
		v.reject(m, ReasonBadSubject, fmt.Errorf("subject %q is not %s.<account>.<vehicle>.<type>", m.Subject, identity.IngestRoot))
		return
	}
	want, registered := v.cfg.Keys.VehicleKey(account, vehicle)
	keyID, sig := m.Header.Get(identity.HeaderKey), m.Header.Get(identity.HeaderSignature)
	switch {
	case registered:
		if err := identity.VerifyEvent(want, keyID, sig, m.Data); err != nil {
			v.reject(m, reasonOf(err), fmt.Errorf("vehicle %s/%s: %w", account, vehicle, err))
			return
		}
	case v.cfg.RequireSignature:
		v.reject(m, ReasonUnknown, fmt.Errorf("vehicle %s/%s has no registered key", account, vehicle))
		return
	case sig != "":
		// Not registered, signatures optional: keep only what verifies.
		if err := identity.VerifyEvent("", keyID, sig, m.Data); err != nil {
			v.reject(m, reasonOf(err), fmt.Errorf("vehicle %s/%s: %w", account, vehicle, err))
			return
		}
	}
	var env envelope
	if err := json.Unmarshal(m.Data, &env); err != nil || env.Account != account || env.Vehicle.ID != vehicle {
		v.reject(m, ReasonMismatch, fmt.Errorf("envelope of %s names account %q vehicle %q", m.Subject, env.Account, env.Vehicle.ID))
		return
	}
	out := &nats.Msg{Subject: event.SubjectRoot + "." + account + "." + vehicle + "." + rest, Reply: m.Reply, Header: m.Header, Data: m.Data}
	if err := v.cfg.NC.PublishMsg(out); err != nil {
		// The vehicle's publish times out and it retries; nothing is lost.
		v.cfg.Logger.Warn("ingest: forward to EVENTS failed", "subject", out.Subject, "err", err)
		return
	}
	v.accepted.Add(1)
}

func reasonOf(err error) string {
	switch {
	case errors.Is(err, identity.ErrUnsigned):
		return ReasonUnsigned
	case errors.Is(err, identity.ErrWrongKey):
		return ReasonWrongKey
	default:
		return ReasonBadSignature
	}
}

// splitSubject parses fleet.ingest.<account>.<vehicle>.<type…>.
func splitSubject(s string) (account, vehicle, rest string, ok bool) {
	s, ok = strings.CutPrefix(s, identity.IngestRoot+".")
	if !ok {
		return "", "", "", false
	}
	parts := strings.SplitN(s, ".", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// rejection is the reply a refused publisher gets: the shape of a
// JetStream publish error, so that JetStream clients report it as one.
type rejection struct {
	Type  string `json:"type"`
	Error struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
}

// ErrCodeRejected is the err_code of a refusal reply.
const ErrCodeRejected = 10403

func (v *Verifier) reject(m *nats.Msg, reason string, err error) {
	v.mu.Lock()
	v.rejected[reason]++
	logIt := time.Since(v.lastLog[reason]) >= time.Second
	if logIt {
		v.lastLog[reason] = time.Now()
	}
	v.mu.Unlock()
	if logIt {
		v.cfg.Logger.Warn("ingest: event refused", "reason", reason, "subject", m.Subject, "err", err)
	}
	if m.Reply == "" {
		return
	}
	var r rejection
	r.Type = "io.nats.jetstream.api.v1.pub_ack_response"
	r.Error.Code, r.Error.ErrCode = 403, ErrCodeRejected
	r.Error.Description = fmt.Sprintf("%v: %s: %v", ErrRejected, reason, err)
	b, _ := json.Marshal(r)
	_ = m.Respond(b)
}
