// Package ensure creates the hub's streams and buckets robustly. On a
// cluster, a create request can go unanswered: two fleetwire serve
// replicas starting together and creating the same R3 bucket were seen to
// both time out, and a request sent while the JetStream meta group is
// still electing its leader gets no responder. Retry repeats such an
// operation, each attempt with its own deadline, until it succeeds, fails
// for another reason, or ctx ends.
package ensure

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Timing of Retry.
const (
	// Attempt bounds one attempt.
	Attempt = 5 * time.Second
	// Within bounds all attempts when ctx has no deadline of its own.
	Within = 2 * time.Minute
	// pauseMax bounds the random pause between attempts: replicas that
	// collided once must not retry in lockstep.
	pauseMax = 1500 * time.Millisecond
)

// Retry runs op until it succeeds. It retries when an attempt timed out or
// found no responder; any other error is returned at once. what names the
// operation in the error.
func Retry[T any](ctx context.Context, what string, op func(context.Context) (T, error)) (T, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, Within)
		defer cancel()
	}
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, Attempt)
		v, err := op(actx)
		cancel()
		if err == nil || !retryable(err) {
			return v, err
		}
		select {
		case <-ctx.Done():
			var zero T
			return zero, fmt.Errorf("%s: %d attempts: %w", what, attempt, err)
		case <-time.After(time.Duration(rand.Int64N(int64(pauseMax)))):
		}
	}
}

func retryable(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrConnectionReconnecting)
}
