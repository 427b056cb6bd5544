package obd

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestDTCString(t *testing.T) {
	// SAE J2012 / J1979: bits 15-14 the letter (00 P, 01 C, 10 B, 11 U),
	// bits 13-12 the first digit, then three hex digits.
	for _, tc := range []struct {
		code DTC
		want string
	}{
		{0x0301, "P0301"}, // cylinder 1 misfire
		{0x0133, "P0133"}, // the ELM327 datasheet's Mode 03 example
		{0x5234, "C1234"}, // 01|01 0010 0011 0100
		{0x8001, "B0001"}, // 10|00 …
		{0xC100, "U0100"}, // 11|00 0001 0000 0000: lost communication with ECM
		{0x3FFF, "P3FFF"},
		{0xFFFF, "U3FFF"},
	} {
		if got := tc.code.String(); got != tc.want {
			t.Errorf("DTC(%#04x) = %s, want %s", uint16(tc.code), got, tc.want)
		}
		if back, err := ParseDTC(tc.want); err != nil || back != tc.code {
			t.Errorf("ParseDTC(%s) = %#04x, %v", tc.want, uint16(back), err)
		}
	}
}

func TestParseDTCRoundTrip(t *testing.T) {
	for c := range 1 << 16 {
		code := DTC(c)
		if back, err := ParseDTC(code.String()); err != nil || back != code {
			t.Fatalf("ParseDTC(%s) = %v, %v", code, back, err)
		}
	}
	if got, err := ParseDTC("u0100"); err != nil || got != 0xC100 {
		t.Errorf("ParseDTC(u0100) = %v, %v", got, err)
	}
	for _, bad := range []string{"", "P030", "P03011", "X0301", "P4301", "P03G1", "P 301"} {
		if _, err := ParseDTC(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseDTC(%q) error %v, want ErrMalformed", bad, err)
		}
	}
}

func TestDTCJSON(t *testing.T) {
	b, err := json.Marshal([]DTC{0x0301, 0xC100})
	if err != nil || string(b) != `["P0301","U0100"]` {
		t.Fatalf("json.Marshal = %s, %v", b, err)
	}
	var back []DTC
	if err := json.Unmarshal(b, &back); err != nil || !slices.Equal(back, []DTC{0x0301, 0xC100}) {
		t.Errorf("json.Unmarshal = %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`["Q0301"]`), &back); !errors.Is(err, ErrMalformed) {
		t.Errorf("json.Unmarshal(Q0301) error %v", err)
	}
}

func TestDecodeDTCs(t *testing.T) {
	for _, tc := range []struct {
		payload string
		want    []DTC
		source  string
	}{
		// The captures' answers: no DTCs (CAN format, count 0).
		{"43 00", nil, "CANedge 7E8#024300CC…, Kona 7EA–7ED Mode 03"},
		{"47 00", nil, "Kona 7EA#02470000…, Mode 07"},
		{"4A 00", nil, "Kona 7EA#024A0000…, Mode 0A"},
		// CAN format: count, then the codes.
		{"43 02 03 01 C1 00", []DTC{0x0301, 0xC100}, "ISO 15765-4 layout"},
		{"47 01 52 34", []DTC{0x5234}, "pending C1234"},
		// K-line layout without count, padded to three codes: the ELM327
		// datasheet's example answer to 03.
		{"43 01 33 00 00 00 00", []DTC{0x0133}, "ELM327 datasheet"},
		{"43 01 33 80 01 C1 00", []DTC{0x0133, 0x8001, 0xC100}, "three codes, no count"},
		{"43", nil, "no count, no codes"},
	} {
		got, err := DecodeDTCs(unhex(t, tc.payload))
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: DecodeDTCs(%s) = %v, %v; want %v", tc.source, tc.payload, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		payload string
		want    error
	}{
		{"", ErrMalformed},
		{"43 03 03 01 C1 00", ErrMalformed}, // count 3, two codes
		{"43 01", ErrMalformed},             // count 1, no code
		{"41 0D 32", ErrUnexpectedService},
		{"7F 03 11", ErrNegativeResponse},
	} {
		if _, err := DecodeDTCs(unhex(t, tc.payload)); !errors.Is(err, tc.want) {
			t.Errorf("DecodeDTCs(%s) error %v, want %v", tc.payload, err, tc.want)
		}
	}
}
