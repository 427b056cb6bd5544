package event

import (
	"encoding/json"
	"fmt"
	"time"
)

// SchemaVersion is the version of the envelope written by this code. Readers
// accept any envelope whose major version they know.
const SchemaVersion = "1.0"

// TimeLayout is the wire format of every timestamp in an envelope: RFC 3339
// in UTC with millisecond precision.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Event is the envelope of one fleetwire event. It is built on the vehicle,
// stored on the vehicle first, forwarded to the hub unchanged and delivered to
// webhook receivers as the request body.
type Event struct {
	// ID is a ULID: unique, and sortable by creation time. It is the
	// Nats-Msg-Id on the hub and the webhook-id of every delivery.
	ID string `json:"id"`
	// Type names what happened, one of the catalogue in types.go.
	Type Type `json:"type"`
	// SchemaVersion is the envelope version (SchemaVersion when written here).
	SchemaVersion string `json:"schemaVersion"`
	// OccurredAt is the device time at which the event happened.
	OccurredAt Time `json:"occurredAt"`
	// Account owns the vehicle.
	Account string `json:"account"`
	// Vehicle identifies the vehicle.
	Vehicle Vehicle `json:"vehicle"`
	// Seq numbers the events of one vehicle: 1, 2, 3… without gaps, assigned
	// on the edge from its store and kept across restarts. A receiver that sees
	// seq jump from n to n+2 knows it missed an event.
	Seq uint64 `json:"seq"`
	// Corrects is set on event.updated and event.retracted only: the id of
	// the earlier event of the same vehicle that this one supersedes (see
	// TypeEventUpdated). The correcting event has its own id and seq.
	Corrects string `json:"corrects,omitempty"`
	// Driver is set when the driver is known.
	Driver *Driver `json:"driver,omitempty"`
	// Location is the last valid position when the event happened, if any.
	Location *Location `json:"location,omitempty"`
	// Data holds the type-specific fields.
	Data json.RawMessage `json:"data,omitempty"`
	// Provenance is added by the dispatcher to the delivered body only;
	// it is never part of the envelope stored on the vehicle or the hub
	// (the edge outbox clears it). See Provenance.
	Provenance *Provenance `json:"provenance,omitempty"`
}

// Vehicle identifies a vehicle within an account.
type Vehicle struct {
	ID           string `json:"id"`
	Registration string `json:"registration,omitempty"`
	Name         string `json:"name,omitempty"`
}

// Driver identifies the driver of a vehicle.
type Driver struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Location is a GNSS position.
type Location struct {
	Lat        float64 `json:"lat"`
	Lon        float64 `json:"lon"`
	SpeedKph   float64 `json:"speedKph"`
	HeadingDeg float64 `json:"headingDeg"`
	AltitudeM  float64 `json:"altitudeM"`
	// FixQuality is the NMEA GGA fix quality (0 invalid, 1 GPS, 2 DGPS, 4 RTK…).
	FixQuality int `json:"fixQuality"`
}

// Time is a time.Time that marshals as RFC 3339 UTC with milliseconds.
type Time struct{ time.Time }

// MarshalJSON writes the time in TimeLayout.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format(TimeLayout) + `"`), nil
}

// UnmarshalJSON accepts any RFC 3339 time.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("time: %w", err)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("time %q: %w", s, err)
	}
	t.Time = v
	return nil
}

// Subject is the hub subject this event is published on.
func (e *Event) Subject() string {
	return Subject(e.Account, e.Vehicle.ID, e.Type)
}

// Validate reports the first problem that would make the event unusable: an
// empty or malformed id, an unknown type, tokens that cannot be subjects, a
// correction without a valid corrects id or data (see ValidateCorrection),
// corrects on any other type.
func (e *Event) Validate() error {
	if e.ID == "" {
		return fmt.Errorf("%w: id is empty", ErrInvalid)
	}
	if err := ValidToken("account", e.Account); err != nil {
		return err
	}
	if err := ValidToken("vehicle.id", e.Vehicle.ID); err != nil {
		return err
	}
	if err := ValidToken("type", TypeToken(e.Type)); err != nil {
		return err
	}
	if e.Seq == 0 {
		return fmt.Errorf("%w: seq must start at 1", ErrInvalid)
	}
	if e.OccurredAt.IsZero() {
		return fmt.Errorf("%w: occurredAt is not set", ErrInvalid)
	}
	if e.Location != nil {
		l := e.Location
		if l.Lat < -90 || l.Lat > 90 || l.Lon < -180 || l.Lon > 180 {
			return fmt.Errorf("%w: location %.6f,%.6f out of range", ErrInvalid, l.Lat, l.Lon)
		}
	}
	return e.validateCorrection()
}

// Marshal encodes the event as JSON.
func (e *Event) Marshal() ([]byte, error) { return json.Marshal(e) }

// Unmarshal decodes and validates an event.
func Unmarshal(b []byte) (*Event, error) {
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return &e, nil
}
