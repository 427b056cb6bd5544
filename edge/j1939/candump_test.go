package j1939

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
)

// capturePath is the CANedge J1939 capture described in testdata/README.md:
// 60 s of a heavy vehicle idling, 21,497 frames.
const capturePath = "../../testdata/can/canedge-j1939-heavy-vehicle-11111111-first60s.log"

// parseCandump reads one `candump -l` line, "(1635188455.029900) can1
// 0CF00400#607D84481400F084". It is a minimal test helper: edge/can has the
// real parser.
func parseCandump(line string) (can.Frame, error) {
	fields := strings.Fields(line)
	if len(fields) != 3 || !strings.HasPrefix(fields[0], "(") || !strings.HasSuffix(fields[0], ")") {
		return can.Frame{}, fmt.Errorf("not a candump line: %q", line)
	}
	secs, micros, ok := strings.Cut(strings.Trim(fields[0], "()"), ".")
	if !ok || len(micros) != 6 {
		return can.Frame{}, fmt.Errorf("bad time stamp in %q", line)
	}
	s, err1 := strconv.ParseInt(secs, 10, 64)
	us, err2 := strconv.ParseInt(micros, 10, 64)
	idHex, dataHex, ok := strings.Cut(fields[2], "#")
	id, err3 := strconv.ParseUint(idHex, 16, 32)
	data, err4 := hex.DecodeString(dataHex)
	if !ok || err1 != nil || err2 != nil || err3 != nil || err4 != nil || len(data) > 8 {
		return can.Frame{}, fmt.Errorf("bad frame in %q", line)
	}
	f := can.Frame{
		Time:     time.Unix(s, us*1000).UTC(),
		ID:       uint32(id),
		Extended: len(idHex) == 8,
		Len:      uint8(len(data)),
	}
	copy(f.Data[:], data)
	return f, nil
}

// captureLines returns the lines of the capture file.
var captureLines = sync.OnceValues(func() ([]string, error) {
	file, err := os.Open(capturePath)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var lines []string
	for sc := bufio.NewScanner(file); sc.Scan(); {
		lines = append(lines, sc.Text())
	}
	return lines, nil
})

// captureFrames returns the frames of the capture file, in file order.
var captureFrames = sync.OnceValues(func() ([]can.Frame, error) {
	lines, err := captureLines()
	if err != nil {
		return nil, err
	}
	frames := make([]can.Frame, len(lines))
	for i, line := range lines {
		if frames[i], err = parseCandump(line); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
	}
	return frames, nil
})

// loadCapture returns the capture's frames or fails the test.
func loadCapture(tb testing.TB) []can.Frame {
	tb.Helper()
	frames, err := captureFrames()
	if err != nil {
		tb.Fatalf("load capture: %v", err)
	}
	return frames
}

// mustFrame parses a candump line or fails the test.
func mustFrame(tb testing.TB, line string) can.Frame {
	tb.Helper()
	f, err := parseCandump(line)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func TestParseCandump(t *testing.T) {
	// The first line of the capture.
	f, err := parseCandump("(1635188455.020850) can1 18F00E00#821639C4FFFFFFFF")
	if err != nil {
		t.Fatal(err)
	}
	want := can.Frame{
		Time:     time.Date(2021, 10, 25, 19, 0, 55, 20850000, time.UTC),
		ID:       0x18F00E00,
		Extended: true,
		Len:      8,
		Data:     [8]byte{0x82, 0x16, 0x39, 0xC4, 0xFF, 0xFF, 0xFF, 0xFF},
	}
	if !f.Time.Equal(want.Time) || f.ID != want.ID || f.Extended != want.Extended || f.Len != want.Len || f.Data != want.Data {
		t.Errorf("got %+v, want %+v", f, want)
	}
	for _, bad := range []string{"", "can1 123#00", "(1.000001) can1 123#0", "(1.000001) can1 XYZ#00", "(1.5) can1 123#00"} {
		if _, err := parseCandump(bad); err == nil {
			t.Errorf("parseCandump(%q) accepted", bad)
		}
	}
}
