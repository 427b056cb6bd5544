package detect

import (
	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

// Service reports service.due when the odometer or the engine hours reach
// the next service: the value at the last service plus the interval
// (service.odometer_interval_km, service.engine_hours_interval).
//
// Rule: a fresh reading at or beyond the due value is enough (the counters
// only go up, so there is nothing to debounce), and each kind is reported
// once: the detector does not nag. After the service, a detector built
// with the new last-service value is armed again.
type Service struct {
	schedules [2]schedule
}

// schedule is the next service of one kind.
type schedule struct {
	kind, unit string
	signal     state.Signal
	dueAt      float64 // 0: off
	reported   bool
}

// NewService returns a service reminder.
func NewService(cfg Config) *Service {
	c := cfg.Service
	due := func(last, interval float64) float64 {
		if interval == 0 {
			return 0
		}
		return last + interval
	}
	return &Service{schedules: [2]schedule{
		{kind: "odometer", unit: "km", signal: state.SignalOdometer, dueAt: due(c.LastOdometerKm, c.OdometerIntervalKm)},
		{kind: "engine_hours", unit: "h", signal: state.SignalEngineHours, dueAt: due(c.LastEngineHours, c.EngineHoursInterval)},
	}}
}

// Detect implements Detector.
func (d *Service) Detect(in Input, emit func(Emission)) {
	cur := in.Change.Cur
	for i := range d.schedules {
		s := &d.schedules[i]
		if s.dueAt == 0 || s.reported {
			continue
		}
		v, ok := cur.Value(s.signal)
		if !ok || v < s.dueAt {
			continue
		}
		s.reported = true
		emit(Emission{Type: event.TypeServiceDue, At: cur.At, Data: event.ServiceDueData{
			Kind: s.kind, DueAt: s.dueAt, Current: round(v, 1), Unit: s.unit,
		}})
	}
}
