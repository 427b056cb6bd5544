package j1939

import (
	"errors"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
)

// FuzzDecode decodes one frame of any identifier and payload. It must not
// panic, and every signal must be either a value within its SPN's range,
// computed from the raw bits by the table's formula, or flagged with a
// status and no value. The seeds are the first frame of each of the 45
// identifiers in the capture, plus all-zero, all-0xFE and all-ones payloads.
func FuzzDecode(f *testing.F) {
	seen := map[uint32]bool{}
	for _, fr := range loadCapture(f) {
		if !seen[fr.ID] {
			seen[fr.ID] = true
			f.Add(fr.ID, fr.Payload())
		}
	}
	for _, id := range []uint32{0x18FEF100, 0x0CF00400, 0x18FEE000, 0x18FEE500, 0x18FEC100, 0x18FECA00} {
		f.Add(id, []byte{0, 0, 0, 0, 0, 0, 0, 0})
		f.Add(id, []byte{0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE})
		f.Add(id, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	}
	f.Fuzz(func(t *testing.T, id uint32, data []byte) {
		fr := can.Frame{ID: id & uint32(MaxID), Extended: true, Len: uint8(min(len(data), 8))}
		copy(fr.Data[:], data)
		sigs, err := DecodeFrame(nil, &fr)
		if err != nil {
			t.Fatalf("DecodeFrame(%v): %v", ID(fr.ID), err)
		}
		pgn := ID(fr.ID).PGN()
		if len(sigs) != len(specsByPGN[pgn]) {
			t.Fatalf("%d signals for PGN %v, table has %d", len(sigs), pgn, len(specsByPGN[pgn]))
		}
		for _, sig := range sigs {
			checkFuzzedSignal(t, sig, pgn)
		}
		// Longer payloads, as the transport protocol delivers them.
		for _, sig := range AppendSignals(nil, Message{PGN: PGNEC1, Data: data}) {
			checkFuzzedSignal(t, sig, PGNEC1)
		}
		// The other decoders must take anything.
		var dm1 DM1
		if err := dm1.Decode(data); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("DM1.Decode: %v", err)
		}
		if len(dm1.DTCs) > max(0, (len(data)-2)/4) {
			t.Fatalf("%d DTCs from %d bytes", len(dm1.DTCs), len(data))
		}
		if _, err := ParseVI(data); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("ParseVI: %v", err)
		}
		if _, err := ParseCI(data); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("ParseCI: %v", err)
		}
		var dec Decoder
		if _, _, err := dec.Decode(&fr); err != nil && !isSentinel(err) {
			t.Fatalf("Decoder.Decode: %v", err)
		}
	})
}

// checkFuzzedSignal checks a signal independently of Spec.Decode's code
// path.
func checkFuzzedSignal(t *testing.T, sig Signal, pgn PGN) {
	t.Helper()
	s := sig.Spec
	if s == nil || s.PGN != pgn {
		t.Fatalf("signal %v for PGN %v", sig, pgn)
	}
	if s.Length < 32 && sig.Raw >= 1<<s.Length {
		t.Fatalf("%v: raw %#x wider than %d bits", sig, sig.Raw, s.Length)
	}
	if sig.Status != StatusValid {
		if sig.Value != 0 {
			t.Fatalf("%v carries value %v", sig, sig.Value)
		}
		return
	}
	if s.Length%8 == 0 && sig.Raw>>(s.Length-8) > max8 {
		t.Fatalf("%v: raw %#x is an indicator, not a value", sig, sig.Raw)
	}
	if want := float64(sig.Raw)*s.Resolution + s.Offset; sig.Value != want {
		t.Fatalf("%v: value %v, raw %#x gives %v", sig, sig.Value, sig.Raw, want)
	}
	if slack := s.Resolution / 2; sig.Value < s.Min-slack || sig.Value > s.Max+slack {
		t.Fatalf("%v outside %v..%v", sig, s.Min, s.Max)
	}
}

// isSentinel reports whether err wraps one of the package's errors.
func isSentinel(err error) bool {
	for _, s := range []error{ErrNotJ1939, ErrMalformed, ErrTPAnnouncement, ErrTPSequence,
		ErrTPTimeout, ErrTPAborted, ErrTPNoSession, ErrTPBusy} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzTP feeds a sequence of TP.CM and TP.DT frames made from the fuzzer's
// bytes to a Decoder. It must not panic, must return only errors wrapping
// the package's sentinels, must never follow more than MaxSessions
// transfers, and every message it delivers must have exactly the size and
// PGN of a transfer announced (BAM or RTS) from that source to that
// destination, at most 1785 bytes.
//
// Each frame takes 12 bytes (see tpStep). The seeds are the capture's first
// DM1 and EC1 broadcasts and the connection-mode transfer of
// TestTPConnectionMode.
func FuzzTP(f *testing.F) {
	frames := loadCapture(f)
	var bams []can.Frame
	for i := range frames {
		if pgn := ID(frames[i].ID).PGN(); (pgn == PGNTPCM || pgn == PGNTPDT) && len(bams) < 13 {
			bams = append(bams, frames[i])
		}
	}
	f.Add(encodeTP(bams))
	vi := []byte("1FUJGLDR12LM12345*")
	f.Add(encodeTP([]can.Frame{
		rts(0, 0x00, 0xF9, PGNVI, len(vi)), cts(5, 0xF9, 0x00, PGNVI, 2, 1),
		dt(10, 0x00, 0xF9, 1, vi), dt(20, 0x00, 0xF9, 2, vi), cts(30, 0xF9, 0x00, PGNVI, 1, 3),
		dt(40, 0x00, 0xF9, 3, vi), eoma(50, 0xF9, 0x00, PGNVI, len(vi)),
	}))
	f.Fuzz(func(t *testing.T, data []byte) {
		type key struct{ src, dst Address }
		type transfer struct {
			size int
			pgn  PGN
		}
		announced := map[key][]transfer{}
		var dec Decoder
		now := epoch
		for len(data) >= tpStepSize {
			var fr can.Frame
			fr, now = tpStep(data[:tpStepSize], now)
			data = data[tpStepSize:]
			id := ID(fr.ID)
			if id.PGN() == PGNTPCM && (fr.Data[0] == controlBAM || fr.Data[0] == controlRTS) {
				k := key{id.Source(), id.Destination()}
				announced[k] = append(announced[k], transfer{
					size: int(fr.Data[1]) | int(fr.Data[2])<<8,
					pgn:  PGN(fr.Data[5]) | PGN(fr.Data[6])<<8 | PGN(fr.Data[7])<<16,
				})
			}
			m, ok, err := dec.Decode(&fr)
			if err != nil && !isSentinel(err) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			if p := dec.tp.Pending(); p > MaxSessions {
				t.Fatalf("%d transfers pending", p)
			}
			if !ok {
				continue
			}
			if len(m.Data) > MaxMessageSize {
				t.Fatalf("delivered %d bytes", len(m.Data))
			}
			found := false
			for _, a := range announced[key{m.Source, m.Destination}] {
				found = found || a.size == len(m.Data) && a.pgn == m.PGN
			}
			if !found {
				t.Fatalf("delivered %d bytes of PGN %v from %v to %v; announced %v",
					len(m.Data), m.PGN, m.Source, m.Destination, announced[key{m.Source, m.Destination}])
			}
		}
	})
}

// tpStepSize is the number of fuzzer bytes per frame.
const tpStepSize = 12

// tpStep makes a TP frame from 12 bytes:
//
//	b[0]     bit 0: TP.DT (1) or TP.CM (0); bit 1: for TP.CM, set the
//	         packet count to match the size, so announcements are valid
//	b[1]     source address, reduced to 0–3 so that transfers collide
//	b[2]     destination: global below 0x80, else address b[2] & 3
//	b[3]     time since the previous frame, in 4 ms steps (0–1020 ms)
//	b[4:12]  the 8 data bytes
func tpStep(b []byte, prev time.Time) (can.Frame, time.Time) {
	pgn := PGNTPCM
	if b[0]&1 != 0 {
		pgn = PGNTPDT
	}
	dst := AddressGlobal
	if b[2] >= 0x80 {
		dst = Address(b[2] & 3)
	}
	now := prev.Add(time.Duration(b[3]) * 4 * time.Millisecond)
	fr := can.Frame{Time: now, ID: uint32(NewID(7, pgn, Address(b[1]&3), dst)), Extended: true, Len: 8}
	copy(fr.Data[:], b[4:12])
	if pgn == PGNTPCM && b[0]&2 != 0 {
		size := int(fr.Data[1]) | int(fr.Data[2])<<8
		fr.Data[3] = byte((size + 6) / 7)
	}
	return fr, now
}

// encodeTP is the inverse of tpStep for seed frames (addresses reduced the
// same way, gaps rounded down to 4 ms).
func encodeTP(frames []can.Frame) []byte {
	var out []byte
	prev := frames[0].Time
	for _, fr := range frames {
		id := ID(fr.ID)
		op := byte(0)
		if id.PGN() == PGNTPDT {
			op = 1
		}
		dst := byte(0)
		if id.Destination() != AddressGlobal {
			dst = 0x80 | byte(id.Destination())&3
		}
		gap := min(fr.Time.Sub(prev)/(4*time.Millisecond), 255)
		prev = fr.Time
		out = append(out, op, byte(id.Source()), dst, byte(gap))
		out = append(out, fr.Data[:]...)
	}
	return out
}
