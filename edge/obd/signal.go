package obd

import "strconv"

// A Signal is one engineering value decoded from a Mode 01 response, such
// as engine_speed = 920 rpm. Name and Unit come from the signal table, so
// decoding a Signal allocates nothing.
type Signal struct {
	// PID is the Mode 01 parameter the value came from.
	PID uint8
	// Name identifies the signal in snake_case, such as "engine_speed";
	// stable, used as the telemetry key.
	Name string
	// Unit is the unit of Value.
	Unit Unit
	// Value is the result of the PID's SAE J1979 formula.
	Value float64
}

// String returns, for example, "engine_speed=920 rpm".
func (s Signal) String() string {
	v := strconv.FormatFloat(s.Value, 'f', -1, 64)
	if s.Unit == NoUnit {
		return s.Name + "=" + v
	}
	return s.Name + "=" + v + " " + string(s.Unit)
}

// A Unit is the unit of a Signal's Value, as SAE J1979 states it.
type Unit string

// The units of the signal table.
const (
	NoUnit        Unit = "" // counts, flags, enumerations, bit masks
	Percent       Unit = "%"
	Celsius       Unit = "°C"
	KPa           Unit = "kPa"
	RPM           Unit = "rpm"
	KPH           Unit = "km/h"
	Degree        Unit = "°"
	GramPerSecond Unit = "g/s"
	Volt          Unit = "V"
	Ratio         Unit = "ratio" // lambda, equivalence ratio
	Milliampere   Unit = "mA"
	Second        Unit = "s"
	Minute        Unit = "min"
	Kilometre     Unit = "km"
	LitrePerHour  Unit = "L/h"
	NewtonMetre   Unit = "N·m"
)
