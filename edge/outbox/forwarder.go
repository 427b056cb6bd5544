package outbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// consumerName is the durable local consumer whose ack floor is the
// forwarder's position, kept across restarts.
const consumerName = "forwarder"

// cursor is what the forwarder knows of the vehicle's last event on the hub.
type cursor struct {
	known     bool
	streamSeq uint64 // hub stream sequence of that event (0: none on the hub)
	eventSeq  uint64 // its Fleetwire-Seq (0: none on the hub)
}

// Forward forwards stored events to the hub, oldest first, until ctx ends.
// It returns ctx.Err() on cancellation, or an error if the local store fails.
// Only one Forward may run per outbox (and per store).
func (o *Outbox) Forward(ctx context.Context) error {
	cons, err := o.forwardConsumer(ctx)
	if err != nil {
		return err
	}
	var cur cursor
	var lastLocal uint64 // local stream sequence of the last message handled
	idle := 0            // fetches in a row that found nothing
	for {
		if cons == nil {
			// Deleted (by the stall check, or from outside) and not made
			// again yet: without one, nothing would ever be forwarded.
			cctx, cancel := context.WithTimeout(ctx, o.cfg.PublishTimeout)
			cons, err = o.forwardConsumer(cctx)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				o.cfg.Logger.Warn("outbox: forwarder consumer could not be made; retrying", "err", err)
				if err := sleep(ctx, time.Second); err != nil {
					return err
				}
				continue
			}
		}
		// One pull at a time (one event is in flight anyway); a
		// long-lived pull iterator was seen stalling for its expiry. The
		// server holds the pull until an event comes, so a long wait costs
		// an idle vehicle nothing, and a starved leaf server (10,000
		// simulated vehicles on 2 cores) still sees the request before it
		// expires.
		fctx, cancel := context.WithTimeout(ctx, o.cfg.FetchWait)
		msg, err := cons.Next(jetstream.FetchContext(fctx))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, nats.ErrNoResponders) {
				o.cfg.Logger.Warn("outbox: forwarder consumer gone; making it again", "err", err)
				cons = nil
				continue
			}
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
				o.cfg.Logger.Debug("outbox: forwarder fetch", "err", err)
				if err := sleep(ctx, 100*time.Millisecond); err != nil {
					return err
				}
				continue
			}
			// Nothing came: the store should then be empty. If it is not
			// (seen after the store's limits discarded events under the
			// consumer, under load), the consumer is stuck: replace it.
			// Checked about every 15 s of idleness, to keep idle vehicles
			// cheap.
			if idle++; idle%max(1, int(15*time.Second/o.cfg.FetchWait)) == 0 && o.stalled(ctx, cons) {
				cons = nil // made again at the top of the loop
			}
			continue
		}
		idle = 0
		meta, err := msg.Metadata()
		if err != nil {
			o.cfg.Logger.Error("outbox: message without metadata, skipped", "err", err)
			_ = msg.Term()
			continue
		}
		if lastLocal != 0 && meta.Sequence.Stream > lastLocal+1 {
			n := meta.Sequence.Stream - lastLocal - 1
			// The estimate made during the outage becomes the count.
			o.stats.discardedPending.Store(0)
			o.stats.discarded.Add(n)
			o.cfg.Logger.Warn("outbox: events discarded by the local store limits before they could be forwarded",
				"count", n, "first_seq", lastLocal+1, "last_seq", meta.Sequence.Stream-1, "policy", o.cfg.Policy)
		}
		if err := o.forward(ctx, msg, meta.Sequence.Stream, meta.Timestamp, &cur); err != nil {
			_ = msg.Nak()
			return err
		}
		lastLocal = meta.Sequence.Stream
	}
}

// estimateDiscards counts, while the event at localSeq cannot be
// forwarded, the events after it that the store's limits have already
// discarded (PolicyDropOldest), so that Stats and the metric show the loss
// during the outage rather than once the link is back. The forwarder turns
// the estimate into the count when it reaches the gap.
func (o *Outbox) estimateDiscards(ctx context.Context, localSeq uint64) {
	if o.cfg.Policy != PolicyDropOldest {
		return
	}
	ictx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	st, err := o.stream.Info(ictx)
	if err != nil {
		return
	}
	if first := st.State.FirstSeq; first > localSeq+1 {
		o.stats.discardedPending.Store(first - localSeq - 1)
	}
}

// stalled reports whether the store holds events although a fetch found
// none and none is in flight, and if so deletes the consumer (Forward makes
// a fresh one).
func (o *Outbox) stalled(ctx context.Context, cons jetstream.Consumer) bool {
	info, err := cons.Info(ctx)
	if err != nil || info.NumAckPending > 0 {
		return false
	}
	st, err := o.stream.Info(ctx)
	if err != nil || st.State.Msgs == 0 {
		return false
	}
	o.cfg.Logger.Warn("outbox: forwarder consumer stalled with events stored; replacing it",
		"stored", st.State.Msgs, "first_seq", st.State.FirstSeq, "consumer_pending", info.NumPending)
	err = o.local.DeleteConsumer(ctx, o.cfg.Stream, consumerName)
	return err == nil || errors.Is(err, jetstream.ErrConsumerNotFound)
}

// forwardConsumer creates the durable local consumer, replacing one left
// with an event in flight by a stopped or killed forwarder (which would
// otherwise hold it until the ack wait expires). Events that did reach the
// hub without a local ack are skipped by the cursor check.
func (o *Outbox) forwardConsumer(ctx context.Context) (jetstream.Consumer, error) {
	cc := jetstream.ConsumerConfig{
		Durable:       consumerName,
		Description:   "fleetwire forwarder: acked once the hub has stored the event",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       max(10*time.Second, 2*(o.cfg.RetryMax+o.cfg.PublishTimeout)),
		MaxAckPending: 1, // one event in flight: order is the stream's order
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	// On a work-queue stream acked events are gone, so "deliver all"
	// starts right after the ack floor; a consumer left with an event in
	// flight is replaced so that event comes back at once.
	old, err := o.local.Consumer(ctx, o.cfg.Stream, consumerName)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
	case err != nil:
		return nil, fmt.Errorf("outbox: forwarder consumer: %w", err)
	default:
		info, err := old.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("outbox: forwarder consumer: %w", err)
		}
		if info.NumAckPending > 0 {
			if err := o.local.DeleteConsumer(ctx, o.cfg.Stream, consumerName); err != nil {
				return nil, fmt.Errorf("outbox: forwarder consumer: %w", err)
			}
		}
	}
	cons, err := o.local.CreateOrUpdateConsumer(ctx, o.cfg.Stream, cc)
	if err != nil {
		return nil, fmt.Errorf("outbox: forwarder consumer: %w", err)
	}
	return cons, nil
}

// forward gets one event onto the hub (or proves it is there), then acks it
// locally. It retries until it succeeds or ctx ends. localSeq is the
// event's sequence in the local store.
func (o *Outbox) forward(ctx context.Context, msg jetstream.Msg, localSeq uint64, storedAt time.Time, cur *cursor) error {
	seq, err := strconv.ParseUint(msg.Headers().Get(event.HeaderSeq), 10, 64)
	if err != nil {
		o.cfg.Logger.Error("outbox: stored event without a valid sequence header, skipped", "subject", msg.Subject(), "err", err)
		return msg.Term()
	}
	id := msg.Headers().Get(jetstream.MsgIDHeader)
	filter := event.VehicleSubjects(o.cfg.Account, o.cfg.Vehicle)
	backoff := o.cfg.RetryMin
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			o.stats.retries.Add(1)
			_ = msg.InProgress() // keep the local delivery ours while we retry
			o.estimateDiscards(ctx, localSeq)
			if err := sleep(ctx, jitter(backoff)); err != nil {
				return err
			}
			backoff = min(backoff*2, o.cfg.RetryMax)
		}
		if !cur.known {
			c, err := o.resolve(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				o.cfg.Logger.Debug("outbox: hub not reachable", "err", err)
				o.noteOutage(err)
				continue
			}
			*cur = c
		}
		if cur.eventSeq >= seq {
			// Stored on the hub by an earlier attempt whose outcome we missed.
			o.stats.alreadyOnHub.Add(1)
			return o.ack(ctx, msg, seq)
		}
		ack, err := o.publish(ctx, msg, storedAt, id, seq, filter, cur.streamSeq)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			o.noteOutage(err)
			// Unknown outcome or a stale cursor: ask the hub before retrying.
			cur.known = false
			if attempt == 0 {
				o.cfg.Logger.Info("outbox: forward failed, will resolve against the hub and retry", "seq", seq, "err", err)
			}
			continue
		}
		if ack.Duplicate {
			cur.known = false // the hub knew this id: re-read its position next time
		} else {
			*cur = cursor{known: true, streamSeq: ack.Sequence, eventSeq: seq}
		}
		o.stats.forwarded.Add(1)
		return o.ack(ctx, msg, seq)
	}
}

func (o *Outbox) publish(ctx context.Context, msg jetstream.Msg, storedAt time.Time, id string, seq uint64, filter string, lastHubSeq uint64) (*jetstream.PubAck, error) {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.PublishTimeout)
	defer cancel()
	out := &nats.Msg{
		Subject: hubSubject(msg.Subject()),
		Header:  o.provenance(msg.Headers(), storedAt, time.Now()),
		Data:    msg.Data(),
	}
	out.Header.Set(event.HeaderSeq, strconv.FormatUint(seq, 10))
	if o.cfg.Signer != nil {
		sig, err := identity.SignEvent(o.cfg.Signer, out.Data)
		if err != nil {
			return nil, err
		}
		out.Subject = identity.IngestRoot + strings.TrimPrefix(out.Subject, event.SubjectRoot)
		out.Header.Set(identity.HeaderKey, identity.PublicKey(o.cfg.Signer))
		out.Header.Set(identity.HeaderSignature, sig)
	}
	return o.hub.PublishMsg(ctx, out,
		jetstream.WithMsgID(id),
		jetstream.WithExpectStream(o.cfg.HubStream),
		jetstream.WithExpectLastSequenceForSubject(lastHubSeq, filter))
}

// provenance returns the hub headers telling how the stored message with
// headers h, stored at storedAt, travelled until now (see
// event.Provenance). Each attempt computes them afresh, so the one that
// reaches the hub tells its own wait.
func (o *Outbox) provenance(h nats.Header, storedAt, now time.Time) nats.Header {
	out := nats.Header{}
	for _, k := range []string{event.HeaderAgentVersion, event.HeaderRuleVersion} {
		if v := h.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	offline := h.Get(event.HeaderStoredOffline) == "true"
	if at := o.outageAt.Load(); at != 0 && at > storedAt.UnixNano() {
		offline = true // the hub was unreachable while this event waited
	}
	out.Set(event.HeaderStoredAt, storedAt.UTC().Format(event.TimeLayout))
	out.Set(event.HeaderBufferedMs, strconv.FormatInt(max(0, now.Sub(storedAt).Milliseconds()), 10))
	out.Set(event.HeaderBufferedOffline, strconv.FormatBool(offline))
	return out
}

// noteOutage records that a call to the hub failed for want of the hub (a
// timeout, no responders, a lost connection), not because the hub
// answered with an error (such as the sequence guard's).
func (o *Outbox) noteOutage(err error) {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return
	}
	o.outageAt.Store(time.Now().UnixNano())
}

// resolve reads the vehicle's last event on the hub.
func (o *Outbox) resolve(ctx context.Context) (cursor, error) {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.PublishTimeout)
	defer cancel()
	return o.hubCursor(ctx)
}

// hubCursor reads the vehicle's last event on the hub with a direct get
// by subject: the one read a vehicle's hub permissions allow (the subject
// is in the request's subject, pinned to its own).
func (o *Outbox) hubCursor(ctx context.Context) (cursor, error) {
	if o.direct.Load() == directNo {
		return o.hubCursorByStream(ctx)
	}
	subj := "$JS." + o.cfg.HubDomain + ".API.DIRECT.GET." + o.cfg.HubStream + "." + event.VehicleSubjects(o.cfg.Account, o.cfg.Vehicle)
	dctx := ctx
	if o.direct.Load() == directUnknown {
		// Leave the fallback below half of the time.
		if d, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			dctx, cancel = context.WithTimeout(ctx, time.Until(d)/2)
			defer cancel()
		}
	}
	resp, err := o.hub.Conn().RequestWithContext(dctx, subj, nil)
	if err != nil && o.direct.Load() == directUnknown && ctx.Err() == nil {
		// Unanswered before it ever worked: the hub may be unreachable, or
		// its stream may not serve direct gets (allow_direct off, made
		// outside fleetwire). The stream API tells, where permitted.
		return o.hubCursorByStream(ctx)
	}
	if err != nil {
		return cursor{}, fmt.Errorf("last event on hub: %w", err)
	}
	o.direct.Store(directYes)
	switch status := resp.Header.Get("Status"); status {
	case "":
	case "404":
		return cursor{known: true}, nil
	default:
		return cursor{}, fmt.Errorf("last event on hub: status %s %s", status, resp.Header.Get("Description"))
	}
	streamSeq, err := strconv.ParseUint(resp.Header.Get(jetstream.SequenceHeader), 10, 64)
	if err != nil {
		return cursor{}, fmt.Errorf("last event on hub: no valid %s header: %w", jetstream.SequenceHeader, err)
	}
	seq, err := strconv.ParseUint(resp.Header.Get(event.HeaderSeq), 10, 64)
	if err != nil {
		return cursor{}, fmt.Errorf("last event on hub (stream seq %d) has no valid %s header: %w", streamSeq, event.HeaderSeq, err)
	}
	return cursor{known: true, streamSeq: streamSeq, eventSeq: seq}, nil
}

// How the hub's last event is read (Outbox.direct).
const (
	directUnknown int32 = iota
	directYes
	directNo
)

// hubCursorByStream is hubCursor through the stream's message API.
func (o *Outbox) hubCursorByStream(ctx context.Context) (cursor, error) {
	st, err := o.hub.Stream(ctx, o.cfg.HubStream)
	if err != nil {
		return cursor{}, fmt.Errorf("hub stream %s: %w", o.cfg.HubStream, err)
	}
	if info := st.CachedInfo(); info != nil && !info.Config.AllowDirect {
		o.direct.Store(directNo)
	}
	raw, err := st.GetLastMsgForSubject(ctx, event.VehicleSubjects(o.cfg.Account, o.cfg.Vehicle))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return cursor{known: true}, nil
	}
	if err != nil {
		return cursor{}, fmt.Errorf("last event on hub: %w", err)
	}
	seq, err := strconv.ParseUint(raw.Header.Get(event.HeaderSeq), 10, 64)
	if err != nil {
		return cursor{}, fmt.Errorf("last event on hub (stream seq %d) has no valid %s header: %w", raw.Sequence, event.HeaderSeq, err)
	}
	return cursor{known: true, streamSeq: raw.Sequence, eventSeq: seq}, nil
}

func (o *Outbox) ack(ctx context.Context, msg jetstream.Msg, seq uint64) error {
	o.stats.forwardedSeq.Store(seq)
	// A lost local ack only means a redelivery that the cursor check skips.
	if err := msg.Ack(); err != nil && ctx.Err() == nil {
		o.cfg.Logger.Warn("outbox: local ack failed; the event will be checked against the hub again", "seq", seq, "err", err)
	}
	return nil
}

// retry calls f until it succeeds or ctx ends, pausing between attempts.
func retry(ctx context.Context, pause time.Duration, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		if sleep(ctx, pause) != nil {
			return err
		}
	}
}

func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
