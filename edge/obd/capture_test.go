package obd

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/fleetwire/fleetwire/edge/can"
)

// plausible bounds the values of a real car, tighter than the formulas'
// ranges: an OBD value outside them would mean a decoding error.
var plausible = map[string][2]float64{
	"engine_speed":           {0, 8000},
	"vehicle_speed":          {0, 250},
	"coolant_temp":           {-40, 215},
	"fuel_level":             {0, 100},
	"control_module_voltage": {0, 20},
}

// capturePass is what a Decoder made of a whole capture.
type capturePass struct {
	responses  map[byte]int      // by response service ID
	answered   map[uint32][]byte // by ECU, the first PID of each Mode 01 answer
	signals    map[uint8]int     // by PID
	minimum    map[string]float64
	maximum    map[string]float64
	supported  map[uint32]Supported // by ECU, as the bitmaps announced
	unknown    map[uint8]int        // ErrUnknownPID, by PID
	refusals   []*NegativeResponseError
	payloads   map[byte][][]byte // by response service ID
	decodeErrs []error
}

// decodeCapture runs every frame of a capture through one Decoder, with
// the test reassembler for the multi-frame answers.
func decodeCapture(t *testing.T, frames []can.Frame) *capturePass {
	t.Helper()
	p := &capturePass{
		responses: map[byte]int{}, answered: map[uint32][]byte{}, signals: map[uint8]int{},
		minimum: map[string]float64{}, maximum: map[string]float64{}, supported: map[uint32]Supported{},
		unknown: map[uint8]int{}, payloads: map[byte][][]byte{},
	}
	d := NewDecoder(newTestReassembler())
	for _, f := range frames {
		resp, ok, err := d.Decode(f)
		if !ok {
			continue
		}
		service := resp.Payload[0]
		p.responses[service]++
		p.payloads[service] = append(p.payloads[service], slices.Clone(resp.Payload))
		var refusal *NegativeResponseError
		switch {
		case errors.As(err, &refusal):
			p.refusals = append(p.refusals, refusal)
			continue
		case errors.Is(err, ErrUnknownPID):
			p.unknown[resp.Payload[1]]++
			continue
		case err != nil:
			p.decodeErrs = append(p.decodeErrs, err)
			continue
		}
		if service != ServiceCurrentData+positiveResponse {
			continue
		}
		p.answered[resp.ECU] = append(p.answered[resp.ECU], resp.Payload[1])
		sup := p.supported[resp.ECU]
		for _, pid := range resp.Supported.PIDs() {
			if pid != resp.Payload[1] { // what the bitmap announces, not that it was answered
				sup.Add(pid)
			}
		}
		p.supported[resp.ECU] = sup
		for _, s := range resp.Signals {
			p.signals[s.PID]++
			checkValue(t, s)
			if lo, ok := p.minimum[s.Name]; !ok || s.Value < lo {
				p.minimum[s.Name] = s.Value
			}
			if hi, ok := p.maximum[s.Name]; !ok || s.Value > hi {
				p.maximum[s.Name] = s.Value
			}
		}
	}
	return p
}

// checkValue fails the test for a value outside its table range or its
// plausible range.
func checkValue(t testing.TB, s Signal) {
	t.Helper()
	var def *Def
	for i, d := range defsOf(s.PID) {
		if d.Name == s.Name {
			def = &defsOf(s.PID)[i]
		}
	}
	switch {
	case def == nil:
		t.Errorf("%v: no Def for this PID and name", s)
	case def.Unit != s.Unit:
		t.Errorf("%v: unit, want %q", s, def.Unit)
	case !(s.Value >= def.Min && s.Value <= def.Max): // also catches NaN
		t.Errorf("%v outside the table range %v..%v", s, def.Min, def.Max)
	}
	if r, ok := plausible[s.Name]; ok && (s.Value < r[0] || s.Value > r[1]) {
		t.Errorf("%v outside the plausible range %v..%v", s, r[0], r[1])
	}
}

// TestCaptureCar decodes the whole CANedge capture and checks it against
// what testdata/README.md states about it.
func TestCaptureCar(t *testing.T) {
	frames := readCandump(t, carLog)
	if len(frames) != 15302 {
		t.Fatalf("%d frames, README says 15,302", len(frames))
	}
	p := decodeCapture(t, frames)
	t.Logf("responses by service ID %v, signals by PID %v, unknown PIDs %v", p.responses, p.signals, p.unknown)

	// 7,651 response frames; the VIN's three frames make one response.
	if got := sum(p.responses); got != 7651-2 {
		t.Errorf("%d responses, want 7,649", got)
	}
	if len(p.decodeErrs) > 0 || len(p.refusals) > 0 {
		t.Errorf("decode errors %v, refusals %v", p.decodeErrs, p.refusals)
	}
	// 28 PIDs round-robin, 273 answers each; PID 0xA4 (gear) is not in the
	// table and fails with ErrUnknownPID; 0x01, 0x03, 0x1C asked once.
	roundRobin := []uint8{0x04, 0x05, 0x06, 0x07, 0x0B, 0x0C, 0x0D, 0x0F, 0x11, 0x13, 0x15, 0x21, 0x2E, 0x2F,
		0x31, 0x33, 0x34, 0x3C, 0x42, 0x43, 0x44, 0x46, 0x49, 0x53, 0x5E, 0x62, 0x63}
	want := map[uint8]int{0x01: 2, 0x03: 2, 0x1C: 1}
	for _, pid := range roundRobin {
		want[pid] = 273 * len(defsOf(pid))
	}
	if !maps.Equal(p.signals, want) {
		t.Errorf("signals by PID:\n got  %v\n want %v", p.signals, want)
	}
	if !maps.Equal(p.unknown, map[uint8]int{0xA4: 273}) {
		t.Errorf("unknown PIDs %v, want A4 273 times", p.unknown)
	}
	// README: speed 0 → max 86 km/h, engine speed up to 2,957 rpm.
	for _, tc := range []struct {
		name   string
		lo, hi float64
	}{
		{"vehicle_speed", 0, 86},
		{"engine_speed", 0, 2957.25},
		{"coolant_temp", 21, 98},                   // 0x3D and 0x8A: a cold start, warming up
		{"control_module_voltage", 11.101, 15.308}, // 0x2B5D, 0x3BCC
		{"distance_since_codes_cleared", 20912, 20939},
		{"fuel_level", 100 * 81.0 / 255, 100 * 84.0 / 255},
		{"fuel_rate", 0, 17.7},
	} {
		if !near(p.minimum[tc.name], tc.lo) || !near(p.maximum[tc.name], tc.hi) {
			t.Errorf("%s spans %v..%v, want %v..%v", tc.name, p.minimum[tc.name], p.maximum[tc.name], tc.lo, tc.hi)
		}
	}
	// README: Mode 03 answered 43 00, no DTCs; Mode 09 VIN starts with TMB.
	if got := p.payloads[0x43]; len(got) != 1 {
		t.Errorf("Mode 03 answers %X, want one", got)
	} else if dtcs, err := DecodeDTCs(got[0]); err != nil || len(dtcs) != 0 {
		t.Errorf("DTCs %v, %v; want none", dtcs, err)
	}
	if got := p.payloads[0x49]; len(got) != 1 {
		t.Errorf("Mode 09 answers %X, want one", got)
	} else if vin, err := DecodeVIN(got[0]); err != nil || !strings.HasPrefix(vin, "TMB") || !VINCheckDigitOK(vin) {
		t.Errorf("VIN %q, %v; want TMB… with a valid check digit", vin, err)
	}
	// The logger never asks for the supported-PID bitmaps.
	if len(p.supported[0x7E8].PIDs()) != 0 {
		t.Errorf("bitmaps %v in a capture without bitmap requests", p.supported)
	}
}

// TestCaptureKona decodes the whole Kona EV capture and checks it against
// testdata/README.md, and the supported-PID bitmaps against what the ECUs
// were asked and answered.
func TestCaptureKona(t *testing.T) {
	frames := readCandump(t, konaLog)
	if len(frames) != 1845 {
		t.Fatalf("%d frames, README says 1,845", len(frames))
	}
	p := decodeCapture(t, frames)
	t.Logf("responses by service ID %v, %d refusals, bitmaps by ECU %v", p.responses, len(p.refusals), p.supported)
	if len(p.decodeErrs) > 0 || len(p.unknown) > 0 {
		t.Errorf("decode errors %v, unknown PIDs %v", p.decodeErrs, p.unknown)
	}

	// README: only the supported-PID requests get Mode 01 answers, so no
	// signals; the EV does not answer PIDs 0B, 0C, 0D, 10, 33.
	if len(p.signals) != 0 {
		t.Errorf("signals %v from an EV that answers only bitmaps", p.signals)
	}
	for ecu, want := range map[uint32]string{
		0x7EB: "[01 20 21 30 31]",
		0x7EC: "[01 20 21 30 31 40 5B]",
	} {
		if got := p.supported[ecu].String(); got != want {
			t.Errorf("ECU %#x announces %s, want %s", ecu, got, want)
		}
	}

	// What the tester asked on 0x7DF (single frame 02 01 PID) …
	var asked Supported
	for _, f := range frames {
		if f.ID == FunctionalRequestID && f.Data[0] == 2 && f.Data[1] == ServiceCurrentData {
			asked.Add(f.Data[2])
		}
	}
	if got, want := asked.String(), "[00 0B 0C 0D 10 20 33 40]"; got != want {
		t.Errorf("asked %s, README says %s", got, want)
	}
	// … each ECU answered exactly where its bitmaps (or PID 0x00, which
	// every OBD ECU must answer) said it would.
	for _, ecu := range []uint32{0x7EA, 0x7EB, 0x7EC, 0x7ED} {
		var answered Supported
		for _, pid := range p.answered[ecu] {
			answered.Add(pid)
		}
		announced := p.supported[ecu]
		var want Supported
		for _, pid := range asked.PIDs() {
			if announced.Has(pid) || (pid == 0x00 && announced.Len() > 0) {
				want.Add(pid)
			}
		}
		if answered != want {
			t.Errorf("ECU %#x answered %s, its bitmaps %s predict %s", ecu, answered, announced, want)
		}
	}

	// README: Mode 03 and 07 answers are 43 00 / 47 00 from all four ECUs
	// (two requests each).
	for _, service := range []byte{0x43, 0x47} {
		if got := len(p.payloads[service]); got != 8 {
			t.Errorf("%d answers %#02x, want 8", got, service)
		}
		for _, payload := range p.payloads[service] {
			if dtcs, err := DecodeDTCs(payload); err != nil || len(dtcs) != 0 {
				t.Errorf("DecodeDTCs(% X) = %v, %v; want none", payload, dtcs, err)
			}
		}
	}
	// README: refusals carry NRC 0x11 or 0x12, to services 0x10/0x18/0x19.
	if len(p.refusals) == 0 {
		t.Error("no negative responses")
	}
	for _, r := range p.refusals {
		if (r.Code != NRCServiceNotSupported && r.Code != NRCSubFunctionNotSupported) ||
			(r.Service != 0x10 && r.Service != 0x18 && r.Service != 0x19) {
			t.Errorf("refusal %v", r)
		}
	}
	// README: the Mode 09 PID 02 reply from 0x7EC is "OSEV__ BMS …", not a VIN.
	var vins int
	for _, payload := range p.payloads[0x49] {
		if payload[1] != pidVIN {
			continue
		}
		vins++
		if _, err := DecodeVIN(payload); !errors.Is(err, ErrInvalidVIN) {
			t.Errorf("DecodeVIN(% X) error %v, want ErrInvalidVIN", payload, err)
		}
		if !strings.HasPrefix(string(payload[3:]), "OSEV__ BMS ") {
			t.Errorf("VIN answer %q", payload[3:])
		}
	}
	if vins != 1 {
		t.Errorf("%d VIN answers, want 1", vins)
	}
}

func sum(m map[byte]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
