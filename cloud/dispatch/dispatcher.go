package dispatch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/fleetwire/fleetwire/cloud/internal/ensure"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/nats-io/nats.go/jetstream"
)

// HeaderVehicleSeq carries the event's per-vehicle sequence on deliveries, so
// a receiver can detect a gap without parsing the body.
const HeaderVehicleSeq = "Fleetwire-Vehicle-Seq"

// In a consumer's metadata, metaEpoch records the subscription epoch it
// serves and metaRevision the version of the subscription a worker serves.
const (
	metaEpoch    = "fleetwire.epoch"
	metaRevision = "fleetwire.revision"
)

// Dispatcher delivers the hub's events to the subscriptions in a store,
// following the store as subscriptions are created, changed, paused,
// resumed, replayed and deleted.
type Dispatcher struct {
	cfg    Config
	js     jetstream.JetStream
	sender *sender
	logMu  sync.Mutex // guards opening cfg.Log
	groups *subscription.Groups
}

// New returns a dispatcher reading from the hub's JetStream.
func New(js jetstream.JetStream, cfg Config) (*Dispatcher, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Dispatcher{cfg: cfg, js: js, sender: newSender(cfg)}, nil
}

// Run delivers to every active subscription of store until ctx ends, and
// returns ctx.Err(). Several replicas may run: the one holding the dispatch
// lease delivers, the others stand by (see lease). Each subscription is
// supervised on its own: a slow receiver, a subscription that cannot
// start, or one being stopped never holds up the others.
func (d *Dispatcher) Run(ctx context.Context, store *subscription.Store) error {
	if _, err := d.openLog(ctx); err != nil {
		return err
	}
	groups, err := subscription.OpenGroups(ctx, d.js, d.cfg.Replicas)
	if err != nil {
		return err
	}
	d.groups = groups
	l, err := openLease(ctx, d.js, d.cfg.LeaseTTL, d.cfg.Replicas)
	if err != nil {
		return err
	}
	held := false
	l.hold(ctx, func(h bool) {
		if h != held {
			held = h
			if h {
				d.cfg.Logger.Info("dispatch: this replica delivers (holds the dispatch lease)")
			} else if ctx.Err() == nil {
				d.cfg.Logger.Info("dispatch: standing by; another replica holds the dispatch lease")
			}
		}
	}, func(ctx context.Context) {
		// While the lease is held, the subscriptions must be followed: a
		// watch that ends or cannot start (the cluster electing the
		// bucket's leader) is started again, or this replica would hold
		// the lease and deliver nothing.
		backoff := 100 * time.Millisecond
		for {
			err := d.superviseAll(ctx, store)
			if ctx.Err() != nil {
				return
			}
			d.cfg.Logger.Warn("dispatch: lost track of the subscriptions; following them again", "err", err, "in", backoff)
			if sleep(ctx, backoff) != nil {
				return
			}
			backoff = min(backoff*2, 5*time.Second)
		}
	})
	return ctx.Err()
}

// errWatchEnded: the subscriptions' watch stopped (or never delivered the
// stored subscriptions) while the lease was held.
var errWatchEnded = errors.New("dispatch: the subscriptions' watch ended")

// watchSyncTimeout bounds the wait for the stored subscriptions.
const watchSyncTimeout = 15 * time.Second

// superviseAll runs a supervisor per subscription in store until ctx ends,
// or until its watch of the store ends (errWatchEnded): then every worker
// is stopped first.
func (d *Dispatcher) superviseAll(ctx context.Context, store *subscription.Store) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changes, err := store.Watch(ctx, func(id string, err error) {
		d.cfg.Logger.Error("dispatch: stored subscription unreadable, ignored", "subscription", id, "err", err)
	})
	if err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	groupChanged := make(chan string, 64)
	if err := d.groups.WatchAccounts(ctx, func(account string) {
		select {
		case groupChanged <- account:
		case <-ctx.Done():
		}
	}); err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }() // stop the supervisors, then wait for them
	// A watch started while the cluster elects the bucket's leader was
	// seen never to deliver: it must list the subscriptions in time.
	syncDeadline := time.NewTimer(watchSyncTimeout)
	defer syncDeadline.Stop()
	sups := map[string]*supervisor{}
	latest := map[string]subscription.Change{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case account := <-groupChanged:
			// Subscriptions selecting groups of the account pick up
			// their new members.
			for id, c := range latest {
				if !c.Deleted && c.Subscription.Account == account && len(c.Subscription.VehicleGroups) > 0 {
					sups[id].offer(c)
				}
			}
		case <-syncDeadline.C:
			return fmt.Errorf("%w: no complete list of subscriptions within %s", errWatchEnded, watchSyncTimeout)
		case c, ok := <-changes:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return errWatchEnded
			}
			if c.Synced {
				syncDeadline.Stop()
				continue
			}
			latest[c.ID] = c
			s, found := sups[c.ID]
			if !found {
				s = &supervisor{d: d, store: store, id: c.ID, want: make(chan subscription.Change, 1)}
				sups[c.ID] = s
				wg.Add(1)
				go func() { defer wg.Done(); s.run(ctx) }()
			}
			s.offer(c)
		}
	}
}

// supervisor runs one subscription's worker, restarting it with each new
// version of the subscription.
type supervisor struct {
	d     *Dispatcher
	store *subscription.Store
	id    string
	want  chan subscription.Change // latest version only
}

// offer replaces any version not yet picked up by c.
func (s *supervisor) offer(c subscription.Change) {
	for {
		select {
		case s.want <- c:
			return
		default:
			select {
			case <-s.want:
			default:
			}
		}
	}
}

func (s *supervisor) run(ctx context.Context) {
	log := s.d.cfg.Logger.With("subscription", s.id)
	var stop context.CancelFunc
	var done chan struct{}
	halt := func() {
		if stop != nil {
			stop()
			<-done
			stop = nil
		}
	}
	defer halt()
	for {
		var c subscription.Change
		select {
		case <-ctx.Done():
			return
		case c = <-s.want:
		}
		halt()
		sub := c.Subscription
		switch {
		case c.Deleted:
			s.d.deleteConsumer(ctx, (&subscription.Subscription{ID: c.ID}).ConsumerName())
			log.Info("dispatch: subscription deleted")
			continue
		case sub.State == subscription.Deactivated:
			s.d.deleteConsumer(ctx, sub.ConsumerName())
			log.Info("dispatch: subscription deactivated", "reason", sub.StateReason)
			continue
		case sub.State == subscription.Paused:
			log.Info("dispatch: subscription paused; its events wait")
			continue
		}
		if err := sub.Validate(s.d.cfg.AllowHTTP); err != nil {
			log.Error("dispatch: stored subscription is invalid, not delivering", "err", err)
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		stop, done = cancel, make(chan struct{})
		go func() {
			defer close(done)
			s.runWorker(wctx, sub)
		}()
	}
}

// runWorker keeps a worker for sub running until ctx ends, starting it
// again after errors (the hub being away) with a growing pause.
func (s *supervisor) runWorker(ctx context.Context, sub subscription.Subscription) {
	log := s.d.cfg.Logger.With("subscription", sub.ID)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		w, err := s.d.newWorker(ctx, s.store, sub)
		if err == nil {
			backoff = 100 * time.Millisecond
			err = w.run(ctx)
		}
		if ctx.Err() != nil || errors.Is(err, errDeactivated) {
			return
		}
		if errors.Is(err, errNoVehicles) {
			log.Warn("dispatch: subscription selects no vehicle (its groups are empty or missing); waiting for a change")
			return
		}
		log.Warn("dispatch: subscription worker stopped, starting again", "err", err, "in", backoff)
		if sleep(ctx, backoff) != nil {
			return
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// consumerConfig is the durable consumer of sub.
func (d *Dispatcher) consumerConfig(sub subscription.Subscription, filter []string) jetstream.ConsumerConfig {
	inFlight := 1
	if sub.Ordering == subscription.OrderVehicle {
		inFlight = sub.MaxInFlight
	}
	cc := jetstream.ConsumerConfig{
		Durable:        sub.ConsumerName(),
		Description:    "fleetwire subscription " + sub.ID,
		FilterSubjects: filter,
		DeliverPolicy:  jetstream.DeliverNewPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		// Events in flight: one in subscription ordering, so that while
		// it is retried nothing behind it moves.
		MaxAckPending: inFlight,
		// Short, because the dispatcher holding an event keeps extending
		// it (see keepAlive): an event held by a dispatcher that died, or
		// lost in a hub restart, comes back within seconds.
		AckWait:    ackWait,
		MaxDeliver: -1,
		Metadata:   map[string]string{metaEpoch: strconv.FormatUint(sub.Epoch, 10), metaRevision: strconv.FormatUint(sub.Revision, 10)},
	}
	// Where the queue starts: the replay time, else the moment the
	// subscription (or this epoch of it) began. Not "new events only": on
	// a cluster the consumer starts when its leader is elected, and
	// events stored meanwhile would be skipped.
	start := sub.StartAt
	if start.IsZero() {
		start = sub.StateChangedAt
	}
	if start.IsZero() {
		start = sub.CreatedAt
	}
	if !start.IsZero() {
		cc.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		cc.OptStartTime = &start
	}
	return cc
}

// ensureConsumer creates sub's consumer, or updates the one serving its
// epoch; a consumer from an earlier epoch is replaced, because where a
// consumer starts cannot be changed.
func (d *Dispatcher) ensureConsumer(ctx context.Context, sub subscription.Subscription, filter []string) (jetstream.Consumer, error) {
	// Each attempt bounded and retried: a consumer request sent while the
	// cluster elects the consumer's leader can go unanswered, and one
	// without a deadline was seen to wait for ever (a replica holding the
	// lease and delivering nothing).
	return ensure.Retry(ctx, "consumer "+sub.ConsumerName(), func(ctx context.Context) (jetstream.Consumer, error) {
		return d.ensureConsumerOnce(ctx, sub, filter)
	})
}

func (d *Dispatcher) ensureConsumerOnce(ctx context.Context, sub subscription.Subscription, filter []string) (jetstream.Consumer, error) {
	want := d.consumerConfig(sub, filter)
	cur, err := d.js.Consumer(ctx, d.cfg.Stream, want.Durable)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		return d.js.CreateConsumer(ctx, d.cfg.Stream, want)
	case err != nil:
		return nil, err
	}
	info := cur.CachedInfo()
	if info.Config.Metadata[metaEpoch] != want.Metadata[metaEpoch] {
		d.cfg.Logger.Info("dispatch: subscription restarts its queue", "subscription", sub.ID, "epoch", sub.Epoch, "start_at", sub.StartAt)
		if err := d.js.DeleteConsumer(ctx, d.cfg.Stream, want.Durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, err
		}
		return d.js.CreateConsumer(ctx, d.cfg.Stream, want)
	}
	want.DeliverPolicy, want.OptStartTime = info.Config.DeliverPolicy, info.Config.OptStartTime
	return d.js.UpdateConsumer(ctx, d.cfg.Stream, want)
}

func (d *Dispatcher) deleteConsumer(ctx context.Context, name string) {
	err := d.js.DeleteConsumer(ctx, d.cfg.Stream, name)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) && ctx.Err() == nil {
		d.cfg.Logger.Warn("dispatch: consumer not deleted", "consumer", name, "err", err)
	}
}

// retryDelay is the wait after the attempt-th failed attempt: the
// receiver's Retry-After when it sent one (capped), else the schedule's
// entry, spread by the jitter.
func (d *Dispatcher) retryDelay(schedule []time.Duration, attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, d.cfg.MaxRetryAfter)
	}
	if len(schedule) == 0 {
		schedule = d.cfg.RetrySchedule
	}
	base := schedule[min(max(attempt, 1), len(schedule))-1]
	spread := (rand.Float64()*2 - 1) * d.cfg.Jitter
	return time.Duration(float64(base) * (1 + spread))
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
