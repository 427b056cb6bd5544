package agent

import (
	"encoding/json"
	"math"
	"time"

	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/shared/event"
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
	case p.cfg.DistanceM > 0 && haversineM(p.last.Lat, p.last.Lon, fix.Lat, fix.Lon) >= p.cfg.DistanceM:
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

func positionEvent(f gnss.Fix, reason string) *event.Event {
	data, _ := json.Marshal(event.PositionData{Reason: reason, Satellites: f.Satellites, HDOP: f.HDOP})
	return &event.Event{Type: event.TypePosition, OccurredAt: event.Time{Time: f.Time}, Location: location(f), Data: data}
}

func heartbeatEvent(now time.Time, uptime time.Duration, last *gnss.Fix) *event.Event {
	data, _ := json.Marshal(event.HeartbeatData{UptimeS: int64(uptime.Seconds()), HasFix: last != nil})
	e := &event.Event{Type: event.TypeHeartbeat, OccurredAt: event.Time{Time: now}, Data: data}
	if last != nil {
		e.Location = location(*last)
	}
	return e
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// haversineM is the great-circle distance in metres.
func haversineM(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371008.8
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}
