package outbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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
	unsure  *unconfirmed // the last Append gave up not knowing whether it stored its event

	stats    counters
	fullWarn rateLimit
	// outageAt is when (unix ns) the forwarder last failed to reach the
	// hub: an event stored before it waited because of an outage.
	outageAt atomic.Int64
	// direct is how the hub's last event is read: 0 not known yet, 1 by
	// direct get (the only read a vehicle's hub permissions allow), 2
	// through the stream API (a hub stream without allow_direct).
	direct atomic.Int32
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
	existed := err == nil
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
	// What the store holds has not been forwarded (the stream is a work
	// queue), so the backlog is right from the start, not only after the
	// first forward.
	forwarded := o.lastSeq
	if info.State.Msgs > 0 {
		forwarded = info.State.FirstSeq - 1
	}
	o.stats.forwardedSeq.Store(forwarded)
	if existed {
		o.cfg.Logger.Info("outbox: store recovered", "stream", cfg.Stream, "last_seq", o.lastSeq,
			"waiting", info.State.Msgs, "first_waiting_seq", info.State.FirstSeq)
	}
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
//
// A local store that does not answer (a timeout, no responders) is asked
// again, up to Config.AppendAttempts times within ctx; every attempt
// carries the same message id and expected last sequence, so at most one
// is stored, and one whose answer was lost is recognised by the next. After
// the last attempt Append returns ErrUnavailable (see there). Other errors
// (ErrFull, an invalid event, a deleted stream) are returned at once.
func (o *Outbox) Append(ctx context.Context, e *event.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e.ID == "" {
		e.ID = event.NewID(e.OccurredAt.Time)
	}
	if e.SchemaVersion == "" {
		e.SchemaVersion = event.SchemaVersion
	}
	if u := o.unsure; u != nil && u.id != e.ID {
		// An earlier Append gave up not knowing whether its event was
		// stored, and that event is not being appended again: the store
		// says which sequence comes next.
		if err := o.resyncLocked(ctx); err != nil {
			return fmt.Errorf("%w: reading the last sequence after an unconfirmed append: %w", ErrUnavailable, err)
		}
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
	if err := o.storeLocked(ctx, msg, e); err != nil {
		var earlier *storedEarlier
		if !errors.As(err, &earlier) {
			return err
		}
		// An attempt that gave up had stored it after all, and other
		// events followed: it keeps its place.
		o.cfg.Logger.Info("outbox: event already stored by an earlier attempt; not storing it again",
			"event_id", e.ID, "seq", earlier.seq)
		o.unsure = nil
		e.Seq = earlier.seq
		return nil
	}
	o.unsure = nil
	o.lastSeq = e.Seq
	o.stats.lastSeq.Store(e.Seq)
	o.stats.appended.Add(1)
	return nil
}

// unconfirmed is an event whose local store attempts all failed without
// saying whether one of them stored it.
type unconfirmed struct {
	id  string
	seq uint64
}

// storeLocked stores msg, event e, at sequence e.Seq, retrying transient
// failures. The expected-last-sequence guard makes the stream sequence and
// the event sequence one and the same: gap-free, surviving restarts. It is
// also what settles a retry: an attempt whose answer was lost but which did
// store the event makes the next one fail the guard (nats-server checks it
// before the message id), and the stream then shows e at e.Seq.
func (o *Outbox) storeLocked(ctx context.Context, msg *nats.Msg, e *event.Event) error {
	// Set when an attempt may have stored e: by an earlier Append of the
	// same event that gave up, or by an attempt of this one.
	maybeStored := o.unsure != nil && o.unsure.id == e.ID && o.unsure.seq == e.Seq
	backoff := o.cfg.RetryMin
	for attempt := 1; ; attempt++ {
		err := o.publishLocal(ctx, msg, e, o.lastSeq)
		switch {
		case err == nil:
			return nil
		case isStoreFull(err):
			n := o.stats.rejected.Add(1)
			if o.fullWarn.allow(time.Now()) {
				o.cfg.Logger.Warn("outbox: local store full, new events rejected until the backlog drains (policy reject-new)",
					"rejected_total", n, "max_bytes", o.cfg.MaxBytes, "max_age", o.cfg.MaxAge)
			}
			return fmt.Errorf("%w: %w", ErrFull, err)
		case isWrongLastSeq(err) && maybeStored:
			stored, serr := o.storedLocked(ctx, e)
			if serr == nil && stored {
				o.cfg.Logger.Info("outbox: an earlier attempt had stored the event; not storing it again", "seq", e.Seq, "attempt", attempt)
				return nil
			}
			if serr == nil {
				return fmt.Errorf("outbox: store event seq %d: the local stream moved on without it: %w", e.Seq, err)
			}
			err = serr // could not look: as transient as the store itself
		case o.transient(ctx, err):
		default:
			if ctx.Err() != nil {
				o.unsure = &unconfirmed{id: e.ID, seq: e.Seq}
			}
			return fmt.Errorf("outbox: store event seq %d: %w", e.Seq, err)
		}
		maybeStored = true
		o.unsure = &unconfirmed{id: e.ID, seq: e.Seq}
		if attempt >= o.cfg.AppendAttempts {
			return fmt.Errorf("%w: event seq %d not confirmed after %d attempts: %w", ErrUnavailable, e.Seq, attempt, err)
		}
		o.stats.appendRetries.Add(1)
		if attempt == 1 {
			o.cfg.Logger.Warn("outbox: local store did not answer; retrying", "seq", e.Seq, "err", err)
		}
		if serr := sleep(ctx, jitter(backoff)); serr != nil {
			return fmt.Errorf("outbox: store event seq %d: %w", e.Seq, serr)
		}
		backoff = min(backoff*2, o.cfg.RetryMax)
	}
}

// publishLocal makes one attempt to store msg with e's id after sequence
// last, within Config.AppendTimeout.
func (o *Outbox) publishLocal(ctx context.Context, msg *nats.Msg, e *event.Event, last uint64) error {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.AppendTimeout)
	defer cancel()
	ack, err := o.local.PublishMsg(ctx, msg, jetstream.WithMsgID(e.ID), jetstream.WithExpectLastSequence(last))
	if err != nil {
		return err
	}
	if ack.Duplicate && ack.Sequence < e.Seq {
		return &storedEarlier{seq: ack.Sequence}
	}
	if ack.Sequence != e.Seq { // a duplicate id stored under another sequence
		return fmt.Errorf("stored as stream sequence %d (duplicate %v), want %d", ack.Sequence, ack.Duplicate, e.Seq)
	}
	return nil
}

// storedEarlier: the store already holds the event (same id) at seq, an
// earlier sequence than the one being tried. It happens when an Append
// gave up without knowing its event was stored, a later Append read the
// store's last sequence past it, and the same event is appended again.
type storedEarlier struct{ seq uint64 }

func (e *storedEarlier) Error() string {
	return fmt.Sprintf("event already stored at sequence %d", e.seq)
}

// transient reports whether err is the local store not answering in time,
// as opposed to an answer (or the caller giving up).
func (o *Outbox) transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code == 503 // JetStream not (yet) available
	}
	if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
		// Nobody took the message: the server is starting, or the stream
		// is gone for good, which no retry mends.
		sctx, cancel := context.WithTimeout(ctx, o.cfg.AppendTimeout)
		defer cancel()
		_, serr := o.local.Stream(sctx, o.cfg.Stream)
		return !errors.Is(serr, jetstream.ErrStreamNotFound)
	}
	if errors.Is(err, io.ErrClosedPipe) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		// The connection broke under the request (the server closed a
		// client that did not read in time); it reconnects unless closed.
		return !o.local.Conn().IsClosed()
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrDisconnected)
}

// storedLocked reports whether e is in the local stream at e.Seq, or was
// and has left it (forwarded, or discarded by the limits): the outbox is
// the stream's only writer, so if the stream's last sequence is e.Seq while
// an attempt to store e had an unknown outcome, that attempt stored it.
func (o *Outbox) storedLocked(ctx context.Context, e *event.Event) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.AppendTimeout)
	defer cancel()
	info, err := o.stream.Info(ctx)
	if err != nil {
		return false, err
	}
	if info.State.LastSeq < e.Seq {
		return false, nil
	}
	m, err := o.stream.GetMsg(ctx, e.Seq)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return info.State.LastSeq == e.Seq, nil
	case err != nil:
		return false, err
	}
	return m.Header.Get(jetstream.MsgIDHeader) == e.ID, nil
}

// resyncLocked takes the last sequence from the store, after an Append
// that gave up with an unknown outcome.
func (o *Outbox) resyncLocked(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.AppendTimeout)
	defer cancel()
	info, err := o.stream.Info(ctx)
	if err != nil {
		return err
	}
	if last := info.State.LastSeq; last > o.lastSeq {
		o.cfg.Logger.Warn("outbox: an event reported as not stored was stored after all; it will be forwarded",
			"seq", last, "event_id", o.unsure.id)
		o.stats.appended.Add(last - o.lastSeq)
		o.lastSeq = last
		o.stats.lastSeq.Store(last)
	}
	o.unsure = nil
	return nil
}

func isWrongLastSeq(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
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
