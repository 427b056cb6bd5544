package obd

import (
	"errors"
	"slices"
	"testing"
)

// captureCases are response frames copied from the CANedge capture
// (testdata/can/canedge-obd2-car-7512BE4D.log, line numbers given), with
// the values worked out by hand with the J1979 formulas.
var captureCases = []struct {
	line string
	want map[string]float64
}{
	// Line 2, the answer to PID 0x01: A=0x00, MIL off, no DTCs (the log's
	// Mode 03 answer 43 00 agrees).
	{"(1725694999.693250) can1 7E8#0641010027E100CC", map[string]float64{"mil_on": 0, "dtc_count": 0}},
	{"(1725695000.093250) can1 7E8#03411C06CCCCCCCC", map[string]float64{"obd_standard": 6}},  // line 6: EOBD
	{"(1725695000.893300) can1 7E8#0341053DCCCCCCCC", map[string]float64{"coolant_temp": 21}}, // line 18: 0x3D−40
	{"(1725695001.693350) can1 7E8#04410C0000CCCCCC", map[string]float64{"engine_speed": 0}},  // line 26: engine off
	{"(1725695002.093300) can1 7E8#03410F3DCCCCCCCC", map[string]float64{"intake_air_temp": 21}},
	// The README's maximum engine speed, 2,957 rpm: 0x2E35 = 11829, /4.
	{"(1725695337.578300) can1 7E8#04410C2E35CCCCCC", map[string]float64{"engine_speed": 2957.25}},
	// The README's maximum speed, 86 km/h.
	{"(1725696618.221500) can1 7E8#03410D56CCCCCCCC", map[string]float64{"vehicle_speed": 86}},
	{"7E8#03412F54CCCCCCCC", map[string]float64{"fuel_level": 100 * 84.0 / 255}},        // 32.94 %
	{"7E8#0441423991CCCCCC", map[string]float64{"control_module_voltage": 14.737}},      // 0x3991 = 14737 mV
	{"7E8#04413151B0CCCCCC", map[string]float64{"distance_since_codes_cleared": 20912}}, // 0x51B0
	{"7E8#0441210000CCCCCC", map[string]float64{"distance_mil_on": 0}},
	{"7E8#0341463CCCCCCCCC", map[string]float64{"ambient_air_temp": 20}},
	{"7E8#04415E000DCCCCCC", map[string]float64{"fuel_rate": 0.65}}, // 13/20
	{"7E8#0341043ACCCCCCCC", map[string]float64{"engine_load": 100 * 58.0 / 255}},
	{"7E8#034111DACCCCCCCC", map[string]float64{"throttle_position": 100 * 218.0 / 255}},
	{"7E8#03413363CCCCCCCC", map[string]float64{"barometric_pressure": 99}},
	{"7E8#0341627DCCCCCCCC", map[string]float64{"actual_engine_torque": 0}},
	{"7E8#04416300FACCCCCC", map[string]float64{"engine_reference_torque": 250}},
	{"7E8#06413480008000CC", map[string]float64{"o2_sensor1_lambda": 1, "o2_sensor1_current": 0}},
}

func TestDecodeCaptureFrames(t *testing.T) {
	for _, tc := range captureCases {
		t.Run(tc.line, func(t *testing.T) {
			f := frame(t, tc.line)
			n := f.Data[0] // single-frame ISO-TP: PCI = length
			signals, err := DecodeResponse(f.Data[1 : 1+n])
			if err != nil {
				t.Fatal(err)
			}
			if len(signals) != len(tc.want) {
				t.Errorf("got %v, want %d signals", signals, len(tc.want))
			}
			for _, s := range signals {
				want, ok := tc.want[s.Name]
				if !ok || !near(s.Value, want) {
					t.Errorf("%v, want %v", s, want)
				}
			}
		})
	}
}

func TestDecodeResponseMultiplePIDs(t *testing.T) {
	// ISO 15765-4 lets one request ask for up to six PIDs; the answer
	// lists each PID with its data. Values as in TestFormulas.
	got, err := DecodeResponse(unhex(t, "41 0C 1A F8 0D 32 05 7B 00 BE 1F A8 13 01 83 07 65 04"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Signal{
		{0x0C, "engine_speed", RPM, 1726},
		{0x0D, "vehicle_speed", KPH, 50},
		{0x05, "coolant_temp", Celsius, 83},
		{0x01, "mil_on", NoUnit, 1},
		{0x01, "dtc_count", NoUnit, 3},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

func TestAppendResponseReusesDst(t *testing.T) {
	buf := make([]Signal, 0, 4)
	got, err := AppendResponse(buf, unhex(t, "41 0D 32"))
	if err != nil || len(got) != 1 || &got[0] != &buf[:1][0] {
		t.Errorf("AppendResponse = %v, %v; want one signal in dst", got, err)
	}
	payload := unhex(t, "41 0C 1A F8 0D 32")
	if n := testing.AllocsPerRun(100, func() { _, _ = AppendResponse(buf[:0], payload) }); n != 0 {
		t.Errorf("AppendResponse allocates %v times", n)
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	for _, tc := range []struct {
		payload string
		want    error
		signals int // decoded before the error
	}{
		{"", ErrMalformed, 0},
		{"41", ErrMalformed, 0},
		{"41 0C 1A", ErrMalformed, 0},       // engine speed needs 2 bytes
		{"41 0D 32 0C 1A", ErrMalformed, 1}, // second PID cut off
		{"41 00 BE 1F A8", ErrMalformed, 0}, // bitmap needs 4 bytes
		// PID 0xA4 (transmission gear) is not in the table; the capture
		// polls it 273 times.
		{"41 A4 01 70 00 00", ErrUnknownPID, 0},
		{"41 0D 32 A4 01 70 00 00", ErrUnknownPID, 1},
		{"43 00", ErrUnexpectedService, 0},
		{"7F 01 12", ErrNegativeResponse, 0},
		{"7F 01", ErrMalformed, 0},
	} {
		got, err := DecodeResponse(unhex(t, tc.payload))
		if !errors.Is(err, tc.want) {
			t.Errorf("DecodeResponse(%s) error %v, want %v", tc.payload, err, tc.want)
		}
		if len(got) != tc.signals {
			t.Errorf("DecodeResponse(%s) = %v, want %d signals before the error", tc.payload, got, tc.signals)
		}
	}
}

func TestNegativeResponse(t *testing.T) {
	// Kona capture: 7EB#037F1911 is 0x7EB refusing UDS ReadDTCInformation
	// (0x19) with serviceNotSupported.
	_, err := DecodeResponse(unhex(t, "7F 19 11"))
	var nr *NegativeResponseError
	if !errors.As(err, &nr) || nr.Service != 0x19 || nr.Code != NRCServiceNotSupported {
		t.Fatalf("error %v, want a refusal of 0x19 with NRC 0x11", err)
	}
	if want := "obd: negative response to service 0x19: serviceNotSupported (0x11)"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
	if got, want := NRC(0x99).String(), "NRC 0x99"; got != want {
		t.Errorf("NRC(0x99) = %q, want %q", got, want)
	}
}

func TestDecodeSupported(t *testing.T) {
	for _, tc := range []struct {
		payload string
		want    []uint8
		source  string
	}{
		// The example of Wikipedia's "OBD-II PIDs" page: BE 1F A8 13.
		{"41 00 BE 1F A8 13", []uint8{0x00, 0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x13, 0x15, 0x1C, 0x1F, 0x20}, "Wikipedia"},
		// Kona capture, 7EC#06410080000001AA: PIDs 01 and 20 only.
		{"41 00 80 00 00 01", []uint8{0x00, 0x01, 0x20}, "Kona 0x7EC, PID 00"},
		// Kona capture, 7EC#06412080018001AA: 21, 30, 31 and the next range.
		{"41 20 80 01 80 01", []uint8{0x20, 0x21, 0x30, 0x31, 0x40}, "Kona 0x7EC, PID 20"},
		// Kona capture, 7EC#06414000000020AA: 5B (hybrid battery life).
		{"41 40 00 00 00 20", []uint8{0x40, 0x5B}, "Kona 0x7EC, PID 40"},
		// Two bitmaps in one response, and a signal PID that is skipped.
		{"41 00 80 00 00 01 0D 32 20 80 01 80 00", []uint8{0x00, 0x01, 0x20, 0x21, 0x30, 0x31}, "Kona 0x7EB, PIDs 00 and 20"},
		// The last range: C0 announces C1–E0, E0 announces E1–FF.
		{"41 C0 00 00 00 01 E0 00 00 00 01", []uint8{0xC0, 0xE0}, "bit past 0xFF dropped"},
		{"41 0D 32", nil, "no bitmap"},
	} {
		got, err := DecodeSupported(unhex(t, tc.payload))
		if err != nil {
			t.Errorf("%s: %v", tc.source, err)
			continue
		}
		if got.String() != hexPIDs(tc.want) {
			t.Errorf("%s: DecodeSupported(%s) = %v, want %s", tc.source, tc.payload, got, hexPIDs(tc.want))
		}
		for _, pid := range tc.want {
			if !got.Has(pid) {
				t.Errorf("%s: Has(%#02x) = false", tc.source, pid)
			}
		}
	}
}

func TestSupportedSet(t *testing.T) {
	var s Supported
	if s.Len() != 0 || s.Has(0) || s.String() != "[]" {
		t.Errorf("zero Supported = %v", s)
	}
	for _, pid := range []uint8{0xFF, 0x00, 0x40, 0x3F} {
		s.Add(pid)
	}
	var o Supported
	o.Add(0x80)
	s.Merge(o)
	if got, want := s.String(), "[00 3F 40 80 FF]"; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if s.Len() != 5 || s.Has(0x41) || !s.Has(0x80) {
		t.Errorf("set %v: Len %d, Has(41) %v, Has(80) %v", s, s.Len(), s.Has(0x41), s.Has(0x80))
	}
}
