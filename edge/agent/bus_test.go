package agent

import (
	"context"
	"io"
	"log/slog"
	"math"
	"slices"
	"testing"

	"github.com/fleetwire/fleetwire/edge/can"
	"github.com/fleetwire/fleetwire/edge/state"
)

// replayBus decodes a whole candump log into a state, as the agent does,
// and returns the final state and the extremes each signal reached.
func replayBus(t *testing.T, path string) (state.Snapshot, map[state.Signal][2]float64) {
	t.Helper()
	r, err := can.NewReplay(path, can.ReplayOptions{Speed: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	st, err := state.New(state.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dec := newBusDecoder(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ext := map[state.Signal][2]float64{}
	apply := func(u update) {
		if u.dtcs != nil {
			st.SetDTCs(u.at, u.dtcs, u.source)
			return
		}
		st.SetSignal(u.at, u.sig, u.value, u.source)
		e, seen := ext[u.sig]
		if !seen {
			e = [2]float64{math.Inf(1), math.Inf(-1)}
		}
		ext[u.sig] = [2]float64{min(e[0], u.value), max(e[1], u.value)}
	}
	if err := r.Run(context.Background(), func(f can.Frame) error { dec.decode(f, apply); return nil }); err != nil {
		t.Fatal(err)
	}
	return st.Current(), ext
}

// TestOBDCaptureIntoState replays the real CANedge OBD-II capture through
// the agent's decoder: the values are those testdata/README.md states for
// it (max 86 km/h, max 2957 rpm) and the signals the car answered.
func TestOBDCaptureIntoState(t *testing.T) {
	snap, ext := replayBus(t, "../../testdata/can/canedge-obd2-car-7512BE4D.log")
	if got := ext[state.SignalSpeed][1]; got != 86 {
		t.Errorf("max speed %v km/h, want 86 (README)", got)
	}
	if got := ext[state.SignalRPM][1]; got != 2957.25 {
		t.Errorf("max rpm %v, want 2957.25 (README: 2957; 0x2E35/4)", got)
	}
	for _, sig := range []state.Signal{state.SignalCoolant, state.SignalFuelLevel, state.SignalIntakeAir, state.SignalEngineLoad} {
		if _, seen := ext[sig]; !seen {
			t.Errorf("%s never decoded from the capture", sig)
		}
	}
	if r := snap.Reading(state.SignalSpeed); r.Source != state.SourceOBD {
		t.Errorf("speed source %q, want obd", r.Source)
	}
	if !snap.Ignition.Valid() {
		t.Error("ignition not derived from rpm")
	}
}

// TestJ1939CaptureIntoState replays the real heavy-vehicle capture: an
// idling engine (646.5–653.75 rpm), standing still, and the four active
// DM1 faults with the MIL on.
func TestJ1939CaptureIntoState(t *testing.T) {
	snap, ext := replayBus(t, "../../testdata/can/canedge-j1939-heavy-vehicle-11111111-first60s.log")
	if e := ext[state.SignalRPM]; e[0] < 646.5 || e[1] > 653.75 {
		t.Errorf("rpm range %v, want within 646.5..653.75", e)
	}
	if e := ext[state.SignalSpeed]; e[1] != 0 {
		t.Errorf("wheel speed up to %v, want 0 (parked)", e[1])
	}
	want := []string{"SPN 3216 FMI 20", "SPN 609 FMI 12", "SPN 609 FMI 9", "SPN 980 FMI 9"}
	if !slices.Equal(snap.DTCs.Value, want) {
		t.Errorf("DTCs %v, want %v", snap.DTCs.Value, want)
	}
	if ig := snap.Ignition; !ig.Valid() || !ig.Value {
		t.Errorf("ignition %+v, want on (engine idling)", ig)
	}
}
