package can

import (
	"encoding/binary"
	"errors"
	"testing"
)

// raw builds a struct can_frame in host byte order.
func raw(canID uint32, n uint8, data ...byte) []byte {
	b := make([]byte, rawFrameSize)
	binary.NativeEndian.PutUint32(b, canID)
	b[4] = n
	copy(b[8:], data)
	return b
}

// rawFrames are frames and their struct can_frame; each decodes to the
// frame and the frame encodes to it.
var rawFrames = []struct {
	name  string
	frame Frame
	raw   []byte
}{
	{"11-bit", frame(0x7E8, 0x03, 0x41, 0x0D, 0x32), raw(0x7E8, 4, 0x03, 0x41, 0x0D, 0x32)},
	{"11-bit 8 bytes", frame(0x7E0, 0x02, 0x09, 0x02, 0x55, 0x55, 0x55, 0x55, 0x55),
		raw(0x7E0, 8, 0x02, 0x09, 0x02, 0x55, 0x55, 0x55, 0x55, 0x55)},
	{"highest 11-bit", frame(0x7FF, 0xFF), raw(0x7FF, 1, 0xFF)},
	{"empty", frame(0x100), raw(0x100, 0)},
	{"29-bit", extended(frame(0x18DAF110, 0x10, 0x14)), raw(0x80000000|0x18DAF110, 2, 0x10, 0x14)},
	{"small 29-bit", extended(frame(0x7E8, 0x01)), raw(0x80000000|0x7E8, 1, 0x01)},
	{"highest 29-bit", extended(frame(0x1FFFFFFF)), raw(0x80000000|0x1FFFFFFF, 0)},
	{"rtr", rtr(frame(0x7DF)), raw(0x40000000|0x7DF, 0)},
	{"29-bit rtr", rtr(extended(frame(0x18DB33F1))), raw(0xC0000000|0x18DB33F1, 0)},
}

func TestDecodeRawFrame(t *testing.T) {
	for _, tt := range rawFrames {
		got, err := decodeRawFrame(tt.raw)
		if err != nil || got != tt.frame {
			t.Errorf("%s: decodeRawFrame = %+v, %v; want %+v", tt.name, got, err, tt.frame)
		}
	}
}

func TestEncodeRawFrame(t *testing.T) {
	for _, tt := range rawFrames {
		var b [rawFrameSize]byte
		if err := encodeRawFrame(&b, tt.frame); err != nil || string(b[:]) != string(tt.raw) {
			t.Errorf("%s: encodeRawFrame = % X, %v; want % X", tt.name, b, err, tt.raw)
		}
	}
}

// TestRawFrameLayout pins the byte layout on little-endian hosts (x86,
// ARM, the gateways this runs on), independently of the helper above.
func TestRawFrameLayout(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("big-endian host")
	}
	var b [rawFrameSize]byte
	if err := encodeRawFrame(&b, extended(frame(0x18DAF110, 0x10, 0x14, 0x49))); err != nil {
		t.Fatal(err)
	}
	want := [rawFrameSize]byte{0x10, 0xF1, 0xDA, 0x98, 3, 0, 0, 0, 0x10, 0x14, 0x49}
	if b != want {
		t.Errorf("encoded % X, want % X", b, want)
	}
}

func TestDecodeRawFrameLeniency(t *testing.T) {
	// Padding, reserved and len8_dlc bytes and data past len are ignored,
	// and an RTR frame's requested length is not kept.
	b := raw(0x123, 2, 0x01, 0x02, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE)
	b[5], b[6], b[7] = 0xAA, 0xBB, 0x0C
	if got, err := decodeRawFrame(b); err != nil || got != frame(0x123, 0x01, 0x02) {
		t.Errorf("decodeRawFrame = %+v, %v", got, err)
	}
	if got, err := decodeRawFrame(raw(0x40000000|0x123, 4, 1, 2, 3, 4)); err != nil || got != rtr(frame(0x123)) {
		t.Errorf("decodeRawFrame of an RTR frame = %+v, %v", got, err)
	}
}

func TestDecodeRawFrameErrors(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"short", raw(0x123, 1, 1)[:9], ErrMalformed},
		{"long", append(raw(0x123, 1, 1), 0), ErrMalformed},
		{"CAN FD", make([]byte, canFDFrameSize), ErrUnsupported},
		{"error frame", raw(0x20000000|0x04, 8), ErrUnsupported},
		{"length 9", raw(0x123, 9), ErrMalformed},
		{"length 255", raw(0x123, 255), ErrMalformed},
		{"11-bit with high bits", raw(0x800, 0), ErrMalformed},
	}
	for _, tt := range tests {
		if f, err := decodeRawFrame(tt.raw); !errors.Is(err, tt.want) || f != (Frame{}) {
			t.Errorf("%s: decodeRawFrame = %+v, %v; want %v", tt.name, f, err, tt.want)
		}
	}
}

func TestEncodeRawFrameErrors(t *testing.T) {
	tests := map[string]Frame{
		"length 9":              {ID: 0x123, Len: 9},
		"11-bit above 7FF":      frame(0x800),
		"29-bit above 1FFFFFFF": extended(frame(0x20000000)),
	}
	for name, f := range tests {
		b := [rawFrameSize]byte{1, 2, 3}
		if err := encodeRawFrame(&b, f); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: encodeRawFrame = %v, want ErrMalformed", name, err)
		}
	}
}

// TestRawFrameRoundTrip checks that every frame of the logs survives
// encoding and decoding.
func TestRawFrameRoundTrip(t *testing.T) {
	for _, path := range logFiles(t) {
		for _, line := range readLines(t, path) {
			var f Frame
			if err := ParseLine(line, &f); err != nil {
				t.Fatal(err)
			}
			var b [rawFrameSize]byte
			if err := encodeRawFrame(&b, f); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			got, err := decodeRawFrame(b[:])
			got.Time = f.Time
			if err != nil || got != f {
				t.Fatalf("%s: round trip gave %+v, %v", line, got, err)
			}
		}
	}
}
