package j1939

import (
	"bytes"
	"fmt"
)

// delimiter ends each variable-length text field (SAE J1939-71 §5.1.3).
const delimiter = '*'

// ParseVI reads the vehicle identification number (SPN 237) from a VI
// message (PGN 65260). It comes by BAM or RTS/CTS, as ASCII text ended by
// '*'; text after the delimiter is ignored. A payload without delimiter is
// read to its end, less trailing 0xFF, NUL or space padding. Bytes outside
// printable ASCII are ErrMalformed.
func ParseVI(data []byte) (string, error) {
	vin, _, err := textField(data)
	if err != nil {
		return "", fmt.Errorf("VI: %w", err)
	}
	return vin, nil
}

// ComponentID is a component identification (PGN 65259): four text fields,
// each ended by '*'.
type ComponentID struct {
	Make         string // SPN 586
	Model        string // SPN 587
	SerialNumber string // SPN 588
	UnitNumber   string // SPN 233, the owner's power unit number
}

// ParseCI reads a component identification message (PGN 65259). Missing
// trailing fields are left empty; bytes outside printable ASCII are
// ErrMalformed.
func ParseCI(data []byte) (ComponentID, error) {
	var ci ComponentID
	for _, field := range []*string{&ci.Make, &ci.Model, &ci.SerialNumber, &ci.UnitNumber} {
		text, rest, err := textField(data)
		if err != nil {
			return ComponentID{}, fmt.Errorf("CI: %w", err)
		}
		*field, data = text, rest
	}
	return ci, nil
}

// textField returns the text before the first delimiter and the bytes
// after it. Without a delimiter, the text is all of data less trailing
// padding and rest is empty.
func textField(data []byte) (text string, rest []byte, err error) {
	field := data
	if i := bytes.IndexByte(data, delimiter); i >= 0 {
		field, rest = data[:i], data[i+1:]
	} else {
		field = bytes.TrimRight(field, "\xff\x00 ")
	}
	for _, c := range field {
		if c < 0x20 || c > 0x7E {
			return "", nil, fmt.Errorf("byte 0x%02X in text field %q: %w", c, field, ErrMalformed)
		}
	}
	return string(field), rest, nil
}
