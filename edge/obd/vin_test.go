package obd

import (
	"errors"
	"testing"
)

func TestDecodeVIN(t *testing.T) {
	for _, tc := range []struct {
		payload string
		want    string
		source  string
	}{
		// The CANedge capture's three-frame answer (lines 11, 13, 14):
		// 10 14 | 49 02 01 54 4D 42, 21 4A 50 37 4E 58 35 4E, 22 59 30 38 34 39 32 33.
		{"49 02 01 54 4D 42 4A 50 37 4E 58 35 4E 59 30 38 34 39 32 33", "TMBJP7NX5NY084923", "CANedge capture"},
		// The same VIN without the count byte, as older ECUs send it.
		{"49 02 54 4D 42 4A 50 37 4E 58 35 4E 59 30 38 34 39 32 33", "TMBJP7NX5NY084923", "no count byte"},
		// Wikipedia's "Vehicle identification number" check-digit example.
		{"49 02 01 31 4D 38 47 44 4D 39 41 58 4B 50 30 34 32 37 38 38", "1M8GDM9AXKP042788", "Wikipedia"},
	} {
		got, err := DecodeVIN(unhex(t, tc.payload))
		if err != nil || got != tc.want {
			t.Errorf("%s: DecodeVIN = %q, %v; want %q", tc.source, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		payload string
		want    error
		source  string
	}{
		// The Kona capture's 0x7EC answer: "OSEV__ BMS", a space and six
		// zero bytes, not a VIN (testdata/README.md).
		{"49 02 01 4F 53 45 56 5F 5F 20 42 4D 53 20 00 00 00 00 00 00", ErrInvalidVIN, "Kona 0x7EC"},
		{"49 02 01 54 4D 42", ErrInvalidVIN, "too short"},
		{"49 02 01 74 6D 62 6A 70 37 6E 78 35 6E 79 30 38 34 39 32 33", ErrInvalidVIN, "lower case"},
		{"49 04 01 54 4D 42", ErrUnexpectedService, "calibration ID, not VIN"},
		{"49", ErrUnexpectedService, "no PID"},
		{"43 00", ErrUnexpectedService, "Mode 03"},
		{"7F 09 12", ErrNegativeResponse, "refusal"},
		{"", ErrMalformed, "empty"},
	} {
		if _, err := DecodeVIN(unhex(t, tc.payload)); !errors.Is(err, tc.want) {
			t.Errorf("%s: DecodeVIN error %v, want %v", tc.source, err, tc.want)
		}
	}
}

func TestVINCheckDigit(t *testing.T) {
	for _, tc := range []struct {
		vin  string
		want bool
		how  string
	}{
		// Wikipedia's worked example: sum 351, 351 mod 11 = 10 → 'X'.
		{"1M8GDM9AXKP042788", true, "Wikipedia"},
		{"1M8GDM9A1KP042788", false, "Wikipedia with a wrong check digit"},
		// The CANedge car (Škoda, made in the Czech Republic): sum 423,
		// 423 mod 11 = 5 and the ninth character is '5'.
		{"TMBJP7NX5NY084923", true, "CANedge capture, by hand"},
		{"TMBJP7NX5NY08492", false, "16 characters"},
		{"TMBJP7NXINY084923", false, "I is not allowed"},
	} {
		if got := VINCheckDigitOK(tc.vin); got != tc.want {
			t.Errorf("%s: VINCheckDigitOK(%s) = %v, want %v", tc.how, tc.vin, got, tc.want)
		}
	}
}

func TestValidateVIN(t *testing.T) {
	if err := ValidateVIN("TMBJP7NX5NY084923"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "TMBJP7NX5NY08492", "TMBJP7NX5NY0849234", "TMBJP7NX5NY08492O", "TMBJP7NX5NY08492Q", "tmbjp7nx5ny084923", "TMBJP7NX5NY08492-"} {
		if err := ValidateVIN(bad); !errors.Is(err, ErrInvalidVIN) {
			t.Errorf("ValidateVIN(%q) = %v, want ErrInvalidVIN", bad, err)
		}
	}
}
