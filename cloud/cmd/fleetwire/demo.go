package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetwire/fleetwire/cloud/dispatch"
	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
	"github.com/fleetwire/fleetwire/cloud/server"
	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/edge/agent"
	"github.com/fleetwire/fleetwire/shared/cli"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/webhooks"
)

// demoConfig are the demo's settings.
type demoConfig struct {
	Data          string        `koanf:"data" doc:"directory for the hub's and vehicles' stores (empty: a temporary directory removed on exit)"`
	NMEA          string        `koanf:"nmea" doc:"directory holding the three recorded drives"`
	CAN           string        `koanf:"can" doc:"directory holding the recorded OBD-II and J1939 captures"`
	Geofences     string        `koanf:"geofences" doc:"directory holding the real boundaries the drives cross"`
	SpeedingKph   float64       `koanf:"speeding_kph" doc:"speeding threshold of the demo fleet (trucks)"`
	Speed         float64       `koanf:"speed" doc:"replay pace of the drives: 1 real time, 10 ten times faster"`
	PositionEvery time.Duration `koanf:"position_every" doc:"position event period per vehicle (device time)"`
	Heartbeat     time.Duration `koanf:"heartbeat" doc:"heartbeat period per vehicle"`
	LogLevel      string        `koanf:"log_level" doc:"log level of the components (the webhooks are printed regardless)"`
}

// The demo fleet: three real drives from testdata/nmea/genivi; the Munich
// car replays a real OBD-II capture on its bus, the Swiss truck a J1939 one.
var demoVehicles = []struct{ id, registration, name, file, bus string }{
	{"regensburg-1", "R-FW 101", "Regensburg van", "20100411_Geko_Regensburg.txt", ""},
	{"munich-1", "M-FW 202", "Munich car", "munich-gps.nmea", "canedge-obd2-car-7512BE4D.log"},
	{"switzerland-1", "ZH-303", "Swiss truck", "20100403_Z205_Switzerland.txt", "canedge-j1939-heavy-vehicle-11111111-first60s.log"},
}

func demo(ctx context.Context, args []string) error {
	cfg := demoConfig{NMEA: filepath.Join("testdata", "nmea", "genivi"), CAN: filepath.Join("testdata", "can"), Geofences: filepath.Join("testdata", "geofences"), SpeedingKph: 90, Speed: 1, PositionEvery: 5 * time.Second, Heartbeat: 30 * time.Second, LogLevel: "warn"}
	if err := cli.Load("fleetwire demo", args, &cfg, os.Stderr); err != nil {
		return err
	}
	for _, v := range demoVehicles {
		if _, err := os.Stat(filepath.Join(cfg.NMEA, v.file)); err != nil {
			return fmt.Errorf("demo: drive %s not found in %q: run from the repository root or pass --nmea DIR (%w)", v.file, cfg.NMEA, err)
		}
		if v.bus == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(cfg.CAN, v.bus)); err != nil {
			return fmt.Errorf("demo: capture %s not found in %q: run from the repository root or pass --can DIR (%w)", v.bus, cfg.CAN, err)
		}
	}
	if cfg.Data == "" {
		dir, err := os.MkdirTemp("", "fleetwire-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.Data = dir
	}
	log := cli.Logger(cfg.LogLevel, os.Stderr)
	out := os.Stdout

	secret, err := webhooks.NewSecret()
	if err != nil {
		return err
	}
	rcv, err := receiver.Start("127.0.0.1:0", secret)
	if err != nil {
		return err
	}
	defer rcv.Close()

	var delivered, failed atomic.Int64
	scfg := server.Default()
	scfg.Hub.StoreDir = filepath.Join(cfg.Data, "hub")
	scfg.Hub.LeafListen = "127.0.0.1:0"
	scfg.API.Listen = "127.0.0.1:0"
	scfg.Dispatch.AllowHTTP, scfg.Dispatch.AllowPrivate = true, true // the receiver is on loopback
	scfg.Dispatch.RetrySchedule = []time.Duration{2 * time.Second}
	// Real boundaries the drives cross (testdata/README.md): Regensburg city
	// and district, Munich's districts and low-emission zone, Swiss cantons.
	gf := cfg.Geofences
	scfg.Geofences = []server.GeofenceImport{
		{Account: "demo", File: filepath.Join(gf, "regensburg", "vg250_kreise_regensburg.geojson"), Tags: []string{"district"}, IDProperty: "RS", NameProperty: "GEN"},
		{Account: "demo", File: filepath.Join(gf, "munich", "stadtbezirke_muenchen.geojson"), Tags: []string{"district"}},
		{Account: "demo", File: filepath.Join(gf, "munich", "umweltzone_muenchen.geojson"), Tags: []string{"low-emission-zone"}, IDProperty: "fileName", NameProperty: "displayName"},
		{Account: "demo", File: filepath.Join(gf, "switzerland", "swiss_cantons_route.geojson"), Tags: []string{"canton"}},
	}
	scfg.Subscriptions = []subscription.Subscription{{ID: "demo", Account: "demo", Name: "demo receiver", URL: rcv.URL(), Secret: secret}}
	srv, err := server.New(scfg, server.WithLogger(log), server.WithOnAttempt(func(a dispatch.Attempt) {
		if a.Delivered() {
			delivered.Add(1)
		} else {
			failed.Add(1)
		}
		printAttempt(out, a)
	}))
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Run(ctx); err != nil {
			cancel(fmt.Errorf("cloud: %w", err))
		}
	}()
	select {
	case <-srv.Ready():
	case <-ctx.Done():
		wg.Wait()
		return demoResult(ctx)
	}
	fmt.Fprintf(out, "fleetwire demo: hub %s (leaf), API http://%s, receiver %s\n", srv.Hub().LeafURL(), srv.APIAddr(), rcv.URL())
	if tok, err := os.ReadFile(filepath.Join(scfg.Hub.StoreDir, "operator.token")); err == nil {
		fmt.Fprintf(out, "web console: http://%s/console/  (operator token: %s)\n", srv.APIAddr(), strings.TrimSpace(string(tok)))
	}
	fmt.Fprintf(out, "three vehicles replaying real drives at %gx; every delivered webhook is printed below (Ctrl-C stops)\n\n", cfg.Speed)

	agents := make([]*agent.Agent, 0, len(demoVehicles))
	for _, v := range demoVehicles {
		acfg := agent.Default()
		acfg.Vehicle = agent.VehicleConfig{Account: "demo", ID: v.id, Registration: v.registration, Name: v.name}
		acfg.Hub.URL = srv.Hub().LeafURL()
		acfg.Store.Dir = filepath.Join(cfg.Data, v.id)
		acfg.GNSS = agent.GNSSConfig{Replay: filepath.Join(cfg.NMEA, v.file), Speed: cfg.Speed, Loop: true}
		if v.bus != "" {
			acfg.CAN = agent.CANConfig{Replay: filepath.Join(cfg.CAN, v.bus), Speed: cfg.Speed, Loop: true, PollEvery: time.Second}
		}
		acfg.Position.Every = cfg.PositionEvery
		acfg.Detect.Speeding.ThresholdKph = cfg.SpeedingKph
		acfg.HeartbeatEvery = cfg.Heartbeat
		a, err := agent.New(acfg, agent.WithLogger(log))
		if err != nil {
			cancel(err)
			break
		}
		agents = append(agents, a)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Run(ctx); err != nil {
				cancel(fmt.Errorf("vehicle %s: %w", v.id, err))
			}
		}()
	}
	<-ctx.Done()
	wg.Wait()
	fmt.Fprintf(out, "\nstopped: %d webhooks delivered, %d failed attempts, receiver rejected %d signatures\n", delivered.Load(), failed.Load(), rcv.Rejected())
	for i, a := range agents {
		st := a.Stats()
		fmt.Fprintf(out, "  %-14s events stored %d, forwarded %d, backlog %d\n", demoVehicles[i].id, st.Appended, st.Forwarded, st.Backlog())
	}
	return demoResult(ctx)
}

func demoResult(ctx context.Context) error {
	if err := context.Cause(ctx); !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func printAttempt(w io.Writer, a dispatch.Attempt) {
	var e event.Event
	_ = json.Unmarshal(a.Body, &e)
	where := "no fix yet"
	if l := e.Location; l != nil {
		where = fmt.Sprintf("%9.5f,%10.5f %6.1f km/h", l.Lat, l.Lon, l.SpeedKph)
	}
	if !a.Delivered() {
		fmt.Fprintf(w, "✗ %-18s %-14s seq %-4d %s  attempt %d: %v\n", a.EventType, a.Vehicle, a.Seq, where, a.Number, a.Err)
		return
	}
	where += vehicleSummary(e) + detectionSummary(e)
	latency := fmt.Sprintf("hub→receiver %s", a.EndToEnd.Round(time.Millisecond))
	// With --speed above 1 the replayed device clock runs ahead of ours.
	if since := time.Since(e.OccurredAt.Time); since >= 0 {
		latency = fmt.Sprintf("%s after it happened (%s)", since.Round(time.Millisecond), latency)
	}
	fmt.Fprintf(w, "✔ %-18s %-14s seq %-4d %s  %s\n", a.EventType, a.Vehicle, a.Seq, where, latency)
}

// vehicleSummary shows the vehicle-bus values an event carries, if any.
func vehicleSummary(e event.Event) string {
	var d struct {
		Vehicle *event.VehicleData `json:"vehicle"`
	}
	if json.Unmarshal(e.Data, &d) != nil || d.Vehicle == nil {
		return ""
	}
	v, out := d.Vehicle, ""
	add := func(format string, x *float64) {
		if x != nil {
			out += fmt.Sprintf(format, *x)
		}
	}
	add("  %4.0f rpm", v.RPM)
	add("  fuel %.0f%%", v.FuelLevelPct)
	add("  odo %.1f km", v.OdometerKm)
	add("  coolant %.0f°C", v.CoolantC)
	if len(v.DTCs) > 0 {
		out += fmt.Sprintf("  %d DTCs", len(v.DTCs))
	}
	return out
}

// detectionSummary names what a detected event is about: the fence, the
// trip, the speed or the fault.
func detectionSummary(e event.Event) string {
	var d struct {
		GeofenceName string   `json:"geofenceName"`
		DistanceKm   *float64 `json:"distanceKm"`
		MaxSpeedKph  *float64 `json:"maxSpeedKph"`
		ThresholdKph *float64 `json:"thresholdKph"`
		Code         string   `json:"code"`
	}
	if e.Type == event.TypePosition || e.Type == event.TypeHeartbeat || json.Unmarshal(e.Data, &d) != nil {
		return ""
	}
	out := ""
	if d.GeofenceName != "" {
		out += "  «" + d.GeofenceName + "»"
	}
	if d.DistanceKm != nil {
		out += fmt.Sprintf("  %.1f km", *d.DistanceKm)
	}
	if d.MaxSpeedKph != nil {
		out += fmt.Sprintf("  max %.0f km/h", *d.MaxSpeedKph)
	}
	if d.ThresholdKph != nil {
		out += fmt.Sprintf("  limit %.0f km/h", *d.ThresholdKph)
	}
	if d.Code != "" {
		out += "  " + d.Code
	}
	return out
}
