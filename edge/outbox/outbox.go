package outbox

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// localRoot is the first token of local subjects. It differs from the hub's
// so that the hub stream never captures local writes and the forwarder's
// publishes are never captured locally (a loop).
const localRoot = "outbox"

// Outbox stores a vehicle's events locally and forwards them to the hub.
// Append may be called from one goroutine at a time; Forward runs alongside.
type Outbox struct {
	cfg    Config
	nc     *nats.Conn
	local  jetstream.JetStream
	hub    jetstream.JetStream
	stream jetstream.Stream

	mu      sync.Mutex // serialises Append (sequence assignment)
	lastSeq uint64

	stats    counters
	fullWarn rateLimit
	// outageAt is when (unix ns) the forwarder last failed to reach the
	// hub: an event stored before it waited because of an outage.
	outageAt atomic.Int64
}

// rateLimit lets one warning through per period.
type rateLimit struct {
	mu   sync.Mutex
	next time.Time
}

func (r *rateLimit) allow(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Before(r.next) {
		return false
	}
	r.next = now.Add(10 * time.Second)
	return true
}

// Open creates or updates the local stream on the leaf server reached by nc
// and recovers the last assigned sequence from it. When the store is new and
// the hub is reachable, numbering continues after the vehicle's last event on
// the hub, so a replaced gateway does not restart at 1.
func Open(ctx context.Context, nc *nats.Conn, cfg Config) (*Outbox, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	local, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	hub, err := jetstream.NewWithDomain(nc, cfg.HubDomain)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	o := &Outbox{cfg: cfg, nc: nc, local: local, hub: hub}

	sc := jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "fleetwire edge outbox: events waiting for (or already sent to) the hub",
		Subjects:    []string{localRoot + "." + cfg.Account + "." + cfg.Vehicle + ".>"},
		Storage:     jetstream.FileStorage,
		// Work queue: an event leaves the store once the forwarder acks it,
		// so the limits bound what waits, not what was already sent. The
		// stream's last sequence survives, and with it the numbering.
		Retention: jetstream.WorkQueuePolicy,
		MaxBytes:  cfg.MaxBytes,
		MaxAge:    cfg.MaxAge,
		Discard:   jetstream.DiscardOld,
	}
	if cfg.Policy == PolicyRejectNew {
		sc.Discard = jetstream.DiscardNew
	}
	st, err := local.Stream(ctx, cfg.Stream)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		sc.FirstSeq = o.hubNextSeq(ctx)
		st, err = local.CreateStream(ctx, sc)
	case err == nil:
		st, err = local.UpdateStream(ctx, sc)
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: local stream %s: %w", cfg.Stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("outbox: local stream %s: %w", cfg.Stream, err)
	}
	o.stream = st
	o.lastSeq = info.State.LastSeq
	o.stats.lastSeq.Store(o.lastSeq)
	return o, nil
}

// hubNextSeq returns the sequence after the vehicle's last event on the hub,
// or 1 when the hub has none or cannot be asked within a few seconds.
func (o *Outbox) hubNextSeq(ctx context.Context) uint64 {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	// Just after start the leaf link may not be up yet: keep asking.
	var cur cursor
	err := retry(ctx, 100*time.Millisecond, func() (err error) {
		cur, err = o.hubCursor(ctx)
		return err
	})
	if err != nil {
		o.cfg.Logger.Info("outbox: new store, hub not reachable; numbering starts at 1", "err", err)
		return 1
	}
	if cur.eventSeq > 0 {
		o.cfg.Logger.Info("outbox: new store, continuing the vehicle's numbering from the hub", "next_seq", cur.eventSeq+1)
	}
	return cur.eventSeq + 1
}

// Append assigns e the next sequence number (and an id if it has none) and
// stores it locally. When Append returns nil the event will reach the hub.
func (o *Outbox) Append(ctx context.Context, e *event.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e.ID == "" {
		e.ID = event.NewID(e.OccurredAt.Time)
	}
	if e.SchemaVersion == "" {
		e.SchemaVersion = event.SchemaVersion
	}
	e.Account, e.Vehicle.ID = o.cfg.Account, o.cfg.Vehicle
	e.Seq = o.lastSeq + 1
	e.Provenance = nil // added at delivery, never part of the stored envelope
	if err := e.Validate(); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	body, err := e.Marshal()
	if err != nil {
		return fmt.Errorf("outbox: encode: %w", err)
	}
	msg := &nats.Msg{
		Subject: localRoot + "." + e.Account + "." + e.Vehicle.ID + "." + event.TypeToken(e.Type),
		Header:  nats.Header{event.HeaderSeq: []string{strconv.FormatUint(e.Seq, 10)}},
		Data:    body,
	}
	// Provenance travels in headers, so the envelope bytes stay the
	// vehicle's own. The versions are those that produced the event.
	if v := o.cfg.AgentVersion; v != "" {
		msg.Header.Set(event.HeaderAgentVersion, v)
	}
	if v := o.cfg.RuleVersion; v != "" {
		msg.Header.Set(event.HeaderRuleVersion, v)
	}
	if o.cfg.LinkUp != nil && !o.cfg.LinkUp() {
		msg.Header.Set(event.HeaderStoredOffline, "true")
	}
	// The expected-last-sequence guard makes the stream sequence and the
	// event sequence one and the same: gap-free, surviving restarts.
	_, err = o.local.PublishMsg(ctx, msg, jetstream.WithMsgID(e.ID), jetstream.WithExpectLastSequence(o.lastSeq))
	if err != nil {
		if isStoreFull(err) {
			n := o.stats.rejected.Add(1)
			if o.fullWarn.allow(time.Now()) {
				o.cfg.Logger.Warn("outbox: local store full, new events rejected until the backlog drains (policy reject-new)",
					"rejected_total", n, "max_bytes", o.cfg.MaxBytes, "max_age", o.cfg.MaxAge)
			}
			return fmt.Errorf("%w: %w", ErrFull, err)
		}
		return fmt.Errorf("outbox: store event seq %d: %w", e.Seq, err)
	}
	o.lastSeq = e.Seq
	o.stats.lastSeq.Store(e.Seq)
	o.stats.appended.Add(1)
	return nil
}

func isStoreFull(err error) bool {
	s := err.Error()
	return strings.Contains(s, "maximum bytes exceeded") || strings.Contains(s, "maximum messages exceeded") || strings.Contains(s, "resource limits exceeded")
}

// Stats returns the counters.
func (o *Outbox) Stats() Stats { return o.stats.snapshot() }

// hubSubject maps a local subject to its hub subject.
func hubSubject(local string) string {
	return event.SubjectRoot + strings.TrimPrefix(local, localRoot)
}
