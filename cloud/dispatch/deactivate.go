package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fleetwire/fleetwire/cloud/deliverylog"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// deactivate stops the worker; run then discards the queue and records the
// new state (see finishDeactivation). Safe to call from a lane.
func (w *worker) deactivate(reason string) {
	w.mu.Lock()
	if w.reason == "" {
		w.reason = reason
	}
	w.mu.Unlock()
	w.stop(errDeactivated)
}

// finishDeactivation records every undelivered event of the subscription as
// discarded, then stores the subscription as deactivated with its reason.
// The supervisor, seeing that, deletes the consumer. Runs after every lane
// has stopped, so no delivery races the discards.
func (w *worker) finishDeactivation(ctx context.Context) error {
	w.log.Warn("dispatch: deactivating subscription; its undelivered events are discarded", "reason", w.reason)
	from := uint64(0)
	w.mu.Lock()
	for seq := range w.held {
		if from == 0 || seq < from {
			from = seq
		}
	}
	w.mu.Unlock()
	n, err := w.discardFrom(ctx, from)
	if err != nil {
		w.log.Error("dispatch: not every discarded event could be recorded", "recorded", n, "err", err)
	}
	_, err = w.store.Update(ctx, w.sub.ID, func(s *subscription.Subscription) error {
		if s.Epoch != w.sub.Epoch {
			return errStale
		}
		s.State, s.StateReason = subscription.Deactivated, w.reason
		return nil
	})
	switch {
	case errors.Is(err, errStale), errors.Is(err, subscription.ErrNotFound):
		// Replayed or deleted meanwhile: the newer decision stands.
	case err != nil:
		return fmt.Errorf("dispatch: subscription %s: record deactivation: %w", w.sub.ID, err)
	}
	w.log.Warn("dispatch: subscription deactivated", "reason", w.reason, "discarded", n)
	return errDeactivated
}

var errStale = errors.New("subscription changed meanwhile")

// discardFrom records as discarded each event of the subscription from
// stream sequence from (0: the consumer's first unacknowledged) to the
// stream's end, skipping those already delivered and those its filters
// exclude. It returns how many it recorded.
func (w *worker) discardFrom(ctx context.Context, from uint64) (int, error) {
	if from == 0 {
		info, err := w.cons.Info(ctx)
		if err != nil {
			return 0, err
		}
		from = info.AckFloor.Stream + 1
	}
	oc, err := w.d.js.OrderedConsumer(ctx, w.d.cfg.Stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: w.filter,
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
	})
	if err != nil {
		return 0, err
	}
	var waits []func(context.Context)
	defer func() {
		for _, wait := range waits {
			wait(ctx)
		}
	}()
	now := time.Now()
	for {
		fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		msg, err := oc.Next(jetstream.FetchContext(fctx))
		cancel()
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
			return len(waits), nil // nothing more
		}
		if err != nil {
			return len(waits), err
		}
		meta, err := msg.Metadata()
		if err != nil {
			return len(waits), err
		}
		it := &item{msg: msg, seq: meta.Sequence.Stream, ingested: meta.Timestamp}
		if jsonErr := unmarshalEnvelope(msg.Data(), &it.env); jsonErr == nil && w.wanted(it) {
			c, err := w.cursor(ctx, it.env.Vehicle.ID)
			if err != nil {
				return len(waits), err
			}
			if it.seq > c {
				waits = append(waits, w.recordAsync(it, deliverylog.Record{
					Outcome: deliverylog.Discarded, Time: now, URL: w.sub.URL, Error: "subscription deactivated: " + w.reason,
				}))
			}
		}
		if meta.NumPending == 0 {
			return len(waits), nil
		}
	}
}
