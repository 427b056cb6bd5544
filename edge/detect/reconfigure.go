package detect

import "github.com/fleetwire/fleetwire/edge/state"

// reconfigurer is a detector whose thresholds can change while it runs.
// Every detector of this package is one.
type reconfigurer interface {
	reconfigure(cfg Config)
}

// Reconfigure validates cfg and hands it to every detector of the pipeline
// (and of pipelines nested in it), keeping their state: an ongoing trip,
// the motion and ignition states, open speeding, idle, voltage, route and
// temperature episodes, the fences the vehicle is in, the codes reported
// active and the service reminders already sent stay as they are, so a
// change of thresholds neither repeats nor loses an event. A countdown
// under way carries on and is judged against the new durations and
// thresholds from the next update. What is reset, without an event:
//   - an open speeding episode when speeding.threshold_kph becomes 0, and an
//     open low-voltage episode when voltage.low_v becomes 0 (the detector is
//     off: it reports no end);
//   - the temperature episode when temperature.signal names another signal;
//   - a service reminder already sent, when its due value changes (it may
//     be sent again for the new one).
//
// On an invalid cfg nothing changes. Detectors from outside this package
// keep their configuration. Like Detect, Reconfigure must not run
// concurrently with Detect: the agent calls both under the same lock.
func (p *Pipeline) Reconfigure(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	p.reconfigure(cfg)
	return nil
}

func (p *Pipeline) reconfigure(cfg Config) {
	for _, d := range p.detectors {
		if r, ok := d.(reconfigurer); ok {
			r.reconfigure(cfg)
		}
	}
}

func (d *Ignition) reconfigure(cfg Config)    { d.cfg = cfg }
func (m *Motion) reconfigure(cfg Config)      { m.cfg = cfg }
func (d *Idle) reconfigure(cfg Config)        { d.cfg = cfg }
func (t *Trip) reconfigure(cfg Config)        { t.cfg = cfg }
func (d *Harsh) reconfigure(cfg Config)       { d.cfg = cfg }
func (d *PostedSpeed) reconfigure(cfg Config) { d.cfg = cfg }
func (g *Geofence) reconfigure(cfg Config)    { g.cfg = cfg }
func (r *Route) reconfigure(cfg Config)       { r.cfg = cfg }
func (d *DTC) reconfigure(cfg Config)         { d.cfg = cfg }
func (d *Driver) reconfigure(Config)          {}

func (d *Speeding) reconfigure(cfg Config) {
	if cfg.Speeding.ThresholdKph == 0 {
		*d = Speeding{}
	}
	d.cfg = cfg
}

func (d *Voltage) reconfigure(cfg Config) {
	if cfg.Voltage.LowV == 0 {
		*d = Voltage{}
	}
	d.cfg = cfg
}

func (d *Temperature) reconfigure(cfg Config) {
	if sig, _ := state.ParseSignal(cfg.Temperature.Signal); sig != d.signal {
		*d = *NewTemperature(cfg)
		return
	}
	d.cfg = cfg
}

func (d *Service) reconfigure(cfg Config) {
	next := NewService(cfg)
	for i := range next.schedules {
		if next.schedules[i].dueAt == d.schedules[i].dueAt {
			next.schedules[i].reported = d.schedules[i].reported
		}
	}
	*d = *next
}
