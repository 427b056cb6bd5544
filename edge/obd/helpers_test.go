package obd

import (
	"bufio"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
)

// The OBD-II captures described in testdata/README.md.
const (
	carLog  = "../../testdata/can/canedge-obd2-car-7512BE4D.log"
	konaLog = "../../testdata/can/kona-ev-2021-dcan-car-scanner-elm327.log"
)

// readCandump reads a candump -L log, "(seconds.micros) ifname ID#HEX" per
// line. It is deliberately minimal (edge/can has the real parser): the
// captures are known to be clean, so any other line fails the test.
func readCandump(tb testing.TB, path string) []can.Frame {
	tb.Helper()
	file, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer file.Close()
	var frames []can.Frame
	sc := bufio.NewScanner(file)
	for line := 1; sc.Scan(); line++ {
		f, err := parseCandumpLine(sc.Text())
		if err != nil {
			tb.Fatalf("%s:%d: %v", path, line, err)
		}
		frames = append(frames, f)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return frames
}

// parseCandumpLine parses one "(ts) ifname ID#HEX" line.
func parseCandumpLine(line string) (can.Frame, error) {
	var f can.Frame
	fields := strings.Fields(line)
	if len(fields) != 3 || !strings.HasPrefix(fields[0], "(") || !strings.HasSuffix(fields[0], ")") {
		return f, strconv.ErrSyntax
	}
	sec, micro, _ := strings.Cut(strings.Trim(fields[0], "()"), ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return f, err
	}
	us, err := strconv.ParseInt(micro, 10, 64)
	if err != nil {
		return f, err
	}
	f.Time = time.Unix(s, us*1000).UTC()
	id, data, ok := strings.Cut(fields[2], "#")
	if !ok {
		return f, strconv.ErrSyntax
	}
	n, err := strconv.ParseUint(id, 16, 32)
	if err != nil {
		return f, err
	}
	f.ID, f.Extended = uint32(n), len(id) > 3
	b, err := hex.DecodeString(data)
	if err != nil || len(b) > 8 {
		return f, strconv.ErrSyntax
	}
	f.Len = uint8(copy(f.Data[:], b))
	return f, nil
}

// frame parses one candump line for a test case, such as
// "(1725694999.693250) can1 7E8#0641010027E100CC" or just "7E8#0641010027E100CC".
func frame(tb testing.TB, line string) can.Frame {
	tb.Helper()
	if !strings.HasPrefix(line, "(") {
		line = "(0.0) can1 " + line
	}
	f, err := parseCandumpLine(line)
	if err != nil {
		tb.Fatalf("test frame %q: %v", line, err)
	}
	return f
}

// unhex decodes a test payload written as "41 0C 1A F8".
func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		tb.Fatalf("test payload %q: %v", s, err)
	}
	return b
}

// testReassembler is the smallest ISO-TP receiver that reads the
// captures' multi-frame answers (first frame 1L LL, consecutive frames
// 2N), standing in for edge/can/isotp. It ignores sequence numbers and
// sends no flow control.
type testReassembler struct {
	pending map[uint32][]byte // by ECU, the bytes so far
	want    map[uint32]int    // by ECU, the message length
}

func newTestReassembler() *testReassembler {
	return &testReassembler{pending: map[uint32][]byte{}, want: map[uint32]int{}}
}

func (r *testReassembler) Add(f can.Frame) ([]byte, uint32, bool) {
	data := f.Payload()
	switch data[0] >> 4 {
	case 1:
		r.want[f.ID] = int(data[0]&0x0F)<<8 | int(data[1])
		r.pending[f.ID] = append([]byte(nil), data[2:]...)
	case 2:
		if _, ok := r.want[f.ID]; !ok {
			return nil, 0, false
		}
		r.pending[f.ID] = append(r.pending[f.ID], data[1:]...)
	}
	if buf, n := r.pending[f.ID], r.want[f.ID]; n > 0 && len(buf) >= n {
		delete(r.pending, f.ID)
		delete(r.want, f.ID)
		return buf[:n], f.ID, true
	}
	return nil, 0, false
}
