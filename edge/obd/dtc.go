package obd

import (
	"fmt"
	"strings"
)

// A DTC is a diagnostic trouble code as an ECU sends it: two bytes whose
// first two bits select the system (P powertrain, C chassis, B body,
// U network) and whose remaining 14 bits are the four characters after
// the letter. DTC(0x0301) is "P0301", DTC(0xC100) is "U0100".
type DTC uint16

// dtcLetters maps the two high bits of a DTC to its system letter.
const dtcLetters = "PCBU"

// String returns the code in the usual form, such as "P0301".
func (c DTC) String() string {
	const hex = "0123456789ABCDEF"
	return string([]byte{
		dtcLetters[c>>14],
		hex[c>>12&0x3],
		hex[c>>8&0xF],
		hex[c>>4&0xF],
		hex[c&0xF],
	})
}

// MarshalText implements encoding.TextMarshaler: JSON carries "P0301".
func (c DTC) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseDTC.
func (c *DTC) UnmarshalText(text []byte) error {
	d, err := ParseDTC(string(text))
	if err != nil {
		return err
	}
	*c = d
	return nil
}

// ParseDTC parses a code such as "P0301" or "u0100": a system letter, a
// digit 0–3 and three hex digits.
func ParseDTC(s string) (DTC, error) {
	if len(s) != 5 {
		return 0, fmt.Errorf("%w: DTC %q is not 5 characters", ErrMalformed, s)
	}
	system := strings.IndexByte(dtcLetters, upper(s[0]))
	if system < 0 {
		return 0, fmt.Errorf("%w: DTC %q does not start with P, C, B or U", ErrMalformed, s)
	}
	code := uint16(system) << 14
	for i, shift := 1, 12; i < 5; i, shift = i+1, shift-4 {
		v := hexValue(s[i])
		if v < 0 || (i == 1 && v > 3) {
			return 0, fmt.Errorf("%w: DTC %q has an invalid character %q", ErrMalformed, s, s[i])
		}
		code |= uint16(v) << shift
	}
	return DTC(code), nil
}

// DecodeDTCs decodes a Mode 03, 07 or 0A response payload (0x43, 0x47 or
// 0x4A, then two bytes per DTC). On CAN (ISO 15765-4) the service byte is
// followed by the number of DTCs (43 02 03 01 C1 00); the older K-line
// formats, which ELM327 adapters pass through, have no count and pad the
// message with 00 00 (43 03 01 00 00 00 00). The two are told apart by the
// payload length, which is even with a count byte and odd without. Code
// 0x0000 means "no DTC" in both and is left out.
func DecodeDTCs(payload []byte) ([]DTC, error) {
	if len(payload) == 0 {
		return nil, fmt.Errorf("%w: empty payload", ErrMalformed)
	}
	switch payload[0] {
	case negativeResponseService:
		return nil, negative(0, payload)
	case ServiceStoredDTCs + positiveResponse, ServicePendingDTCs + positiveResponse, ServicePermanentDTCs + positiveResponse:
	default:
		return nil, fmt.Errorf("%w: payload % X is not a DTC response (43, 47 or 4A)", ErrUnexpectedService, payload)
	}
	codes := payload[1:]
	if len(payload)%2 == 0 { // service, count, pairs
		count := int(payload[1])
		codes = payload[2:]
		if count != len(codes)/2 {
			return nil, fmt.Errorf("%w: DTC count %d but %d codes in % X", ErrMalformed, count, len(codes)/2, payload)
		}
	}
	var dtcs []DTC
	for i := 0; i+1 < len(codes); i += 2 {
		if c := DTC(codes[i])<<8 | DTC(codes[i+1]); c != 0 {
			dtcs = append(dtcs, c)
		}
	}
	return dtcs, nil
}

// upper returns the ASCII capital of a letter, c unchanged otherwise.
func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// hexValue returns the value of a hex digit, -1 for other bytes.
func hexValue(c byte) int {
	switch c = upper(c); {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
