package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/edge/outbox"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/nats-io/nats.go"
)

// Agent is one vehicle's edge agent.
type Agent struct {
	cfg    Config
	src    gnss.Source
	log    *slog.Logger
	leaf   *natsembed.Server
	nc     *nats.Conn
	box    *outbox.Outbox
	start  time.Time
	ready  chan struct{}
	mu     sync.Mutex
	last   *gnss.Fix
	onSent func(*event.Event)
}

// Option adjusts an Agent.
type Option func(*Agent)

// WithSource replaces the source built from cfg.GNSS (tests, simulators).
func WithSource(s gnss.Source) Option { return func(a *Agent) { a.src = s } }

// WithLogger sets the logger (slog.Default otherwise).
func WithLogger(l *slog.Logger) Option { return func(a *Agent) { a.log = l } }

// WithOnStored calls f after each event is stored in the outbox.
func WithOnStored(f func(*event.Event)) Option { return func(a *Agent) { a.onSent = f } }

// New validates cfg and prepares an agent; nothing starts until Run.
func New(cfg Config, opts ...Option) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, log: slog.Default(), ready: make(chan struct{})}
	for _, o := range opts {
		o(a)
	}
	a.log = a.log.With("vehicle", cfg.Vehicle.ID)
	if a.src == nil {
		r, err := gnss.NewReplay(cfg.GNSS.Replay, gnss.ReplayOptions{Speed: cfg.GNSS.Speed, Loop: cfg.GNSS.Loop, Rebase: true, Logger: a.log})
		if err != nil {
			return nil, fmt.Errorf("agent: gnss.replay: %w", err)
		}
		a.src = r
	}
	return a, nil
}

// Ready is closed once the leaf node and the outbox are up.
func (a *Agent) Ready() <-chan struct{} { return a.ready }

// Stats returns the outbox counters (zero before Ready).
func (a *Agent) Stats() outbox.Stats {
	select {
	case <-a.ready:
		return a.box.Stats()
	default:
		return outbox.Stats{}
	}
}

// Run starts the leaf node, the outbox and its forwarder, and turns fixes
// into events until ctx ends. The hub need not be reachable: events wait in
// the local store. Run returns nil after a clean stop.
func (a *Agent) Run(ctx context.Context) error {
	a.start = time.Now()
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	close(a.ready)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	run := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil {
				cancel(fmt.Errorf("agent: %s: %w", name, err))
			}
		}()
	}
	run("forwarder", a.box.Forward)
	run("gnss", a.runSource)
	run("heartbeat", a.runHeartbeat)
	wg.Wait()
	if err := context.Cause(ctx); !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func (a *Agent) open(ctx context.Context) error {
	var err error
	a.leaf, err = natsembed.Start(ctx, natsembed.Config{
		Name:        "edge-" + a.cfg.Vehicle.Account + "-" + a.cfg.Vehicle.ID,
		Domain:      "v-" + a.cfg.Vehicle.ID,
		StoreDir:    filepath.Join(a.cfg.Store.Dir, "jetstream"),
		MaxMemory:   32 << 20,
		MaxStore:    a.cfg.Store.MaxBytes + 64<<20,
		LeafRemotes: []string{a.cfg.Hub.URL},
		Logger:      a.log,
	})
	if err != nil {
		return fmt.Errorf("agent: leaf node: %w", err)
	}
	a.nc, err = a.leaf.Connect("fleetwire-edge")
	if err != nil {
		a.close()
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	if err := a.leaf.WaitLeafConnected(wctx); err != nil {
		a.log.Warn("hub not reachable yet; recording locally until it is", "hub", a.cfg.Hub.URL)
	}
	cancel()
	a.box, err = outbox.Open(ctx, a.nc, outbox.Config{
		Account: a.cfg.Vehicle.Account, Vehicle: a.cfg.Vehicle.ID,
		MaxBytes: a.cfg.Store.MaxBytes, MaxAge: a.cfg.Store.MaxAge, Policy: outbox.Policy(a.cfg.Store.Policy),
		HubDomain: a.cfg.Hub.Domain, Logger: a.log,
	})
	if err != nil {
		a.close()
		return fmt.Errorf("agent: %w", err)
	}
	return nil
}

func (a *Agent) close() {
	if a.nc != nil {
		a.nc.Close()
	}
	if a.leaf != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.leaf.Shutdown(ctx); err != nil {
			a.log.Warn("leaf node shutdown", "err", err)
		}
	}
}

func (a *Agent) runSource(ctx context.Context) error {
	pos := positionReporter{cfg: a.cfg.Position}
	err := a.src.Run(ctx, func(fix gnss.Fix) error {
		a.mu.Lock()
		a.last = &fix
		a.mu.Unlock()
		if reason := pos.observe(fix); reason != "" {
			return a.emit(ctx, positionEvent(fix, reason))
		}
		return nil
	})
	if err == nil {
		a.log.Info("gnss source ended; the agent keeps forwarding and sending heartbeats")
		<-ctx.Done()
		return nil
	}
	return err
}

func (a *Agent) runHeartbeat(ctx context.Context) error {
	t := time.NewTicker(a.cfg.HeartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			a.mu.Lock()
			last := a.last
			a.mu.Unlock()
			if err := a.emit(ctx, heartbeatEvent(now, now.Sub(a.start), last)); err != nil {
				return err
			}
		}
	}
}

// emit stores an event. A full store under reject-new is logged and counted
// by the outbox, not fatal: the agent keeps running.
func (a *Agent) emit(ctx context.Context, e *event.Event) error {
	e.Vehicle = event.Vehicle{ID: a.cfg.Vehicle.ID, Registration: a.cfg.Vehicle.Registration, Name: a.cfg.Vehicle.Name}
	err := a.box.Append(ctx, e)
	if errors.Is(err, outbox.ErrFull) {
		return nil
	}
	if err != nil {
		return err
	}
	if a.onSent != nil {
		a.onSent(e)
	}
	return nil
}
