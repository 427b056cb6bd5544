package obd

import "slices"

// A Def describes one signal of a Mode 01 PID: its name and unit, how many
// data bytes the PID has and the SAE J1979 formula over them. A PID that
// carries several values (0x01, the oxygen sensors) has one Def per value,
// all with the same Bytes.
type Def struct {
	// PID is the Mode 01 parameter.
	PID uint8
	// Name and Unit are copied into every Signal decoded with this Def.
	Name string
	Unit Unit
	// Bytes is the PID's data length in a response, 1 to 4 (A to D).
	Bytes int
	// Min and Max are the smallest and largest value the formula yields
	// over all possible data bytes; every decoded value lies within them.
	Min, Max float64

	formula formula
}

// A formula computes a value from a PID's data bytes A, B, C, D, named as
// in SAE J1979; bytes past the PID's length are 0.
type formula func(a, b, c, d float64) float64

// table is the signal table, ordered by PID. Each formula is written as
// SAE J1979 (and the Wikipedia "OBD-II PIDs" page that reproduces it)
// publishes it. The supported-PID bitmaps 0x00, 0x20, … 0xE0 are not
// signals; see Supported.
var table = []Def{
	{0x01, "mil_on", NoUnit, 4, 0, 1, func(a, _, _, _ float64) float64 { return bit(a, 7) }},
	{0x01, "dtc_count", NoUnit, 4, 0, 127, func(a, _, _, _ float64) float64 { return float64(uint8(a) & 0x7F) }},
	{0x03, "fuel_system1_status", NoUnit, 2, 0, 255, func(a, _, _, _ float64) float64 { return a }},
	{0x03, "fuel_system2_status", NoUnit, 2, 0, 255, func(_, b, _, _ float64) float64 { return b }},
	{0x04, "engine_load", Percent, 1, 0, 100, func(a, _, _, _ float64) float64 { return 100 * a / 255 }},
	{0x05, "coolant_temp", Celsius, 1, -40, 215, func(a, _, _, _ float64) float64 { return a - 40 }},
	{0x06, "short_term_fuel_trim_bank1", Percent, 1, -100, 99.21875, fuelTrim},
	{0x07, "long_term_fuel_trim_bank1", Percent, 1, -100, 99.21875, fuelTrim},
	{0x08, "short_term_fuel_trim_bank2", Percent, 1, -100, 99.21875, fuelTrim},
	{0x09, "long_term_fuel_trim_bank2", Percent, 1, -100, 99.21875, fuelTrim},
	{0x0A, "fuel_pressure", KPa, 1, 0, 765, func(a, _, _, _ float64) float64 { return 3 * a }},
	{0x0B, "intake_manifold_pressure", KPa, 1, 0, 255, func(a, _, _, _ float64) float64 { return a }},
	{0x0C, "engine_speed", RPM, 2, 0, 16383.75, func(a, b, _, _ float64) float64 { return (256*a + b) / 4 }},
	{0x0D, "vehicle_speed", KPH, 1, 0, 255, func(a, _, _, _ float64) float64 { return a }},
	{0x0E, "timing_advance", Degree, 1, -64, 63.5, func(a, _, _, _ float64) float64 { return a/2 - 64 }},
	{0x0F, "intake_air_temp", Celsius, 1, -40, 215, func(a, _, _, _ float64) float64 { return a - 40 }},
	{0x10, "maf_air_flow", GramPerSecond, 2, 0, 655.35, func(a, b, _, _ float64) float64 { return (256*a + b) / 100 }},
	{0x11, "throttle_position", Percent, 1, 0, 100, func(a, _, _, _ float64) float64 { return 100 * a / 255 }},
	{0x13, "o2_sensors_present", NoUnit, 1, 0, 255, func(a, _, _, _ float64) float64 { return a }},
	{0x14, "o2_sensor1_voltage", Volt, 2, 0, 1.275, func(a, _, _, _ float64) float64 { return a / 200 }},
	{0x14, "o2_sensor1_fuel_trim", Percent, 2, -100, 99.21875, func(_, b, _, _ float64) float64 { return 100*b/128 - 100 }},
	{0x15, "o2_sensor2_voltage", Volt, 2, 0, 1.275, func(a, _, _, _ float64) float64 { return a / 200 }},
	{0x15, "o2_sensor2_fuel_trim", Percent, 2, -100, 99.21875, func(_, b, _, _ float64) float64 { return 100*b/128 - 100 }},
	{0x1C, "obd_standard", NoUnit, 1, 0, 255, func(a, _, _, _ float64) float64 { return a }},
	{0x1F, "run_time", Second, 2, 0, 65535, func(a, b, _, _ float64) float64 { return 256*a + b }},
	{0x21, "distance_mil_on", Kilometre, 2, 0, 65535, func(a, b, _, _ float64) float64 { return 256*a + b }},
	{0x2C, "commanded_egr", Percent, 1, 0, 100, func(a, _, _, _ float64) float64 { return 100 * a / 255 }},
	{0x2E, "commanded_evap_purge", Percent, 1, 0, 100, func(a, _, _, _ float64) float64 { return 100 * a / 255 }},
	{0x2F, "fuel_level", Percent, 1, 0, 100, func(a, _, _, _ float64) float64 { return 100 * a / 255 }},
	{0x30, "warmups_since_codes_cleared", NoUnit, 1, 0, 255, func(a, _, _, _ float64) float64 { return a }},
	{0x31, "distance_since_codes_cleared", Kilometre, 2, 0, 65535, func(a, b, _, _ float64) float64 { return 256*a + b }},
	{0x33, "barometric_pressure", KPa, 1, 0, 255, func(a, _, _, _ float64) float64 { return a }},
	{0x34, "o2_sensor1_lambda", Ratio, 4, 0, 1.999969482421875, func(a, b, _, _ float64) float64 { return 2 * (256*a + b) / 65536 }},
	{0x34, "o2_sensor1_current", Milliampere, 4, -128, 127.99609375, func(_, _, c, d float64) float64 { return (256*c+d)/256 - 128 }},
	{0x3C, "catalyst_temp_bank1_sensor1", Celsius, 2, -40, 6513.5, func(a, b, _, _ float64) float64 { return (256*a+b)/10 - 40 }},
	{0x42, "control_module_voltage", Volt, 2, 0, 65.535, func(a, b, _, _ float64) float64 { return (256*a + b) / 1000 }},
	{0x43, "absolute_load", Percent, 2, 0, 25700, func(a, b, _, _ float64) float64 { return 100 * (256*a + b) / 255 }},
	{0x44, "commanded_equivalence_ratio", Ratio, 2, 0, 1.999969482421875, func(a, b, _, _ float64) float64 { return 2 * (256*a + b) / 65536 }},
	{0x45, "relative_throttle_position", Percent, 1, 0, 100, func(a, _, _, _ float64) float64 { return 100 * a / 255 }},
	{0x46, "ambient_air_temp", Celsius, 1, -40, 215, func(a, _, _, _ float64) float64 { return a - 40 }},
	{0x47, "absolute_throttle_position_b", Percent, 1, 0, 100, func(a, _, _, _ float64) float64 { return 100 * a / 255 }},
	{0x49, "accelerator_pedal_position_d", Percent, 1, 0, 100, func(a, _, _, _ float64) float64 { return 100 * a / 255 }},
	{0x4A, "accelerator_pedal_position_e", Percent, 1, 0, 100, func(a, _, _, _ float64) float64 { return 100 * a / 255 }},
	{0x4C, "commanded_throttle_actuator", Percent, 1, 0, 100, func(a, _, _, _ float64) float64 { return 100 * a / 255 }},
	{0x4D, "run_time_mil_on", Minute, 2, 0, 65535, func(a, b, _, _ float64) float64 { return 256*a + b }},
	{0x4E, "time_since_codes_cleared", Minute, 2, 0, 65535, func(a, b, _, _ float64) float64 { return 256*a + b }},
	{0x51, "fuel_type", NoUnit, 1, 0, 255, func(a, _, _, _ float64) float64 { return a }},
	{0x52, "ethanol_fuel", Percent, 1, 0, 100, func(a, _, _, _ float64) float64 { return 100 * a / 255 }},
	{0x53, "evap_vapor_pressure_abs", KPa, 2, 0, 327.675, func(a, b, _, _ float64) float64 { return (256*a + b) / 200 }},
	{0x5A, "relative_accelerator_pedal_position", Percent, 1, 0, 100, func(a, _, _, _ float64) float64 { return 100 * a / 255 }},
	{0x5B, "hybrid_battery_remaining_life", Percent, 1, 0, 100, func(a, _, _, _ float64) float64 { return 100 * a / 255 }},
	{0x5C, "engine_oil_temp", Celsius, 1, -40, 215, func(a, _, _, _ float64) float64 { return a - 40 }},
	{0x5E, "fuel_rate", LitrePerHour, 2, 0, 3276.75, func(a, b, _, _ float64) float64 { return (256*a + b) / 20 }},
	{0x61, "driver_demand_torque", Percent, 1, -125, 130, func(a, _, _, _ float64) float64 { return a - 125 }},
	{0x62, "actual_engine_torque", Percent, 1, -125, 130, func(a, _, _, _ float64) float64 { return a - 125 }},
	{0x63, "engine_reference_torque", NewtonMetre, 2, 0, 65535, func(a, b, _, _ float64) float64 { return 256*a + b }},
	{0xA6, "odometer", Kilometre, 4, 0, 429496729.5, func(a, b, c, d float64) float64 { return (a*(1<<24) + b*(1<<16) + c*(1<<8) + d) / 10 }},
}

// fuelTrim is the fuel trim formula of PIDs 0x06 to 0x09: 100A/128 − 100.
func fuelTrim(a, _, _, _ float64) float64 { return 100*a/128 - 100 }

// bit returns bit n of the data byte x as 0 or 1.
func bit(x float64, n uint) float64 { return float64(uint8(x) >> n & 1) }

// span locates a PID's Defs in table: table[start : start+n].
type span struct{ start, n uint8 }

// index maps each PID to its Defs; n is 0 for PIDs not in the table.
var index = buildIndex(table)

func buildIndex(t []Def) (idx [256]span) {
	for i, d := range t {
		s := &idx[d.PID]
		if s.n == 0 {
			s.start = uint8(i)
		}
		s.n++
	}
	return idx
}

// defsOf returns the table's Defs for pid, sharing the table's memory.
func defsOf(pid uint8) []Def {
	s := index[pid]
	return table[s.start : s.start+s.n : s.start+s.n]
}

// Lookup returns the Defs of a Mode 01 PID, one per signal, or nil when
// the table does not have the PID. The slice is a copy.
func Lookup(pid uint8) []Def {
	if index[pid].n == 0 {
		return nil
	}
	return slices.Clone(defsOf(pid))
}

// Defs returns a copy of the whole signal table, ordered by PID.
func Defs() []Def { return slices.Clone(table) }
