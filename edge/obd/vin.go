package obd

import "fmt"

// Mode 09 PID 0x02 asks for the VIN.
const pidVIN = 0x02

// vinLength is the length of a VIN (ISO 3779).
const vinLength = 17

// DecodeVIN decodes a Mode 09 PID 0x02 response payload: 49 02 01 and the
// 17 ASCII characters of the VIN. The count byte 01 (number of data items)
// is what ISO 15765-4 sends; it is accepted missing, as older ECUs and
// some adapters leave it out. The VIN is checked with ValidateVIN; its
// check digit is not required (see VINCheckDigitOK).
func DecodeVIN(payload []byte) (string, error) {
	if err := checkService(payload, ServiceVehicleInfo); err != nil {
		return "", err
	}
	if len(payload) < 2 || payload[1] != pidVIN {
		return "", fmt.Errorf("%w: payload % X is not a VIN (Mode 09 PID 02) response", ErrUnexpectedService, payload)
	}
	chars := payload[2:]
	if len(chars) == vinLength+1 && chars[0] == 1 {
		chars = chars[1:]
	}
	vin := string(chars)
	if err := ValidateVIN(vin); err != nil {
		return "", err
	}
	return vin, nil
}

// ValidateVIN checks that vin has 17 characters, each a digit or a capital
// letter other than I, O and Q (ISO 3779). It does not check the check
// digit, which only North American VINs are required to have.
func ValidateVIN(vin string) error {
	if len(vin) != vinLength {
		return fmt.Errorf("%w: %q has %d characters, not 17", ErrInvalidVIN, vin, len(vin))
	}
	for i := range len(vin) {
		if vinValue(vin[i]) < 0 {
			return fmt.Errorf("%w: %q has %q at position %d", ErrInvalidVIN, vin, vin[i], i+1)
		}
	}
	return nil
}

// VINCheckDigitOK reports whether vin is valid and its ninth character is
// the check digit computed from the others (49 CFR 565; 'X' stands for
// 10). North American VINs always pass; European ones often do not, since
// ISO 3779 makes the check digit optional.
func VINCheckDigitOK(vin string) bool {
	if ValidateVIN(vin) != nil {
		return false
	}
	weights := [vinLength]int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}
	sum := 0
	for i := range vinLength {
		sum += vinValue(vin[i]) * weights[i]
	}
	want := byte('0' + sum%11)
	if sum%11 == 10 {
		want = 'X'
	}
	return vin[8] == want
}

// vinValue returns the transliteration value of a VIN character (49 CFR
// 565.15), or -1 for a character a VIN must not contain.
func vinValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'Z' && c != 'I' && c != 'O' && c != 'Q':
		//              ABCDEFGHIJKLMNOPQRSTUVWXYZ
		const values = "12345678-12345-7-923456789"
		return int(values[c-'A'] - '0')
	}
	return -1
}
