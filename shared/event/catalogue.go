package event

import (
	"encoding/json"
	"time"
)

// The event types computed on the vehicle from its fused state (package
// edge/detect). Each type names the struct its Data holds.
//
// Conventions for every data struct: field names are lowerCamelCase with the
// unit as a suffix (speedKph, distanceKm, durationS, voltageV); durations are
// seconds; times are device times in the envelope's format; an optional
// field is omitted rather than zero.
const (
	// TypeVehicleMoving: the vehicle started moving. Data: VehicleMovingData.
	TypeVehicleMoving Type = "vehicle.moving"
	// TypeVehicleStopped: the vehicle came to rest. Data: VehicleStoppedData.
	TypeVehicleStopped Type = "vehicle.stopped"

	// TypeIgnitionOn: the ignition was switched on. Data: IgnitionOnData.
	TypeIgnitionOn Type = "ignition.on"
	// TypeIgnitionOff: the ignition was switched off. Data: IgnitionOffData.
	TypeIgnitionOff Type = "ignition.off"

	// TypeTripStarted: a trip began. Data: TripStartedData.
	TypeTripStarted Type = "trip.started"
	// TypeTripCompleted: a trip ended. Data: TripCompletedData.
	TypeTripCompleted Type = "trip.completed"

	// TypeIdleStarted: the engine has been running at rest for the idle
	// threshold. Data: IdleStartedData.
	TypeIdleStarted Type = "idle.started"
	// TypeIdleEnded: the idling vehicle moved or was switched off.
	// Data: IdleEndedData.
	TypeIdleEnded Type = "idle.ended"

	// TypeSpeedingStarted: the speed rose above the fleet's speed threshold.
	// Data: SpeedingStartedData.
	TypeSpeedingStarted Type = "speeding.started"
	// TypeSpeedingEnded: the speed fell back below the threshold.
	// Data: SpeedingEndedData.
	TypeSpeedingEnded Type = "speeding.ended"

	// TypePostedSpeedExceeded: the vehicle exceeded the speed limit of a
	// geofence it is in. Data: PostedSpeedExceededData.
	TypePostedSpeedExceeded Type = "posted_speed.exceeded"

	// TypeGeofenceEntered: the vehicle entered a geofence.
	// Data: GeofenceEnteredData.
	TypeGeofenceEntered Type = "geofence.entered"
	// TypeGeofenceExited: the vehicle left a geofence. Data: GeofenceExitedData.
	TypeGeofenceExited Type = "geofence.exited"
	// TypeGeofenceDwell: the vehicle has stayed in a geofence for its dwell
	// time. Data: GeofenceDwellData.
	TypeGeofenceDwell Type = "geofence.dwell"

	// TypeRouteDeviated: the vehicle left its route corridor.
	// Data: RouteDeviatedData.
	TypeRouteDeviated Type = "route.deviated"
	// TypeRouteRejoined: the vehicle is back on a route corridor.
	// Data: RouteRejoinedData.
	TypeRouteRejoined Type = "route.rejoined"

	// TypeVoltageLow: the battery voltage stayed below the threshold.
	// Data: VoltageLowData.
	TypeVoltageLow Type = "voltage.low"

	// TypeDTCDetected: a diagnostic trouble code became active.
	// Data: DTCDetectedData.
	TypeDTCDetected Type = "dtc.detected"
	// TypeDTCCleared: an active trouble code is no longer reported.
	// Data: DTCClearedData.
	TypeDTCCleared Type = "dtc.cleared"

	// TypeTemperatureOutOfRange: a temperature left its allowed range.
	// Data: TemperatureOutOfRangeData.
	TypeTemperatureOutOfRange Type = "temperature.out_of_range"

	// TypeDriverChanged: another driver identified at the vehicle.
	// Data: DriverChangedData.
	TypeDriverChanged Type = "driver.changed"

	// TypeServiceDue: the odometer or the engine hours reached the next
	// service. Data: ServiceDueData.
	TypeServiceDue Type = "service.due"

	// TypeHarshBraking: the vehicle slowed down abruptly.
	// Data: HarshBrakingData.
	TypeHarshBraking Type = "harsh.braking"
	// TypeHarshAcceleration: the vehicle sped up abruptly.
	// Data: HarshAccelerationData.
	TypeHarshAcceleration Type = "harsh.acceleration"
)

// Point is a WGS84 position in decimal degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// VehicleMovingData is the data of a vehicle.moving event.
type VehicleMovingData struct {
	// SpeedKph is the speed when the movement was confirmed, and
	// SpeedSource where it came from: "obd", "j1939" or "gnss".
	SpeedKph    float64 `json:"speedKph"`
	SpeedSource string  `json:"speedSource"`
	// MovingSince is when the vehicle started moving; the event follows
	// once the movement has lasted long enough to be sure of it.
	MovingSince Time `json:"movingSince"`
	// StoppedS is how long the vehicle had been at rest, when known.
	StoppedS float64 `json:"stoppedS,omitempty"`
}

// VehicleStoppedData is the data of a vehicle.stopped event.
type VehicleStoppedData struct {
	// StoppedSince is when the vehicle came to rest; the event follows
	// once the stop has lasted long enough not to be a traffic light.
	StoppedSince Time `json:"stoppedSince"`
	// MovingS is how long the vehicle had been moving, when known.
	MovingS float64 `json:"movingS,omitempty"`
}

// IgnitionOnData is the data of an ignition.on event.
type IgnitionOnData struct {
	// Source says how the ignition is known: "derived" (from the engine
	// speed or the battery voltage) or "input" (a wired ignition line).
	Source string `json:"source"`
	// OffS is how long the ignition had been off, when known.
	OffS float64 `json:"offS,omitempty"`
	// OdometerKm and EngineHours are the vehicle's counters, when the
	// vehicle bus reports them.
	OdometerKm  *float64 `json:"odometerKm,omitempty"`
	EngineHours *float64 `json:"engineHours,omitempty"`
}

// IgnitionOffData is the data of an ignition.off event.
type IgnitionOffData struct {
	// Source says how the ignition is known, as in IgnitionOnData.
	Source string `json:"source"`
	// OnS is how long the ignition had been on, when known.
	OnS float64 `json:"onS,omitempty"`
	// OdometerKm and EngineHours are the vehicle's counters, when the
	// vehicle bus reports them.
	OdometerKm  *float64 `json:"odometerKm,omitempty"`
	EngineHours *float64 `json:"engineHours,omitempty"`
}

// TripStartedData is the data of a trip.started event.
type TripStartedData struct {
	// StartTime is the last moment the vehicle was at rest before it
	// drove off, and StartLocation where, when a good fix was known.
	StartTime     Time   `json:"startTime"`
	StartLocation *Point `json:"startLocation,omitempty"`
}

// TripCompletedData is the data of a trip.completed event: the summary of
// the trip from the moment the vehicle drove off to the moment it came to
// rest for good.
type TripCompletedData struct {
	StartTime     Time   `json:"startTime"`
	EndTime       Time   `json:"endTime"`
	StartLocation *Point `json:"startLocation,omitempty"`
	EndLocation   *Point `json:"endLocation,omitempty"`
	// DistanceKm is the length of the GNSS track driven.
	DistanceKm float64 `json:"distanceKm"`
	// DurationS is EndTime − StartTime.
	DurationS float64 `json:"durationS"`
	// MaxSpeedKph is the highest speed reported; AvgSpeedKph is
	// DistanceKm over DurationS, stops included.
	MaxSpeedKph float64 `json:"maxSpeedKph"`
	AvgSpeedKph float64 `json:"avgSpeedKph"`
	// IdleS is the time spent at rest during the trip (traffic lights,
	// queues, short stops) with the engine not known to be off.
	IdleS float64 `json:"idleS"`
}

// IdleStartedData is the data of an idle.started event, sent once the
// engine has run at rest for the idle threshold.
type IdleStartedData struct {
	// IdleSince is when the idling began.
	IdleSince Time `json:"idleSince"`
}

// IdleEndedData is the data of an idle.ended event.
type IdleEndedData struct {
	// IdleSince is when the idling began; DurationS how long it lasted.
	IdleSince Time    `json:"idleSince"`
	DurationS float64 `json:"durationS"`
	// Reason is "moving" (the vehicle drove off) or "ignition_off".
	Reason string `json:"reason"`
}

// SpeedingStartedData is the data of a speeding.started event.
type SpeedingStartedData struct {
	// ThresholdKph is the configured speed threshold.
	ThresholdKph float64 `json:"thresholdKph"`
	// SpeedKph is the speed when the episode was confirmed, and
	// SpeedSource where it came from: "obd", "j1939" or "gnss".
	SpeedKph    float64 `json:"speedKph"`
	SpeedSource string  `json:"speedSource"`
	// Since is when the speed first reached the threshold.
	Since Time `json:"since"`
}

// SpeedingEndedData is the data of a speeding.ended event: the summary of
// the episode.
type SpeedingEndedData struct {
	ThresholdKph float64 `json:"thresholdKph"`
	// MaxSpeedKph is the highest speed reached during the episode.
	MaxSpeedKph float64 `json:"maxSpeedKph"`
	// Since is when the episode began; DurationS how long it lasted.
	Since     Time    `json:"since"`
	DurationS float64 `json:"durationS"`
	// DistanceKm is the distance driven during the episode.
	DistanceKm float64 `json:"distanceKm"`
}

// PostedSpeedExceededData is the data of a posted_speed.exceeded event.
type PostedSpeedExceededData struct {
	// LimitKph is the posted speed of the geofence; SpeedKph the speed
	// driven, beyond the configured tolerance.
	LimitKph float64 `json:"limitKph"`
	SpeedKph float64 `json:"speedKph"`
	// GeofenceID and GeofenceName identify the fence that posts the limit
	// (the lowest limit, when fences overlap).
	GeofenceID   string `json:"geofenceId"`
	GeofenceName string `json:"geofenceName,omitempty"`
	// Tags are the fence's tags (subscriptions filter on them).
	Tags []string `json:"tags,omitempty"`
}

// GeofenceEnteredData is the data of a geofence.entered event.
type GeofenceEnteredData struct {
	GeofenceID   string   `json:"geofenceId"`
	GeofenceName string   `json:"geofenceName,omitempty"`
	Tags         []string `json:"tags,omitempty"`
}

// GeofenceExitedData is the data of a geofence.exited event.
type GeofenceExitedData struct {
	GeofenceID   string   `json:"geofenceId"`
	GeofenceName string   `json:"geofenceName,omitempty"`
	Tags         []string `json:"tags,omitempty"`
	// VisitS is how long the vehicle was inside.
	VisitS float64 `json:"visitS"`
}

// GeofenceDwellData is the data of a geofence.dwell event, sent once per
// visit when the vehicle has stayed inside for the fence's dwell time.
type GeofenceDwellData struct {
	GeofenceID   string   `json:"geofenceId"`
	GeofenceName string   `json:"geofenceName,omitempty"`
	Tags         []string `json:"tags,omitempty"`
	// DwellS is how long the vehicle has been inside.
	DwellS float64 `json:"dwellS"`
}

// RouteDeviatedData is the data of a route.deviated event.
type RouteDeviatedData struct {
	// RouteID and RouteName identify the route corridor (a geofence) the
	// vehicle left.
	RouteID   string `json:"routeId"`
	RouteName string `json:"routeName,omitempty"`
	// Tags are the corridor's tags (subscriptions filter on them).
	Tags []string `json:"tags,omitempty"`
	// DistanceM is the distance from the route's centre line.
	DistanceM float64 `json:"distanceM"`
}

// RouteRejoinedData is the data of a route.rejoined event.
type RouteRejoinedData struct {
	// RouteID and RouteName identify the corridor the vehicle is back in.
	RouteID   string `json:"routeId"`
	RouteName string `json:"routeName,omitempty"`
	// Tags are the corridor's tags.
	Tags []string `json:"tags,omitempty"`
	// OffRouteS is how long the vehicle was off its route, and
	// MaxDistanceM how far from the route's centre line it went.
	OffRouteS    float64 `json:"offRouteS"`
	MaxDistanceM float64 `json:"maxDistanceM"`
}

// VoltageLowData is the data of a voltage.low event.
type VoltageLowData struct {
	// VoltageV is the battery voltage; ThresholdV the configured low
	// threshold it stayed below.
	VoltageV   float64 `json:"voltageV"`
	ThresholdV float64 `json:"thresholdV"`
}

// DTCDetectedData is the data of a dtc.detected event.
type DTCDetectedData struct {
	// Code is the trouble code: "P0301" (OBD-II) or "SPN 110 FMI 0" (J1939).
	Code string `json:"code"`
	// Source is the bus that reported it: "obd" or "j1939".
	Source string `json:"source"`
}

// DTCClearedData is the data of a dtc.cleared event.
type DTCClearedData struct {
	Code   string `json:"code"`
	Source string `json:"source"`
	// ActiveS is how long the code was active.
	ActiveS float64 `json:"activeS"`
}

// TemperatureOutOfRangeData is the data of a temperature.out_of_range event.
type TemperatureOutOfRangeData struct {
	// Sensor names the measured temperature: "coolant", "intake_air" or
	// "ambient".
	Sensor string `json:"sensor"`
	// ValueC is the temperature; MinC and MaxC the configured range.
	ValueC float64 `json:"valueC"`
	MinC   float64 `json:"minC"`
	MaxC   float64 `json:"maxC"`
}

// DriverChangedData is the data of a driver.changed event.
type DriverChangedData struct {
	// PreviousDriverID is the driver identified before, empty when none
	// was; DriverID the driver identified now, empty when the driver
	// logged out.
	PreviousDriverID string `json:"previousDriverId"`
	DriverID         string `json:"driverId"`
	// Source says where the identification came from.
	Source string `json:"source"`
}

// ServiceDueData is the data of a service.due event.
type ServiceDueData struct {
	// Kind is "odometer" or "engine_hours".
	Kind string `json:"kind"`
	// DueAt is the counter value at which the service is due, Current the
	// vehicle's value now, both in Unit: "km" or "h".
	DueAt   float64 `json:"dueAt"`
	Current float64 `json:"current"`
	Unit    string  `json:"unit"`
}

// HarshBrakingData is the data of a harsh.braking event.
type HarshBrakingData struct {
	// DeltaKph is the change of speed (negative), over OverS seconds.
	DeltaKph float64 `json:"deltaKph"`
	OverS    float64 `json:"overS"`
	// G is the peak deceleration in standard gravities.
	G float64 `json:"g"`
	// FromKph and ToKph are the speeds before and after, and SpeedSource
	// where they came from.
	FromKph     float64 `json:"fromKph"`
	ToKph       float64 `json:"toKph"`
	SpeedSource string  `json:"speedSource"`
}

// HarshAccelerationData is the data of a harsh.acceleration event.
type HarshAccelerationData struct {
	// DeltaKph is the change of speed (positive), over OverS seconds.
	DeltaKph float64 `json:"deltaKph"`
	OverS    float64 `json:"overS"`
	// G is the peak acceleration in standard gravities.
	G float64 `json:"g"`
	// FromKph and ToKph are the speeds before and after, and SpeedSource
	// where they came from.
	FromKph     float64 `json:"fromKph"`
	ToKph       float64 `json:"toKph"`
	SpeedSource string  `json:"speedSource"`
}

// TypeInfo describes one event type, for documentation and the API.
type TypeInfo struct {
	// Type is the event type.
	Type Type
	// Summary says in one line when the event is sent.
	Summary string
	// DataName is the name of the Go struct its Data holds.
	DataName string
	// Data is a zero value of that struct, for generators that reflect on
	// its fields and JSON tags.
	Data any
	// Example is a realistic value of that struct, for documentation and
	// test deliveries; nil when the zero Data serves. The correction types
	// have one (their zero data is not valid), and their envelope needs a
	// corrects id as well: see ExampleCorrects.
	Example any
}

// ExampleCorrects is the corrects id of the correction types' examples:
// the id of the trip.completed event they correct.
const ExampleCorrects = "01J7AQ3Z8WDXK5VJ0RB6T4M2NC"

// Catalogue lists every event type, in a stable order: what the vehicle
// reports periodically, then what it detects. The slice is the caller's.
func Catalogue() []TypeInfo {
	return []TypeInfo{
		{TypePosition, "Periodic position report, every N seconds or metres.", "PositionData", PositionData{}, nil},
		{TypeHeartbeat, "The vehicle's agent is alive, moving or not.", "HeartbeatData", HeartbeatData{}, nil},
		{TypeVehicleMoving, "The vehicle started moving.", "VehicleMovingData", VehicleMovingData{}, nil},
		{TypeVehicleStopped, "The vehicle came to rest.", "VehicleStoppedData", VehicleStoppedData{}, nil},
		{TypeIgnitionOn, "The ignition was switched on.", "IgnitionOnData", IgnitionOnData{}, nil},
		{TypeIgnitionOff, "The ignition was switched off.", "IgnitionOffData", IgnitionOffData{}, nil},
		{TypeTripStarted, "A trip began: the vehicle drove off.", "TripStartedData", TripStartedData{}, nil},
		{TypeTripCompleted, "A trip ended, with its distance, duration, speeds and idle time.", "TripCompletedData", TripCompletedData{}, nil},
		{TypeIdleStarted, "The engine has been running at rest for the idle threshold.", "IdleStartedData", IdleStartedData{}, nil},
		{TypeIdleEnded, "The idling vehicle drove off or was switched off.", "IdleEndedData", IdleEndedData{}, nil},
		{TypeSpeedingStarted, "The speed rose above the fleet's speed threshold.", "SpeedingStartedData", SpeedingStartedData{}, nil},
		{TypeSpeedingEnded, "The speed fell back below the threshold, with the episode's maximum, duration and distance.", "SpeedingEndedData", SpeedingEndedData{}, nil},
		{TypePostedSpeedExceeded, "The vehicle exceeded the speed limit posted on a geofence it is in.", "PostedSpeedExceededData", PostedSpeedExceededData{}, nil},
		{TypeGeofenceEntered, "The vehicle entered a geofence.", "GeofenceEnteredData", GeofenceEnteredData{}, nil},
		{TypeGeofenceExited, "The vehicle left a geofence.", "GeofenceExitedData", GeofenceExitedData{}, nil},
		{TypeGeofenceDwell, "The vehicle has stayed in a geofence for the fence's dwell time.", "GeofenceDwellData", GeofenceDwellData{}, nil},
		{TypeRouteDeviated, "The vehicle left its route corridor.", "RouteDeviatedData", RouteDeviatedData{}, nil},
		{TypeRouteRejoined, "The vehicle is back on a route corridor.", "RouteRejoinedData", RouteRejoinedData{}, nil},
		{TypeVoltageLow, "The battery voltage stayed below the low threshold.", "VoltageLowData", VoltageLowData{}, nil},
		{TypeDTCDetected, "A diagnostic trouble code became active.", "DTCDetectedData", DTCDetectedData{}, nil},
		{TypeDTCCleared, "An active diagnostic trouble code is no longer reported.", "DTCClearedData", DTCClearedData{}, nil},
		{TypeTemperatureOutOfRange, "A monitored temperature left its allowed range.", "TemperatureOutOfRangeData", TemperatureOutOfRangeData{}, nil},
		{TypeDriverChanged, "Another driver identified at the vehicle.", "DriverChangedData", DriverChangedData{}, nil},
		{TypeServiceDue, "The odometer or the engine hours reached the next service.", "ServiceDueData", ServiceDueData{}, nil},
		{TypeHarshBraking, "The vehicle slowed down abruptly.", "HarshBrakingData", HarshBrakingData{}, nil},
		{TypeHarshAcceleration, "The vehicle sped up abruptly.", "HarshAccelerationData", HarshAccelerationData{}, nil},
		{TypeEventUpdated, "An earlier event (corrects) has new content: its type and its complete new data, e.g. a trip summary recomputed after late data.", "EventUpdatedData", EventUpdatedData{}, exampleUpdate()},
		{TypeEventRetracted, "An earlier event (corrects) is void and should be disregarded, with the reason.", "EventRetractedData", EventRetractedData{}, EventRetractedData{Type: TypeHarshBraking, Reason: "gnss_outlier"}},
	}
}

// exampleUpdate is a trip summary whose distance and end grew when a GNSS
// fix arrived after the trip had been reported.
func exampleUpdate() EventUpdatedData {
	t0 := time.Date(2024, 9, 7, 6, 43, 19, 687_000_000, time.UTC)
	u, err := NewUpdate(TypeTripCompleted, TripCompletedData{
		StartTime: Time{t0}, EndTime: Time{t0.Add(time.Hour)},
		StartLocation: &Point{Lat: 48.13743, Lon: 11.57549}, EndLocation: &Point{Lat: 49.0134, Lon: 12.1016},
		DistanceKm: 121.7, DurationS: 3600, MaxSpeedKph: 131.2, AvgSpeedKph: 121.7, IdleS: 94,
	}, ReasonLateData)
	if err != nil { // cannot happen: the data above encodes
		return EventUpdatedData{Type: TypeTripCompleted, Data: json.RawMessage("{}"), Reason: ReasonLateData}
	}
	return u
}
