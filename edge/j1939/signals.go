package j1939

// SPN is a suspect parameter number: the SAE J1939 number of one signal.
type SPN uint32

// Spec describes how one SPN is carried, from SAE J1939-71: where its bits
// are in the parameter group, how the raw value scales to engineering
// units (value = raw × Resolution + Offset) and the range a valid value
// stays in. Specs live in a static table; treat them as read-only.
type Spec struct {
	SPN SPN
	PGN PGN
	// StartByte and StartBit give the first (least significant) bit the way
	// J1939-71 writes a start position: "4.3" is byte 4, bit 3, both
	// counted from 1, bit 1 being the least significant. Multi-byte values
	// are little-endian (Intel order).
	StartByte uint16
	StartBit  uint8
	// Length is the size in bits, 1 to 32.
	Length     uint8
	Resolution float64
	Offset     float64
	// Min and Max bound the valid range, in Unit.
	Min, Max float64
	// Unit is empty for states (0 = off, 1 = on) and counts.
	Unit string
	Name string
}

// Largest raw values in the J1939-71 "valid signal" range per width; raw
// values above them signal "error" or "not available" (see Status).
const (
	max8  = 0xFA       // 250
	max16 = 0xFAFF     // 64255
	max32 = 0xFAFFFFFF // 4211081215
)

// table is the signal catalogue: every SPN this package decodes, grouped
// by parameter group. Sources: SAE J1939-71 parameter definitions
// (resolution, offset, data range, start position); names as in the SAE
// J1939 Digital Annex. The Max of byte-wide values is written as
// "largest valid raw × resolution + offset" so it can be checked at a
// glance.
var table = [...]Spec{
	// SPN  PGN  byte bit bits  resolution offset  min max  unit name

	// EEC1: electronic engine controller 1, engine speed and torque (10–100 ms).
	{512, PGNEEC1, 2, 1, 8, 1, -125, -125, max8 - 125, "%", "Driver's Demand Engine - Percent Torque"},
	{513, PGNEEC1, 3, 1, 8, 1, -125, -125, max8 - 125, "%", "Actual Engine - Percent Torque"},
	{190, PGNEEC1, 4, 1, 16, 0.125, 0, 0, max16 * 0.125, "rpm", "Engine Speed"},
	{2432, PGNEEC1, 8, 1, 8, 1, -125, -125, max8 - 125, "%", "Engine Demand - Percent Torque"},

	// EEC2: electronic engine controller 2, accelerator pedal (50 ms).
	{558, PGNEEC2, 1, 1, 2, 1, 0, 0, 1, "", "Accelerator Pedal 1 Low Idle Switch"},
	{559, PGNEEC2, 1, 3, 2, 1, 0, 0, 1, "", "Accelerator Pedal Kickdown Switch"},
	{1437, PGNEEC2, 1, 5, 2, 1, 0, 0, 1, "", "Road Speed Limit Status"},
	{2970, PGNEEC2, 1, 7, 2, 1, 0, 0, 1, "", "Accelerator Pedal 2 Low Idle Switch"},
	{91, PGNEEC2, 2, 1, 8, 0.4, 0, 0, max8 * 0.4, "%", "Accelerator Pedal Position 1"},
	{92, PGNEEC2, 3, 1, 8, 1, 0, 0, max8, "%", "Engine Percent Load At Current Speed"},
	{974, PGNEEC2, 4, 1, 8, 0.4, 0, 0, max8 * 0.4, "%", "Remote Accelerator Pedal Position"},
	{29, PGNEEC2, 5, 1, 8, 0.4, 0, 0, max8 * 0.4, "%", "Accelerator Pedal Position 2"},

	// EEC3: electronic engine controller 3 (250 ms).
	{514, PGNEEC3, 1, 1, 8, 1, -125, -125, max8 - 125, "%", "Nominal Friction - Percent Torque"},
	{515, PGNEEC3, 2, 1, 16, 0.125, 0, 0, max16 * 0.125, "rpm", "Engine's Desired Operating Speed"},
	{2978, PGNEEC3, 5, 1, 8, 1, -125, -125, max8 - 125, "%", "Estimated Engine Parasitic Losses - Percent Torque"},
	{3236, PGNEEC3, 6, 1, 16, 0.2, 0, 0, max16 * 0.2, "kg/h", "Aftertreatment 1 Exhaust Gas Mass Flow Rate"},

	// CCVS1: cruise control/vehicle speed 1 (100 ms).
	{69, PGNCCVS1, 1, 1, 2, 1, 0, 0, 1, "", "Two Speed Axle Switch"},
	{70, PGNCCVS1, 1, 3, 2, 1, 0, 0, 1, "", "Parking Brake Switch"},
	{1633, PGNCCVS1, 1, 5, 2, 1, 0, 0, 1, "", "Cruise Control Pause Switch"},
	{84, PGNCCVS1, 2, 1, 16, 1.0 / 256, 0, 0, max16 / 256.0, "km/h", "Wheel-Based Vehicle Speed"},
	{595, PGNCCVS1, 4, 1, 2, 1, 0, 0, 1, "", "Cruise Control Active"},
	{596, PGNCCVS1, 4, 3, 2, 1, 0, 0, 1, "", "Cruise Control Enable Switch"},
	{597, PGNCCVS1, 4, 5, 2, 1, 0, 0, 1, "", "Brake Switch"},
	{598, PGNCCVS1, 4, 7, 2, 1, 0, 0, 1, "", "Clutch Switch"},
	{599, PGNCCVS1, 5, 1, 2, 1, 0, 0, 1, "", "Cruise Control Set Switch"},
	{600, PGNCCVS1, 5, 3, 2, 1, 0, 0, 1, "", "Cruise Control Coast (Decelerate) Switch"},
	{601, PGNCCVS1, 5, 5, 2, 1, 0, 0, 1, "", "Cruise Control Resume Switch"},
	{602, PGNCCVS1, 5, 7, 2, 1, 0, 0, 1, "", "Cruise Control Accelerate Switch"},
	{86, PGNCCVS1, 6, 1, 8, 1, 0, 0, max8, "km/h", "Cruise Control Set Speed"},

	// ET1: engine temperature 1 (1 s).
	{110, PGNET1, 1, 1, 8, 1, -40, -40, max8 - 40, "°C", "Engine Coolant Temperature"},
	{174, PGNET1, 2, 1, 8, 1, -40, -40, max8 - 40, "°C", "Engine Fuel Temperature 1"},
	{175, PGNET1, 3, 1, 16, 0.03125, -273, -273, max16*0.03125 - 273, "°C", "Engine Oil Temperature 1"},
	{176, PGNET1, 5, 1, 16, 0.03125, -273, -273, max16*0.03125 - 273, "°C", "Engine Turbocharger Oil Temperature"},
	{52, PGNET1, 7, 1, 8, 1, -40, -40, max8 - 40, "°C", "Engine Intercooler Temperature"},
	{1134, PGNET1, 8, 1, 8, 0.4, 0, 0, max8 * 0.4, "%", "Engine Intercooler Thermostat Opening"},

	// EFL/P1: engine fluid level/pressure 1 (500 ms).
	{94, PGNEFLP1, 1, 1, 8, 4, 0, 0, max8 * 4, "kPa", "Engine Fuel Delivery Pressure"},
	{22, PGNEFLP1, 2, 1, 8, 0.05, 0, 0, max8 * 0.05, "kPa", "Engine Extended Crankcase Blow-by Pressure"},
	{98, PGNEFLP1, 3, 1, 8, 0.4, 0, 0, max8 * 0.4, "%", "Engine Oil Level"},
	{100, PGNEFLP1, 4, 1, 8, 4, 0, 0, max8 * 4, "kPa", "Engine Oil Pressure"},
	{101, PGNEFLP1, 5, 1, 16, 1.0 / 128, -250, -250, max16/128.0 - 250, "kPa", "Engine Crankcase Pressure"},
	{109, PGNEFLP1, 7, 1, 8, 2, 0, 0, max8 * 2, "kPa", "Engine Coolant Pressure"},
	{111, PGNEFLP1, 8, 1, 8, 0.4, 0, 0, max8 * 0.4, "%", "Engine Coolant Level"},

	// LFE1: fuel economy (liquid) (100 ms).
	{183, PGNLFE1, 1, 1, 16, 0.05, 0, 0, max16 * 0.05, "L/h", "Engine Fuel Rate"},
	{184, PGNLFE1, 3, 1, 16, 1.0 / 512, 0, 0, max16 / 512.0, "km/L", "Engine Instantaneous Fuel Economy"},
	{185, PGNLFE1, 5, 1, 16, 1.0 / 512, 0, 0, max16 / 512.0, "km/L", "Engine Average Fuel Economy"},
	{51, PGNLFE1, 7, 1, 8, 0.4, 0, 0, max8 * 0.4, "%", "Engine Throttle Valve 1 Position"},

	// VD: vehicle distance (1 s here; on request in J1939-71).
	{244, PGNVD, 1, 1, 32, 0.125, 0, 0, max32 * 0.125, "km", "Trip Distance"},
	{245, PGNVD, 5, 1, 32, 0.125, 0, 0, max32 * 0.125, "km", "Total Vehicle Distance"},

	// VDHR: high resolution vehicle distance (1 s).
	{917, PGNVDHR, 1, 1, 32, 5, 0, 0, max32 * 5, "m", "High Resolution Total Vehicle Distance"},
	{918, PGNVDHR, 5, 1, 32, 5, 0, 0, max32 * 5, "m", "High Resolution Trip Distance"},

	// HOURS: engine hours, revolutions (on request).
	{247, PGNHours, 1, 1, 32, 0.05, 0, 0, max32 * 0.05, "h", "Engine Total Hours of Operation"},
	{249, PGNHours, 5, 1, 32, 1000, 0, 0, max32 * 1000, "r", "Engine Total Revolutions"},

	// DD: dash display (1 s).
	{80, PGNDD, 1, 1, 8, 0.4, 0, 0, max8 * 0.4, "%", "Washer Fluid Level"},
	{96, PGNDD, 2, 1, 8, 0.4, 0, 0, max8 * 0.4, "%", "Fuel Level 1"},
	{95, PGNDD, 3, 1, 8, 2, 0, 0, max8 * 2, "kPa", "Engine Fuel Filter Differential Pressure"},
	{99, PGNDD, 4, 1, 8, 0.5, 0, 0, max8 * 0.5, "kPa", "Engine Oil Filter Differential Pressure"},
	{169, PGNDD, 5, 1, 16, 0.03125, -273, -273, max16*0.03125 - 273, "°C", "Cargo Ambient Temperature"},
	{38, PGNDD, 7, 1, 8, 0.4, 0, 0, max8 * 0.4, "%", "Fuel Level 2"},

	// VEP1: vehicle electrical power 1 (1 s).
	{114, PGNVEP1, 1, 1, 8, 1, -125, -125, max8 - 125, "A", "Net Battery Current"},
	{115, PGNVEP1, 2, 1, 8, 1, 0, 0, max8, "A", "Alternator Current"},
	{167, PGNVEP1, 3, 1, 16, 0.05, 0, 0, max16 * 0.05, "V", "Charging System Potential (Voltage)"},
	{168, PGNVEP1, 5, 1, 16, 0.05, 0, 0, max16 * 0.05, "V", "Battery Potential / Power Input 1"},
	{158, PGNVEP1, 7, 1, 16, 0.05, 0, 0, max16 * 0.05, "V", "Keyswitch Battery Potential"},

	// AMB: ambient conditions (1 s).
	{108, PGNAMB, 1, 1, 8, 0.5, 0, 0, max8 * 0.5, "kPa", "Barometric Pressure"},
	{170, PGNAMB, 2, 1, 16, 0.03125, -273, -273, max16*0.03125 - 273, "°C", "Cab Interior Temperature"},
	{171, PGNAMB, 4, 1, 16, 0.03125, -273, -273, max16*0.03125 - 273, "°C", "Ambient Air Temperature"},
	{172, PGNAMB, 6, 1, 8, 1, -40, -40, max8 - 40, "°C", "Engine Intake 1 Air Temperature"},
	{79, PGNAMB, 7, 1, 16, 0.03125, -273, -273, max16*0.03125 - 273, "°C", "Road Surface Temperature"},

	// IC1: intake/exhaust conditions 1 (500 ms).
	{81, PGNIC1, 1, 1, 8, 0.5, 0, 0, max8 * 0.5, "kPa", "Engine Diesel Particulate Filter Intake Pressure"},
	{102, PGNIC1, 2, 1, 8, 2, 0, 0, max8 * 2, "kPa", "Engine Intake Manifold #1 Pressure"},
	{105, PGNIC1, 3, 1, 8, 1, -40, -40, max8 - 40, "°C", "Engine Intake Manifold 1 Temperature"},
	{106, PGNIC1, 4, 1, 8, 2, 0, 0, max8 * 2, "kPa", "Engine Intake Air Pressure"},
	{107, PGNIC1, 5, 1, 8, 0.05, 0, 0, max8 * 0.05, "kPa", "Engine Air Filter 1 Differential Pressure"},
	{173, PGNIC1, 6, 1, 16, 0.03125, -273, -273, max16*0.03125 - 273, "°C", "Engine Exhaust Temperature"},
	{112, PGNIC1, 8, 1, 8, 0.5, 0, 0, max8 * 0.5, "kPa", "Engine Coolant Filter Differential Pressure"},

	// TC: turbocharger (1 s).
	{104, PGNTC, 1, 1, 8, 4, 0, 0, max8 * 4, "kPa", "Engine Turbocharger Lube Oil Pressure 1"},
	{103, PGNTC, 2, 1, 16, 4, 0, 0, max16 * 4, "rpm", "Engine Turbocharger 1 Speed"},

	// AT1T1I: aftertreatment 1 diesel exhaust fluid tank 1 information (1 s).
	{1761, PGNAT1T1I, 1, 1, 8, 0.4, 0, 0, max8 * 0.4, "%", "Aftertreatment 1 Diesel Exhaust Fluid Tank Volume"},
	{3031, PGNAT1T1I, 2, 1, 8, 1, -40, -40, max8 - 40, "°C", "Aftertreatment 1 Diesel Exhaust Fluid Tank Temperature 1"},

	// EC1: engine configuration 1 (39 bytes, by BAM every 5 s): the
	// engine's torque map. Points 1 (idle), 2 (endspeed governor kick-in),
	// 3–5 (torque curve), 6 (high idle), 7 (maximum momentary override).
	{188, PGNEC1, 1, 1, 16, 0.125, 0, 0, max16 * 0.125, "rpm", "Engine Speed At Idle, Point 1"},
	{539, PGNEC1, 3, 1, 8, 1, -125, -125, max8 - 125, "%", "Engine Percent Torque At Idle, Point 1"},
	{528, PGNEC1, 4, 1, 16, 0.125, 0, 0, max16 * 0.125, "rpm", "Engine Speed At Point 2"},
	{540, PGNEC1, 6, 1, 8, 1, -125, -125, max8 - 125, "%", "Engine Percent Torque At Point 2"},
	{529, PGNEC1, 7, 1, 16, 0.125, 0, 0, max16 * 0.125, "rpm", "Engine Speed At Point 3"},
	{541, PGNEC1, 9, 1, 8, 1, -125, -125, max8 - 125, "%", "Engine Percent Torque At Point 3"},
	{530, PGNEC1, 10, 1, 16, 0.125, 0, 0, max16 * 0.125, "rpm", "Engine Speed At Point 4"},
	{542, PGNEC1, 12, 1, 8, 1, -125, -125, max8 - 125, "%", "Engine Percent Torque At Point 4"},
	{531, PGNEC1, 13, 1, 16, 0.125, 0, 0, max16 * 0.125, "rpm", "Engine Speed At Point 5"},
	{543, PGNEC1, 15, 1, 8, 1, -125, -125, max8 - 125, "%", "Engine Percent Torque At Point 5"},
	{532, PGNEC1, 16, 1, 16, 0.125, 0, 0, max16 * 0.125, "rpm", "Engine Speed At High Idle, Point 6"},
	{544, PGNEC1, 20, 1, 16, 1, 0, 0, max16, "Nm", "Engine Reference Torque"},
	{533, PGNEC1, 22, 1, 16, 0.125, 0, 0, max16 * 0.125, "rpm", "Engine Maximum Momentary Override Speed, Point 7"},
	{534, PGNEC1, 24, 1, 8, 0.1, 0, 0, max8 * 0.1, "s", "Engine Maximum Momentary Override Time Limit"},
	{535, PGNEC1, 25, 1, 8, 10, 0, 0, max8 * 10, "rpm", "Engine Requested Speed Control Range Lower Limit"},
	{536, PGNEC1, 26, 1, 8, 10, 0, 0, max8 * 10, "rpm", "Engine Requested Speed Control Range Upper Limit"},
	{537, PGNEC1, 27, 1, 8, 1, -125, -125, max8 - 125, "%", "Engine Requested Torque Control Range Lower Limit"},
	{538, PGNEC1, 28, 1, 8, 1, -125, -125, max8 - 125, "%", "Engine Requested Torque Control Range Upper Limit"},
}

// Indexes into table, built once.
var (
	specsByPGN = indexByPGN()
	specsBySPN = indexBySPN()
)

// indexByPGN maps each PGN to its run of consecutive rows in table.
func indexByPGN() map[PGN][]Spec {
	m := make(map[PGN][]Spec)
	for start := 0; start < len(table); {
		end := start + 1
		for end < len(table) && table[end].PGN == table[start].PGN {
			end++
		}
		m[table[start].PGN] = table[start:end:end]
		start = end
	}
	return m
}

// indexBySPN maps each SPN to its row.
func indexBySPN() map[SPN]*Spec {
	m := make(map[SPN]*Spec, len(table))
	for i := range table {
		m[table[i].SPN] = &table[i]
	}
	return m
}

// LookupSPN returns the spec of an SPN this package decodes.
func LookupSPN(spn SPN) (Spec, bool) {
	s, ok := specsBySPN[spn]
	if !ok {
		return Spec{}, false
	}
	return *s, true
}

// Specs returns a copy of the specs of pgn, in the order of their start
// positions, or nil if this package decodes no signal of it.
func Specs(pgn PGN) []Spec {
	s := specsByPGN[pgn]
	if s == nil {
		return nil
	}
	return append([]Spec(nil), s...)
}
