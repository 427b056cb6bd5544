package can

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// frame builds a Frame for the tables below.
func frame(id uint32, data ...byte) Frame {
	f := Frame{ID: id, Len: uint8(len(data))}
	copy(f.Data[:], data)
	return f
}

func extended(f Frame) Frame { f.Extended = true; return f }
func rtr(f Frame) Frame      { f.RTR = true; return f }
func at(f Frame, sec, usec int64) Frame {
	f.Time = time.Unix(sec, usec*1000).UTC()
	return f
}

// validLines are lines ParseLine accepts: real lines from the logs in
// testdata/can first, then each of candump's forms.
var validLines = []struct {
	name  string
	line  string
	iface string
	want  Frame
}{
	// testdata/can/canedge-obd2-car-7512BE4D.log, lines 1 and 2: a
	// request padded with 0x55, the answer padded with 0xCC.
	{"obd request", "(1725694999.687450) can1 7E0#0201015555555555\n", "can1",
		at(frame(0x7E0, 0x02, 0x01, 0x01, 0x55, 0x55, 0x55, 0x55, 0x55), 1725694999, 687450)},
	{"obd answer", "(1725694999.693250) can1 7E8#0641010027E100CC\n", "can1",
		at(frame(0x7E8, 0x06, 0x41, 0x01, 0x00, 0x27, 0xE1, 0x00, 0xCC), 1725694999, 693250)},
	// Line 11: the first frame of the VIN.
	{"obd vin first frame", "(1725695000.493300) can1 7E8#1014490201544D42\n", "can1",
		at(frame(0x7E8, 0x10, 0x14, 0x49, 0x02, 0x01, 0x54, 0x4D, 0x42), 1725695000, 493300)},
	// testdata/can/canedge-j1939-heavy-vehicle-11111111-first60s.log,
	// line 3: EEC1, 29-bit.
	{"j1939 eec1", "(1635188455.029900) can1 0CF00400#607D84481400F084\n", "can1",
		at(extended(frame(0x0CF00400, 0x60, 0x7D, 0x84, 0x48, 0x14, 0x00, 0xF0, 0x84)), 1635188455, 29900)},
	// testdata/can/kona-ev-2021-dcan-car-scanner-elm327.log, line 1:
	// the logger's own clock, seconds since it started.
	{"kona functional request", "(7254.438300) can1 7DF#0201000000000000\n", "can1",
		at(frame(0x7DF, 0x02, 0x01, 0, 0, 0, 0, 0, 0), 7254, 438300)},

	// Log format (-l, -L) variants.
	{"log crlf", "(1600000000.123456) can0 7E8#03410D32\r\n", "can0",
		at(frame(0x7E8, 0x03, 0x41, 0x0D, 0x32), 1600000000, 123456)},
	{"log lowercase", "(1600000000.123456) can0 18fef100#f7000004000000ff", "can0",
		at(extended(frame(0x18FEF100, 0xF7, 0, 0, 0x04, 0, 0, 0, 0xFF)), 1600000000, 123456)},
	{"log small 29-bit id", "(1600000000.000001) can0 00000123#11", "can0",
		at(extended(frame(0x123, 0x11)), 1600000000, 1)},
	{"log empty payload", "(1600000000.000000) can0 123#", "can0", at(frame(0x123), 1600000000, 0)},
	{"log rtr", "(1600000000.000000) can0 7DF#R", "can0", at(rtr(frame(0x7DF)), 1600000000, 0)},
	{"log rtr lowercase with length", "(1600000000.000000) can0 7df#r4", "can0", at(rtr(frame(0x7DF)), 1600000000, 0)},
	{"log rtr raw dlc", "(1600000000.000000) can0 12345678#R8_F", "can0",
		at(rtr(extended(frame(0x12345678))), 1600000000, 0)},
	{"log separators", "(1600000000.000000) can0 123#11.22.33", "can0",
		at(frame(0x123, 0x11, 0x22, 0x33), 1600000000, 0)},
	{"log raw dlc", "(1600000000.000000) can0 123#1122334455667788_C", "can0",
		at(frame(0x123, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88), 1600000000, 0)},
	{"log direction", "(1600000000.500000) vcan0 123#11 T", "vcan0", at(frame(0x123, 0x11), 1600000000, 500000)},
	{"log nanoseconds", "(1600000000.123456789) can0 123#", "can0",
		Frame{Time: time.Unix(1600000000, 123456789).UTC(), ID: 0x123}},
	{"log no fraction", "(1600000000) can0 123#", "can0", at(frame(0x123), 1600000000, 0)},
	{"log padded timestamp", "(0000000012.000100) can0 123#", "can0", at(frame(0x123), 12, 100)},
	{"no timestamp", "can0 7E8#03410D32", "can0", frame(0x7E8, 0x03, 0x41, 0x0D, 0x32)},
	{"tabs", "(1.000000)\tcan0\t7E8#03", "can0", at(frame(0x7E8, 0x03), 1, 0)},

	// Screen format (candump's default).
	{"screen", "  can0  7E8   [4]  03 41 0D 32", "can0", frame(0x7E8, 0x03, 0x41, 0x0D, 0x32)},
	{"screen 29-bit", "  can1  18FEF100   [8]  F7 00 00 04 00 00 00 FF", "can1",
		extended(frame(0x18FEF100, 0xF7, 0, 0, 0x04, 0, 0, 0, 0xFF))},
	{"screen indented 11-bit", "  can1       7E8   [4]  03 41 0D 32", "can1", frame(0x7E8, 0x03, 0x41, 0x0D, 0x32)},
	{"screen lowercase", "  can0  7e8   [2]  0d 3a", "can0", frame(0x7E8, 0x0D, 0x3A)},
	{"screen empty", "  can0  123   [0]", "can0", frame(0x123)},
	{"screen rtr", "  can0  7DF   [4]  remote request", "can0", rtr(frame(0x7DF))},
	{"screen ascii column", "  can0  7E8   [4]  03 41 0D 32         '.A.2'", "can0", frame(0x7E8, 0x03, 0x41, 0x0D, 0x32)},
	{"screen ascii column with spaces", "  can0  7E8   [2]  20 41               ' A'", "can0", frame(0x7E8, 0x20, 0x41)},
	{"screen raw dlc", "  can0  123   {C}  11 22 33 44 55 66 77 88", "can0",
		frame(0x123, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88)},
	{"screen extra info", "  can0  RX - -  7E8   [4]  03 41 0D 32", "can0", frame(0x7E8, 0x03, 0x41, 0x0D, 0x32)},

	// Screen format with -ta.
	{"screen -ta", " (1600000000.123456)  can0  7E8   [4]  03 41 0D 32", "can0",
		at(frame(0x7E8, 0x03, 0x41, 0x0D, 0x32), 1600000000, 123456)},
	{"screen -ta 29-bit", "(1635188455.029900)  can1  0CF00400   [8]  60 7D 84 48 14 00 F0 84", "can1",
		at(extended(frame(0x0CF00400, 0x60, 0x7D, 0x84, 0x48, 0x14, 0x00, 0xF0, 0x84)), 1635188455, 29900)},
}

func TestParseLine(t *testing.T) {
	for _, tt := range validLines {
		t.Run(tt.name, func(t *testing.T) {
			var f Frame
			iface, err := parseLine([]byte(tt.line), &f)
			if err != nil {
				t.Fatalf("ParseLine(%q) = %v", tt.line, err)
			}
			if f != tt.want {
				t.Errorf("ParseLine(%q)\n got %+v\nwant %+v", tt.line, f, tt.want)
			}
			if string(iface) != tt.iface {
				t.Errorf("interface %q, want %q", iface, tt.iface)
			}
		})
	}
}

// TestParseLineUnsupported checks that frames this package does not decode
// are recognised as such.
func TestParseLineUnsupported(t *testing.T) {
	tests := map[string]string{
		"fd":                "(1600000000.000000) can0 123##1DEADBEEF",
		"fd no data":        "(1600000000.000000) can0 123##0",
		"fd 29-bit":         "(1600000000.000000) can0 18DAF110##311223344556677889900AABB",
		"fd separators":     "(1600000000.000000) can0 123##1.DE.AD",
		"fd screen":         "  can0  123  [12]  11 22 33 44 55 66 77 88 99 AA BB CC",
		"fd screen 8 bytes": "  can0  123  [08]  11 22 33 44 55 66 77 88",
		"xl":                "(1600000000.000000) can0 12345#80:00:11223344#AABB",
		"xl screen":         "  can0  345 [0002] (12|80:00:11223344) AA BB",
		"error frame":       "(1600000000.000000) can0 20000004#0004000000000000",
		"error screen":      "  can0  20000004   [8]  00 04 00 00 00 00 00 00   ERRORFRAME",
		"dropcount":         "DROPCOUNT: dropped 3 CAN frames on 'can0' socket (total drops 3)",
	}
	for name, line := range tests {
		t.Run(name, func(t *testing.T) {
			f := frame(1, 2, 3)
			err := ParseLine([]byte(line), &f)
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("ParseLine(%q) = %v, want ErrUnsupported", line, err)
			}
			if f != (Frame{}) {
				t.Errorf("frame %+v left after an error", f)
			}
		})
	}
}

// TestParseLineMalformed checks that broken lines are refused with a
// message that names the problem.
func TestParseLineMalformed(t *testing.T) {
	tests := []struct{ line, problem string }{
		{"", "empty line"},
		{" \r\n", "empty line"},
		{"garbage", "no frame after interface"},
		{"(1600000000.000000 can0 7E8#00", "no closing parenthesis"},
		{"(16x0000000.000000) can0 7E8#00", "not seconds.fraction"},
		{"(1600000000.) can0 7E8#00", "not seconds.fraction"},
		{"(1.2.3) can0 7E8#00", "not seconds.fraction"},
		{"(1600000000.1234567890) can0 7E8#00", "not seconds.fraction"},
		{"(1234567890123.0) can0 7E8#00", "not seconds.fraction"},
		{"(2020-01-01 12:00:00.000000)  can0  7E8   [1]  00", "not seconds.fraction"},
		{"(1600000000.000000)", "no interface name"},
		{"(1600000000.000000) 7E8#00", "no interface name before frame"},
		{"(1600000000.000000) can0", "no frame after interface"},
		{"(1600000000.000000) can0 800#00", "11-bit identifier 800 is above 7FF"},
		{"(1600000000.000000) can0 40000000#00", "29-bit identifier 40000000 is above 1FFFFFFF"},
		{"(1600000000.000000) can0 7E#00", "neither 3 (11-bit) nor 8 (29-bit) hex digits"},
		{"(1600000000.000000) can0 7E80#00", "neither 3 (11-bit) nor 8 (29-bit) hex digits"},
		{"(1600000000.000000) can0 #00", "neither 3"},
		{"(1600000000.000000) can0 7G8#00", "is not hex"},
		{"(1600000000.000000) can0 7E8#0", "odd number of hex digits"},
		{"(1600000000.000000) can0 7E8#0.1", "odd number of hex digits"},
		{"(1600000000.000000) can0 7E8#GG", "is not hex"},
		{"(1600000000.000000) can0 7E8#001122334455667788", "longer than 8 bytes"},
		{"(1600000000.000000) can0 7E8#00_C", "raw DLC"},
		{"(1600000000.000000) can0 7E8#0011223344556677_8", "raw DLC"},
		{"(1600000000.000000) can0 7E8#R9", "remote request"},
		{"(1600000000.000000) can0 7E8#R4_C", "remote request"},
		{"(1600000000.000000) can0 7E8#RR", "remote request"},
		{"(1600000000.000000) can0 123##", "no flags digit"},
		{"(1600000000.000000) can0 123##1ABC", "odd number of hex digits"},
		{"(1600000000.000000) can0 7E8#00 extra", `unexpected "extra" after frame`},
		{"(1600000000.000000) can0 7E8#00 R T", `unexpected "R T" after frame`},
		{"  can0  7E8   [9]  00 01 02 03 04 05 06 07 08", "length \"[9]\""},
		{"  can0  7E8   4  03 41 0D 32", "length \"4\""},
		{"  can0  7E8", "length \"\""},
		{"  can0  7E8   [4]  03 41", "expected 4 data bytes, got 2"},
		{"  can0  7E8   [2]  03 41 0D", `unexpected "0D" after 2 data bytes`},
		{"  can0  7E8   [2]  03 4G", "data byte \"4G\" is not hex"},
		{"  can0  7E8   [2]  03 411", "expected 2 data bytes, got 1"},
		{"  can0  RX -  7E8   [1]  00", "extra message info"},
		{"  can0  RX", "extra message info"},
		{"  can0  1234   [1]  00", "neither 3"},
	}
	for _, tt := range tests {
		var f Frame
		err := ParseLine([]byte(tt.line), &f)
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.problem) {
			t.Errorf("ParseLine(%q) = %v, want ErrMalformed saying %q", tt.line, err, tt.problem)
		}
		if f != (Frame{}) {
			t.Errorf("ParseLine(%q) left %+v after an error", tt.line, f)
		}
	}
}

// TestParseLineErrorMessagesAreShort checks that the text quoted from a
// long line is clipped.
func TestParseLineErrorMessagesAreShort(t *testing.T) {
	line := "(1600000000.000000) can0 7E8#" + strings.Repeat("GG", 1000)
	var f Frame
	err := ParseLine([]byte(line), &f)
	if !errors.Is(err, ErrMalformed) || len(err.Error()) > 120 {
		t.Errorf("ParseLine = %v (%d bytes), want a short ErrMalformed", err, len(err.Error()))
	}
}

// TestParseLineDoesNotAllocate checks every valid form.
func TestParseLineDoesNotAllocate(t *testing.T) {
	for _, tt := range validLines {
		line := []byte(tt.line)
		var f Frame
		allocs := testing.AllocsPerRun(100, func() {
			if err := ParseLine(line, &f); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("ParseLine(%q) allocates %v times", tt.line, allocs)
		}
	}
}
