// Command fleetbench measures the fleet figures of deploy/BENCHMARKS.md in
// one run, on this machine, each stage against its own hub process:
//
//	go run ./scripts/fleetbench                 # every stage (about 10 minutes)
//	go run ./scripts/fleetbench -stages agent   # one stage: hubidle, agent, partition, ingest
//
// The hub is this program started again with -role hub: the cloud's own hub
// package (an embedded nats-server with JetStream domain "hub", the EVENTS
// stream and a leaf-node listener) in a process of its own, so that its
// memory is its own. Vehicles are simulated with edge/simulate (what
// fleetwire-edge simulate runs) in this process, except for the single
// agent whose memory is measured: the real fleetwire-edge binary, built
// here.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/cloud/hub/localcluster"
	"github.com/fleetwire/fleetwire/edge/simulate"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/fleetwire/fleetwire/shared/tcpproxy"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var (
	role   = flag.String("role", "bench", "bench, or hub (internal: the hub process)")
	dir    = flag.String("dir", "", "hub role: store directory")
	leafL  = flag.String("leaf", "", "hub role: leaf-node listener host:port")
	client = flag.String("client", "", "hub role: client listener host:port")
	r3     = flag.Bool("r3", false, "hub role: a 3-node cluster (cloud/hub/localcluster, deploy/nats) with R3 EVENTS")

	stages = flag.String("stages", "hubidle,agent,partition,ingest,r3", "stages to run, in this order")
	// r3
	r3Vehicles = flag.Int("r3.vehicles", 200, "vehicles in the R1/R3 comparison")
	r3Speed    = flag.Float64("r3.speed", 60, "replay pace in the R1/R3 comparison (high enough to saturate)")
	r3Dur      = flag.Duration("r3.duration", 20*time.Second, "drive time of each run of the R1/R3 comparison")
	// ingest
	ingestVehicles = flag.Int("ingest.vehicles", 10000, "vehicles in the ingest stage")
	perLeaf        = flag.Int("per-leaf", 100, "vehicles per shared leaf node")
	ingestSpeed    = flag.Float64("ingest.speed", 1, "replay pace in the ingest stage (1: the fleet's real-time load)")
	ingestDur      = flag.Duration("ingest.duration", 60*time.Second, "drive time of the ingest stage (wall)")
	ingestDrain    = flag.Duration("ingest.drain", 15*time.Minute, "longest wait, after the drive, for every recorded event to reach the hub")
	rawDur         = flag.Duration("raw.duration", 20*time.Second, "duration of the raw-publish baseline")
	// partition
	partVehicles = flag.Int("partition.vehicles", 1000, "vehicles cut off in the partition stage")
	partHour     = flag.Duration("partition.length", time.Hour, "device time the partition lasts")
	partSpeed    = flag.Float64("partition.speed", 30, "replay pace during the partition: 30 plays an hour in two minutes")
	// agent
	agentDur   = flag.Duration("agent.duration", 30*time.Second, "how long the single agent runs")
	memProfile = flag.String("memprofile", "", "write a heap profile of this process at the end of the ingest drive")
	drive      = flag.String("drive", "testdata/nmea/genivi/20100403_Z205_Switzerland.txt", "drive every simulated vehicle replays")
)

func main() {
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *role == "hub" {
		err = runHub(ctx)
	} else {
		err = bench(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		os.Exit(1)
	}
}

// runHub is the hub process: it prints "ready" and runs until stdin closes
// or a signal comes.
func runHub(ctx context.Context) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := hub.Config{StoreDir: *dir, Listen: *client, LeafListen: *leafL, Logger: log}
	leafURL, clientURL := "nats-leaf://"+*leafL, "nats://"+*client
	if *r3 {
		c, err := localcluster.Start(ctx, localcluster.Config{Files: localcluster.ConfigFiles("deploy/nats"), Dir: *dir, MaxStore: 4 << 30, Logger: log})
		if err != nil {
			return err
		}
		defer c.Shutdown()
		cfg = hub.Config{URL: c.ClientURLs(), Events: hub.StreamConfig{Replicas: 3}, Logger: log}
		leafURL, clientURL = c.LeafURLs()[0], c.ClientURLs()
	}
	h, err := hub.Open(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Println("ready", leafURL, clientURL)
	done := make(chan struct{})
	go func() { _, _ = bufio.NewReader(os.Stdin).ReadString('\n'); close(done) }()
	select {
	case <-ctx.Done():
	case <-done:
	}
	return h.Close(context.Background())
}

// hubProc is a running hub process.
type hubProc struct {
	cmd      *exec.Cmd
	stdin    interface{ Close() error }
	leafURL  string
	nc       *nats.Conn
	events   jetstream.Stream
	storeDir string
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startHub(ctx context.Context, work string, extra ...string) (*hubProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	store, err := os.MkdirTemp(work, "hub-")
	if err != nil {
		return nil, err
	}
	leaf, cl := freeAddr(), freeAddr()
	cmd := exec.CommandContext(ctx, exe, append([]string{"-role", "hub", "-dir", store, "-leaf", leaf, "-client", cl}, extra...)...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 3 || f[0] != "ready" {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("hub process did not start: %q %v", line, err)
	}
	nc, err := nats.Connect(f[2])
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	st, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		return nil, err
	}
	return &hubProc{cmd: cmd, stdin: in, leafURL: f[1], nc: nc, events: st, storeDir: store}, nil
}

func (h *hubProc) stop() {
	h.nc.Close()
	_ = h.stdin.Close()
	done := make(chan struct{})
	go func() { _ = h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = h.cmd.Process.Kill()
		<-done
	}
	_ = os.RemoveAll(h.storeDir)
}

func (h *hubProc) msgs(ctx context.Context) uint64 {
	info, err := h.events.Info(ctx)
	if err != nil {
		return 0
	}
	return info.State.Msgs
}

// memory reads VmRSS and VmHWM of a process in MiB.
func memory(pid int) (rss, hwm float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			hwm = kb / 1024
		}
	}
	return rss, hwm
}

// cpuSeconds reads the user+system CPU time a process has used, from
// /proc/<pid>/stat (in USER_HZ ticks, 100 per second on Linux).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from after it.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100
}

// cpuSplit samples the CPU time of the hub and of this process (the
// simulated vehicles and their leaf servers) at the marks of a stage.
type cpuSplit struct {
	hubPid int
	marks  map[string][2]float64
}

func newCPUSplit(hubPid int) *cpuSplit {
	return &cpuSplit{hubPid: hubPid, marks: map[string][2]float64{}}
}

func (c *cpuSplit) mark(name string) {
	c.marks[name] = [2]float64{cpuSeconds(c.hubPid), cpuSeconds(os.Getpid())}
}

// between records, for the interval from mark a to mark b, the CPU seconds
// of the hub and of the simulator, the hub's share, and the hub's CPU
// milliseconds per event when events moved in that interval.
func (c *cpuSplit) between(res results, key, a, b string, events uint64) {
	x, y := c.marks[a], c.marks[b]
	hub, sim := y[0]-x[0], y[1]-x[1]
	res[key+"_hub_cpu_s"] = round1(hub)
	res[key+"_simulator_cpu_s"] = round1(sim)
	if hub+sim > 0 {
		res[key+"_hub_cpu_share"] = round2(hub / (hub + sim))
	}
	if events > 0 {
		res[key+"_hub_cpu_ms_per_event"] = round2(hub * 1000 / float64(events))
	}
}

// results are printed at the end as JSON and as lines for BENCHMARKS.md.
type results map[string]any

func bench(ctx context.Context) error {
	work, err := os.MkdirTemp("", "fleetbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	res := results{"started": time.Now().UTC().Format(time.RFC3339)}
	for _, st := range strings.Split(*stages, ",") {
		var err error
		t0 := time.Now()
		log.Info("fleetbench: stage", "stage", st)
		switch st {
		case "hubidle":
			err = stageHubIdle(ctx, work, res)
		case "agent":
			err = stageAgent(ctx, work, res, log)
		case "partition":
			err = stagePartition(ctx, work, res, log)
		case "ingest":
			err = stageIngest(ctx, work, res, log)
		case "r3":
			err = stageR3(ctx, work, res, log)
		default:
			err = fmt.Errorf("unknown stage %q", st)
		}
		if err != nil {
			return fmt.Errorf("stage %s: %w", st, err)
		}
		log.Info("fleetbench: stage done", "stage", st, "took", time.Since(t0).Round(time.Second))
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	fmt.Println(string(b))
	return nil
}

func stageHubIdle(ctx context.Context, work string, res results) error {
	h, err := startHub(ctx, work)
	if err != nil {
		return err
	}
	defer h.stop()
	time.Sleep(3 * time.Second)
	rss, _ := memory(h.cmd.Process.Pid)
	res["hub_idle_rss_mib"] = round1(rss)
	return nil
}

// stageAgent runs the real fleetwire-edge binary replaying a drive with a
// CAN capture against a hub and samples its memory.
func stageAgent(ctx context.Context, work string, res results, log *slog.Logger) error {
	h, err := startHub(ctx, work)
	if err != nil {
		return err
	}
	defer h.stop()
	bin := filepath.Join(work, "fleetwire-edge")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./edge/cmd/fleetwire-edge")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build fleetwire-edge: %w", err)
	}
	args := []string{"run", "--vehicle.account", "bench", "--vehicle.id", "rss-1",
		"--hub.url", h.leafURL, "--store.dir", filepath.Join(work, "agent-store"),
		"--gnss.replay", "testdata/nmea/genivi/munich-gps.nmea", "--gnss.speed", "10", "--gnss.loop",
		"--can.replay", "testdata/can/canedge-obd2-car-7512BE4D.log", "--can.speed", "10", "--can.loop",
		"--log_level", "warn"}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	var maxRSS, hwm float64
	var samples []float64
	deadline := time.Now().Add(*agentDur)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(time.Second)
		rss, w := memory(cmd.Process.Pid)
		samples = append(samples, rss)
		maxRSS, hwm = max(maxRSS, rss), max(hwm, w)
	}
	onHub := h.msgs(ctx)
	_ = cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("fleetwire-edge: %w", err)
	}
	res["agent_rss_max_mib"] = round1(maxRSS)
	res["agent_rss_last_mib"] = round1(samples[len(samples)-1])
	res["agent_hwm_mib"] = round1(hwm)
	res["agent_events_on_hub"] = onHub
	res["agent_args"] = strings.Join(args, " ")
	log.Info("fleetbench: agent", "rss_max_mib", round1(maxRSS), "hwm_mib", round1(hwm), "events_on_hub", onHub)
	return nil
}

// stagePartition: partition.vehicles vehicles on leaf nodes whose links
// pass through one loopback proxy; the proxy cuts every link when the
// fleet starts driving and restores them after partition.length of device
// time; the drain is timed and the hub's EVENTS stream read back.
func stagePartition(ctx context.Context, work string, res results, log *slog.Logger) error {
	h, err := startHub(ctx, work)
	if err != nil {
		return err
	}
	defer h.stop()
	proxy, err := tcpproxy.Start(strings.TrimPrefix(h.leafURL, "nats-leaf://"))
	if err != nil {
		return err
	}
	defer proxy.Close()
	cfg := simulate.Default()
	cfg.Hub.URL = "nats-leaf://" + proxy.Addr()
	cfg.Vehicles, cfg.PerLeaf = *partVehicles, *perLeaf
	cfg.Drive, cfg.Speed = *drive, *partSpeed
	cfg.DriveTime = *partHour
	cfg.Duration = time.Duration(float64(*partHour)/(*partSpeed)) * 3 // bound; the drive ends with drive_time
	cfg.Drain = 10 * time.Minute
	cfg.Store.Dir = filepath.Join(work, "partition")
	cfg.Verify = true
	var cutAt, restoredAt time.Time
	cpu := newCPUSplit(h.cmd.Process.Pid)
	rep, err := simulate.Run(ctx, cfg, simulate.Hooks{
		Driving: func() { proxy.Cut(); cutAt = time.Now() },
		Driven:  func() { proxy.Restore(); restoredAt = time.Now(); cpu.mark("restored") },
		Drained: func() { cpu.mark("drained") },
	}, log)
	rep.Print(os.Stderr)
	if err := figureErr(ctx, "partition", err, res); err != nil {
		return err
	}
	rss, hwm := memory(h.cmd.Process.Pid)
	self, selfHWM := memory(os.Getpid())
	res["partition_vehicles"] = rep.Vehicles
	res["partition_leaves"] = rep.Leaves
	res["partition_wall_s"] = round1(restoredAt.Sub(cutAt).Seconds())
	res["partition_device_min"] = rep.DrivenMin.Round(time.Second).String()
	res["partition_device_max"] = rep.DrivenMax.Round(time.Second).String()
	res["partition_events"] = rep.Recorded
	res["partition_drain_s"] = round1(rep.Drain.Seconds())
	res["partition_drain_events_per_s"] = round0(float64(rep.Recorded-rep.ForwardedDuringDrive) / rep.Drain.Seconds())
	res["partition_retries"] = rep.Retries
	cpu.between(res, "partition_drain", "restored", "drained", rep.Recorded-rep.ForwardedDuringDrive)
	res["partition_verified_events"] = verified(rep).Events
	res["partition_verified_vehicles"] = verified(rep).Vehicles
	res["partition_verified_ok"] = verified(rep).OK()
	res["partition_verify_s"] = round1(verified(rep).Took.Seconds())
	res["hub_rss_1000_vehicles_mib"] = round1(rss)
	res["hub_hwm_1000_vehicles_mib"] = round1(hwm)
	res["simulator_rss_1000_vehicles_mib"] = round1(self)
	res["simulator_hwm_1000_vehicles_mib"] = round1(selfHWM)
	res["hub_events_after_partition"] = h.msgs(ctx)
	raw, err := rawPublish(ctx, h, work, rep.Leaves, *perLeaf, *rawDur)
	if err != nil {
		return fmt.Errorf("raw publish baseline: %w", err)
	}
	res["partition_raw_sync_publish_msgs_per_s"] = round0(raw)
	res["partition_drain_vs_raw"] = round2(float64(rep.Recorded-rep.ForwardedDuringDrive) / rep.Drain.Seconds() / raw)
	return nil
}

// stageIngest: ingest.vehicles vehicles drive at ingest.speed for
// ingest.duration against the hub (R1, embedded); then the baseline: raw
// synchronous JetStream publishes of event-sized messages from as many
// leaf nodes, one publisher per vehicle, with no local store and no guard.
func stageIngest(ctx context.Context, work string, res results, log *slog.Logger) error {
	h, err := startHub(ctx, work)
	if err != nil {
		return err
	}
	defer h.stop()
	cfg := simulate.Default()
	cfg.Hub.URL = h.leafURL
	cfg.Vehicles, cfg.PerLeaf = *ingestVehicles, *perLeaf
	cfg.Drive, cfg.Speed, cfg.Duration = *drive, *ingestSpeed, *ingestDur
	cfg.Drain = *ingestDrain
	cfg.Store.Dir = filepath.Join(work, "ingest")
	cfg.Verify = true
	var hubAtStart uint64
	var hubRSSDriving float64
	cpu := newCPUSplit(h.cmd.Process.Pid)
	rep, err := simulate.Run(ctx, cfg, simulate.Hooks{
		Driving: func() { hubAtStart = h.msgs(ctx); cpu.mark("driving") },
		Drained: func() { cpu.mark("drained") },
		Driven: func() {
			cpu.mark("driven")
			hubRSSDriving, _ = memory(h.cmd.Process.Pid)
			if *memProfile != "" {
				writeHeap(*memProfile)
			}
		},
	}, log)
	rep.Print(os.Stderr)
	if err := figureErr(ctx, "ingest", err, res); err != nil {
		return err
	}
	self, selfHWM := memory(os.Getpid())
	hubRSS, hubHWM := memory(h.cmd.Process.Pid)
	res["ingest_vehicles"] = rep.Vehicles
	res["ingest_leaves"] = rep.Leaves
	res["ingest_setup_s"] = round1(rep.Setup.Seconds())
	res["ingest_drive_s"] = round1(rep.Drive.Seconds())
	res["ingest_recorded"] = rep.Recorded
	res["ingest_record_events_per_s"] = round0(float64(rep.Recorded) / rep.Drive.Seconds())
	res["ingest_events_per_s"] = round0(rep.IngestRate())
	res["ingest_hub_events_at_drive_start"] = hubAtStart
	res["ingest_drain_s"] = round1(rep.Drain.Seconds())
	cpu.between(res, "ingest_drive", "driving", "driven", rep.ForwardedDuringDrive)
	cpu.between(res, "ingest_drain", "driven", "drained", rep.Recorded-rep.ForwardedDuringDrive)
	res["ingest_fixes"] = rep.Fixes
	res["ingest_device_min"] = rep.DrivenMin.Round(time.Second).String()
	res["ingest_verified_ok"] = err == nil && verified(rep).Events > 0 && verified(rep).OK()
	res["ingest_verified_events"] = verified(rep).Events
	res["ingest_verified_vehicles"] = verified(rep).Vehicles
	res["hub_rss_10000_vehicles_driving_mib"] = round1(hubRSSDriving)
	res["hub_rss_10000_vehicles_end_mib"] = round1(hubRSS)
	res["hub_hwm_10000_vehicles_mib"] = round1(hubHWM)
	res["simulator_rss_10000_vehicles_mib"] = round1(self)
	res["simulator_hwm_10000_vehicles_mib"] = round1(selfHWM)

	raw, err := rawPublish(ctx, h, work, rep.Leaves, *perLeaf, *rawDur)
	if err != nil {
		return fmt.Errorf("raw publish baseline: %w", err)
	}
	res["raw_sync_publish_msgs_per_s"] = round0(raw)
	res["ingest_vs_raw"] = round2(rep.IngestRate() / raw)
	log.Info("fleetbench: ingest", "events_per_s", round0(rep.IngestRate()), "raw_msgs_per_s", round0(raw))
	return nil
}

// figureErr keeps a simulation's failure (not drained within its bound, a
// hub check that found problems) as a figure; only a stop or a broken run
// (nothing recorded) ends the benchmark.
func figureErr(ctx context.Context, key string, err error, res results) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return err
	}
	slog.Warn("fleetbench: "+key, "err", err)
	res[key+"_error"] = err.Error()
	return nil
}

// stageR3 runs the same smaller fleet at a saturating pace against an
// embedded hub (R1) and against a local 3-node cluster (R3 EVENTS), one
// after the other, each with a fresh hub process.
func stageR3(ctx context.Context, work string, res results, log *slog.Logger) error {
	for _, kind := range []string{"r1", "r3"} {
		var extra []string
		if kind == "r3" {
			extra = []string{"-r3"}
		}
		h, err := startHub(ctx, work, extra...)
		if err != nil {
			return err
		}
		cfg := simulate.Default()
		cfg.Hub.URL = h.leafURL
		cfg.Vehicles, cfg.PerLeaf = *r3Vehicles, *perLeaf
		cfg.Drive, cfg.Speed, cfg.Duration = *drive, *r3Speed, *r3Dur
		cfg.Drain = 5 * time.Minute
		cfg.Store.Dir = filepath.Join(work, "cmp-"+kind)
		cfg.Verify = true
		rep, err := simulate.Run(ctx, cfg, simulate.Hooks{}, log)
		rep.Print(os.Stderr)
		hubRSS, _ := memory(h.cmd.Process.Pid)
		h.stop()
		if err := figureErr(ctx, "cmp_"+kind, err, res); err != nil {
			return err
		}
		res["cmp_"+kind+"_vehicles"] = rep.Vehicles
		res["cmp_"+kind+"_recorded_per_s"] = round0(float64(rep.Recorded) / rep.Drive.Seconds())
		res["cmp_"+kind+"_ingest_events_per_s"] = round0(rep.IngestRate())
		res["cmp_"+kind+"_drain_s"] = round1(rep.Drain.Seconds())
		res["cmp_"+kind+"_all_events_per_s"] = round0(float64(rep.Recorded) / (rep.Drive + rep.Drain).Seconds())
		res["cmp_"+kind+"_verified_ok"] = verified(rep).OK()
		res["cmp_"+kind+"_hub_process_rss_mib"] = round1(hubRSS)
		_ = os.RemoveAll(cfg.Store.Dir)
	}
	return nil
}

// rawPublish starts leaves leaf nodes linked to the hub and, on each,
// perLeaf goroutines publishing synchronously to the hub's stream (one
// message in flight each, as a forwarder) for d. It returns msgs/s.
func rawPublish(ctx context.Context, h *hubProc, work string, leaves, perLeaf int, d time.Duration) (float64, error) {
	quiet := slog.New(slog.DiscardHandler)
	var servers []*natsembed.Server
	var conns []*nats.Conn
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
		for _, s := range servers {
			_ = s.Shutdown(context.Background())
		}
	}()
	for i := range leaves {
		s, err := natsembed.Start(ctx, natsembed.Config{Name: fmt.Sprintf("raw-%03d", i), Domain: fmt.Sprintf("raw-%03d", i),
			StoreDir: filepath.Join(work, "raw", strconv.Itoa(i)), LeafRemotes: []string{h.leafURL}, Logger: quiet})
		if err != nil {
			return 0, err
		}
		servers = append(servers, s)
		if err := s.WaitLeafConnected(ctx); err != nil {
			return 0, err
		}
		nc, err := s.Connect("raw")
		if err != nil {
			return 0, err
		}
		conns = append(conns, nc)
	}
	body := sampleEvent()
	var ok, failed atomic.Uint64
	var started atomic.Bool
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for l, nc := range conns {
		js, err := jetstream.NewWithDomain(nc, "hub")
		if err != nil {
			return 0, err
		}
		for v := range perLeaf {
			wg.Add(1)
			go func() {
				defer wg.Done()
				subj := fmt.Sprintf("%s.raw.raw-%03d-%03d.position", event.SubjectRoot, l, v)
				for n := 0; rctx.Err() == nil; n++ {
					m := &nats.Msg{Subject: subj, Data: body, Header: nats.Header{
						jetstream.MsgIDHeader: []string{fmt.Sprintf("raw-%d-%d-%d", l, v, n)},
						event.HeaderSeq:       []string{strconv.Itoa(n + 1)}}}
					pctx, pc := context.WithTimeout(rctx, 5*time.Second)
					_, err := js.PublishMsg(pctx, m)
					pc()
					if err != nil {
						if rctx.Err() == nil {
							failed.Add(1)
						}
						continue
					}
					if started.Load() {
						ok.Add(1)
					}
				}
			}()
		}
	}
	time.Sleep(3 * time.Second) // warm-up: interest crosses the links
	started.Store(true)
	t0 := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	n := ok.Load()
	el := time.Since(t0)
	cancel()
	wg.Wait()
	if f := failed.Load(); f > 0 {
		slog.Warn("fleetbench: raw publishes failed", "count", f)
	}
	return float64(n) / el.Seconds(), nil
}

// sampleEvent is a position event as a simulated vehicle sends it.
func sampleEvent() []byte {
	e := &event.Event{ID: event.NewID(time.Now()), SchemaVersion: event.SchemaVersion, Type: event.TypePosition,
		OccurredAt: event.Time{Time: time.Now()}, Account: "raw", Seq: 1,
		Vehicle:  event.Vehicle{ID: "raw-000-000", Name: "simulated raw-000-000"},
		Location: &event.Location{Lat: 47.37689, Lon: 8.54169, SpeedKph: 87.4, HeadingDeg: 231.5, AltitudeM: 431.2, FixQuality: 1},
		Data:     json.RawMessage(`{"reason":"interval","satellites":9,"hdop":0.9}`)}
	b, err := e.Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

func writeHeap(path string) {
	f, err := os.Create(path)
	if err != nil {
		slog.Warn("fleetbench: heap profile", "err", err)
		return
	}
	defer f.Close()
	runtime.GC()
	_ = pprof.WriteHeapProfile(f)
}

func round0(v float64) float64 { return float64(int64(v + 0.5)) }
func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }
func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

// verified is the run's hub check; "not checked" when the run ended before it.
func verified(r simulate.Report) *simulate.Verification {
	if r.Verified == nil {
		return &simulate.Verification{Problems: []string{"not checked"}}
	}
	return r.Verified
}
