package obd

import (
	"math"
	"testing"
)

// formulaCases check every formula of the signal table against values
// worked out by hand from the formula SAE J1979 publishes (reproduced on
// Wikipedia's "OBD-II PIDs" page). Where the ELM327 datasheet (Elm
// Electronics, "ELM327 OBD to RS232 Interpreter") uses the same bytes as
// its example, it says so.
var formulaCases = []struct {
	data string // response payload
	name string
	want float64
	how  string // the hand computation
}{
	{"41 01 83 07 65 04", "mil_on", 1, "A=0x83: bit 7 set"},
	{"41 01 83 07 65 04", "dtc_count", 3, "A=0x83: bits 6-0 = 3"},
	{"41 01 00 07 65 04", "mil_on", 0, "A=0x00: bit 7 clear"},
	{"41 03 02 00", "fuel_system1_status", 2, "A=2: closed loop"},
	{"41 03 02 00", "fuel_system2_status", 0, "B=0: no second system"},
	{"41 04 FF", "engine_load", 100, "100·255/255"},
	{"41 04 80", "engine_load", 100 * 128.0 / 255, "100·128/255 = 50.196…"},
	{"41 05 7B", "coolant_temp", 83, "123−40; ELM327 datasheet example"},
	{"41 05 00", "coolant_temp", -40, "0−40"},
	{"41 06 80", "short_term_fuel_trim_bank1", 0, "100·128/128−100"},
	{"41 07 85", "long_term_fuel_trim_bank1", 3.90625, "100·133/128−100"},
	{"41 08 00", "short_term_fuel_trim_bank2", -100, "100·0/128−100"},
	{"41 09 7A", "long_term_fuel_trim_bank2", -4.6875, "100·122/128−100"},
	{"41 0A 2A", "fuel_pressure", 126, "3·42"},
	{"41 0B 65", "intake_manifold_pressure", 101, "A=101"},
	{"41 0C 1A F8", "engine_speed", 1726, "(256·26+248)/4 = 6904/4; ELM327 datasheet example"},
	{"41 0D 32", "vehicle_speed", 50, "A=50"},
	{"41 0E 8C", "timing_advance", 6, "140/2−64"},
	{"41 0F 3D", "intake_air_temp", 21, "61−40"},
	{"41 10 01 F4", "maf_air_flow", 5, "(256·1+244)/100"},
	{"41 11 33", "throttle_position", 20, "100·51/255"},
	{"41 13 03", "o2_sensors_present", 3, "A=3: bank 1 sensors 1 and 2"},
	{"41 14 5A 80", "o2_sensor1_voltage", 0.45, "90/200"},
	{"41 14 5A 80", "o2_sensor1_fuel_trim", 0, "100·128/128−100"},
	{"41 15 FF FF", "o2_sensor2_voltage", 1.275, "255/200"},
	{"41 15 FF FF", "o2_sensor2_fuel_trim", 99.21875, "100·255/128−100 (0xFF: sensor not used for trim)"},
	{"41 1C 06", "obd_standard", 6, "A=6: EOBD"},
	{"41 1F 04 D2", "run_time", 1234, "256·4+210"},
	{"41 21 00 0A", "distance_mil_on", 10, "256·0+10"},
	{"41 2C CC", "commanded_egr", 80, "100·204/255"},
	{"41 2E 66", "commanded_evap_purge", 40, "100·102/255"},
	{"41 2F 99", "fuel_level", 60, "100·153/255"},
	{"41 30 0F", "warmups_since_codes_cleared", 15, "A=15"},
	{"41 31 51 B0", "distance_since_codes_cleared", 20912, "256·81+176"},
	{"41 33 63", "barometric_pressure", 99, "A=99"},
	{"41 34 40 00 7F 00", "o2_sensor1_lambda", 0.5, "2·(256·64+0)/65536"},
	{"41 34 40 00 7F 00", "o2_sensor1_current", -1, "(256·127+0)/256−128"},
	{"41 3C 11 94", "catalyst_temp_bank1_sensor1", 410, "(256·17+148)/10−40 = 4500/10−40"},
	{"41 42 39 91", "control_module_voltage", 14.737, "(256·57+145)/1000"},
	{"41 43 01 00", "absolute_load", 25600.0 / 255, "100·(256·1+0)/255 = 100.39…"},
	{"41 44 80 00", "commanded_equivalence_ratio", 1, "2·(256·128+0)/65536"},
	{"41 45 33", "relative_throttle_position", 20, "100·51/255"},
	{"41 46 3C", "ambient_air_temp", 20, "60−40"},
	{"41 47 66", "absolute_throttle_position_b", 40, "100·102/255"},
	{"41 49 99", "accelerator_pedal_position_d", 60, "100·153/255"},
	{"41 4A CC", "accelerator_pedal_position_e", 80, "100·204/255"},
	{"41 4C FF", "commanded_throttle_actuator", 100, "100·255/255"},
	{"41 4D 00 3C", "run_time_mil_on", 60, "256·0+60"},
	{"41 4E 01 00", "time_since_codes_cleared", 256, "256·1+0"},
	{"41 51 01", "fuel_type", 1, "A=1: gasoline"},
	{"41 52 33", "ethanol_fuel", 20, "100·51/255"},
	{"41 53 01 90", "evap_vapor_pressure_abs", 2, "(256·1+144)/200"},
	{"41 5A 66", "relative_accelerator_pedal_position", 40, "100·102/255"},
	{"41 5B CC", "hybrid_battery_remaining_life", 80, "100·204/255"},
	{"41 5C 82", "engine_oil_temp", 90, "130−40"},
	{"41 5E 01 62", "fuel_rate", 17.7, "(256·1+98)/20 = 354/20"},
	{"41 61 7D", "driver_demand_torque", 0, "125−125"},
	{"41 62 FF", "actual_engine_torque", 130, "255−125"},
	{"41 63 00 FA", "engine_reference_torque", 250, "256·0+250"},
	{"41 A6 00 01 E2 40", "odometer", 12345.6, "(0·2^24+1·2^16+226·2^8+64)/10 = 123456/10"},
}

func TestFormulas(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range formulaCases {
		t.Run(tc.name+"/"+tc.data, func(t *testing.T) {
			signals, err := DecodeResponse(unhex(t, tc.data))
			if err != nil {
				t.Fatalf("DecodeResponse(%s): %v", tc.data, err)
			}
			for _, s := range signals {
				if s.Name == tc.name {
					if !near(s.Value, tc.want) {
						t.Errorf("%s = %v, want %v (%s)", s.Name, s.Value, tc.want, tc.how)
					}
					covered[tc.name] = true
					return
				}
			}
			t.Errorf("no signal %s in %v", tc.name, signals)
		})
	}
	for _, d := range table {
		if !covered[d.Name] {
			t.Errorf("formula of PID %#02x %s has no test case", d.PID, d.Name)
		}
	}
}

// TestTable checks the table's shape, which the index and the decoder
// rely on: ordered by PID, a PID's Defs together and of one length, no
// bitmap PIDs, unique names.
func TestTable(t *testing.T) {
	if len(table) > 255 {
		t.Fatalf("%d Defs: the index holds uint8 offsets", len(table))
	}
	names := map[string]bool{}
	for i, d := range table {
		if i > 0 && table[i-1].PID > d.PID {
			t.Errorf("PID %#02x after %#02x: table not ordered", d.PID, table[i-1].PID)
		}
		if d.Bytes < 1 || d.Bytes > 4 {
			t.Errorf("PID %#02x: %d bytes", d.PID, d.Bytes)
		}
		if n, _ := dataLen(d.PID); n != d.Bytes {
			t.Errorf("PID %#02x %s: %d bytes, its first Def says %d", d.PID, d.Name, d.Bytes, n)
		}
		if isBitmapPID(d.PID) {
			t.Errorf("PID %#02x is a supported-PID bitmap", d.PID)
		}
		if names[d.Name] {
			t.Errorf("name %s twice", d.Name)
		}
		names[d.Name] = true
		if d.Min >= d.Max {
			t.Errorf("%s: range %v..%v", d.Name, d.Min, d.Max)
		}
	}
	for pid := range 256 {
		got := defsOf(uint8(pid))
		for _, d := range got {
			if d.PID != uint8(pid) {
				t.Errorf("index of PID %#02x holds %s of PID %#02x", pid, d.Name, d.PID)
			}
		}
		want := 0
		for _, d := range table {
			if d.PID == uint8(pid) {
				want++
			}
		}
		if len(got) != want {
			t.Errorf("index of PID %#02x holds %d Defs, table %d", pid, len(got), want)
		}
	}
}

// TestRanges evaluates every formula over the corner bytes (all 256 values
// for one-byte PIDs): the results stay within Min..Max and reach both,
// so the table's ranges are exact.
func TestRanges(t *testing.T) {
	corners := []byte{0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF}
	for _, d := range table {
		values := corners
		if d.Bytes == 1 {
			values = make([]byte, 256)
			for i := range values {
				values[i] = byte(i)
			}
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		var data [4]byte
		var walk func(i int)
		walk = func(i int) {
			if i == d.Bytes {
				v := d.signal(data[:d.Bytes]).Value
				lo, hi = min(lo, v), max(hi, v)
				return
			}
			for _, b := range values {
				data[i] = b
				walk(i + 1)
			}
		}
		walk(0)
		if !near(lo, d.Min) || !near(hi, d.Max) {
			t.Errorf("%s: formula spans %v..%v, table says %v..%v", d.Name, lo, hi, d.Min, d.Max)
		}
	}
}

func TestLookup(t *testing.T) {
	defs := Lookup(0x01)
	if len(defs) != 2 || defs[0].Name != "mil_on" || defs[1].Name != "dtc_count" {
		t.Errorf("Lookup(0x01) = %v", defs)
	}
	defs[0].Name = "changed"
	if table[0].Name != "mil_on" {
		t.Error("Lookup returned the table itself")
	}
	for _, pid := range []uint8{0x00, 0x12, 0xA4, 0xFF} {
		if got := Lookup(pid); got != nil {
			t.Errorf("Lookup(%#02x) = %v, want nil", pid, got)
		}
	}
	if got := Defs(); len(got) != len(table) {
		t.Errorf("Defs() has %d entries, want %d", len(got), len(table))
	}
}

func TestSignalString(t *testing.T) {
	for _, tc := range []struct {
		s    Signal
		want string
	}{
		{Signal{PID: 0x0C, Name: "engine_speed", Unit: RPM, Value: 920}, "engine_speed=920 rpm"},
		{Signal{PID: 0x42, Name: "control_module_voltage", Unit: Volt, Value: 14.737}, "control_module_voltage=14.737 V"},
		{Signal{PID: 0x01, Name: "dtc_count", Unit: NoUnit, Value: 3}, "dtc_count=3"},
	} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// near compares decoded values, which are results of float arithmetic.
func near(got, want float64) bool { return math.Abs(got-want) <= 1e-9*max(1, math.Abs(want)) }
