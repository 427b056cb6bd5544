package isotp

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
)

// fuzzIDs are the senders the fuzzer's frames come from.
var fuzzIDs = [4]uint32{0x7E8, 0x7E9, 0x7EA, 0x18DAF110}

// framesFromBytes turns fuzzer bytes into frames. Each frame takes a
// header byte, bits 0–1 choosing the sender and bits 2–7 the gap to the
// frame before in 50 ms steps (so timeouts happen), then a length byte
// (mod 9) and that many data bytes.
func framesFromBytes(b []byte) []can.Frame {
	var frames []can.Frame
	now := t0
	for len(b) >= 2 {
		header, n := b[0], int(b[1])%9
		b = b[2:]
		n = min(n, len(b))
		now = now.Add(time.Duration(header>>2) * 50 * time.Millisecond)
		f := can.Frame{Time: now, ID: fuzzIDs[header&3], Extended: header&3 == 3, Len: uint8(n)}
		copy(f.Data[:], b[:n])
		b = b[n:]
		frames = append(frames, f)
	}
	return frames
}

// bytesFromFrames is the inverse of framesFromBytes, for seeds.
func bytesFromFrames(frames []can.Frame, gap time.Duration) []byte {
	var b []byte
	for _, f := range frames {
		sender := 0
		for i, id := range fuzzIDs {
			if id == f.ID {
				sender = i
			}
		}
		b = append(b, byte(gap/(50*time.Millisecond))<<2|byte(sender), f.Len)
		b = append(b, f.Payload()...)
	}
	return b
}

// FuzzISOTP feeds frames made from the fuzzer's bytes to a Reassembler
// and checks that it never panics, never returns a message other than as
// long as the single or first frame that started it announced, and keeps
// its counts and bounds.
func FuzzISOTP(f *testing.F) {
	f.Add(bytesFromFrames(segment(0x7E8, pattern(20), 0xCC, 0), 0))
	f.Add(bytesFromFrames(segment(0x7E9, pattern(300), 0xAA, 0), 0))
	f.Add(bytesFromFrames(segment(0x7EA, pattern(8), noPadding, 0), 0))
	f.Add(bytesFromFrames(segment(0x7E8, pattern(5), 0x55, 0), 0))
	f.Add(bytesFromFrames(segment(0x7E8, pattern(30), 0, 0), 20*50*time.Millisecond))
	f.Add(append(bytesFromFrames(segment(0x7E8, pattern(30), 0, 0)[:2], 0), bytesFromFrames(segment(0x7E9, pattern(30), 0, 0), 0)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		// 2 kB make up to 1000 frames, room for the longest message the
		// Reassembler below accepts; longer inputs only slow the fuzzer.
		frames := framesFromBytes(b[:min(len(b), 2048)])
		r := NewReassembler(Config{MaxPending: 2, MaxLen: 1000})
		announced := map[uint32]int{} // by the latest valid single or first frame
		for i, fr := range frames {
			p := fr.Payload()
			if len(p) > 0 && !fr.RTR {
				switch p[0] >> 4 {
				case singleFrame:
					if n := int(p[0] & 0x0F); n > 0 && n < len(p) {
						announced[fr.ID] = n
					}
				case firstFrame:
					if len(p) != 8 {
						break
					}
					if n := int(p[0]&0x0F)<<8 | int(p[1]); n >= 8 && n <= 1000 {
						announced[fr.ID] = n
					}
				}
			}
			msg, ok, err := r.Add(fr)
			if ok {
				if len(msg.Data) != announced[fr.ID] || len(msg.Data) == 0 {
					t.Fatalf("frame %d: message of %d bytes on %X, announced %d", i, len(msg.Data), fr.ID, announced[fr.ID])
				}
				if msg.ID != fr.ID || msg.Extended != fr.Extended || !msg.Time.Equal(fr.Time) {
					t.Fatalf("frame %d: message %+v from frame %+v", i, msg, fr)
				}
				if p[0]>>4 == singleFrame && !bytes.Equal(msg.Data, p[1:1+len(msg.Data)]) {
					t.Fatalf("frame %d: single-frame message % X from % X", i, msg.Data, p)
				}
			}
			if err != nil && !wrapsSentinels(err) {
				t.Fatalf("frame %d: error %v does not wrap this package's errors", i, err)
			}
			if r.Pending() > 2 {
				t.Fatalf("%d messages pending, limit 2", r.Pending())
			}
		}
		s := r.Stats()
		if s.Frames != len(frames) {
			t.Fatalf("Stats.Frames = %d, fed %d", s.Frames, len(frames))
		}
		r.Expire(t0.Add(24 * time.Hour))
		if r.Pending() != 0 {
			t.Fatalf("%d messages pending after Expire", r.Pending())
		}
	})
}

// wrapsSentinels reports whether err wraps one of this package's errors,
// or joins errors that each do.
func wrapsSentinels(err error) bool {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			if !wrapsSentinels(e) {
				return false
			}
		}
		return true
	}
	for _, sentinel := range []error{ErrMalformed, ErrTooLong, ErrUnexpected, ErrSequence, ErrTimeout, ErrInterrupted, ErrBusy} {
		if errors.Is(err, sentinel) {
			return true
		}
	}
	return false
}
