package detect

import (
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

// replayRig is the standard pipeline fed by a state store, with the depot
// of TestRegensburgDrive, as the agent would run it.
type replayRig struct {
	pipeline  *Pipeline
	store     *state.Store
	positions []state.Position
	fences    [][]*geofence.Fence // containing each fix
	gate      GNSSConfig          // the agent looks fences up for accepted fixes only
}

func newReplayRig(t testing.TB, fixes []gnss.Fix) *replayRig {
	t.Helper()
	p, err := New(Default())
	if err != nil {
		t.Fatal(err)
	}
	store, err := state.New(state.Config{})
	if err != nil {
		t.Fatal(err)
	}
	depot := []*geofence.Fence{fence("depot", tags("depot"))}
	r := &replayRig{pipeline: p, store: store, gate: Default().GNSS}
	for _, f := range fixes {
		r.positions = append(r.positions, position(f))
		var in []*geofence.Fence
		if geofence.DistanceM(fixes[0].Lat, fixes[0].Lon, f.Lat, f.Lon) <= 150 {
			in = depot
		}
		r.fences = append(r.fences, in)
	}
	return r
}

// feed passes fix k, shifted by shift, through the store and the pipeline.
func (r *replayRig) feed(f gnss.Fix, k int, shift time.Duration, emit func(Emission)) {
	change := r.store.SetFix(f.Time.Add(shift), r.positions[k], f.SpeedKph, f.HasSpeed)
	in := Input{Change: change}
	if Accepts(r.gate, change.Cur.Position) {
		in.Fences = r.fences[k]
	}
	r.pipeline.Detect(in, emit)
}

// BenchmarkPipeline feeds the Regensburg drive (and the six parked minutes
// after it) through the standard pipeline, over and over: each pass starts
// where the previous one parked, one fix interval later. One op is one fix.
func BenchmarkPipeline(b *testing.B) {
	fixes := regensburgFixes(b)
	span := fixes[len(fixes)-1].Time.Sub(fixes[0].Time) + 2*time.Second
	r := newReplayRig(b, fixes)
	events := 0
	emit := func(Emission) { events++ }
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k, pass := i%len(fixes), i/len(fixes)
		r.feed(fixes[k], k, time.Duration(pass)*span, emit)
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "fixes/s")
	b.ReportMetric(float64(events)/float64(i), "events/fix")
}

// TestQuietUpdatesDoNotAllocate: updates that change nothing worth an event
// (a parked car's fixes and bus readings, after the drive) cost the
// pipeline no allocation, since it runs for every CAN frame.
func TestQuietUpdatesDoNotAllocate(t *testing.T) {
	fixes := regensburgFixes(t)
	r := newReplayRig(t, fixes)
	for k, f := range fixes {
		r.feed(f, k, 0, func(Emission) {})
	}
	k := len(fixes) - 1
	parked := fixes[k]
	emitted := 0
	emit := func(Emission) { emitted++ }
	allocs := testing.AllocsPerRun(500, func() {
		parked.Time = parked.Time.Add(time.Second)
		r.feed(parked, k, 0, emit)
		change := r.store.SetSignal(parked.Time.Add(500*time.Millisecond), state.SignalBattery, 12.6, state.SourceOBD)
		r.pipeline.Detect(Input{Change: change, Fences: r.fences[k]}, emit)
		change = r.store.SetSignal(parked.Time.Add(600*time.Millisecond), state.SignalCoolant, 24, state.SourceOBD)
		r.pipeline.Detect(Input{Change: change, Fences: r.fences[k]}, emit)
	})
	if emitted != 0 {
		t.Fatalf("%d events from a parked car", emitted)
	}
	if allocs != 0 {
		t.Fatalf("%g allocations per quiet update cycle, want 0", allocs)
	}
}
