package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
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

// HeaderVehicleSeq carries the event's per-vehicle sequence on deliveries, so
// a receiver can detect a gap without parsing the body.
const HeaderVehicleSeq = "Fleetwire-Vehicle-Seq"

// Dispatcher delivers the hub's events to subscriptions.
type Dispatcher struct {
	cfg    Config
	js     jetstream.JetStream
	sender *sender
}

// New returns a dispatcher reading from the hub's JetStream.
func New(js jetstream.JetStream, cfg Config) (*Dispatcher, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Dispatcher{cfg: cfg, js: js, sender: newSender(cfg)}, nil
}

// Run delivers to every subscription until ctx ends. Each subscription gets
// its durable consumer (created or updated) before Run starts delivering, so
// an invalid subscription fails Run at once. Run returns ctx.Err() when
// stopped, or the first worker's fatal error.
func (d *Dispatcher) Run(ctx context.Context, subs []subscription.Subscription) error {
	if d.cfg.Log == nil {
		l, err := deliverylog.Open(ctx, d.js, deliverylog.Config{})
		if err != nil {
			return fmt.Errorf("dispatch: %w", err)
		}
		d.cfg.Log = l
	}
	ws := make([]*worker, 0, len(subs))
	for _, s := range subs {
		w, err := d.newWorker(ctx, s)
		if err != nil {
			return err
		}
		ws = append(ws, w)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.run(ctx); err != nil && ctx.Err() == nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// worker delivers one subscription's events, one at a time.
type worker struct {
	d      *Dispatcher
	sub    subscription.Subscription
	signer *webhooks.Signer
	cons   jetstream.Consumer
	// delivered is the EVENTS sequence of the last event the receiver
	// accepted, from the delivery log. JetStream writes consumer acks to
	// disk about ten times a second, so after a crash it offers again
	// events that were delivered; those up to here are skipped.
	delivered uint64
}

func (d *Dispatcher) newWorker(ctx context.Context, s subscription.Subscription) (*worker, error) {
	if err := s.Validate(d.cfg.AllowHTTP); err != nil {
		return nil, err
	}
	signer, err := webhooks.NewSigner(s.Secret)
	if err != nil {
		return nil, fmt.Errorf("dispatch: subscription %s: %w", s.ID, err)
	}
	cons, err := d.js.CreateOrUpdateConsumer(ctx, d.cfg.Stream, jetstream.ConsumerConfig{
		Durable:        s.ConsumerName(),
		Description:    "fleetwire subscription " + s.ID,
		FilterSubjects: s.FilterSubjects(),
		DeliverPolicy:  jetstream.DeliverNewPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		// One event in flight: while it is retried, nothing behind it moves.
		MaxAckPending: 1,
		// Short, because a delivery in progress keeps extending it (see
		// handle): an event held by a dispatcher that died, or lost in a
		// hub restart, comes back within seconds.
		AckWait:    ackWait,
		MaxDeliver: -1,
	})
	if err != nil {
		return nil, fmt.Errorf("dispatch: subscription %s: consumer: %w", s.ID, err)
	}
	last, err := d.cfg.Log.LastDelivered(ctx, s.ID)
	if err != nil {
		return nil, fmt.Errorf("dispatch: subscription %s: %w", s.ID, err)
	}
	return &worker{d: d, sub: s, signer: signer, cons: cons, delivered: last}, nil
}

func (w *worker) run(ctx context.Context) error {
	log := w.d.cfg.Logger.With("subscription", w.sub.ID)
	for ctx.Err() == nil {
		// One short pull at a time: with one event in flight there is
		// nothing to prefetch, and a pull never outlives a hub restart by long.
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		msg, err := w.cons.Next(jetstream.FetchContext(fctx))
		cancel()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
				log.Debug("dispatch: fetch", "err", err)
				if err := sleep(ctx, 100*time.Millisecond); err != nil {
					return err
				}
			}
			continue
		}
		// A delivery under way is finished and settled even when Run is
		// being stopped: cutting it short would deliver it twice later.
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.d.cfg.Timeout*time.Duration(w.d.cfg.ImmediateRetries+1)+5*time.Second)
		w.handle(hctx, msg)
		cancel()
	}
	return ctx.Err()
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

// handle makes one delivery attempt and settles the message: ack on 2xx,
// a delayed nak otherwise (the same event comes back first).
func (w *worker) handle(ctx context.Context, msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		w.d.cfg.Logger.Error("dispatch: message without metadata, dropped", "subscription", w.sub.ID, "err", err)
		_ = msg.Term()
		return
	}
	a := Attempt{Subscription: w.sub.ID, StreamSeq: meta.Sequence.Stream, Number: int(meta.NumDelivered), Body: msg.Data()}
	var env struct {
		ID      string        `json:"id"`
		Type    string        `json:"type"`
		Seq     uint64        `json:"seq"`
		Vehicle event.Vehicle `json:"vehicle"`
	}
	if err := json.Unmarshal(msg.Data(), &env); err != nil || env.ID == "" {
		// Cannot happen for events that went through an edge outbox; a
		// foreign publisher could send it. Never block the queue on it.
		w.d.cfg.Logger.Error("dispatch: event is not a fleetwire envelope, dropped", "subscription", w.sub.ID, "stream_seq", meta.Sequence.Stream, "err", err)
		_ = msg.Term()
		return
	}
	a.EventID, a.EventType, a.Vehicle, a.Seq = env.ID, env.Type, env.Vehicle.ID, env.Seq
	if meta.Sequence.Stream <= w.delivered {
		w.d.cfg.Logger.Info("dispatch: event already delivered before a restart, not sent again",
			"subscription", w.sub.ID, "event", a.EventID, "stream_seq", meta.Sequence.Stream)
		w.settle(ctx, msg, a)
		return
	}

	start := time.Now()
	extra := http.Header{HeaderVehicleSeq: []string{strconv.FormatUint(env.Seq, 10)}}
	stop := keepInProgress(msg)
	res := w.d.sender.send(ctx, w.sub.URL, w.signer, env.ID, msg.Data(), extra)
	stop()
	a.Latency, a.StatusCode, a.Err = time.Since(start), res.status, res.err
	rec := deliverylog.Record{
		Subscription: w.sub.ID, EventID: a.EventID, EventType: a.EventType, Vehicle: a.Vehicle, Seq: a.Seq,
		StreamSeq: a.StreamSeq, Attempt: a.Number, Time: start, URL: w.sub.URL, StatusCode: a.StatusCode,
		LatencyMs: float64(a.Latency.Microseconds()) / 1000, Response: string(res.body), Request: msg.Data(),
	}
	if a.Err == nil {
		a.EndToEnd = time.Since(meta.Timestamp)
		rec.Outcome = deliverylog.Delivered
		// The record, not the lazily persisted ack, is what proves the
		// delivery after a crash. It travels alongside the ack and must be
		// stored before the next event goes out.
		wait, err := w.d.cfg.Log.AppendAsync(rec)
		w.delivered = meta.Sequence.Stream
		w.settle(ctx, msg, a)
		if err != nil || wait(ctx) != nil {
			w.retry(ctx, "delivery record", func(ctx context.Context) error { return w.d.cfg.Log.Append(ctx, rec) })
		}
	} else {
		rec.Outcome, rec.Error = deliverylog.Failed, a.Err.Error()
		if err := w.d.cfg.Log.Append(ctx, rec); err != nil {
			w.d.cfg.Logger.Warn("dispatch: failed attempt not recorded", "subscription", w.sub.ID, "event", a.EventID, "err", err)
		}
		wait := w.d.retryDelay(a.Number, res.retryAfter)
		if ctx.Err() == nil {
			w.d.cfg.Logger.Warn("dispatch: delivery failed, retrying later; events behind it wait",
				"subscription", w.sub.ID, "event", a.EventID, "attempt", a.Number, "status", a.StatusCode, "err", a.Err, "retry_in", wait.Round(time.Millisecond))
		}
		_ = msg.NakWithDelay(wait)
	}
	if w.d.cfg.OnAttempt != nil {
		w.d.cfg.OnAttempt(a)
	}
}

// retryDelay is the wait after the attempt-th failed attempt: the
// receiver's Retry-After when it sent one (capped), else the schedule's
// entry, spread by the jitter.
func (d *Dispatcher) retryDelay(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, d.cfg.MaxRetryAfter)
	}
	s := d.cfg.RetrySchedule
	base := s[min(max(attempt, 1), len(s))-1]
	spread := (rand.Float64()*2 - 1) * d.cfg.Jitter
	return time.Duration(float64(base) * (1 + spread))
}

// ackWait is the consumers' ack wait; progress is signalled at a third of it.
const ackWait = 6 * time.Second

// keepInProgress tells the hub every ackWait/3 that msg is still being
// delivered, until the returned stop is called.
func keepInProgress(msg jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(ackWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// settle acknowledges a delivered event and waits for the hub to confirm, so
// that a hub restart cannot silently turn the ack into a redelivery.
func (w *worker) settle(ctx context.Context, msg jetstream.Msg, a Attempt) {
	w.retry(ctx, "ack", func(ctx context.Context) error {
		err := msg.DoubleAck(ctx)
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
		if err == nil || ctx.Err() != nil {
			return
		}
		if i == 0 {
			w.d.cfg.Logger.Warn("dispatch: hub did not confirm, retrying", "subscription", w.sub.ID, "step", what, "err", err)
		}
		if sleep(ctx, 200*time.Millisecond) != nil {
			return
		}
	}
}
