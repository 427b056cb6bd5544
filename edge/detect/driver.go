package detect

import "github.com/fleetwire/fleetwire/shared/event"

// Driver reports driver.changed when another driver identifies at the
// vehicle (a tachograph card, an RFID tag, a keypad code).
//
// Rule: every change of the identified driver is an event, including the
// first identification after the detector starts (the previous driver is
// then empty) and a logout (the new driver is empty). Identifications are
// discrete, so there is nothing to debounce: the same driver reported again
// is no change.
type Driver struct {
	id string // the driver identified last; empty for none
}

// NewDriver returns a driver detector.
func NewDriver() *Driver { return &Driver{} }

// Detect implements Detector.
func (d *Driver) Detect(in Input, emit func(Emission)) {
	cur := in.Change.Cur
	r := cur.Driver
	if !r.Valid() || r.Value == d.id {
		return
	}
	previous := d.id
	d.id = r.Value
	emit(Emission{Type: event.TypeDriverChanged, At: cur.At, Data: event.DriverChangedData{
		PreviousDriverID: previous, DriverID: r.Value, Source: string(r.Source),
	}})
}
