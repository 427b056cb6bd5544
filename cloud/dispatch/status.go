package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fleetwire/fleetwire/cloud/deliverylog"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/nats-io/nats.go/jetstream"
)

// Status is what an operator sees of a subscription.
type Status struct {
	ID             string             `json:"id"`
	State          subscription.State `json:"state"`
	StateReason    string             `json:"stateReason,omitempty"`
	StateChangedAt time.Time          `json:"stateChangedAt,omitzero"`
	// Pending is the queue depth: events matched by the subscription's
	// subjects and not yet delivered, including those in flight.
	Pending uint64 `json:"pending"`
	// InFlight are events handed to the dispatcher and not yet delivered
	// (being sent, or waiting for their next attempt).
	InFlight int `json:"inFlight"`
	// The delivery log's counts within its retention, and the last
	// success and failure.
	deliverylog.Stats
}

// Status reports sub's state, queue depth and delivery totals.
func (d *Dispatcher) Status(ctx context.Context, sub subscription.Subscription) (Status, error) {
	st := Status{ID: sub.ID, State: sub.State, StateReason: sub.StateReason, StateChangedAt: sub.StateChangedAt}
	log, err := d.openLog(ctx)
	if err != nil {
		return st, err
	}
	cons, err := d.js.Consumer(ctx, d.cfg.Stream, sub.ConsumerName())
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		// Deactivated, or not started yet: no queue.
	case err != nil:
		return st, fmt.Errorf("dispatch: status of %s: %w", sub.ID, err)
	default:
		info := cons.CachedInfo()
		st.Pending = info.NumPending + uint64(info.NumAckPending)
		st.InFlight = info.NumAckPending
	}
	if st.Stats, err = log.Stats(ctx, sub.ID); err != nil {
		return st, err
	}
	return st, nil
}

// openLog opens the delivery log once.
func (d *Dispatcher) openLog(ctx context.Context) (*deliverylog.Log, error) {
	d.logMu.Lock()
	defer d.logMu.Unlock()
	if d.cfg.Log == nil {
		l, err := deliverylog.Open(ctx, d.js, deliverylog.Config{Replicas: d.cfg.Replicas})
		if err != nil {
			return nil, fmt.Errorf("dispatch: %w", err)
		}
		d.cfg.Log = l
	}
	return d.cfg.Log, nil
}
