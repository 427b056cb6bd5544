package detect

import (
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
)

// Motion reports vehicle.moving and vehicle.stopped.
//
// Rule: the vehicle moves once its speed has stayed above motion.moving_kph
// (5 km/h) for motion.moving_after (10 s), and is at rest once its speed has
// stayed below motion.stopped_kph (2 km/h) for motion.stopped_after (60 s),
// so a traffic light is no stop. The two thresholds are a hysteresis band:
// a speed between them restarts both countdowns, so creeping in a queue
// confirms neither state. The speed is the vehicle bus's when fresh, else
// the receiver's from a good fix; without either, an ignition known to be
// off counts as rest, and otherwise the update is skipped: it neither
// confirms nor interrupts a countdown.
//
// The vehicle is taken to be at rest when the detector starts; each moving
// and each stopped episode is then reported once.
type Motion struct {
	cfg   Config
	latch latch     // on: moving
	since time.Time // when the current episode began; zero at start
}

// NewMotion returns a motion detector.
func NewMotion(cfg Config) *Motion { return &Motion{cfg: cfg} }

// Detect implements Detector.
func (m *Motion) Detect(in Input, emit func(Emission)) {
	cur := in.Change.Cur
	moving, rest, known := motionOf(&m.cfg, cur)
	if !known {
		return
	}
	flipped, since := m.latch.see(cur.At, moving, rest, m.cfg.Motion.MovingAfter, m.cfg.Motion.StoppedAfter)
	if !flipped {
		return
	}
	before := m.since
	m.since = since
	if !m.latch.on {
		emit(Emission{Type: event.TypeVehicleStopped, At: cur.At, Data: event.VehicleStoppedData{
			StoppedSince: evTime(since),
			MovingS:      between(before, since),
		}})
		return
	}
	speed, _ := gnssSpeed(m.cfg.GNSS, cur) // known: only a speed confirms moving
	emit(Emission{Type: event.TypeVehicleMoving, At: cur.At, Data: event.VehicleMovingData{
		SpeedKph:    round(speed.Value, 1),
		SpeedSource: string(speed.Source),
		MovingSince: evTime(since),
		StoppedS:    between(before, since),
	}})
}
