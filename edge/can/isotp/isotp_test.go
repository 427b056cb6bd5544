package isotp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
)

const (
	obdLog = "../../../testdata/can/canedge-obd2-car-7512BE4D.log"
	kona   = "../../../testdata/can/kona-ev-2021-dcan-car-scanner-elm327.log"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// frame builds a CAN frame on id at t0 + at.
func frame(id uint32, at time.Duration, data ...byte) can.Frame {
	f := can.Frame{ID: id, Time: t0.Add(at), Len: uint8(len(data))}
	copy(f.Data[:], data)
	return f
}

// noPadding makes segment send the last frame only as long as needed.
const noPadding = -1

// segment splits msg into the frames an ISO-TP sender puts on id, one
// every gap from t0, padded to 8 bytes with pad (or not at all). It is
// the sender side, written independently of the Reassembler.
func segment(id uint32, msg []byte, pad int, gap time.Duration) []can.Frame {
	var frames []can.Frame
	add := func(data []byte) {
		if pad != noPadding {
			for len(data) < 8 {
				data = append(data, byte(pad))
			}
		}
		frames = append(frames, frame(id, time.Duration(len(frames))*gap, data...))
	}
	if len(msg) <= 7 {
		add(append([]byte{byte(len(msg))}, msg...))
		return frames
	}
	add(append([]byte{0x10 | byte(len(msg)>>8), byte(len(msg))}, msg[:6]...))
	sn := byte(1)
	for rest := msg[6:]; len(rest) > 0; sn = (sn + 1) % 16 {
		n := min(len(rest), 7)
		add(append([]byte{0x20 | sn}, rest[:n]...))
		rest = rest[n:]
	}
	return frames
}

// result is what one call of Add returned, with the data copied.
type result struct {
	msg Message
	ok  bool
	err error
}

// feed adds the frames to r and returns the results of all calls.
func feed(r *Reassembler, frames ...can.Frame) []result {
	var results []result
	for _, f := range frames {
		msg, ok, err := r.Add(f)
		msg.Data = bytes.Clone(msg.Data)
		results = append(results, result{msg, ok, err})
	}
	return results
}

// messages returns the messages among results.
func messages(results []result) []Message {
	var msgs []Message
	for _, r := range results {
		if r.ok {
			msgs = append(msgs, r.msg)
		}
	}
	return msgs
}

// errs returns the errors among results.
func errs(results []result) []error {
	var list []error
	for _, r := range results {
		if r.err != nil {
			list = append(list, r.err)
		}
	}
	return list
}

// pattern returns n bytes counting up from 1.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i + 1)
	}
	return b
}

// TestRoundTrip sends messages of many lengths, padded and unpadded,
// through segment and the Reassembler.
func TestRoundTrip(t *testing.T) {
	for _, n := range []int{1, 6, 7, 8, 12, 13, 14, 20, 100, 111, 112, 113, 500, 4094, 4095} {
		for _, pad := range []int{noPadding, 0x00, 0xAA, 0xCC, 0x55} {
			t.Run(fmt.Sprintf("%d bytes pad %d", n, pad), func(t *testing.T) {
				var r Reassembler
				msg := pattern(n)
				frames := segment(0x7E8, msg, pad, time.Millisecond)
				results := feed(&r, frames...)
				if e := errs(results); len(e) != 0 {
					t.Fatalf("errors %v", e)
				}
				msgs := messages(results)
				if len(msgs) != 1 || !results[len(results)-1].ok {
					t.Fatalf("%d messages, want 1 from the last frame", len(msgs))
				}
				got := msgs[0]
				if !bytes.Equal(got.Data, msg) || got.ID != 0x7E8 || got.Extended || !got.Time.Equal(frames[len(frames)-1].Time) {
					t.Errorf("message %+v, want the %d bytes sent", got, n)
				}
				if s := r.Stats(); s.Frames != len(frames) || s.Messages != 1 || r.Pending() != 0 {
					t.Errorf("Stats = %+v, Pending = %d", s, r.Pending())
				}
			})
		}
	}
}

// TestSequenceNumbersWrap checks a message long enough for the sequence
// number to go round more than once: 1…15, 0…15, 0…
func TestSequenceNumbersWrap(t *testing.T) {
	frames := segment(0x7E8, pattern(300), 0xCC, time.Millisecond)
	seen := map[byte]int{}
	for _, f := range frames[1:] {
		seen[f.Data[0]&0x0F]++
	}
	if len(frames) != 43 || seen[0] != 2 || seen[1] != 3 {
		t.Fatalf("segment made %d frames, sequence numbers %v", len(frames), seen)
	}
	var r Reassembler
	if msgs := messages(feed(&r, frames...)); len(msgs) != 1 || !bytes.Equal(msgs[0].Data, pattern(300)) {
		t.Errorf("messages %v", msgs)
	}
}

// TestInterleaved reassembles messages from several senders at once.
func TestInterleaved(t *testing.T) {
	var r Reassembler
	a := segment(0x7E8, pattern(20), 0xCC, time.Millisecond)
	b := segment(0x7E9, pattern(30), 0xAA, time.Millisecond)
	c := segment(0x18DAF110, pattern(10), 0x00, time.Millisecond)
	for i := range c {
		c[i].Extended = true
	}
	// Same number on 7E8 as 29-bit: another sender.
	d := segment(0x7E8, pattern(9), 0x00, time.Millisecond)
	for i := range d {
		d[i].Extended = true
	}
	var all []can.Frame
	for i := range 5 {
		for _, frames := range [][]can.Frame{a, b, c, d} {
			if i < len(frames) {
				all = append(all, frames[i])
			}
		}
	}
	msgs := messages(feed(&r, all...))
	if len(msgs) != 4 {
		t.Fatalf("%d messages, want 4", len(msgs))
	}
	want := map[string]int{"7E8 false": 20, "7E9 false": 30, "18DAF110 true": 10, "7E8 true": 9}
	for _, m := range msgs {
		k := fmt.Sprintf("%X %v", m.ID, m.Extended)
		if n, ok := want[k]; !ok || !bytes.Equal(m.Data, pattern(n)) {
			t.Errorf("message on %s: % X", k, m.Data)
		}
		delete(want, k)
	}
}

// TestProblems feeds broken sequences and checks the messages, errors and
// counts that come out.
func TestProblems(t *testing.T) {
	ms := time.Millisecond
	ff := func(at time.Duration, size int) can.Frame { // a first frame of size bytes
		return frame(0x7E8, at, 0x10|byte(size>>8), byte(size), 1, 2, 3, 4, 5, 6)
	}
	cf := func(at time.Duration, sn byte) can.Frame {
		return frame(0x7E8, at, 0x20|sn, 7, 8, 9, 10, 11, 12, 13)
	}
	tests := []struct {
		name   string
		cfg    Config
		frames []can.Frame
		msgs   [][]byte
		errs   []error // per erring call, in order; each is checked with errors.Is
		stats  Stats   // Frames and Messages are checked separately
	}{
		{name: "consecutive frame without first frame",
			frames: []can.Frame{cf(0, 1)},
			errs:   []error{ErrUnexpected}, stats: Stats{Unexpected: 1}},
		{name: "out of sequence",
			frames: []can.Frame{ff(0, 20), cf(1*ms, 1), cf(2*ms, 3), cf(3*ms, 4)},
			errs:   []error{ErrSequence, ErrUnexpected}, stats: Stats{Sequence: 1, Unexpected: 1}},
		{name: "repeated frame",
			frames: []can.Frame{ff(0, 20), cf(1*ms, 1), cf(2*ms, 1)},
			errs:   []error{ErrSequence}, stats: Stats{Sequence: 1}},
		{name: "timeout",
			frames: []can.Frame{ff(0, 13), cf(1001*ms, 1)},
			errs:   []error{ErrTimeout}, stats: Stats{Timeouts: 1, Unexpected: 1}},
		{name: "just in time",
			frames: []can.Frame{ff(0, 13), cf(1000*ms, 1)},
			msgs:   [][]byte{pattern(13)}},
		{name: "configured timeout",
			cfg:    Config{Timeout: 100 * ms},
			frames: []can.Frame{ff(0, 20), cf(100*ms, 1), cf(201*ms, 2)},
			errs:   []error{ErrTimeout}, stats: Stats{Timeouts: 1, Unexpected: 1}},
		{name: "no timeout without times",
			frames: []can.Frame{{ID: 0x7E8, Len: 8, Data: [8]byte{0x10, 13, 1, 2, 3, 4, 5, 6}},
				{ID: 0x7E8, Len: 8, Data: [8]byte{0x21, 7, 8, 9, 10, 11, 12, 13}}},
			msgs: [][]byte{pattern(13)}},
		{name: "single frame after timeout",
			frames: []can.Frame{ff(0, 20), frame(0x7E8, 5*time.Second, 0x02, 0x41, 0x00)},
			msgs:   [][]byte{{0x41, 0x00}},
			errs:   []error{ErrTimeout}, stats: Stats{Timeouts: 1}},
		{name: "first frame interrupts",
			frames: []can.Frame{ff(0, 20), cf(1*ms, 1), ff(2*ms, 13), cf(3*ms, 1)},
			msgs:   [][]byte{pattern(13)},
			errs:   []error{ErrInterrupted}, stats: Stats{Interrupted: 1}},
		{name: "single frame interrupts",
			frames: []can.Frame{ff(0, 20), frame(0x7E8, 1*ms, 0x01, 0x99), cf(2*ms, 1)},
			msgs:   [][]byte{{0x99}},
			errs:   []error{ErrInterrupted, ErrUnexpected}, stats: Stats{Interrupted: 1, Unexpected: 1}},
		{name: "flow control is skipped",
			frames: []can.Frame{ff(0, 13), frame(0x7E8, 1*ms, 0x30, 0, 0), cf(2*ms, 1)},
			msgs:   [][]byte{pattern(13)}, stats: Stats{FlowControl: 1}},
		{name: "empty frame",
			frames: []can.Frame{frame(0x7E8, 0)},
			errs:   []error{ErrMalformed}, stats: Stats{Malformed: 1}},
		{name: "remote request",
			frames: []can.Frame{{ID: 0x7E8, RTR: true}},
			errs:   []error{ErrMalformed}, stats: Stats{Malformed: 1}},
		{name: "single frame of length 0",
			frames: []can.Frame{frame(0x7E8, 0, 0x00, 0x41)},
			errs:   []error{ErrMalformed}, stats: Stats{Malformed: 1}},
		{name: "single frame longer than its frame",
			frames: []can.Frame{frame(0x7E8, 0, 0x03, 0x41, 0x00)},
			errs:   []error{ErrMalformed}, stats: Stats{Malformed: 1}},
		{name: "single frame longer than classic CAN allows",
			frames: []can.Frame{frame(0x7E8, 0, 0x08, 1, 2, 3, 4, 5, 6, 7)},
			errs:   []error{ErrMalformed}, stats: Stats{Malformed: 1}},
		{name: "malformed frames leave the message in progress alone",
			frames: []can.Frame{ff(0, 13), frame(0x7E8, 1*ms, 0x00), frame(0x7E8, 2*ms, 0x10, 0x05, 1, 2, 3, 4, 5, 6),
				frame(0x7E8, 3*ms, 0x10, 0x20, 1), frame(0x7E8, 4*ms, 0x45), cf(5*ms, 1)},
			msgs: [][]byte{pattern(13)},
			errs: []error{ErrMalformed, ErrMalformed, ErrMalformed, ErrMalformed}, stats: Stats{Malformed: 4}},
		{name: "consecutive frame cut short",
			frames: []can.Frame{ff(0, 20), frame(0x7E8, 1*ms, 0x21, 7, 8, 9)},
			errs:   []error{ErrMalformed}, stats: Stats{Malformed: 1}},
		{name: "last consecutive frame may be short",
			frames: []can.Frame{ff(0, 8), frame(0x7E8, 1*ms, 0x21, 7, 8)},
			msgs:   [][]byte{pattern(8)}},
		{name: "32-bit length",
			frames: []can.Frame{frame(0x7E8, 0, 0x10, 0x00, 0x00, 0x00, 0x10, 0x00, 1, 2)},
			errs:   []error{ErrTooLong}, stats: Stats{TooLong: 1}},
		{name: "longer than configured",
			cfg:    Config{MaxLen: 100},
			frames: []can.Frame{ff(0, 101), cf(1*ms, 1)},
			errs:   []error{ErrTooLong, ErrUnexpected}, stats: Stats{TooLong: 1, Unexpected: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReassembler(tt.cfg)
			results := feed(r, tt.frames...)
			msgs := messages(results)
			if len(msgs) != len(tt.msgs) {
				t.Fatalf("%d messages, want %d", len(msgs), len(tt.msgs))
			}
			for i := range msgs {
				if !bytes.Equal(msgs[i].Data, tt.msgs[i]) {
					t.Errorf("message %d = % X, want % X", i, msgs[i].Data, tt.msgs[i])
				}
			}
			got := errs(results)
			if len(got) != len(tt.errs) {
				t.Fatalf("errors %v, want %v", got, tt.errs)
			}
			for i := range got {
				if !errors.Is(got[i], tt.errs[i]) {
					t.Errorf("error %d = %v, want %v", i, got[i], tt.errs[i])
				}
			}
			want := tt.stats
			want.Frames, want.Messages = len(tt.frames), len(tt.msgs)
			if s := r.Stats(); s != want {
				t.Errorf("Stats = %+v\n         want %+v", s, want)
			}
		})
	}
}

// TestErrorsNameTheID checks that errors say which sender they are about.
func TestErrorsNameTheID(t *testing.T) {
	var r Reassembler
	_, _, err := r.Add(frame(0x7E8, 0, 0x21))
	_, _, err2 := r.Add(can.Frame{ID: 0x18DAF110, Extended: true, Len: 1, Data: [8]byte{0x21}})
	if err == nil || err2 == nil ||
		!bytes.Contains([]byte(err.Error()), []byte("7E8")) || !bytes.Contains([]byte(err2.Error()), []byte("18DAF110")) {
		t.Errorf("errors %v and %v do not name the IDs", err, err2)
	}
}

func TestExpire(t *testing.T) {
	var r Reassembler
	feed(&r, segment(0x7E8, pattern(20), 0, time.Millisecond)[:2]...)
	feed(&r, frame(0x7E9, 500*time.Millisecond, 0x10, 20, 1, 2, 3, 4, 5, 6))
	if n := r.Expire(t0.Add(time.Second)); n != 0 || r.Pending() != 2 {
		t.Fatalf("Expire after 1 s = %d, %d pending", n, r.Pending())
	}
	if n := r.Expire(t0.Add(1200 * time.Millisecond)); n != 1 || r.Pending() != 1 {
		t.Fatalf("Expire after 1.2 s = %d, %d pending", n, r.Pending())
	}
	if n := r.Expire(t0.Add(time.Hour)); n != 1 || r.Pending() != 0 || r.Stats().Timeouts != 2 {
		t.Fatalf("Expire after 1 h = %d, %d pending, Stats %+v", n, r.Pending(), r.Stats())
	}
	if n := r.Expire(time.Time{}); n != 0 {
		t.Fatalf("Expire(zero time) = %d", n)
	}
}

// TestBusy checks the bound on messages in progress: a first frame that
// would exceed it is refused, unless a stale message can make room.
func TestBusy(t *testing.T) {
	r := NewReassembler(Config{MaxPending: 2})
	start := func(id uint32, at time.Duration) error {
		_, _, err := r.Add(frame(id, at, 0x10, 20, 1, 2, 3, 4, 5, 6))
		return err
	}
	if err := errors.Join(start(0x7E8, 0), start(0x7E9, 500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := start(0x7EA, 900*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Errorf("third first frame: %v, want ErrBusy", err)
	}
	// A new first frame on an ID in progress replaces its message.
	if err := start(0x7E8, 950*time.Millisecond); !errors.Is(err, ErrInterrupted) {
		t.Errorf("first frame on 7E8 again: %v, want ErrInterrupted", err)
	}
	// By 1.6 s the message on 7E9 has timed out and makes room.
	if err := start(0x7EA, 1600*time.Millisecond); err != nil {
		t.Errorf("first frame after a timeout: %v", err)
	}
	if s := r.Stats(); s.Busy != 1 || s.Timeouts != 1 || s.Interrupted != 1 || r.Pending() != 2 {
		t.Errorf("Stats = %+v, %d pending", s, r.Pending())
	}
}

// TestDataIsNotAliased checks that appending to a returned message's data
// cannot write into the Reassembler's memory.
func TestDataIsNotAliased(t *testing.T) {
	var r Reassembler
	for _, n := range []int{3, 20} {
		frames := segment(0x7E8, pattern(n), 0, time.Millisecond)
		var msg Message
		for _, f := range frames {
			msg, _, _ = r.Add(f)
		}
		if cap(msg.Data) != n {
			t.Errorf("%d-byte message has capacity %d", n, cap(msg.Data))
		}
	}
}

// TestNoAllocations checks the hot path: single frames allocate nothing,
// and multi-frame messages nothing once the Reassembler has warmed up.
func TestNoAllocations(t *testing.T) {
	var r Reassembler
	sf := frame(0x7E8, 0, 0x03, 0x41, 0x0D, 0x32, 0xCC, 0xCC, 0xCC, 0xCC)
	if allocs := testing.AllocsPerRun(1000, func() {
		if _, ok, err := r.Add(sf); !ok || err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("single frame: %v allocations", allocs)
	}
	vin := segment(0x7E8, pattern(20), 0xCC, time.Millisecond)
	if allocs := testing.AllocsPerRun(1000, func() {
		for _, f := range vin {
			if _, _, err := r.Add(f); err != nil {
				t.Fatal(err)
			}
		}
	}); allocs != 0 {
		t.Errorf("VIN: %v allocations", allocs)
	}
}

// logFrames returns the frames of a candump log.
func logFrames(tb testing.TB, path string) []can.Frame {
	tb.Helper()
	file, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer file.Close()
	var frames []can.Frame
	src := can.NewReader(file, can.ReaderOptions{Logger: slog.New(slog.DiscardHandler)})
	if err := src.Run(tb.Context(), func(f can.Frame) error {
		frames = append(frames, f)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return frames
}

// multiFrame reassembles the frames and returns the messages longer than
// a single frame, in hex, with the CAN ID.
func multiFrame(t *testing.T, r *Reassembler, frames []can.Frame) []string {
	t.Helper()
	var got []string
	for _, f := range frames {
		msg, ok, err := r.Add(f)
		if err != nil {
			t.Logf("%03X at %v: %v", f.ID, f.Time, err)
		}
		if ok && len(msg.Data) > 7 {
			got = append(got, fmt.Sprintf("%03X %X", msg.ID, msg.Data))
		}
	}
	return got
}

// TestOBDLog reassembles the OBD-II drive. Its only multi-frame message
// is the answer to Mode 09 PID 02: the VIN, in a first frame (line 11 of
// the log) and two consecutive frames (lines 13 and 14), after the
// logger's flow control on 7E0 (line 12).
func TestOBDLog(t *testing.T) {
	var r Reassembler
	got := multiFrame(t, &r, logFrames(t, obdLog))
	const vin = "TMBJP7NX5NY084923" // README: "the VIN starts with TMB"
	want := "7E8 490201" + hex.EncodeToString([]byte(vin))
	if len(got) != 1 || !equalFold(got[0], want) {
		t.Fatalf("multi-frame messages %q, want [%q]", got, want)
	}
	// 15,302 frames: 2 flow control, the VIN's 3 frames, and 15,297 single
	// frames, requests and answers.
	if s, want := r.Stats(), (Stats{Frames: 15302, Messages: 15297 + 1, FlowControl: 2}); s != want {
		t.Errorf("Stats = %+v, want %+v", s, want)
	}
}

// TestKonaLog reassembles the Kona EV scan. README: Mode 09 answers from
// 7EC and 7ED (PID 02, the "VIN" OSEV__ BMS; PID 04 calibration IDs; PID
// 0A ECU names) and UDS 0x59 answers (read DTCs) from 778, 7A8 and 7D9.
// Two more first frames, from 7CC and 778 answering the functional
// request on 7DF, get no flow control, so no consecutive frames follow:
// they time out when their ECU next speaks, minutes later.
func TestKonaLog(t *testing.T) {
	var r Reassembler
	got := multiFrame(t, &r, logFrames(t, kona))
	want := []string{
		"7EC 490201" + hex.EncodeToString([]byte("OSEV__ BMS \x00\x00\x00\x00\x00\x00")),
		"7ED 490401" + hex.EncodeToString([]byte("EOSEK5L-OS2-D000")),
		"7EC 490401" + hex.EncodeToString([]byte("OSEVB6822R\x00\x00\x00\x00\x00\x00")),
		"7EC 490A01" + hex.EncodeToString([]byte("BECM-B+EnergyCtrl\x00\x00\x00")),
		"7ED 490A01" + hex.EncodeToString([]byte("BCCM-B+ChargerCtrl\x00\x00")),
		"778 59020996030008A8010008567C0008A211000858290008",
		"7A8 5902099603000892100009921100099212000992130009",
		"7D9 59028956B6870856380808580687085614870856430808",
	}
	if len(got) != len(want) {
		t.Fatalf("multi-frame messages\n%q\nwant\n%q", got, want)
	}
	for i := range want {
		if !equalFold(got[i], want[i]) {
			t.Errorf("message %d\n got %s\nwant %s", i, got[i], want[i])
		}
	}
	// README: 1,845 frames; flow control 30 00 00 from the tester on
	// 7E4/7E5 (five times) and 30 00 05 on 770, 7A0, 7D1.
	s := r.Stats()
	if s.Frames != 1845 || s.FlowControl != 8 || s.Timeouts != 2 || r.Pending() != 0 ||
		s.Malformed+s.TooLong+s.Unexpected+s.Sequence+s.Interrupted+s.Busy != 0 {
		t.Errorf("Stats = %+v, %d pending", s, r.Pending())
	}
	// Every other frame is a single-frame message, or part of one of the
	// multi-frame messages: 10 first frames, 21 consecutive frames.
	if s.Messages != 1845-8-10-21+len(want) {
		t.Errorf("%d messages", s.Messages)
	}
}

func equalFold(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }
