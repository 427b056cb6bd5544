package j1939

import (
	"math"
	"testing"
)

// TestTableWellFormed checks the signal table against itself: positions
// inside the group, no two SPNs sharing a bit, one run of rows per PGN,
// and ranges that match the largest raw value J1939-71 allows.
func TestTableWellFormed(t *testing.T) {
	seenSPN := map[SPN]bool{}
	seenPGN := map[PGN]bool{}
	bits := map[PGN]map[int]SPN{}
	for i, s := range table {
		if s.StartByte < 1 || s.StartBit < 1 || s.StartBit > 8 || s.Length < 1 || s.Length > 32 {
			t.Errorf("SPN %d: position %d.%d length %d", s.SPN, s.StartByte, s.StartBit, s.Length)
			continue
		}
		if s.Length%8 == 0 && s.StartBit != 1 {
			t.Errorf("SPN %d: byte-wide value not byte aligned", s.SPN)
		}
		end := (int(s.StartByte)-1)*8 + int(s.StartBit) - 1 + int(s.Length)
		if s.PGN != PGNEC1 && end > 64 {
			t.Errorf("SPN %d: ends at bit %d, beyond the 8 bytes of a single frame", s.SPN, end)
		}
		if s.PGN.PDU1() {
			t.Errorf("SPN %d: PGN %v is PDU1; the table holds broadcast groups", s.SPN, s.PGN)
		}
		if s.Name == "" || s.Resolution <= 0 || s.Min >= s.Max {
			t.Errorf("SPN %d: name %q, resolution %v, range %v..%v", s.SPN, s.Name, s.Resolution, s.Min, s.Max)
		}
		if seenSPN[s.SPN] {
			t.Errorf("SPN %d listed twice", s.SPN)
		}
		seenSPN[s.SPN] = true
		if i > 0 && table[i-1].PGN != s.PGN && seenPGN[s.PGN] {
			t.Errorf("SPN %d: PGN %v rows are not consecutive", s.SPN, s.PGN)
		}
		seenPGN[s.PGN] = true
		if bits[s.PGN] == nil {
			bits[s.PGN] = map[int]SPN{}
		}
		for b := end - int(s.Length); b < end; b++ {
			if other, ok := bits[s.PGN][b]; ok {
				t.Errorf("SPN %d and SPN %d share bit %d of PGN %v", s.SPN, other, b, s.PGN)
			}
			bits[s.PGN][b] = s.SPN
		}
		if s.Offset != s.Min {
			t.Errorf("SPN %d: range starts at %v, raw 0 is %v", s.SPN, s.Min, s.Offset)
		}
		// The largest valid raw value must decode to Max and be valid.
		largest := uint32(1)<<s.Length - 3 // bit fields: all ones is n/a, minus one error
		if s.Length%8 == 0 {
			largest = uint32(max8+1)<<(s.Length-8) - 1 // 0xFA, 0xFAFF, 0xFAFFFFFF
		}
		if v := float64(largest)*s.Resolution + s.Offset; math.Abs(v-s.Max) > s.Resolution/2 {
			t.Errorf("SPN %d: Max %v, largest valid raw %#x gives %v", s.SPN, s.Max, largest, v)
		}
	}
	for pgn, specs := range specsByPGN {
		for _, s := range specs {
			if s.PGN != pgn {
				t.Errorf("index: SPN %d under PGN %v", s.SPN, pgn)
			}
		}
	}
}

// frameWith returns an 8-byte payload of 0xFF (not available) with the
// given bytes set, by 1-based position as J1939-71 counts them.
func frameWith(set map[int]byte) []byte {
	data := []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
	for pos, b := range set {
		data[pos-1] = b
	}
	return data
}

// TestSPNFormulas decodes hand-made payloads of each required SPN and
// compares with values worked out by hand from the SAE J1939-71
// definition named in each case (resolution, offset, start position).
func TestSPNFormulas(t *testing.T) {
	tests := []struct {
		spn    SPN
		data   []byte
		want   float64
		status Status
		why    string
	}{
		// SPN 84 wheel-based vehicle speed: CCVS1 bytes 2–3, 1/256 km/h per bit.
		{84, frameWith(map[int]byte{2: 0x00, 3: 0x19}), 25, StatusValid, "0x1900 = 6400 / 256 = 25 km/h"},
		{84, frameWith(map[int]byte{2: 0x80, 3: 0x5A}), 90.5, StatusValid, "0x5A80 = 23168 / 256 = 90.5 km/h"},
		{84, frameWith(map[int]byte{2: 0xFF, 3: 0xFA}), 64255.0 / 256, StatusValid, "0xFAFF, top of range 250.996 km/h"},
		{84, frameWith(map[int]byte{2: 0x00, 3: 0xFB}), 0, StatusOutOfRange, "0xFB00 is reserved"},
		{84, frameWith(map[int]byte{2: 0x00, 3: 0xFE}), 0, StatusError, "0xFExx is the error indicator"},
		{84, frameWith(map[int]byte{2: 0xFF, 3: 0xFF}), 0, StatusNotAvailable, "0xFFFF is not available"},
		// SPN 597 brake switch: CCVS1 byte 4 bits 5–6, 00 released, 01 pressed.
		{597, frameWith(map[int]byte{4: 0xC0 | 0x10 | 0x0F}), 1, StatusValid, "byte 4 = 11 01 1111: pressed"},
		{597, frameWith(map[int]byte{4: 0x00}), 0, StatusValid, "byte 4 = 0: released"},
		{597, frameWith(map[int]byte{4: 0x20}), 0, StatusError, "bits 5–6 = 10: error"},
		{597, frameWith(map[int]byte{4: 0x30}), 0, StatusNotAvailable, "bits 5–6 = 11: not available"},
		// SPN 595 cruise control active: CCVS1 byte 4 bits 1–2.
		{595, frameWith(map[int]byte{4: 0xFD}), 1, StatusValid, "bits 1–2 = 01: active"},
		{595, frameWith(map[int]byte{4: 0xFC}), 0, StatusValid, "bits 1–2 = 00: off"},
		// SPN 70 parking brake switch: CCVS1 byte 1 bits 3–4.
		{70, frameWith(map[int]byte{1: 0xF7}), 1, StatusValid, "byte 1 = 1111 0111: bits 3–4 = 01, set"},
		{70, frameWith(map[int]byte{1: 0xF3}), 0, StatusValid, "bits 3–4 = 00: not set"},
		// SPN 190 engine speed: EEC1 bytes 4–5, 0.125 rpm per bit.
		{190, frameWith(map[int]byte{4: 0x40, 5: 0x1A}), 840, StatusValid, "0x1A40 = 6720 × 0.125 = 840 rpm"},
		{190, frameWith(map[int]byte{4: 0xC0, 5: 0x3E}), 2008, StatusValid, "0x3EC0 = 16064 × 0.125 = 2008 rpm"},
		{190, frameWith(map[int]byte{4: 0xFF, 5: 0xFA}), 8031.875, StatusValid, "0xFAFF: top of range"},
		{190, frameWith(map[int]byte{4: 0x12, 5: 0xFE}), 0, StatusError, "0xFE12: error"},
		{190, frameWith(nil), 0, StatusNotAvailable, "0xFFFF: not available"},
		// SPN 513 actual engine torque: EEC1 byte 3, 1 %/bit, offset −125 %.
		{513, frameWith(map[int]byte{3: 0x7D}), 0, StatusValid, "125 − 125 = 0 %"},
		{513, frameWith(map[int]byte{3: 0x00}), -125, StatusValid, "0 − 125 = −125 %"},
		{513, frameWith(map[int]byte{3: 0xC8}), 75, StatusValid, "200 − 125 = 75 %"},
		{513, frameWith(map[int]byte{3: 0xFA}), 125, StatusValid, "250 − 125 = 125 %"},
		{513, frameWith(map[int]byte{3: 0xFB}), 0, StatusOutOfRange, "251 is reserved"},
		// SPN 110 coolant temperature: ET1 byte 1, 1 °C/bit, offset −40 °C.
		{110, frameWith(map[int]byte{1: 0x00}), -40, StatusValid, "0 − 40 = −40 °C"},
		{110, frameWith(map[int]byte{1: 0x5A}), 50, StatusValid, "90 − 40 = 50 °C"},
		{110, frameWith(map[int]byte{1: 0xFE}), 0, StatusError, "0xFE: error"},
		// SPN 183 fuel rate: LFE1 bytes 1–2, 0.05 L/h per bit.
		{183, frameWith(map[int]byte{1: 0x90, 2: 0x01}), 20, StatusValid, "0x0190 = 400 × 0.05 = 20 L/h"},
		// SPN 245 total vehicle distance: VD bytes 5–8, 0.125 km/bit.
		{245, frameWith(map[int]byte{5: 0x00, 6: 0x10, 7: 0x00, 8: 0x00}), 512, StatusValid, "0x1000 = 4096 × 0.125 = 512 km"},
		{245, frameWith(map[int]byte{5: 0x40, 6: 0x42, 7: 0x0F, 8: 0x00}), 125000, StatusValid, "0x0F4240 = 1,000,000 × 0.125 = 125,000 km"},
		{245, frameWith(map[int]byte{5: 0xFF, 6: 0xFF, 7: 0xFF, 8: 0xFA}), 526385151.875, StatusValid, "0xFAFFFFFF: top of range"},
		{245, frameWith(map[int]byte{5: 0, 6: 0, 7: 0, 8: 0xFB}), 0, StatusOutOfRange, "0xFB000000 is reserved"},
		{245, frameWith(map[int]byte{5: 0, 6: 0, 7: 0, 8: 0xFE}), 0, StatusError, "0xFE000000: error"},
		// SPN 917 high resolution total vehicle distance: VDHR bytes 1–4, 5 m/bit.
		{917, frameWith(map[int]byte{1: 0x40, 2: 0x42, 3: 0x0F, 4: 0x00}), 5e6, StatusValid, "1,000,000 × 5 m = 5,000 km"},
		// SPN 247 engine total hours: HOURS bytes 1–4, 0.05 h/bit.
		{247, frameWith(map[int]byte{1: 0x10, 2: 0x27, 3: 0x00, 4: 0x00}), 500, StatusValid, "0x2710 = 10,000 × 0.05 = 500 h"},
		// SPN 96 fuel level 1: DD byte 2, 0.4 %/bit.
		{96, frameWith(map[int]byte{2: 0xFA}), 100, StatusValid, "250 × 0.4 = 100 %"},
		{96, frameWith(map[int]byte{2: 0x7D}), 50, StatusValid, "125 × 0.4 = 50 %"},
		// SPN 168 battery potential: VEP1 bytes 5–6, 0.05 V/bit.
		{168, frameWith(map[int]byte{5: 0x18, 6: 0x01}), 14, StatusValid, "0x0118 = 280 × 0.05 = 14 V"},
		{168, frameWith(map[int]byte{5: 0x30, 6: 0x02}), 28, StatusValid, "0x0230 = 560 × 0.05 = 28 V"},
		// SPN 175 oil temperature: ET1 bytes 3–4, 0.03125 °C/bit, offset −273 °C.
		{175, frameWith(map[int]byte{3: 0x20, 4: 0x22}), 0, StatusValid, "0x2220 = 8736 × 0.03125 − 273 = 0 °C"},
		// SPN 101 crankcase pressure: EFL/P1 bytes 5–6, 1/128 kPa, offset −250 kPa.
		{101, frameWith(map[int]byte{5: 0x00, 6: 0x7D}), 0, StatusValid, "0x7D00 = 32000 / 128 − 250 = 0 kPa"},
		// A frame too short to hold the SPN.
		{168, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0x18}, 0, StatusNotAvailable, "payload ends inside bytes 5–6"},
	}
	for _, tt := range tests {
		spec, ok := specsBySPN[tt.spn]
		if !ok {
			t.Errorf("SPN %d missing from the table", tt.spn)
			continue
		}
		sig := spec.Decode(tt.data)
		if sig.Status != tt.status || math.Abs(sig.Value-tt.want) > 1e-9 {
			t.Errorf("SPN %d %s from % X: got %v (%v), want %v (%v); %s",
				tt.spn, spec.Name, tt.data, sig.Value, sig.Status, tt.want, tt.status, tt.why)
		}
	}
}

func TestRequiredSPNs(t *testing.T) {
	// The SPNs the edge agent relies on, with their PGN, from the brief
	// and SAE J1939-71.
	want := map[SPN]PGN{
		84: PGNCCVS1, 597: PGNCCVS1, 595: PGNCCVS1, 70: PGNCCVS1,
		190: PGNEEC1, 513: PGNEEC1, 110: PGNET1, 183: PGNLFE1,
		245: PGNVD, 917: PGNVDHR, 247: PGNHours, 96: PGNDD, 168: PGNVEP1,
	}
	for spn, pgn := range want {
		s, ok := LookupSPN(spn)
		if !ok || s.PGN != pgn {
			t.Errorf("LookupSPN(%d) = %v (PGN %v), want PGN %v", spn, ok, s.PGN, pgn)
		}
	}
	if _, ok := LookupSPN(1); ok {
		t.Error("LookupSPN(1) found a spec")
	}
	if got := len(Specs(PGNCCVS1)); got != 13 {
		t.Errorf("Specs(CCVS1) has %d entries, want 13", got)
	}
	if Specs(PGNDM1) != nil {
		t.Error("Specs(DM1) is not nil")
	}
}

func TestExtract(t *testing.T) {
	data := []byte{0b1011_0110, 0x34, 0x12, 0xFF}
	tests := []struct {
		start, length int
		want          uint32
		ok            bool
	}{
		{0, 8, 0xB6, true},
		{1, 2, 0b11, true},   // bits 2–3 of byte 1 (J1939 "1.2")
		{4, 4, 0b1011, true}, // high nibble
		{8, 16, 0x1234, true},
		{4, 8, 0x4B, true}, // straddles bytes 1 and 2
		{0, 32, 0xFF1234B6, true},
		{24, 16, 0, false}, // runs past the end
		{0, 33, 0, false},
		{0, 0, 0, false},
	}
	for _, tt := range tests {
		got, ok := extract(data, tt.start, tt.length)
		if got != tt.want || ok != tt.ok {
			t.Errorf("extract(%d, %d) = %#x, %t, want %#x, %t", tt.start, tt.length, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSignalString(t *testing.T) {
	eec1 := Message{PGN: PGNEEC1, Data: []byte{0x60, 0x7D, 0x84, 0x48, 0x14, 0x00, 0xF0, 0x84}}
	sigs := AppendSignals(nil, eec1)
	if got, want := sigs[2].String(), "SPN 190 Engine Speed = 649 rpm"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	tc := Message{PGN: PGNTC, Data: []byte{0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}}
	sigs = AppendSignals(sigs[:0], tc)
	if got, want := sigs[1].String(), "SPN 103 Engine Turbocharger 1 Speed = error"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
