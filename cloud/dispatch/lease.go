package dispatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/fleetwire/fleetwire/cloud/internal/ensure"
	"github.com/nats-io/nats.go/jetstream"
)

// LeaseBucket holds the dispatch lease: the key "leader" names the
// dispatcher replica that delivers. Entries expire after the lease TTL, so
// a replica that dies without a word is replaced after at most one TTL.
const LeaseBucket = "DISPATCH_LEASE"

const leaseKey = "leader"

// lease is held by one dispatcher replica at a time. Several replicas can
// run for failover; the one holding the lease delivers every subscription,
// the others wait. A replica that cannot renew within half the TTL stops
// delivering before anyone else may take over (after the full TTL), so two
// replicas never deliver at once, given clocks that run at the same rate.
type lease struct {
	kv  jetstream.KeyValue
	ttl time.Duration
	id  string
	// lastRev is the revision of our last write (only hold's goroutine).
	lastRev uint64
}

func openLease(ctx context.Context, js jetstream.JetStream, ttl time.Duration, replicas int) (*lease, error) {
	kv, err := ensure.Retry(ctx, "create bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      LeaseBucket,
			Description: "fleetwire: which dispatcher replica delivers",
			TTL:         ttl,
			Storage:     jetstream.FileStorage,
			Replicas:    max(replicas, 1),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("dispatch: lease bucket: %w", err)
	}
	host, _ := os.Hostname()
	id := host + "/" + strconv.Itoa(os.Getpid()) + "/" + strconv.FormatInt(time.Now().UnixNano(), 36)
	return &lease{kv: kv, ttl: ttl, id: id}, nil
}

// hold runs f while holding the lease, as many times as the lease is
// won, until ctx ends. f's context ends when the lease is lost.
func (l *lease) hold(ctx context.Context, onChange func(held bool), f func(context.Context)) {
	for ctx.Err() == nil {
		rev, err := l.kv.Create(ctx, leaseKey, []byte(l.id))
		if err != nil && l.lastRev != 0 {
			// Renewals failed for a while (a node of the cluster away):
			// if our entry is still the current one, the lease is ours.
			rev, err = l.kv.Update(ctx, leaseKey, []byte(l.id), l.lastRev)
		}
		if err != nil {
			if !errors.Is(err, jetstream.ErrKeyExists) && ctx.Err() == nil {
				onChange(false)
			}
			_ = sleep(ctx, l.ttl/4)
			continue
		}
		onChange(true)
		fctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); f(fctx) }()
		l.renew(fctx, rev)
		cancel()
		<-done
		onChange(false)
		if ctx.Err() != nil {
			// Hand over at once instead of after the TTL.
			dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			_ = l.kv.Delete(dctx, leaseKey, jetstream.LastRevision(l.lastRev))
			dcancel()
		}
	}
}

// renew keeps the lease until ctx ends or it cannot be renewed for half
// the TTL.
func (l *lease) renew(ctx context.Context, rev uint64) {
	l.lastRev = rev
	last := time.Now()
	t := time.NewTicker(l.ttl / 6)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, l.ttl/6)
		r, err := l.kv.Update(rctx, leaseKey, []byte(l.id), l.lastRev)
		cancel()
		if err == nil {
			l.lastRev, last = r, time.Now()
			continue
		}
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			return // someone else holds it
		}
		if time.Since(last) > l.ttl/2 {
			return // cannot prove we still hold it
		}
	}
}
