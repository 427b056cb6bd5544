package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/oklog/ulid/v2"
)

// Type names what an event reports: dotted lower-case words such as
// "trip.started". On a subject the dots become underscores (see TypeToken).
type Type string

// The event types produced so far. Each type documents its Data fields.
const (
	// TypePosition is a periodic position report (every N seconds or metres).
	// Data: PositionData.
	TypePosition Type = "position"
	// TypeHeartbeat says the vehicle's agent is alive, moving or not.
	// Data: HeartbeatData.
	TypeHeartbeat Type = "heartbeat"
)

// PositionData is the data of a position event.
type PositionData struct {
	// Reason is "interval" or "distance": which threshold triggered the report.
	Reason string `json:"reason"`
	// Satellites in use and horizontal dilution of precision, when known.
	Satellites int     `json:"satellites,omitempty"`
	HDOP       float64 `json:"hdop,omitempty"`
	// Vehicle is what the vehicle bus reports, when it is connected.
	Vehicle *VehicleData `json:"vehicle,omitempty"`
}

// HeartbeatData is the data of a heartbeat event.
type HeartbeatData struct {
	// UptimeS is the agent's uptime in seconds.
	UptimeS int64 `json:"uptimeS"`
	// HasFix tells whether the agent had a valid GNSS fix.
	HasFix bool `json:"hasFix"`
	// Vehicle is what the vehicle bus reports, when it is connected.
	Vehicle *VehicleData `json:"vehicle,omitempty"`
}

// VehicleData is the vehicle-bus state (OBD-II or J1939) attached to
// position and heartbeat events. Only fresh values are present: a field is
// omitted when its signal was never seen or stopped arriving.
type VehicleData struct {
	Ignition *bool `json:"ignition,omitempty"`
	// SpeedKph is the best current speed; SpeedSource says where it came
	// from: "obd", "j1939" (wheel-based) or "gnss".
	SpeedKph     *float64 `json:"speedKph,omitempty"`
	SpeedSource  string   `json:"speedSource,omitempty"`
	RPM          *float64 `json:"rpm,omitempty"`
	FuelLevelPct *float64 `json:"fuelLevelPct,omitempty"`
	FuelRateLph  *float64 `json:"fuelRateLph,omitempty"`
	OdometerKm   *float64 `json:"odometerKm,omitempty"`
	EngineHours  *float64 `json:"engineHours,omitempty"`
	CoolantC     *float64 `json:"coolantC,omitempty"`
	BatteryV     *float64 `json:"batteryV,omitempty"`
	// DTCs are the active trouble codes ("P0301", "SPN 110 FMI 0").
	DTCs []string `json:"dtcs,omitempty"`
}

// Corrections. An event can supersede an earlier event of the same vehicle:
// its envelope names that event in Corrects, and its type says how.
const (
	// TypeEventUpdated replaces the content of an earlier event: Corrects
	// is that event's id, and the data carry its type and its new data in
	// full (a trip summary recomputed after late data). Data:
	// EventUpdatedData.
	TypeEventUpdated Type = "event.updated"
	// TypeEventRetracted voids an earlier event: Corrects is that event's
	// id; it should be treated as if it had never been sent. Data:
	// EventRetractedData.
	TypeEventRetracted Type = "event.retracted"
)

// Reasons of a correction (EventUpdatedData.Reason,
// EventRetractedData.Reason). A reason is one lower_snake word; receivers
// should accept others.
const (
	// ReasonLateData: data that reached the vehicle after the event was
	// sent changed its content (a GNSS fix that completed a trip's track).
	ReasonLateData = "late_data"
)

// EventUpdatedData is the data of an event.updated event. A receiver
// handles it without knowing the corrected type: replace the data of the
// event whose id is the envelope's corrects by Data. Type is given so that
// it can route the update like the original without looking it up.
type EventUpdatedData struct {
	// Type is the corrected event's type, unchanged: an update never turns
	// one kind of event into another.
	Type Type `json:"type"`
	// Data is the corrected event's new data, complete (not a diff): the
	// data struct Type names in the catalogue.
	Data json.RawMessage `json:"data"`
	// Reason says why, in one lower_snake word: "late_data".
	Reason string `json:"reason"`
}

// EventRetractedData is the data of an event.retracted event.
type EventRetractedData struct {
	// Type is the retracted event's type.
	Type Type `json:"type"`
	// Reason says why the event is void, in one lower_snake word.
	Reason string `json:"reason"`
}

// IsCorrection reports whether t is event.updated or event.retracted: the
// types whose envelope carries Corrects.
func IsCorrection(t Type) bool { return t == TypeEventUpdated || t == TypeEventRetracted }

// NewUpdate returns the data of an event.updated event that gives an event
// of type t the new data (the data struct of t, as a value or pointer).
func NewUpdate(t Type, data any, reason string) (EventUpdatedData, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return EventUpdatedData{}, fmt.Errorf("event: update of %s: %w", t, err)
	}
	u := EventUpdatedData{Type: t, Data: b, Reason: reason}
	if err := u.validate(); err != nil {
		return EventUpdatedData{}, err
	}
	return u, nil
}

// ValidateCorrects checks that id can be the corrects of an event whose own
// id is self: a ULID (26 characters of Crockford base32) other than self.
func ValidateCorrects(id, self string) error {
	if id == "" {
		return fmt.Errorf("%w: corrects is empty (the id of the event it supersedes is required)", ErrInvalid)
	}
	if _, err := ulid.ParseStrict(id); err != nil {
		return fmt.Errorf("%w: corrects %q is not an event id (a 26-character ULID): %w", ErrInvalid, truncate(id), err)
	}
	if id == self {
		return fmt.Errorf("%w: corrects is the event's own id %s", ErrInvalid, id)
	}
	return nil
}

// validateCorrection checks Corrects and, on the correction types, their
// data.
func (e *Event) validateCorrection() error {
	if !IsCorrection(e.Type) {
		if e.Corrects != "" {
			return fmt.Errorf("%w: corrects is set on a %s event (only %s and %s carry it)", ErrInvalid, truncate(string(e.Type)), TypeEventUpdated, TypeEventRetracted)
		}
		return nil
	}
	if err := ValidateCorrects(e.Corrects, e.ID); err != nil {
		return fmt.Errorf("%s: %w", e.Type, err)
	}
	if len(e.Data) == 0 {
		return fmt.Errorf("%w: %s: data is missing", ErrInvalid, e.Type)
	}
	var err error
	if e.Type == TypeEventUpdated {
		var d EventUpdatedData
		if err = decodeObject(e.Data, &d); err == nil {
			err = d.validate()
		}
	} else {
		var d EventRetractedData
		if err = decodeObject(e.Data, &d); err == nil {
			err = validateTarget(d.Type, d.Reason)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", e.Type, err)
	}
	return nil
}

func (u EventUpdatedData) validate() error {
	if err := validateTarget(u.Type, u.Reason); err != nil {
		return err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(u.Data, &obj); err != nil || obj == nil {
		return fmt.Errorf("%w: data.data must be the %s event's new data, a JSON object", ErrInvalid, u.Type)
	}
	return nil
}

// validateTarget checks the corrected type and the reason of a correction.
func validateTarget(t Type, reason string) error {
	if t == "" {
		return fmt.Errorf("%w: data.type is empty (the type of the corrected event is required)", ErrInvalid)
	}
	if err := ValidToken("data.type", TypeToken(t)); err != nil {
		return err
	}
	if IsCorrection(t) {
		return fmt.Errorf("%w: data.type %s: a correction cannot be corrected (correct the original event)", ErrInvalid, t)
	}
	if reason == "" || len(reason) > 64 || strings.Trim(reason, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		return fmt.Errorf("%w: data.reason %q must be one lower_snake word of at most 64 bytes, such as %s", ErrInvalid, truncate(reason), ReasonLateData)
	}
	return nil
}

// decodeObject decodes a JSON object into v, with a clear error otherwise.
func decodeObject(b json.RawMessage, v any) error {
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("%w: data is not a JSON object", ErrInvalid)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: data is not the expected object: %w", ErrInvalid, err)
	}
	return nil
}

// truncate shortens s for an error message.
func truncate(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
