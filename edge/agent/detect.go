package agent

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/fleetwire/fleetwire/edge/detect"
	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

// positionReporter decides when a fix becomes a position event: the first
// fix, then every Every of device time or every DistanceM metres.
type positionReporter struct {
	cfg  PositionConfig
	last *gnss.Fix
}

// observe returns the reason to report fix, or "" to skip it.
func (p *positionReporter) observe(fix gnss.Fix) string {
	switch {
	case p.last == nil:
	case fix.Time.Sub(p.last.Time) >= p.cfg.Every:
		p.last = &fix
		return "interval"
	case p.cfg.DistanceM > 0 && geofence.DistanceM(p.last.Lat, p.last.Lon, fix.Lat, fix.Lon) >= p.cfg.DistanceM:
		p.last = &fix
		return "distance"
	default:
		return ""
	}
	p.last = &fix
	return "first"
}

func location(f gnss.Fix) *event.Location {
	return &event.Location{Lat: f.Lat, Lon: f.Lon, SpeedKph: round(f.SpeedKph, 2), HeadingDeg: round(f.HeadingDeg, 1),
		AltitudeM: round(f.AltitudeM, 1), FixQuality: f.FixQuality}
}

func position(f gnss.Fix) state.Position {
	return state.Position{Lat: f.Lat, Lon: f.Lon, HeadingDeg: f.HeadingDeg, AltitudeM: f.AltitudeM, FixQuality: f.FixQuality,
		Satellites: f.Satellites, HDOP: f.HDOP, HasHeading: f.HasHeading, HasAltitude: f.HasAltitude}
}

func positionEvent(f gnss.Fix, reason string, snap state.Snapshot) *event.Event {
	data, _ := json.Marshal(event.PositionData{Reason: reason, Satellites: f.Satellites, HDOP: f.HDOP, Vehicle: vehicleData(snap)})
	return &event.Event{Type: event.TypePosition, OccurredAt: event.Time{Time: f.Time}, Location: location(f), Data: data}
}

func heartbeatEvent(now time.Time, uptime time.Duration, snap state.Snapshot) *event.Event {
	data, _ := json.Marshal(event.HeartbeatData{UptimeS: int64(uptime.Seconds()), HasFix: snap.Position.Valid(), Vehicle: vehicleData(snap)})
	return &event.Event{Type: event.TypeHeartbeat, OccurredAt: event.Time{Time: now}, Location: snapshotLocation(snap), Data: data}
}

// detectionEvent wraps a detector's emission; the location is the state's.
func detectionEvent(em detect.Emission, snap state.Snapshot) (*event.Event, error) {
	data, err := json.Marshal(em.Data)
	if err != nil {
		return nil, fmt.Errorf("agent: %s data: %w", em.Type, err)
	}
	// ID is set by detectors whose event may later be corrected (the
	// correction names it in Corrects); otherwise the outbox assigns one.
	return &event.Event{ID: em.ID, Type: em.Type, OccurredAt: event.Time{Time: em.At}, Corrects: em.Corrects,
		Location: snapshotLocation(snap), Data: data}, nil
}

// snapshotLocation is the last known position with the best speed, nil
// before the first fix.
func snapshotLocation(snap state.Snapshot) *event.Location {
	pos := snap.Position
	if pos.At.IsZero() {
		return nil
	}
	p := pos.Value
	l := &event.Location{Lat: p.Lat, Lon: p.Lon, HeadingDeg: round(p.HeadingDeg, 1), AltitudeM: round(p.AltitudeM, 1), FixQuality: p.FixQuality}
	if r, ok := snap.Speed(); ok {
		l.SpeedKph = round(r.Value, 2)
	}
	return l
}

// vehicleData is the fresh vehicle-bus part of a snapshot, nil when the
// bus reports nothing.
func vehicleData(s state.Snapshot) *event.VehicleData {
	var v event.VehicleData
	some := false
	val := func(sig state.Signal, digits int) *float64 {
		x, ok := s.Value(sig)
		if !ok {
			return nil
		}
		some = true
		x = round(x, digits)
		return &x
	}
	v.RPM = val(state.SignalRPM, 0)
	v.FuelLevelPct = val(state.SignalFuelLevel, 1)
	v.FuelRateLph = val(state.SignalFuelRate, 2)
	v.OdometerKm = val(state.SignalOdometer, 1)
	v.EngineHours = val(state.SignalEngineHours, 2)
	v.CoolantC = val(state.SignalCoolant, 0)
	v.BatteryV = val(state.SignalBattery, 2)
	if r, ok := s.Speed(); ok && r.Source != state.SourceGNSS {
		x := round(r.Value, 1)
		v.SpeedKph, v.SpeedSource, some = &x, string(r.Source), true
	}
	if s.Ignition.Valid() {
		on := s.Ignition.Value
		v.Ignition, some = &on, true
	}
	if s.DTCs.Valid() && len(s.DTCs.Value) > 0 {
		v.DTCs, some = s.DTCs.Value, true
	}
	if !some {
		return nil
	}
	return &v
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
