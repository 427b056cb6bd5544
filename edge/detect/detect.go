package detect

import (
	"time"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

// Input is what a detector sees for one update of the vehicle state.
type Input struct {
	// Change is the state before and after the update.
	Change state.Change
	// Fences are the geofences that contain Change.Cur's position, on
	// every update, not only those that bring a fix (a CAN frame leaves
	// the position, hence the fences, as they were: the agent may reuse
	// the last lookup). It is empty when they contain none, and also when
	// Change.Cur has no fresh fix that Accepts: detectors check
	// the fix themselves before taking an empty list for "outside".
	Fences []*geofence.Fence
}

// Emission is one event a detector found; the agent wraps it in an
// event.Event (id, sequence, vehicle, location) and stores it.
type Emission struct {
	// Type is the event type, one of event.Catalogue.
	Type event.Type
	// At is the device time of the snapshot that completed the rule: the
	// moment the detector knew. Emissions therefore come in time order;
	// when a debounce delays the decision, the data say when the episode
	// began.
	At time.Time
	// Data is the type's data struct (event.TripCompletedData for
	// trip.completed…), as a value.
	Data any
	// ID, when set, is the id the stored event must carry (event.Event.ID).
	// A detector sets it only on an emission it may correct later, so that
	// the correction can name it; the outbox assigns the others' ids.
	ID string
	// Corrects is set on event.updated and event.retracted only: the ID of
	// the earlier emission, of the same detector and vehicle, that this one
	// supersedes (event.Event.Corrects).
	Corrects string
}

// Detector turns vehicle state changes into events.
//
// The contract: a detector is a small pure type. Given the same sequence of
// inputs it emits the same events (but for Emission.ID, a fresh ULID from
// the detector's id source, event.NewID unless a test sets another): it
// reads no clock (device time comes
// from the snapshots only, Change.Cur.At being "now"), does no I/O and
// starts no goroutines. It may keep its own small state machine between
// calls, which is why Detect has a pointer receiver and a detector serves
// one vehicle. Detect calls emit synchronously, zero or more times, in
// time order, and never keeps emit. A detector is not safe for concurrent
// use: the agent calls it from one goroutine, after each state update.
//
// Detect runs for every update (each CAN frame, fix or tick), so a
// detector that has nothing to say must return quickly and allocate
// nothing.
type Detector interface {
	Detect(in Input, emit func(Emission))
}

// Pipeline runs detectors in order over each input. It is a Detector.
type Pipeline struct {
	detectors []Detector
}

var _ Detector = (*Pipeline)(nil)

// NewPipeline returns a pipeline of the given detectors, run in that order.
func NewPipeline(detectors ...Detector) *Pipeline {
	return &Pipeline{detectors: detectors}
}

// New validates cfg and returns the standard pipeline: one detector of
// each kind, ordered so that the events of one update read as a story
// (ignition.on before vehicle.moving before trip.started; ignition.off
// before idle.ended before trip.completed).
func New(cfg Config) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return NewPipeline(
		NewIgnition(cfg),
		NewMotion(cfg),
		NewIdle(cfg),
		NewTrip(cfg),
		NewSpeeding(cfg),
		NewHarsh(cfg),
		NewPostedSpeed(cfg),
		NewGeofence(cfg),
		NewRoute(cfg, nil),
		NewVoltage(cfg),
		NewTemperature(cfg),
		NewDTC(cfg),
		NewDriver(),
		NewService(cfg),
	), nil
}

// Detect runs every detector over in.
func (p *Pipeline) Detect(in Input, emit func(Emission)) {
	for _, d := range p.detectors {
		d.Detect(in, emit)
	}
}
