package detect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

// edgeTrace is two minutes of 1 Hz fixes of a vehicle driving east at kph
// along the southern edge of a fence, the parallel of home. The receiver's
// error puts the fixes alternately inside and outside, switching every one
// or two seconds: 0.5 m plus a normal error of σ 3 m across the edge, a
// 12 m multipath outlier one fix in twenty, and one fix in fifteen too
// poor to use (HDOP 6 or 3 satellites), as a receiver in a street canyon
// reports them.
func edgeTrace(seed uint64, kph float64, f *geofence.Fence) (script []step, switches int) {
	rng := rand.New(rand.NewPCG(seed, 42))
	const metresPerDegreeLon = metresPerDegree * 0.6554 // cos(49.02°)
	inside, left := rng.IntN(2) == 0, 0
	gate := Default().GNSS
	for s := 0.0; s < 120; s++ {
		if left == 0 {
			inside, left = !inside, 1+rng.IntN(2)
			switches++
		}
		left--
		across := 0.5 + math.Abs(rng.NormFloat64()*3)
		if rng.IntN(20) == 0 {
			across = 12
		}
		if !inside {
			across = -across
		}
		p := good
		p.Lat += across / metresPerDegree
		p.Lon += s * kph / 3.6 / metresPerDegreeLon
		switch rng.IntN(30) {
		case 0:
			p.HDOP = 6
		case 1:
			p.Satellites = 3
		}
		st := fixPos(s, p, max(0, kph+rng.NormFloat64()))
		// The agent looks fences up for accepted fixes only.
		if inside && Accepts(gate, state.Reading[state.Position]{Value: p, At: at(s)}) {
			st = st.in(f)
		}
		script = append(script, st)
	}
	return script, switches
}

// TestGeofenceEdgeDoesNotFlap drives along a fence's edge with GNSS noise:
// at most one entry and one exit, in that order, whatever the speed.
func TestGeofenceEdgeDoesNotFlap(t *testing.T) {
	f := fence("yard", tags("depot"))
	for _, kph := range []float64{0, 10, 30, 50, 90} {
		for seed := range uint64(20) {
			t.Run(fmt.Sprintf("%gkph/seed%d", kph, seed), func(t *testing.T) {
				trace, switches := edgeTrace(seed, kph, f)
				if switches < 60 {
					t.Fatalf("the trace switches sides %d times in 2 minutes; want at least 60", switches)
				}
				got := run(t, NewGeofence(Default()), stateDefaults, trace)
				var entered, exited int
				for _, e := range got {
					switch e.Type {
					case event.TypeGeofenceEntered:
						entered++
					case event.TypeGeofenceExited:
						exited++
						if entered == 0 {
							t.Fatalf("exited before entering: %s", show(got))
						}
					}
				}
				t.Logf("%d side switches: %d entries, %d exits", switches, entered, exited)
				if entered > 1 || exited > 1 {
					t.Fatalf("flapping: %d entries, %d exits in 2 minutes along the edge: %s", entered, exited, show(got))
				}
			})
		}
	}
}
