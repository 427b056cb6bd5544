package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/fleetwire/fleetwire/cloud/deliverylog"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/webhooks"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// errDeactivated ends a worker whose subscription it deactivated.
var errDeactivated = errors.New("dispatch: subscription deactivated")

// errNoVehicles: the subscription selects only vehicle groups, all empty.
var errNoVehicles = errors.New("dispatch: subscription selects no vehicle")

// ackWait is the consumers' ack wait; progress is signalled at a third of it.
const ackWait = 6 * time.Second

// worker delivers one subscription's events.
//
// Every event it receives stays in its hands until it is delivered: it is
// queued in a lane (one lane in subscription ordering, one per vehicle in
// vehicle ordering), kept alive on the hub with in-progress acks, retried on
// the schedule by the lane, and acknowledged once the receiver took it. A
// lane delivers its events one by one in stream order, so nothing overtakes
// an event being retried. The consumer's MaxAckPending bounds what is held.
//
// If the dispatcher dies, the hub offers the held events again after the
// ack wait; the delivery log tells the next worker which were delivered
// (skipped) and where each failing event stands in its schedule.
type worker struct {
	d     *Dispatcher
	store *subscription.Store
	sub   subscription.Subscription
	cons  jetstream.Consumer
	// filter are the consumer's subjects (vehicle groups expanded), those
	// of match, which decides on each event (shared with the pull feed).
	filter []string
	match  subscription.Filter
	log    *slog.Logger
	maxAge time.Duration

	// stop ends the worker with a cause (errDeactivated).
	stop context.CancelCauseFunc

	mu    sync.Mutex
	lanes map[string]*lane
	held  map[uint64]*item // by stream sequence
	// cursors are, per vehicle, the stream sequence of the last event
	// delivered in this epoch, read from the delivery log on first use.
	cursors map[string]uint64
	// barrier: events after this stream sequence wait until the events a
	// previous worker left in flight (at most pending of them, all at or
	// below it) have come back, so that none is overtaken. Lifted when they
	// are all back or at barrierUntil.
	barrier      uint64
	pending      int
	barrierUntil time.Time
	barrierDone  chan struct{}
	lanesWG      sync.WaitGroup
	// reason is set when the worker deactivates the subscription.
	reason string
	// signers by number of secrets (2 during a rotation's overlap).
	signers [3]*webhooks.Signer
}

// item is one event held by the worker.
type item struct {
	msg      jetstream.Msg
	seq      uint64    // EVENTS stream sequence
	ingested time.Time // when the hub stored it
	env      envelope
	attempt  int       // failed attempts so far
	nextAt   time.Time // earliest next attempt
	restored bool      // schedule read from the delivery log
}

// envelope is what the dispatcher reads of an event.
type envelope struct {
	ID      string        `json:"id"`
	Type    string        `json:"type"`
	Seq     uint64        `json:"seq"`
	Vehicle event.Vehicle `json:"vehicle"`
	Data    struct {
		Tags []string `json:"tags"`
	} `json:"data"`
}

// lane delivers its items in order, one at a time.
type lane struct {
	key     string
	items   []*item // sorted by seq
	running bool
	wake    chan struct{} // an item was added
	// recordWait waits for the delivery record of the lane's last
	// delivered event; it must be stored before the lane's next attempt,
	// and is awaited while the hub sends that next event.
	recordWait func(context.Context)
}

func (d *Dispatcher) newWorker(ctx context.Context, store *subscription.Store, sub subscription.Subscription) (*worker, error) {
	vehicles, all, err := d.groups.Resolve(ctx, sub)
	if err != nil {
		return nil, fmt.Errorf("dispatch: subscription %s: %w", sub.ID, err)
	}
	if !all && len(vehicles) == 0 {
		return nil, errNoVehicles
	}
	match := sub.FilterFor(vehicles)
	filter := match.Subjects()
	cons, err := d.ensureConsumer(ctx, sub, filter)
	if err != nil {
		return nil, fmt.Errorf("dispatch: subscription %s: consumer: %w", sub.ID, err)
	}
	w := &worker{
		d: d, store: store, sub: sub, cons: cons, filter: filter, match: match, maxAge: d.cfg.MaxAge,
		log:   d.cfg.Logger.With("subscription", sub.ID),
		lanes: map[string]*lane{}, held: map[uint64]*item{}, cursors: map[string]uint64{},
		barrierDone: make(chan struct{}),
	}
	info := cons.CachedInfo()
	if info.NumAckPending > 0 {
		w.barrier, w.pending = info.Delivered.Stream, info.NumAckPending
		w.barrierUntil = time.Now().Add(2 * ackWait)
	} else {
		close(w.barrierDone)
	}
	return w, nil
}

// run fetches events and hands them to lanes until ctx ends or the
// subscription is deactivated. Deliveries under way are finished and
// settled before run returns: cutting one short would send it twice.
func (w *worker) run(ctx context.Context) error {
	ctx, w.stop = context.WithCancelCause(ctx)
	defer w.stop(nil)
	var bg sync.WaitGroup
	bg.Add(1)
	go func() { defer bg.Done(); w.keepAlive(ctx) }()
	if w.barrier > 0 {
		bg.Add(1)
		go func() { defer bg.Done(); w.liftBarrierAt(ctx) }()
	}
	w.fetch(ctx)
	w.lanesWG.Wait()
	bg.Wait()
	if errors.Is(context.Cause(ctx), errDeactivated) {
		return w.finishDeactivation(context.WithoutCancel(ctx))
	}
	// Hand back what is still held, so the next worker (this
	// subscription's new version, or another replica) gets it at once
	// rather than after the ack wait; the delivery log keeps each failing
	// event's place in its schedule.
	w.mu.Lock()
	for _, it := range w.held {
		_ = it.msg.Nak()
	}
	w.mu.Unlock()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// fetch hands the consumer's messages to accept until ctx ends. The pull
// stays open (refilled as events are settled), so the next event arrives
// as soon as the hub processed the last ack, and an idle subscription
// costs a heartbeat, not a busy loop.
func (w *worker) fetch(ctx context.Context) {
	inFlight := 1
	if w.sub.Ordering == subscription.OrderVehicle {
		inFlight = w.sub.MaxInFlight
	}
	for ctx.Err() == nil {
		iter, err := w.cons.Messages(jetstream.PullMaxMessages(inFlight),
			jetstream.PullExpiry(5*time.Second), jetstream.PullHeartbeat(2*time.Second))
		if err != nil {
			w.log.Debug("dispatch: fetch", "err", err)
			_ = sleep(ctx, 200*time.Millisecond)
			continue
		}
		for ctx.Err() == nil {
			msg, err := iter.Next(jetstream.NextContext(ctx))
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
					w.stop(err)
					break
				}
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) || errors.Is(err, nats.ErrConnectionClosed) {
					_ = sleep(ctx, 200*time.Millisecond)
					break
				}
				w.log.Debug("dispatch: fetch", "err", err)
				continue
			}
			w.accept(ctx, msg)
		}
		iter.Stop()
	}
}

// accept queues msg in its lane, starting the lane if it is idle.
func (w *worker) accept(ctx context.Context, msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		w.log.Error("dispatch: message without metadata, dropped", "err", err)
		_ = msg.Term()
		return
	}
	// A first delivery has no failed attempt behind it; an event offered
	// again may have, by a dispatcher that died (see restoreSchedule).
	it := &item{msg: msg, seq: meta.Sequence.Stream, ingested: meta.Timestamp, restored: meta.NumDelivered == 1}
	w.mu.Lock()
	if w.barrier > 0 && it.seq <= w.barrier {
		// One of those a previous worker left in flight is back.
		if w.pending--; w.pending <= 0 {
			w.liftBarrier()
		}
	}
	w.mu.Unlock()
	if err := json.Unmarshal(msg.Data(), &it.env); err != nil || it.env.ID == "" {
		// Cannot happen for events that went through an edge outbox; a
		// foreign publisher could send one. Never block the queue on it.
		w.log.Error("dispatch: event is not a fleetwire envelope, dropped", "stream_seq", it.seq, "err", err)
		w.record(ctx, it, deliverylog.Record{Outcome: deliverylog.Discarded, Error: "not a fleetwire event envelope"})
		_ = msg.Term()
		return
	}
	if !w.wanted(it) {
		_ = msg.Ack()
		return
	}
	key := ""
	if w.sub.Ordering == subscription.OrderVehicle {
		key = it.env.Vehicle.ID
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if old, ok := w.held[it.seq]; ok {
		// Offered again while held (an in-progress ack was lost): keep
		// the one in hand, answer through the newest handle.
		old.msg = msg
		return
	}
	w.held[it.seq] = it
	l := w.lanes[key]
	if l == nil {
		l = &lane{key: key, wake: make(chan struct{}, 1)}
		w.lanes[key] = l
	}
	i, _ := slices.BinarySearchFunc(l.items, it.seq, func(x *item, s uint64) int { return cmpU64(x.seq, s) })
	l.items = slices.Insert(l.items, i, it)
	select {
	case l.wake <- struct{}{}:
	default:
	}
	if !l.running {
		l.running = true
		w.lanesWG.Add(1)
		go func() { defer w.lanesWG.Done(); w.runLane(ctx, l) }()
	}
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// wanted applies the subscription's filter (subscription.Filter, the
// same code as the pull feed's): the consumer's subjects already did all
// but the geofence tags.
func (w *worker) wanted(it *item) bool {
	return w.match.Matches(it.msg.Subject(), it.env.Data.Tags)
}

// liftBarrier lets every lane go; w.mu is held.
func (w *worker) liftBarrier() {
	if w.barrier > 0 {
		w.barrier = 0
		close(w.barrierDone)
	}
}

func (w *worker) liftBarrierAt(ctx context.Context) {
	w.mu.Lock()
	until := time.Until(w.barrierUntil)
	w.mu.Unlock()
	select {
	case <-ctx.Done():
	case <-w.barrierDone:
	case <-time.After(until):
		w.mu.Lock()
		if w.barrier > 0 {
			w.log.Warn("dispatch: events left in flight by a previous dispatcher did not all come back; going on", "missing", w.pending)
		}
		w.liftBarrier()
		w.mu.Unlock()
	}
}

// runLane delivers l's items until it is empty or ctx ends.
func (w *worker) runLane(ctx context.Context, l *lane) {
	for {
		w.mu.Lock()
		if len(l.items) == 0 || ctx.Err() != nil {
			if wait := l.recordWait; wait != nil {
				l.recordWait = nil
				w.mu.Unlock()
				wait(context.WithoutCancel(ctx))
				continue
			}
			l.running = false
			w.mu.Unlock()
			return
		}
		head := l.items[0]
		blocked := w.barrier > 0 && head.seq > w.barrier
		w.mu.Unlock()
		if blocked {
			select {
			case <-ctx.Done():
			case <-w.barrierDone:
			}
			continue
		}
		if wait := time.Until(head.nextAt); wait > 0 {
			// Wake early when an earlier event joins the lane (offered
			// again after a restart): it must go first.
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
			case <-t.C:
			case <-l.wake:
			}
			t.Stop()
			continue
		}
		if wait := l.recordWait; wait != nil {
			l.recordWait = nil
			wait(context.WithoutCancel(ctx))
		}
		done := w.deliver(ctx, l, head)
		if done {
			w.mu.Lock()
			l.items = slices.DeleteFunc(l.items, func(x *item) bool { return x == head })
			delete(w.held, head.seq)
			w.mu.Unlock()
		}
	}
}

// keepAlive tells the hub every ackWait/3 that the held events are still
// being worked on.
func (w *worker) keepAlive(ctx context.Context) {
	t := time.NewTicker(ackWait / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		msgs := make([]jetstream.Msg, 0, len(w.held))
		for _, it := range w.held {
			msgs = append(msgs, it.msg)
		}
		w.mu.Unlock()
		for _, m := range msgs {
			_ = m.InProgress()
		}
	}
}

// cursor returns the stream sequence of the vehicle's last delivered event
// in this epoch.
func (w *worker) cursor(ctx context.Context, vehicle string) (uint64, error) {
	w.mu.Lock()
	c, ok := w.cursors[vehicle]
	w.mu.Unlock()
	if ok {
		return c, nil
	}
	r, found, err := w.d.cfg.Log.Last(ctx, w.sub.ID, vehicle, deliverylog.Delivered)
	if err != nil {
		return 0, err
	}
	if found && r.Epoch == w.sub.Epoch {
		c = r.StreamSeq
	}
	w.mu.Lock()
	w.cursors[vehicle] = max(w.cursors[vehicle], c)
	c = w.cursors[vehicle]
	w.mu.Unlock()
	return c, nil
}

// restoreSchedule continues a failing event's schedule where the previous
// worker left it, from its last failed attempt in the delivery log.
func (w *worker) restoreSchedule(ctx context.Context, it *item) error {
	r, found, err := w.d.cfg.Log.Last(ctx, w.sub.ID, it.env.Vehicle.ID, deliverylog.Failed)
	if err != nil {
		return err
	}
	if found && r.Epoch == w.sub.Epoch && r.StreamSeq == it.seq {
		it.attempt, it.nextAt = r.Attempt, r.NextAttempt
	}
	it.restored = true
	return nil
}

// deliver makes one attempt at it, or settles it without one; it reports
// whether it is done with (acknowledged).
func (w *worker) deliver(ctx context.Context, l *lane, it *item) bool {
	// A delivery under way is finished and settled even when the worker
	// is being stopped.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.d.cfg.Timeout*time.Duration(w.d.cfg.ImmediateRetries+2)+10*time.Second)
	defer cancel()
	c, err := w.cursor(hctx, it.env.Vehicle.ID)
	if err == nil && !it.restored {
		err = w.restoreSchedule(hctx, it)
	}
	if err != nil {
		w.log.Warn("dispatch: delivery log unavailable, waiting", "err", err)
		_ = sleep(ctx, time.Second)
		return false
	}
	if it.seq <= c {
		w.log.Info("dispatch: event already delivered before a restart, not sent again", "event", it.env.ID, "stream_seq", it.seq)
		w.settle(hctx, it)
		return true
	}
	if time.Until(it.nextAt) > 0 {
		return false // restored schedule: not yet
	}
	prov := provenanceOf(it.msg.Headers(), it.ingested)
	body, contentType, err := w.render(it, prov)
	if err != nil {
		w.log.Error("dispatch: event cannot be delivered, discarded", "event", it.env.ID, "err", err)
		w.record(hctx, it, deliverylog.Record{Outcome: deliverylog.Discarded, Error: err.Error()})
		w.settle(hctx, it)
		return true
	}

	attempt := it.attempt + 1
	start := time.Now()
	extra := http.Header{HeaderVehicleSeq: []string{strconv.FormatUint(it.env.Seq, 10)}}
	provenanceHeaders(prov, extra)
	edgeSignatureHeaders(it.msg.Headers(), extra)
	if a := w.sub.Auth; a.Header != "" {
		extra.Set(a.Header, a.Value)
	}
	signer, err := w.signer(start)
	if err != nil {
		w.log.Error("dispatch: subscription secret unusable", "err", err)
		_ = sleep(ctx, time.Second)
		return false
	}
	res := w.d.sender.send(hctx, w.sub.URL, signer, it.env.ID, body, contentType, extra)
	a := Attempt{
		Subscription: w.sub.ID, EventID: it.env.ID, EventType: it.env.Type, Vehicle: it.env.Vehicle.ID, Seq: it.env.Seq,
		StreamSeq: it.seq, Number: attempt, StatusCode: res.status, Err: res.err, Latency: time.Since(start), Body: body, Response: res.body,
	}
	rec := deliverylog.Record{
		Attempt: attempt, Time: start, URL: w.sub.URL, StatusCode: res.status,
		LatencyMs: float64(a.Latency.Microseconds()) / 1000, Response: string(res.body), Request: string(body), ContentType: contentType,
	}
	defer func() {
		if w.d.cfg.OnAttempt != nil {
			w.d.cfg.OnAttempt(a)
		}
	}()
	if res.err == nil {
		a.EndToEnd = time.Since(it.ingested)
		rec.Outcome = deliverylog.Delivered
		// The record, not the lazily persisted ack, is what proves the
		// delivery after a crash or a lost ack (the event, offered again,
		// is skipped). It travels alongside the ack and is stored before
		// the lane's next attempt.
		wait := w.recordAsync(it, rec)
		w.mu.Lock()
		w.cursors[it.env.Vehicle.ID] = max(w.cursors[it.env.Vehicle.ID], it.seq)
		l.recordWait = wait
		w.mu.Unlock()
		w.settle(hctx, it)
		return true
	}

	rec.Outcome, rec.Error = deliverylog.Failed, res.err.Error()
	if res.status == http.StatusGone {
		w.record(hctx, it, rec)
		w.deactivate(fmt.Sprintf("receiver answered 410 Gone at %s", start.UTC().Format(time.RFC3339)))
		return false
	}
	delay := w.d.retryDelay(w.sub.RetrySchedule, attempt, res.retryAfter)
	if age := time.Since(it.ingested) + delay; age > w.maxAge {
		w.record(hctx, it, rec)
		w.deactivate(fmt.Sprintf("event %s failing for %s, beyond the maximum age %s; last error: %v",
			it.env.ID, time.Since(it.ingested).Round(time.Second), w.maxAge, res.err))
		return false
	}
	it.attempt, it.nextAt = attempt, start.Add(delay)
	rec.NextAttempt = it.nextAt
	w.record(hctx, it, rec)
	if ctx.Err() == nil {
		w.log.Warn("dispatch: delivery failed, retrying later; events behind it wait",
			"event", it.env.ID, "vehicle", it.env.Vehicle.ID, "attempt", attempt, "status", res.status, "err", res.err, "retry_in", delay.Round(time.Millisecond))
	}
	return false
}

// signer signs with the subscription's secrets at now: during a
// rotation's overlap both the new and the previous secret sign.
func (w *worker) signer(now time.Time) (*webhooks.Signer, error) {
	secrets := w.sub.Secrets(now)
	w.mu.Lock()
	defer w.mu.Unlock()
	if s := w.signers[len(secrets)]; s != nil {
		return s, nil
	}
	s, err := webhooks.NewSigner(secrets...)
	if err != nil {
		return nil, err
	}
	w.signers[len(secrets)] = s
	return s, nil
}

// render produces the body the subscription asked for: the stored
// envelope with its provenance appended (left out by the minimal shape).
func (w *worker) render(it *item, prov event.Provenance) ([]byte, string, error) {
	raw := it.msg.Data()
	if len(raw) > w.d.cfg.MaxPayload {
		return nil, "", fmt.Errorf("%w: event is %d bytes, the limit is %d", ErrPayloadTooLarge, len(raw), w.d.cfg.MaxPayload)
	}
	return renderBody(withProvenance(raw, prov), w.sub.Format, w.sub.Payload)
}

// record appends r, completed with it's identity, to the delivery log.
func (w *worker) record(ctx context.Context, it *item, r deliverylog.Record) {
	w.recordAsync(it, r)(ctx)
}

// recordAsync sends r and returns a wait that retries until it is stored.
func (w *worker) recordAsync(it *item, r deliverylog.Record) func(context.Context) {
	r.Subscription, r.Epoch = w.sub.ID, w.sub.Epoch
	r.EventID, r.EventType, r.Vehicle, r.Seq, r.StreamSeq = it.env.ID, it.env.Type, it.env.Vehicle.ID, it.env.Seq, it.seq
	if r.Vehicle == "" {
		r.Vehicle = "_"
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	wait, err := w.d.cfg.Log.AppendAsync(r)
	return func(ctx context.Context) {
		if err == nil && wait(ctx) == nil {
			return
		}
		w.retry(ctx, "delivery record", func(ctx context.Context) error { return w.d.cfg.Log.Append(ctx, r) })
	}
}

// settle acknowledges it. The ack is not awaited: if the hub loses it, the
// event comes back and is recognised as delivered or discarded by the
// delivery log.
func (w *worker) settle(ctx context.Context, it *item) {
	w.retry(ctx, "ack", func(context.Context) error {
		w.mu.Lock()
		msg := it.msg
		w.mu.Unlock()
		err := msg.Ack()
		if errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
			return nil
		}
		return err
	})
}

// retry runs f until it succeeds or ctx ends, for steps that must not be
// skipped while the hub is briefly away.
func (w *worker) retry(ctx context.Context, what string, f func(context.Context) error) {
	for i := 0; ; i++ {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := f(actx)
		cancel()
		if err == nil || ctx.Err() != nil || errors.Is(err, nats.ErrConnectionClosed) {
			return
		}
		if i == 0 {
			w.log.Warn("dispatch: hub did not confirm, retrying", "step", what, "err", err)
		}
		if sleep(ctx, 200*time.Millisecond) != nil {
			return
		}
	}
}
