package detect

import (
	"errors"
	"slices"
	"testing"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/config"
	"github.com/fleetwire/fleetwire/shared/detectconfig"
	"github.com/fleetwire/fleetwire/shared/event"
)

// TestTemperatureSignalsMatchState: the shared configuration's list of
// temperature signals is the vehicle state's °C signals.
func TestTemperatureSignalsMatchState(t *testing.T) {
	var celsius []string
	for s := state.SignalInvalid + 1; s.String() != "invalid"; s++ {
		if s.Unit() == "°C" {
			celsius = append(celsius, s.String())
		}
	}
	want := slices.Sorted(slices.Values(detectconfig.TemperatureSignals))
	if slices.Sort(celsius); !slices.Equal(celsius, want) {
		t.Fatalf("state's °C signals %v, detectconfig.TemperatureSignals %v", celsius, want)
	}
}

// TestReconfigureKeepsState: new thresholds in the middle of a trip apply
// from the next update, without repeating ignition.on, vehicle.moving or
// trip.started; invalid ones change nothing.
func TestReconfigureKeepsState(t *testing.T) {
	p, err := New(Default())
	if err != nil {
		t.Fatal(err)
	}
	store, err := state.New(state.Config{Ignition: state.IgnitionInput})
	if err != nil {
		t.Fatal(err)
	}
	feed := func(steps ...step) (types []event.Type) {
		for _, s := range flatten(steps) {
			p.Detect(Input{Change: s.apply(store)}, func(e Emission) { types = append(types, e.Type) })
		}
		return types
	}
	at60 := func(sec float64) step { return busSpeed(sec, 60) }
	before := feed(ignition(0, true), every(1, 60, 1, at60))
	for _, typ := range []event.Type{event.TypeIgnitionOn, event.TypeVehicleMoving, event.TypeTripStarted} {
		if !slices.Contains(before, typ) {
			t.Fatalf("before: %v, want %s", before, typ)
		}
	}
	if slices.Contains(before, event.TypeSpeedingStarted) {
		t.Fatalf("speeding at 60 km/h under the 130 km/h default: %v", before)
	}

	bad := Default()
	bad.Speeding.HysteresisKph = 200
	var fe *config.FieldError
	if err := p.Reconfigure(bad); !errors.As(err, &fe) || fe.Key != "speeding.hysteresis_kph" {
		t.Fatalf("invalid thresholds: %v", err)
	}
	lower := Default()
	lower.Speeding.ThresholdKph, lower.Speeding.MinDuration = 50, 5e9
	if err := p.Reconfigure(lower); err != nil {
		t.Fatal(err)
	}
	after := feed(every(61, 80, 1, at60))
	if !slices.Equal(after, []event.Type{event.TypeSpeedingStarted}) {
		t.Fatalf("after lowering the threshold: %v, want only speeding.started", after)
	}
	// Turned off mid-episode: no end, and nothing more.
	off := lower
	off.Speeding.ThresholdKph = 0
	if err := p.Reconfigure(off); err != nil {
		t.Fatal(err)
	}
	if got := feed(every(81, 90, 1, at60), every(91, 95, 1, func(s float64) step { return busSpeed(s, 60-5*(s-90)) })); len(got) != 0 {
		t.Fatalf("speeding off: %v", got)
	}
}
