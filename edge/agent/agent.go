package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
	"github.com/fleetwire/fleetwire/edge/can/isotp"
	"github.com/fleetwire/fleetwire/edge/detect"
	"github.com/fleetwire/fleetwire/edge/fences"
	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/edge/obd"
	"github.com/fleetwire/fleetwire/edge/outbox"
	"github.com/fleetwire/fleetwire/edge/settings"
	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/geofence"
	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Agent is one vehicle's edge agent.
type Agent struct {
	cfg     Config
	src     gnss.Source
	bus     can.Source  // nil without a vehicle bus
	sender  can.Sender  // the live bus, for ISO-TP flow control; nil on a replay
	poller  *obd.Poller // nil unless polling a live interface
	closers []io.Closer // sources opened by New, closed when Run ends
	log     *slog.Logger
	leaf    *natsembed.Server
	nc      *nats.Conn
	box     *outbox.Outbox
	key     nkeys.KeyPair    // the vehicle's key (hub.key_file); nil: unsigned
	start   time.Time        // when Run started (monotonic: uptime)
	now     func() time.Time // the vehicle's wall clock
	ready   chan struct{}
	onSent  func(*event.Event)

	metrics     *agentMetrics
	metricsAddr string // what metrics.listen bound

	fences       *fences.Sync   // the account's geofences, mirrored from the hub
	settings     *settings.Sync // detection overrides, mirrored from the hub
	onThresholds func(settings.Thresholds)
	shared       *Shared // a leaf node shared with other agents (simulator), nil: its own

	mu        sync.Mutex // guards what follows, fed by the GNSS, CAN, heartbeat and settings goroutines
	state     *state.Store
	decoder   *busDecoder
	pipeline  *detect.Pipeline
	detectCfg detect.Config     // the pipeline's thresholds: cfg.Detect under the hub's overrides
	inside    []*geofence.Fence // fences containing the last good fix
	pending   []detect.Emission // found under mu, stored after it
	collect   func(detect.Emission)
	// The time of the latest input, in its source's time (GNSS time for a
	// fix), and the device clock when it came: see stateTimeLocked.
	inputAt, inputClock time.Time
}

// Option adjusts an Agent.
type Option func(*Agent)

// WithSource replaces the GNSS source built from cfg.GNSS (tests, simulators).
func WithSource(s gnss.Source) Option { return func(a *Agent) { a.src = s } }

// WithBus replaces the CAN source built from cfg.CAN (tests, simulators).
func WithBus(s can.Source) Option { return func(a *Agent) { a.bus = s } }

// WithClock sets the vehicle's wall clock (time.Now otherwise): the time
// heartbeats are stamped with and the state is ticked to, and the clock the
// sources built from cfg (replays, receivers) rebase, pace and judge fix
// age by. Fix times themselves come from the GNSS source. Tests use it to
// put the vehicle's clock off the hub's; a clock built on time.Now (as
// time.Now().Add(skew)) keeps its monotonic reading, so a step in it moves
// what it reports, not the agent's timers or uptime, like a real clock step.
func WithClock(now func() time.Time) Option { return func(a *Agent) { a.now = now } }

// WithLogger sets the logger (slog.Default otherwise).
func WithLogger(l *slog.Logger) Option { return func(a *Agent) { a.log = l } }

// WithOnStored calls f after each event is stored in the outbox.
func WithOnStored(f func(*event.Event)) Option { return func(a *Agent) { a.onSent = f } }

// WithOnThresholds calls f each time the agent applies detection
// thresholds: once when it starts, then on each change from the hub. f runs
// after the detectors have them, on the settings goroutine.
func WithOnThresholds(f func(settings.Thresholds)) Option {
	return func(a *Agent) { a.onThresholds = f }
}

// New validates cfg and opens the configured sources, so that a missing
// file or interface fails here, naming it; nothing runs until Run.
func New(cfg Config, opts ...Option) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, log: slog.Default(), now: time.Now, ready: make(chan struct{})}
	for _, o := range opts {
		o(a)
	}
	a.log = a.log.With("vehicle", cfg.Vehicle.ID)
	if s, ok := a.bus.(can.Sender); ok {
		a.sender = s
	}
	var err error
	maxAge := map[state.Signal]time.Duration{}
	var posMaxAge time.Duration
	for name, d := range cfg.State.MaxAge {
		if name == positionMaxAge {
			posMaxAge = d
			continue
		}
		sig, _ := state.ParseSignal(name) // validated by cfg.Validate
		maxAge[sig] = d
	}
	if a.state, err = state.New(state.Config{Ignition: state.IgnitionMode(cfg.State.Ignition), MaxAge: maxAge, PositionMaxAge: posMaxAge}); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	a.decoder = newBusDecoder(a.log)
	a.metrics = newAgentMetrics(a)
	if a.pipeline, err = detect.New(cfg.Detect); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	a.detectCfg = cfg.Detect
	a.collect = func(em detect.Emission) { a.pending = append(a.pending, em) }
	if err := a.openSources(); err != nil {
		a.closeSources()
		return nil, err
	}
	return a, nil
}

func (a *Agent) openSources() error {
	c := a.cfg
	if a.src == nil {
		switch {
		case c.GNSS.Replay != "":
			r, err := gnss.NewReplay(c.GNSS.Replay, gnss.ReplayOptions{Speed: c.GNSS.Speed, Loop: c.GNSS.Loop, Rebase: true, Now: a.now, Logger: a.log})
			if err != nil {
				return fmt.Errorf("agent: gnss.replay: %w", err)
			}
			a.src, a.closers = r, append(a.closers, r)
		case c.GNSS.Serial != "":
			s, err := gnss.OpenSerial(c.GNSS.Serial, gnss.SerialOptions{Baud: c.GNSS.Baud, Now: a.now, Logger: a.log})
			if err != nil {
				return fmt.Errorf("agent: gnss.serial: %w", err)
			}
			a.src, a.closers = s, append(a.closers, s)
		default:
			g, err := gnss.NewGPSD(gnss.GPSDOptions{Addr: c.GNSS.GPSD, Now: a.now, Logger: a.log})
			if err != nil {
				return fmt.Errorf("agent: gnss.gpsd: %w", err)
			}
			a.src = g
		}
	}
	if a.bus == nil {
		switch {
		case c.CAN.Replay != "":
			r, err := can.NewReplay(c.CAN.Replay, can.ReplayOptions{Speed: c.CAN.Speed, Loop: c.CAN.Loop, Rebase: true, Now: a.now, Logger: a.log})
			if err != nil {
				return fmt.Errorf("agent: can.replay: %w", err)
			}
			a.bus, a.closers = r, append(a.closers, r)
		case c.CAN.Interface != "":
			conn, err := can.Dial(c.CAN.Interface)
			if err != nil {
				return fmt.Errorf("agent: can.interface: %w", err)
			}
			a.bus, a.sender, a.closers = conn, conn, append(a.closers, conn)
			if c.CAN.PollOBD {
				p, err := obd.NewPoller(conn, obd.PollerOptions{Interval: c.CAN.PollEvery, Logger: a.log})
				if err != nil {
					return fmt.Errorf("agent: can.poll_obd: %w", err)
				}
				a.poller = p
			}
		}
	}
	return nil
}

func (a *Agent) closeSources() {
	for _, c := range a.closers {
		_ = c.Close()
	}
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
	defer a.closeSources()
	stopMetrics, err := a.serveMetrics()
	if err != nil {
		return err
	}
	if err := a.open(ctx); err != nil {
		stopMetrics()
		return err
	}
	defer a.close()
	defer stopMetrics()
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
	if a.shared == nil { // a shared leaf's fences are run by its owner
		run("fences", a.fences.Run)
		run("settings", a.settings.Run)
	}
	run("gnss", a.runSource)
	if a.bus != nil {
		run("can", a.runBus)
	}
	if a.poller != nil {
		run("obd poller", func(ctx context.Context) error { return a.poller.Run(ctx, nil) })
	}
	run("heartbeat", a.runHeartbeat)
	wg.Wait()
	if err := context.Cause(ctx); !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func (a *Agent) open(ctx context.Context) error {
	if a.shared != nil {
		return a.openShared(ctx)
	}
	var seed string
	var err error
	if a.key, seed, err = a.loadKey(); err != nil {
		return err
	}
	leafTLS, err := a.cfg.Hub.leafTLS()
	if err != nil {
		return err
	}
	a.leaf, err = natsembed.Start(ctx, natsembed.Config{
		Name:        "edge-" + a.cfg.Vehicle.Account + "-" + a.cfg.Vehicle.ID,
		Domain:      "v-" + a.cfg.Vehicle.ID,
		StoreDir:    filepath.Join(a.cfg.Store.Dir, "jetstream"),
		MaxMemory:   32 << 20,
		MaxStore:    a.cfg.Store.MaxBytes + 64<<20,
		LeafRemotes: []string{a.cfg.Hub.URL},
		LeafSeed:    seed,
		LeafTLS:     leafTLS,
		Logger:      a.log,
	})
	if err != nil {
		return fmt.Errorf("agent: leaf node: %w", err)
	}
	// Replies come back on the vehicle's own subjects, the only ones its
	// hub permissions let it receive.
	a.nc, err = a.leaf.Connect("fleetwire-edge", nats.CustomInboxPrefix(identity.InboxPrefix(a.cfg.Vehicle.Account, a.cfg.Vehicle.ID)))
	if err != nil {
		a.close()
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	if err := a.leaf.WaitLeafConnected(wctx); err != nil {
		a.log.Warn("hub not reachable yet; recording locally until it is", "hub", a.cfg.Hub.URL)
	}
	cancel()
	a.box, err = outbox.Open(ctx, a.nc, a.outboxConfig(""))
	if err != nil {
		a.close()
		return fmt.Errorf("agent: %w", err)
	}
	a.fences, err = fences.Open(ctx, a.nc, fences.Config{Account: a.cfg.Vehicle.Account, Vehicle: a.cfg.Vehicle.ID, HubDomain: a.cfg.Hub.Domain, Logger: a.log})
	if err != nil {
		a.close()
		return fmt.Errorf("agent: %w", err)
	}
	a.settings, err = settings.Open(ctx, a.nc, settings.Config{
		Account: a.cfg.Vehicle.Account, Vehicle: a.cfg.Vehicle.ID, HubDomain: a.cfg.Hub.Domain,
		Base: a.cfg.Detect, OnChange: a.applyThresholds, Logger: a.log,
	})
	if err != nil {
		a.close()
		return fmt.Errorf("agent: %w", err)
	}
	// The last known overrides, from the local copy, before any detection.
	a.applyThresholds(a.settings.Current())
	return nil
}

// applyThresholds hands new thresholds to the detectors. It takes a.mu, so
// it falls between two state updates: each update is judged entirely under
// the old thresholds or entirely under the new, and what an update found is
// stored by its own goroutine either way, so no event is lost or stored
// twice. The detectors keep their state (an ongoing trip, open episodes,
// the fences the vehicle is in; see detect.Pipeline.Reconfigure for the few
// resets).
func (a *Agent) applyThresholds(t settings.Thresholds) {
	a.mu.Lock()
	err := a.pipeline.Reconfigure(t.Detect)
	if err == nil {
		a.detectCfg = t.Detect
	}
	a.mu.Unlock()
	if err != nil { // settings.Sync hands out validated thresholds only
		a.log.Error("detection thresholds not applied; the previous ones stay", "source", t.Source, "err", err)
		return
	}
	a.log.Info("detection thresholds applied", "source", t.Source,
		"account_revision", t.AccountRevision, "vehicle_revision", t.VehicleRevision,
		"speeding_threshold_kph", t.Detect.Speeding.ThresholdKph)
	if a.onThresholds != nil {
		a.onThresholds(t)
	}
}

func (a *Agent) close() {
	if a.shared != nil { // the leaf node and its connection are the owner's
		return
	}
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
		ch := a.state.SetFix(fix.Time, position(fix), fix.SpeedKph, fix.HasSpeed)
		a.noteInputLocked(fix.Time)
		a.locateLocked(ch.Cur)
		found := a.detectLocked(ch)
		a.mu.Unlock()
		// Events the fix completed first, then the position it brings.
		if err := a.emitDetected(ctx, found, ch.Cur); err != nil {
			return err
		}
		if reason := pos.observe(fix); reason != "" {
			return a.emit(ctx, positionEvent(fix, reason, ch.Cur))
		}
		return nil
	})
	return a.sourceEnded(ctx, "gnss", err)
}

// runBus decodes the vehicle bus into the state.
func (a *Agent) runBus(ctx context.Context) error {
	var found []detect.Emission
	var last state.Snapshot
	apply := func(u update) {
		var ch state.Change
		if u.dtcs != nil {
			ch = a.state.SetDTCs(u.at, u.dtcs, u.source)
		} else {
			ch = a.state.SetSignal(u.at, u.sig, u.value, u.source)
		}
		a.noteInputLocked(u.at)
		found, last = append(found, a.detectLocked(ch)...), ch.Cur
	}
	err := a.bus.Run(ctx, func(f can.Frame) error {
		if a.poller != nil {
			a.poller.Receive(f)
		}
		if a.sender != nil && isOBDFirstFrame(f) {
			// Let the ECU send the rest of a multi-frame answer (a VIN,
			// a DTC list): on a live bus nobody else will.
			if err := a.sender.Send(ctx, isotp.FlowControl(f.ID)); err != nil {
				a.log.Warn("vehicle bus: flow control not sent", "ecu", f.ID, "err", err)
			}
		}
		a.mu.Lock()
		found = nil
		a.decoder.decode(f, apply)
		a.mu.Unlock()
		return a.emitDetected(ctx, found, last)
	})
	return a.sourceEnded(ctx, "can", err)
}

// isOBDFirstFrame reports an ISO-TP first frame from an OBD-II ECU (7E8–7EF).
func isOBDFirstFrame(f can.Frame) bool {
	return !f.Extended && f.ID >= 0x7E8 && f.ID <= 0x7EF && f.Len > 0 && f.Data[0]>>4 == 1
}

// sourceEnded keeps the agent running when a replay reaches its end.
func (a *Agent) sourceEnded(ctx context.Context, name string, err error) error {
	if err != nil {
		return err
	}
	a.log.Info("source ended; the agent keeps forwarding and sending heartbeats", "source", name)
	<-ctx.Done()
	return nil
}

func (a *Agent) runHeartbeat(ctx context.Context) error {
	t := time.NewTicker(a.cfg.HeartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			now := a.now()
			a.mu.Lock()
			if a.inputClock.IsZero() {
				// No input yet: nothing to age or detect. Ticking the state
				// to the device clock would move its time, which only goes
				// forward, to that clock: a day ahead of GNSS time, every
				// fix would then look a day old, for a day.
				snap := a.state.Current()
				a.mu.Unlock()
				if err := a.emit(ctx, heartbeatEvent(now, time.Since(a.start), snap)); err != nil {
					return err
				}
				continue
			}
			ch := a.state.Tick(a.stateTimeLocked(now))
			found := a.detectLocked(ch)
			a.mu.Unlock()
			if err := a.emitDetected(ctx, found, ch.Cur); err != nil {
				return err
			}
			if err := a.emit(ctx, heartbeatEvent(now, time.Since(a.start), ch.Cur)); err != nil {
				return err
			}
		}
	}
}

// noteInputLocked remembers the time of an input and when it came.
func (a *Agent) noteInputLocked(at time.Time) {
	if at.After(a.inputAt) {
		a.inputAt, a.inputClock = at, a.now()
	}
}

// stateTimeLocked is the device clock's now in the state's time: the latest
// input's time plus the device time elapsed since it came. The state runs
// on its inputs' times (GNSS time for fixes), which a gateway's clock may
// be far from (no NTP yet, a wrong RTC); stamping the state with that clock
// instead would, a day ahead, make every later fix look stale, and a day
// behind, never let a silent sensor go stale. Before any input, the device
// clock is all there is.
func (a *Agent) stateTimeLocked(now time.Time) time.Time {
	if a.inputClock.IsZero() {
		return now
	}
	return a.inputAt.Add(max(0, now.Sub(a.inputClock)))
}

// locateLocked looks up the fences around a new fix; a fix too poor to
// decide on leaves none (detectors then wait for a better one).
func (a *Agent) locateLocked(snap state.Snapshot) {
	a.inside = a.inside[:0]
	if detect.Accepts(a.detectCfg.GNSS, snap.Position) {
		p := snap.Position.Value
		a.inside = a.fences.Index().Lookup(p.Lat, p.Lon, a.inside)
	}
}

// detectLocked runs the detectors over one state change and returns what
// they found (nil almost always, without allocating).
func (a *Agent) detectLocked(ch state.Change) []detect.Emission {
	a.pending = a.pending[:0]
	a.pipeline.Detect(detect.Input{Change: ch, Fences: a.inside}, a.collect)
	if len(a.pending) == 0 {
		return nil
	}
	return append([]detect.Emission(nil), a.pending...)
}

// emitDetected stores the detected events.
func (a *Agent) emitDetected(ctx context.Context, found []detect.Emission, snap state.Snapshot) error {
	for _, em := range found {
		e, err := detectionEvent(em, snap)
		if err != nil {
			a.log.Error("detected event not encodable, dropped", "type", em.Type, "err", err)
			continue
		}
		if err := a.emit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// emit stores an event. A full store under reject-new is logged and counted
// by the outbox, not fatal: the agent keeps running. A store that does not
// answer (the outbox has already retried) is asked again with the same
// event, which the outbox then stores once, until it answers or ctx ends;
// meanwhile this source waits. Any other error stops the agent.
func (a *Agent) emit(ctx context.Context, e *event.Event) error {
	e.Vehicle = event.Vehicle{ID: a.cfg.Vehicle.ID, Registration: a.cfg.Vehicle.Registration, Name: a.cfg.Vehicle.Name}
	err := a.box.Append(ctx, e)
	for errors.Is(err, outbox.ErrUnavailable) && ctx.Err() == nil {
		a.log.Warn("local store not answering; retrying the event", "type", e.Type, "err", err)
		if err := pause(ctx, storeRetryPause); err != nil {
			return err
		}
		err = a.box.Append(ctx, e)
	}
	if errors.Is(err, outbox.ErrFull) {
		return nil
	}
	if errors.Is(err, event.ErrInvalid) { // a bug, not a reason to stop recording
		a.log.Error("event rejected as invalid, dropped", "type", e.Type, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	a.metrics.events.WithLabelValues(string(e.Type)).Inc()
	if a.onSent != nil {
		a.onSent(e)
	}
	return nil
}

// storeRetryPause is the wait before emit asks an unanswering store again.
const storeRetryPause = time.Second

// pause waits for d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
