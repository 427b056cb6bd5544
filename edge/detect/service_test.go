package detect

import (
	"testing"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

func TestService(t *testing.T) {
	cfg := Default()
	cfg.Service = ServiceConfig{OdometerIntervalKm: 30000, LastOdometerKm: 15000, EngineHoursInterval: 500, LastEngineHours: 1200}
	steps := []step{
		signal(0, state.SignalOdometer, 44999.5),
		signal(5, state.SignalEngineHours, 1699.9),
		signal(10, state.SignalOdometer, 45000.2),
		signal(15, state.SignalEngineHours, 1700),
		signal(20, state.SignalOdometer, 45010),
		signal(25, state.SignalEngineHours, 1701),
	}
	cases := []struct {
		name string
		cfg  Config
		want []Emission
	}{
		{
			name: "odometer and engine hours, once each",
			cfg:  cfg,
			want: []Emission{
				em(event.TypeServiceDue, 10, event.ServiceDueData{Kind: "odometer", DueAt: 45000, Current: 45000.2, Unit: "km"}),
				em(event.TypeServiceDue, 15, event.ServiceDueData{Kind: "engine_hours", DueAt: 1700, Current: 1700, Unit: "h"}),
			},
		},
		{name: "no interval, no reminder", cfg: Default()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, run(t, NewService(c.cfg), stateDefaults, steps), c.want)
		})
	}
}
