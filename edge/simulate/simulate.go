package simulate

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetwire/fleetwire/edge/agent"
	"github.com/fleetwire/fleetwire/edge/fences"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/nats-io/nats.go"
)

// Hooks let a benchmark act between the phases of a run; each may be nil.
type Hooks struct {
	// Driving is called once every vehicle is ready, just before the
	// fleet starts driving (a benchmark cuts the links here).
	Driving func()
	// Driven is called when the drive ends, before the drain (a benchmark
	// restores the links here).
	Driven func()
	// Drained is called when the drain ends (every event on the hub, or
	// the drain bound reached), before the hub is read back.
	Drained func()
}

// Report is what a run did. Event counts are the outboxes' counters summed
// over the fleet.
type Report struct {
	Vehicles, Leaves int
	// Setup is the time to start the leaf nodes and open every outbox;
	// Drive the wall time the fleet drove; Drain the time from the end of
	// the drive until every event recorded during it was on the hub (or
	// the drain bound, with Drained false).
	Setup, Drive, Drain time.Duration
	Drained             bool
	Fixes               uint64 // GNSS fixes fed to the vehicles
	// DrivenMin and DrivenMax are the least and most device time a vehicle
	// drove (short of DriveTime when the machine could not keep the pace).
	DrivenMin, DrivenMax time.Duration
	// Recorded is the number of events stored in the outboxes by the end
	// of the drive; OnHub how many of them the hub had at the end of the
	// drain.
	Recorded, OnHub uint64
	// ForwardedDuringDrive is how many events reached the hub while the
	// fleet drove: ingest events/s is ForwardedDuringDrive / Drive.
	ForwardedDuringDrive uint64
	Retries              uint64 // forwards retried (cut links, hub busy)
	Dropped              uint64 // events lost to the local store limits
	// LastSeq is each vehicle's last event sequence at the end of the drive:
	// what the drain waited for and the hub check expects at least.
	LastSeq map[string]uint64
	// Verified holds the hub check when Config.Verify is set.
	Verified *Verification
}

// IngestRate is the events/s the hub took while the fleet drove.
func (r Report) IngestRate() float64 {
	if r.Drive <= 0 {
		return 0
	}
	return float64(r.ForwardedDuringDrive) / r.Drive.Seconds()
}

// VehicleID is the id of simulated vehicle i (0-based) of account.
func VehicleID(account string, i int) string { return fmt.Sprintf("%s-%05d", account, i+1) }

// openAtOnce bounds the outboxes a leaf node opens at the same time.
const openAtOnce = 4

// leafGroup is one shared leaf node and what runs on it.
type leafGroup struct {
	leaf   *natsembed.Server
	nc     *nats.Conn
	fences *fences.Sync
	agents []*agent.Agent
	fenced chan struct{} // closed when the fence mirror's Run has returned
}

// Run simulates the fleet: it starts the leaf nodes, one per PerLeaf
// vehicles, and on each a real edge agent per vehicle (outbox, forwarder,
// state, detectors) fed by a replay of the drive; drives for Duration (or
// DriveTime of device time); waits up to Drain for every recorded event to
// reach the hub; optionally verifies the hub; and stops. Cancelling ctx
// stops it cleanly at any point, returning ctx's error with the report so
// far.
func Run(ctx context.Context, cfg Config, hooks Hooks, log *slog.Logger) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	if log == nil {
		log = slog.Default()
	}
	rep := Report{Vehicles: cfg.Vehicles, Leaves: (cfg.Vehicles + cfg.PerLeaf - 1) / cfg.PerLeaf}
	drive, err := LoadDrive(ctx, cfg.Drive, log)
	if err != nil {
		return rep, err
	}
	dir := cfg.Store.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "fleetwire-simulate-"); err != nil {
			return rep, fmt.Errorf("simulate: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	// The vehicles log what goes wrong only: 10,000 agents at info would
	// bury the simulator's own lines.
	vlog := log
	if !log.Enabled(ctx, slog.LevelInfo-1) {
		vlog = slog.New(levelAtLeast{log.Handler(), slog.LevelWarn})
	}

	setupStart := time.Now()
	runCtx, stopAgents := context.WithCancel(ctx)
	defer stopAgents()
	var (
		groups   []*leafGroup
		agentsWG sync.WaitGroup
		failed   = make(chan error, 1)
		fixes    atomic.Uint64
		sources  []*replay
		ended    sync.WaitGroup // the sources' Runs
		start    = make(chan struct{})
		deadline time.Time
	)
	defer func() {
		stopAgents()
		agentsWG.Wait()
		closeGroups(groups, log)
	}()
	log.Info("simulator: starting", "vehicles", cfg.Vehicles, "leaves", rep.Leaves, "per_leaf", cfg.PerLeaf,
		"drive", cfg.Drive, "drive_fixes", len(drive.Fixes), "drive_length", drive.Duration(), "speed", cfg.Speed, "hub", cfg.Hub.URL)
	period := 2*len(drive.Fixes) - 2
	for g := 0; g < rep.Leaves; g++ {
		grp, err := startGroup(runCtx, cfg, g, dir, vlog)
		if err != nil {
			return rep, err
		}
		groups = append(groups, grp)
		for i := g * cfg.PerLeaf; i < min(cfg.Vehicles, (g+1)*cfg.PerLeaf); i++ {
			// At most openAtOnce outboxes of a leaf open at a time: each
			// creates its stream through the leaf's one JetStream API queue.
			if n := len(grp.agents); n >= openAtOnce {
				if err := waitReady(runCtx, grp.agents[n-openAtOnce:n-openAtOnce+1], failed); err != nil {
					return rep, contextErr(ctx, err)
				}
			}
			id := VehicleID(cfg.Account, i)
			src := &replay{
				d: drive, offset: (i * 7919) % period, speed: cfg.Speed, start: start, deadline: &deadline,
				driveTime: cfg.DriveTime, fixes: &fixes, ended: &ended,
				// Up to ±0.02° (about 2 km) apart, deterministic per vehicle.
				dLat: float64((i*104729)%4001-2000) * 1e-5, dLon: float64((i*1299709)%4001-2000) * 1e-5,
			}
			a, err := agent.New(cfg.agentConfig(id), agent.WithShared(agent.Shared{Leaf: grp.leaf, Conn: grp.nc, Fences: grp.fences}),
				agent.WithSource(src), agent.WithLogger(vlog))
			if err != nil {
				return rep, fmt.Errorf("simulate: vehicle %s: %w", id, err)
			}
			ended.Add(1)
			grp.agents = append(grp.agents, a)
			sources = append(sources, src)
			agentsWG.Add(1)
			go func() {
				defer agentsWG.Done()
				if err := a.Run(runCtx); err != nil && runCtx.Err() == nil {
					select {
					case failed <- fmt.Errorf("simulate: vehicle %s: %w", id, err):
					default:
					}
					stopAgents()
				}
			}()
		}
		// Let each leaf's outboxes open before the next leaf starts, so
		// that setup load stays bounded.
		if err := waitReady(runCtx, grp.agents, failed); err != nil {
			return rep, contextErr(ctx, err)
		}
	}
	all := make([]*agent.Agent, 0, cfg.Vehicles)
	for _, g := range groups {
		all = append(all, g.agents...)
	}
	rep.Setup = time.Since(setupStart)
	log.Info("simulator: every vehicle ready", "vehicles", len(all), "leaves", len(groups), "setup", rep.Setup.Round(time.Millisecond))

	if hooks.Driving != nil {
		hooks.Driving()
	}
	base := sumStats(all)
	startSeq := lastSeqs(all)
	driveStart := time.Now()
	deadline = driveStart.Add(cfg.Duration)
	close(start)
	allEnded := make(chan struct{})
	// A vehicle whose agent failed before its source ran never ends; the run
	// then stops on that failure.
	go func() { ended.Wait(); close(allEnded) }()
	if err := waitDrive(runCtx, cfg, all, &fixes, driveStart, allEnded, failed, log); err != nil {
		rep.Drive = time.Since(driveStart)
		return rep, contextErr(ctx, err)
	}
	// The drive phase ends at the deadline: sources still due (a vehicle
	// behind its pace) have stopped or stop at their next fix.
	rep.Drive = time.Since(driveStart)
	end := sumStats(all)
	rep.Fixes = fixes.Load()
	rep.DrivenMin = time.Duration(math.MaxInt64)
	for _, s := range sources {
		d := time.Duration(s.driven.Load())
		rep.DrivenMin, rep.DrivenMax = min(rep.DrivenMin, d), max(rep.DrivenMax, d)
	}
	rep.ForwardedDuringDrive = end.forwarded - base.forwarded
	recorded := lastSeqs(all)
	for i := range all {
		rep.Recorded += recorded[i] - startSeq[i]
	}
	log.Info("simulator: drive ended", "drive", rep.Drive.Round(time.Millisecond), "fixes", rep.Fixes,
		"recorded", rep.Recorded, "on_hub", rep.ForwardedDuringDrive, "ingest_events_per_s", math.Round(rep.IngestRate()))
	if hooks.Driven != nil {
		hooks.Driven()
	}

	drainStart := time.Now()
	var drainErr error
	rep.Drained, drainErr = waitDrained(runCtx, cfg, all, startSeq, recorded, drainStart, failed, log)
	rep.Drain = time.Since(drainStart)
	if hooks.Drained != nil {
		hooks.Drained()
	}
	final := sumStats(all)
	rep.OnHub = rep.Recorded - notOnHub(all, startSeq, recorded)
	rep.Retries, rep.Dropped = final.retries-base.retries, final.dropped-base.dropped
	rep.LastSeq = make(map[string]uint64, len(all))
	for i := range all {
		rep.LastSeq[VehicleID(cfg.Account, i)] = recorded[i]
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if drainErr != nil {
		return rep, drainErr
	}
	log.Info("simulator: drain ended", "drained", rep.Drained, "drain", rep.Drain.Round(time.Millisecond), "on_hub", rep.OnHub, "of", rep.Recorded)
	if !rep.Drained {
		logLagging(all, cfg.Account, startSeq, recorded, log)
	}
	if cfg.Verify {
		v, err := VerifyHub(ctx, groups[0].nc, cfg.Hub.Domain, "EVENTS", cfg.Account, rep.LastSeq)
		rep.Verified = &v
		if err != nil {
			return rep, err
		}
		log.Info("simulator: hub verified", "vehicles", v.Vehicles, "events", v.Events, "problems", len(v.Problems))
	}
	if !rep.Drained {
		return rep, fmt.Errorf("simulate: %d of %d recorded events not on the hub after %s", rep.Recorded-rep.OnHub, rep.Recorded, cfg.Drain)
	}
	if rep.Verified != nil && !rep.Verified.OK() {
		return rep, fmt.Errorf("simulate: hub check failed: %s", rep.Verified.Problems[0])
	}
	return rep, nil
}

func contextErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// startGroup starts leaf node g, connects to it and opens the account's
// fence mirror on it.
func startGroup(ctx context.Context, cfg Config, g int, dir string, log *slog.Logger) (*leafGroup, error) {
	name := fmt.Sprintf("%s-leaf-%03d", cfg.Account, g+1)
	perLeaf := int64(min(cfg.PerLeaf, cfg.Vehicles))
	leaf, err := natsembed.Start(ctx, natsembed.Config{
		Name:        name,
		Domain:      name,
		StoreDir:    filepath.Join(dir, name),
		MaxMemory:   32 << 20,
		MaxStore:    perLeaf*cfg.Store.MaxBytes + 64<<20,
		LeafRemotes: []string{cfg.Hub.URL},
		Logger:      log,
	})
	if err != nil {
		return nil, fmt.Errorf("simulate: leaf node %s: %w", name, err)
	}
	grp := &leafGroup{leaf: leaf}
	if grp.nc, err = leaf.Connect("fleetwire-simulate"); err != nil {
		closeGroups([]*leafGroup{grp}, log)
		return nil, fmt.Errorf("simulate: leaf node %s: %w", name, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	if err := leaf.WaitLeafConnected(wctx); err != nil {
		log.Warn("simulator: hub not reachable yet; recording locally until it is", "leaf", name, "hub", cfg.Hub.URL)
	}
	cancel()
	if grp.fences, err = fences.Open(ctx, grp.nc, fences.Config{Account: cfg.Account, Vehicle: name, HubDomain: cfg.Hub.Domain, Logger: log}); err != nil {
		closeGroups([]*leafGroup{grp}, log)
		return nil, fmt.Errorf("simulate: leaf node %s: %w", name, err)
	}
	grp.fenced = make(chan struct{})
	go func() { defer close(grp.fenced); _ = grp.fences.Run(ctx) }()
	return grp, nil
}

func closeGroups(groups []*leafGroup, log *slog.Logger) {
	var wg sync.WaitGroup
	for _, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if g.fenced != nil {
				<-g.fenced // its ctx is cancelled before closeGroups
			}
			if g.nc != nil {
				g.nc.Close()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := g.leaf.Shutdown(ctx); err != nil {
				log.Warn("simulator: leaf node shutdown", "err", err)
			}
		}()
	}
	wg.Wait()
}

func waitReady(ctx context.Context, agents []*agent.Agent, failed <-chan error) error {
	for _, a := range agents {
		select {
		case <-a.Ready():
		case err := <-failed:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

type fleetStats struct{ appended, forwarded, retries, dropped uint64 }

func sumStats(agents []*agent.Agent) fleetStats {
	var s fleetStats
	for _, a := range agents {
		st := a.Stats()
		s.appended += st.Appended
		s.forwarded += st.Forwarded + st.AlreadyOnHub
		s.retries += st.Retries
		s.dropped += st.Discarded + st.Rejected
	}
	return s
}

func lastSeqs(agents []*agent.Agent) []uint64 {
	seqs := make([]uint64, len(agents))
	for i, a := range agents {
		seqs[i] = a.Stats().LastSeq
	}
	return seqs
}

// notOnHub is how many of the events each vehicle recorded after
// startSeq[i] up to recorded[i] are not yet known to be on the hub.
func notOnHub(agents []*agent.Agent, startSeq, recorded []uint64) uint64 {
	var n uint64
	for i, a := range agents {
		if done := max(a.Stats().ForwardedSeq, startSeq[i]); done < recorded[i] {
			n += recorded[i] - done
		}
	}
	return n
}

// logLagging names a few vehicles whose recorded events are not all on
// the hub, with their outbox counters: what to look at next.
func logLagging(agents []*agent.Agent, account string, startSeq, recorded []uint64, log *slog.Logger) {
	lagging := 0
	for i, a := range agents {
		st := a.Stats()
		if max(st.ForwardedSeq, startSeq[i]) >= recorded[i] {
			continue
		}
		if lagging++; lagging <= 5 {
			log.Warn("simulator: vehicle behind", "vehicle", VehicleID(account, i), "recorded_seq", recorded[i],
				"forwarded_seq", st.ForwardedSeq, "last_seq", st.LastSeq, "forwarded", st.Forwarded,
				"already_on_hub", st.AlreadyOnHub, "retries", st.Retries, "append_retries", st.AppendRetries, "discarded", st.Discarded)
		}
	}
	log.Warn("simulator: vehicles behind at the end of the drain", "count", lagging)
}

// waitDrive waits until every source has ended (drive_time driven) or
// the duration is over.
func waitDrive(ctx context.Context, cfg Config, all []*agent.Agent, fixes *atomic.Uint64, start time.Time, allEnded <-chan struct{}, failed <-chan error, log *slog.Logger) error {
	end := time.NewTimer(cfg.Duration)
	defer end.Stop()
	progress := newProgress(cfg.ProgressEvery)
	defer progress.stop()
	for {
		select {
		case <-end.C:
			return nil
		case <-allEnded:
			return nil
		case err := <-failed:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-progress.c:
			s := sumStats(all)
			el := time.Since(start)
			log.Info("simulator: driving", "elapsed", el.Round(time.Second), "fixes", fixes.Load(), "recorded", s.appended,
				"forwarded", s.forwarded, "backlog", s.appended-min(s.appended, s.forwarded), "retries", s.retries)
		}
	}
}

func waitDrained(ctx context.Context, cfg Config, all []*agent.Agent, startSeq, recorded []uint64, start time.Time, failed <-chan error, log *slog.Logger) (bool, error) {
	bound := time.NewTimer(cfg.Drain)
	defer bound.Stop()
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	progress := newProgress(cfg.ProgressEvery)
	defer progress.stop()
	for {
		left := notOnHub(all, startSeq, recorded)
		if left == 0 {
			return true, nil
		}
		select {
		case <-bound.C:
			return false, nil
		case err := <-failed:
			return false, err
		case <-ctx.Done():
			return false, nil
		case <-progress.c:
			log.Info("simulator: draining", "elapsed", time.Since(start).Round(time.Second), "left", left)
		case <-poll.C:
		}
	}
}

type progress struct {
	t *time.Ticker
	c <-chan time.Time
}

func newProgress(every time.Duration) progress {
	if every <= 0 {
		return progress{}
	}
	t := time.NewTicker(every)
	return progress{t: t, c: t.C}
}

func (p progress) stop() {
	if p.t != nil {
		p.t.Stop()
	}
}

// levelAtLeast drops records below its level.
type levelAtLeast struct {
	slog.Handler
	min slog.Level
}

func (h levelAtLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelAtLeast) WithAttrs(as []slog.Attr) slog.Handler {
	return levelAtLeast{h.Handler.WithAttrs(as), h.min}
}

func (h levelAtLeast) WithGroup(name string) slog.Handler {
	return levelAtLeast{h.Handler.WithGroup(name), h.min}
}
