package j1939

import (
	"errors"
	"testing"
)

// TestParseVI reads VIN payloads laid out as J1939-71 SPN 237: ASCII ended
// by '*'.
func TestParseVI(t *testing.T) {
	tests := []struct {
		data string
		want string
		err  error
	}{
		{"1FUJGLDR12LM12345*", "1FUJGLDR12LM12345", nil},
		{"1FUJGLDR12LM12345*\xff\xff", "1FUJGLDR12LM12345", nil}, // padding after the delimiter
		{"WDB9634031L123456", "WDB9634031L123456", nil},          // no delimiter
		{"WDB9634031L123456\xff\xff\x00", "WDB9634031L123456", nil},
		{"*", "", nil},
		{"1FUJ\x01GLDR*", "", ErrMalformed},
	}
	for _, tt := range tests {
		got, err := ParseVI([]byte(tt.data))
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ParseVI(%q) = %q, %v, want %q, %v", tt.data, got, err, tt.want, tt.err)
		}
	}
}

// TestParseCI reads component identifications (PGN 65259): make, model,
// serial number, unit number, each ended by '*'.
func TestParseCI(t *testing.T) {
	got, err := ParseCI([]byte("CMMNS*X15*79912345*UNIT 42*"))
	want := ComponentID{Make: "CMMNS", Model: "X15", SerialNumber: "79912345", UnitNumber: "UNIT 42"}
	if err != nil || got != want {
		t.Errorf("ParseCI = %+v, %v, want %+v", got, err, want)
	}
	got, err = ParseCI([]byte("DDC*DD15*"))
	if want := (ComponentID{Make: "DDC", Model: "DD15"}); err != nil || got != want {
		t.Errorf("ParseCI(short) = %+v, %v, want %+v", got, err, want)
	}
	if _, err := ParseCI([]byte("DDC*\x80*")); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseCI(non-ASCII) = %v, want ErrMalformed", err)
	}
}
