package detect

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

// The tests drive detectors the way the agent does: every step updates a
// real state.Store, and the detector sees the resulting Change.

// stateDefaults is the vehicle state configured by default.
var stateDefaults = state.Config{}

var t0 = time.Date(2024, 9, 7, 7, 0, 0, 0, time.UTC)

// at is t0 plus s seconds, to the microsecond (so that 7 × 0.1 s is 0.7 s).
func at(s float64) time.Time { return t0.Add(time.Duration(math.Round(s*1e6)) * time.Microsecond) }

// home is where synthetic fixes are taken: Regensburg's Domplatz.
const homeLat, homeLon = 49.0195, 12.0977

// metresPerDegree is the length of one degree of latitude on the sphere
// haversineM uses: moving north by m metres adds m/metresPerDegree degrees,
// and haversineM gives back exactly m.
const metresPerDegree = 6371008.8 * 3.141592653589793 / 180

// step is one update of the state, with the fences containing the
// position after it, or a run of such steps.
type step struct {
	sec    float64 // seconds after t0
	apply  func(*state.Store) state.Change
	fix    bool              // apply sets the position
	fences []*geofence.Fence // containing the position, when fix is set
	run    []step
}

// in returns s with fences containing the position, for every step of a run.
func (s step) in(fences ...*geofence.Fence) step {
	s.fences = fences
	s.run = slices.Clone(s.run)
	for i := range s.run {
		s.run[i] = s.run[i].in(fences...)
	}
	return s
}

var good = state.Position{Lat: homeLat, Lon: homeLon, FixQuality: 1, Satellites: 8, HDOP: 1.0}

// fix is a good fix at home with a speed over ground.
func fix(sec, kph float64) step { return fixNorth(sec, 0, kph) }

// fixNorth is a good fix m metres north of home.
func fixNorth(sec, m, kph float64) step {
	p := good
	p.Lat += m / metresPerDegree
	return fixPos(sec, p, kph)
}

// poorFix is a fix at home the GNSS quality gate rejects (HDOP 9).
func poorFix(sec, kph float64) step {
	p := good
	p.HDOP = 9
	return fixPos(sec, p, kph)
}

func fixPos(sec float64, p state.Position, kph float64) step {
	return step{sec: sec, fix: true, apply: func(s *state.Store) state.Change { return s.SetFix(at(sec), p, kph, true) }}
}

// signal is a reading from the vehicle bus.
func signal(sec float64, sig state.Signal, v float64) step {
	return step{sec: sec, apply: func(s *state.Store) state.Change { return s.SetSignal(at(sec), sig, v, state.SourceOBD) }}
}

// busSpeed is a wheel-based speed from the vehicle bus.
func busSpeed(sec, kph float64) step { return signal(sec, state.SignalSpeed, kph) }

func tick(sec float64) step {
	return step{sec: sec, apply: func(s *state.Store) state.Change { return s.Tick(at(sec)) }}
}

func ignition(sec float64, on bool) step {
	return step{sec: sec, apply: func(s *state.Store) state.Change { return s.SetIgnition(at(sec), on) }}
}

func dtcs(sec float64, codes ...string) step {
	return step{sec: sec, apply: func(s *state.Store) state.Change { return s.SetDTCs(at(sec), codes, state.SourceJ1939) }}
}

func driver(sec float64, id string) step {
	return step{sec: sec, apply: func(s *state.Store) state.Change { return s.SetDriver(at(sec), id, state.SourceInput) }}
}

// every is a run of make(sec) for each time from first to last
// (inclusive) in steps of dt seconds.
func every(first, last, dt float64, make func(sec float64) step) step {
	var run []step
	for i := 0; ; i++ {
		s := first + float64(i)*dt
		if s > last+1e-9 {
			break
		}
		run = append(run, make(s))
	}
	return step{run: run}
}

// together interleaves runs of steps in time order (stable: at equal
// times, the earlier argument first).
func together(runs ...step) step {
	all := flatten(runs)
	slices.SortStableFunc(all, func(a, b step) int { return cmp.Compare(a.sec, b.sec) })
	return step{run: all}
}

// flatten replaces runs of steps by their steps.
func flatten(steps []step) []step {
	var all []step
	for _, p := range steps {
		if p.apply == nil {
			all = append(all, flatten(p.run)...)
			continue
		}
		all = append(all, p)
	}
	return all
}

// run feeds the steps to d through a store configured by sc, and returns
// what d emitted. Like the agent, it passes the fences of the last fix
// with every update until the next fix.
func run(t testing.TB, d Detector, sc state.Config, steps []step) []Emission {
	t.Helper()
	store, err := state.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	var (
		got    []Emission
		fences []*geofence.Fence
	)
	for _, s := range flatten(steps) {
		if s.fix {
			fences = s.fences
		}
		d.Detect(Input{Change: s.apply(store), Fences: fences}, func(e Emission) { got = append(got, e) })
	}
	return got
}

// em is an expected emission at t0 plus sec.
func em(typ event.Type, sec float64, data any) Emission {
	return Emission{Type: typ, At: at(sec), Data: data}
}

// ts is a device time for event data, t0 plus sec.
func ts(sec float64) event.Time { return event.Time{Time: at(sec)} }

// check compares emissions exactly, and shows both lists when they differ.
func check(t testing.TB, got, want []Emission) {
	t.Helper()
	for _, e := range got {
		conforms(t, e)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("emissions differ\n got: %s\nwant: %s", show(got), show(want))
	}
}

func show(es []Emission) string {
	if len(es) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "\n  %s t+%gs %+v", e.Type, e.At.Sub(t0).Seconds(), deref(e.Data))
	}
	return b.String()
}

// deref shows pointer fields of event data by value.
func deref(data any) string {
	s := fmt.Sprintf("%+v", data)
	v := reflect.ValueOf(data)
	if v.Kind() != reflect.Struct {
		return s
	}
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			s += fmt.Sprintf(" %s=%+v", v.Type().Field(i).Name, f.Elem().Interface())
		}
	}
	return s
}

// fence is a geofence as the tests need it: containment comes with each
// step, so no geometry.
func fence(id string, opts ...func(*geofence.Fence)) *geofence.Fence {
	f := &geofence.Fence{ID: id, Name: "Fence " + id, Kind: geofence.KindPolygon}
	for _, o := range opts {
		o(f)
	}
	return f
}

func tags(t ...string) func(*geofence.Fence) { return func(f *geofence.Fence) { f.Tags = t } }
func limit(kph float64) func(*geofence.Fence) {
	return func(f *geofence.Fence) { f.SpeedLimitKph = kph }
}
func dwell(d time.Duration) func(*geofence.Fence) {
	return func(f *geofence.Fence) { f.DwellAfter = d }
}
func corridor(f *geofence.Fence) { f.Kind = geofence.KindCorridor }

// ptr returns a pointer to v, for optional data fields.
func ptr(v float64) *float64 { return &v }
