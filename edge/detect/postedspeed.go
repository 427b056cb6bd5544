package detect

import (
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

// PostedSpeed reports posted_speed.exceeded: driving faster than the speed
// limit a geofence posts (Fence.SpeedLimitKph; the lowest one where fences
// overlap).
//
// Rule: the speed must stay above the limit plus posted_speed.tolerance_kph
// (+5 km/h) for posted_speed.after (5 s). The episode then lasts, without
// another event, until the speed is back at or below the limit itself (the
// tolerance is the hysteresis), or until no limit has applied for
// posted_speed.after: one fix just outside the zone does not end it. Where
// the limit applies needs a good fix; updates without one are skipped. Each
// episode is reported once.
type PostedSpeed struct {
	cfg     Config
	pending hold // above limit plus tolerance, not yet for long enough
	active  bool
	nowhere hold // while active: no limit applies
}

// NewPostedSpeed returns a posted-speed detector.
func NewPostedSpeed(cfg Config) *PostedSpeed { return &PostedSpeed{cfg: cfg} }

// Detect implements Detector.
func (d *PostedSpeed) Detect(in Input, emit func(Emission)) {
	cur := in.Change.Cur
	speed, ok := gnssSpeed(d.cfg.GNSS, cur)
	if !ok || !Accepts(d.cfg.GNSS, cur.Position) {
		return
	}
	fence := limiting(in.Fences)
	cfg := &d.cfg.PostedSpeed

	if d.active {
		if fence == nil {
			if held, _ := d.nowhere.see(cur.At, true); held >= cfg.After {
				d.active = false
			}
			return
		}
		d.nowhere.reset()
		if speed.Value <= fence.SpeedLimitKph {
			d.active = false
		}
		return
	}
	held, over := d.pending.see(cur.At, fence != nil && speed.Value > fence.SpeedLimitKph+cfg.ToleranceKph)
	if !over || held < cfg.After {
		return
	}
	d.active = true
	d.pending.reset()
	d.nowhere.reset()
	emit(Emission{Type: event.TypePostedSpeedExceeded, At: cur.At, Data: event.PostedSpeedExceededData{
		LimitKph:     fence.SpeedLimitKph,
		SpeedKph:     round(speed.Value, 1),
		GeofenceID:   fence.ID,
		GeofenceName: fence.Name,
		Tags:         fence.Tags,
	}})
}

// limiting returns the fence with the lowest speed limit, nil when none
// posts one.
func limiting(fences []*geofence.Fence) *geofence.Fence {
	var low *geofence.Fence
	for _, f := range fences {
		if f.SpeedLimitKph > 0 && (low == nil || f.SpeedLimitKph < low.SpeedLimitKph) {
			low = f
		}
	}
	return low
}
