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
}

// HeartbeatData is the data of a heartbeat event.
type HeartbeatData struct {
	// UptimeS is the agent's uptime in seconds.
	UptimeS int64 `json:"uptimeS"`
	// HasFix tells whether the agent had a valid GNSS fix.
	HasFix bool `json:"hasFix"`
}
