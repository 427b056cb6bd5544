package event

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
