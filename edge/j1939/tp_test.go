package j1939

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
)

// Builders of synthetic transport-protocol traffic, laid out as in SAE
// J1939-21 §5.10.3. Times are milliseconds after epoch.

var epoch = time.Date(2021, 10, 25, 19, 0, 0, 0, time.UTC)

// at builds an extended frame at ms.
func at(ms int, id ID, data ...byte) can.Frame {
	f := can.Frame{
		Time:     epoch.Add(time.Duration(ms) * time.Millisecond),
		ID:       uint32(id),
		Extended: true,
		Len:      uint8(len(data)),
	}
	copy(f.Data[:], data)
	return f
}

// pgnBytes is a PGN as the three last bytes of a TP.CM.
func pgnBytes(pgn PGN) (byte, byte, byte) { return byte(pgn), byte(pgn >> 8), byte(pgn >> 16) }

// bam announces a broadcast of size bytes of pgn from src.
func bam(ms int, src Address, pgn PGN, size int) can.Frame {
	return bamPackets(ms, src, pgn, size, (size+6)/7)
}

// bamPackets is bam with any packet count.
func bamPackets(ms int, src Address, pgn PGN, size, packets int) can.Frame {
	p0, p1, p2 := pgnBytes(pgn)
	return at(ms, NewID(7, PGNTPCM, src, AddressGlobal), controlBAM, byte(size), byte(size>>8), byte(packets), 0xFF, p0, p1, p2)
}

// rts requests to send size bytes of pgn from src to dst.
func rts(ms int, src, dst Address, pgn PGN, size int) can.Frame {
	p0, p1, p2 := pgnBytes(pgn)
	return at(ms, NewID(7, PGNTPCM, src, dst), controlRTS, byte(size), byte(size>>8), byte((size+6)/7), 0xFF, p0, p1, p2)
}

// cts is the addressee from clearing the sender to for count packets
// starting at next.
func cts(ms int, from, to Address, pgn PGN, count, next int) can.Frame {
	p0, p1, p2 := pgnBytes(pgn)
	return at(ms, NewID(7, PGNTPCM, from, to), controlCTS, byte(count), byte(next), 0xFF, 0xFF, p0, p1, p2)
}

// eoma is the addressee from acknowledging a transfer of size bytes.
func eoma(ms int, from, to Address, pgn PGN, size int) can.Frame {
	p0, p1, p2 := pgnBytes(pgn)
	return at(ms, NewID(7, PGNTPCM, from, to), controlEOMA, byte(size), byte(size>>8), byte((size+6)/7), 0xFF, p0, p1, p2)
}

// abortFrame is a connection abort sent by from.
func abortFrame(ms int, from, to Address, pgn PGN, reason byte) can.Frame {
	p0, p1, p2 := pgnBytes(pgn)
	return at(ms, NewID(7, PGNTPCM, from, to), controlAbort, reason, 0xFF, 0xFF, 0xFF, p0, p1, p2)
}

// dt is packet seq of payload from src to dst, padded with 0xFF.
func dt(ms int, src, dst Address, seq int, payload []byte) can.Frame {
	data := []byte{byte(seq), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
	if start := (seq - 1) * 7; start >= 0 && start < len(payload) {
		copy(data[1:], payload[start:min(start+7, len(payload))])
	}
	return at(ms, NewID(7, PGNTPDT, src, dst), data...)
}

// broadcast is a whole BAM transfer starting at ms, packets gap ms apart.
func broadcast(ms, gap int, src Address, pgn PGN, payload []byte) []can.Frame {
	frames := []can.Frame{bam(ms, src, pgn, len(payload))}
	for seq := 1; seq <= (len(payload)+6)/7; seq++ {
		frames = append(frames, dt(ms+seq*gap, src, AddressGlobal, seq, payload))
	}
	return frames
}

// decodeAll runs frames through a new Decoder and returns the messages
// (with copied data) and errors it produced.
func decodeAll(frames []can.Frame) (*Decoder, []Message, []error) {
	var (
		dec  Decoder
		msgs []Message
		errs []error
	)
	for i := range frames {
		m, ok, err := dec.Decode(&frames[i])
		if ok {
			m.Data = bytes.Clone(m.Data)
			msgs = append(msgs, m)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return &dec, msgs, errs
}

// concat joins frame lists.
func concat(lists ...[]can.Frame) []can.Frame {
	var all []can.Frame
	for _, l := range lists {
		all = append(all, l...)
	}
	return all
}

// payload returns n bytes counting up from first.
func payload(n int, first byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = first + byte(i)
	}
	return p
}

// TestTPBroadcastVI reassembles a VI (PGN 65260) broadcast: 18 bytes, a
// 17-character VIN and its '*' delimiter, in 3 packets (J1939-71 §5.3.18,
// J1939-21 §5.10.3.5).
func TestTPBroadcastVI(t *testing.T) {
	vi := []byte("1FUJGLDR12LM12345*")
	dec, msgs, errs := decodeAll(broadcast(0, 50, 0x00, PGNVI, vi))
	if len(errs) != 0 || len(msgs) != 1 {
		t.Fatalf("messages %v, errors %v", msgs, errs)
	}
	m := msgs[0]
	if m.PGN != PGNVI || m.Source != 0x00 || m.Destination != AddressGlobal || !bytes.Equal(m.Data, vi) {
		t.Errorf("got %v from %v to %v: %q", m.PGN, m.Source, m.Destination, m.Data)
	}
	if want := epoch.Add(150 * time.Millisecond); !m.Time.Equal(want) {
		t.Errorf("time %v, want the last packet's %v", m.Time, want)
	}
	vin, err := ParseVI(m.Data)
	if err != nil || vin != "1FUJGLDR12LM12345" {
		t.Errorf("ParseVI = %q, %v", vin, err)
	}
	if s := dec.TransportStats(); s != (TransportStats{Completed: 1}) {
		t.Errorf("stats %+v", s)
	}
}

// TestTPBroadcastDM1 reassembles a DM1 with three DTCs, built by hand with
// the J1939-73 version 4 layout, and decodes it.
func TestTPBroadcastDM1(t *testing.T) {
	data := []byte{
		0x04, 0xFF, // amber warning lamp on (bits 4–3 = 01), no flashing
		0x64, 0x00, 0x01, 0x05, // SPN 100 engine oil pressure, FMI 1 (low, most severe), OC 5
		0x6E, 0x00, 0x00, 0x01, // SPN 110 coolant temperature, FMI 0 (high, most severe), OC 1
		0xCD, 0xAB, 0xA3, 0x7F, // SPN 0x5ABCD = 371661, FMI 3, OC 127 (not available)
	}
	_, msgs, errs := decodeAll(broadcast(0, 50, 0x00, PGNDM1, data))
	if len(errs) != 0 || len(msgs) != 1 || msgs[0].PGN != PGNDM1 {
		t.Fatalf("messages %v, errors %v", msgs, errs)
	}
	var dm1 DM1
	if err := dm1.Decode(msgs[0].Data); err != nil {
		t.Fatal(err)
	}
	want := []DTC{{SPN: 100, FMI: 1, Occurrences: 5}, {SPN: 110, FMI: 0, Occurrences: 1}, {SPN: 371661, FMI: 3, Occurrences: 127}}
	if fmt.Sprint(dm1.DTCs) != fmt.Sprint(want) || dm1.Lamps.AmberWarning.Status != LampOn || dm1.Lamps.MIL.Status != LampOff {
		t.Errorf("DM1 %+v, want amber lamp and %v", dm1, want)
	}
}

// TestTPFailures feeds broken transfers and checks the error, the counter
// and that nothing is delivered unless stated.
func TestTPFailures(t *testing.T) {
	dm1 := payload(18, 0x10) // 3 packets
	other := payload(10, 0xA0)
	tests := []struct {
		name      string
		frames    []can.Frame
		wantErrs  []error // in order, one per failing frame
		wantStats TransportStats
		wantData  []byte // the one message delivered, if any
	}{
		{
			name: "out-of-order packet",
			frames: []can.Frame{
				bam(0, 0, PGNDM1, 18), dt(50, 0, 0xFF, 1, dm1), dt(100, 0, 0xFF, 3, dm1), dt(150, 0, 0xFF, 2, dm1),
			},
			wantErrs:  []error{ErrTPSequence, ErrTPNoSession},
			wantStats: TransportStats{SequenceErrors: 1, Orphans: 1},
		},
		{
			name:      "missing packet",
			frames:    []can.Frame{bam(0, 0, PGNDM1, 18), dt(50, 0, 0xFF, 1, dm1), dt(100, 0, 0xFF, 3, dm1)},
			wantErrs:  []error{ErrTPSequence},
			wantStats: TransportStats{SequenceErrors: 1},
		},
		{
			name:      "repeated packet",
			frames:    []can.Frame{bam(0, 0, PGNDM1, 18), dt(50, 0, 0xFF, 1, dm1), dt(100, 0, 0xFF, 1, dm1)},
			wantErrs:  []error{ErrTPSequence},
			wantStats: TransportStats{SequenceErrors: 1},
		},
		{
			name: "packet 760 ms after the previous one: T1 = 750 ms",
			frames: []can.Frame{
				bam(0, 0, PGNDM1, 18), dt(50, 0, 0xFF, 1, dm1), dt(810, 0, 0xFF, 2, dm1), dt(860, 0, 0xFF, 3, dm1),
			},
			wantErrs:  []error{ErrTPTimeout, ErrTPNoSession}, // then packet 2 and 3 are orphans
			wantStats: TransportStats{Timeouts: 1, Orphans: 2},
		},
		{
			name: "first packet 760 ms after the BAM",
			frames: []can.Frame{
				bam(0, 0, PGNDM1, 18), dt(760, 0, 0xFF, 1, dm1),
			},
			wantErrs:  []error{ErrTPTimeout},
			wantStats: TransportStats{Timeouts: 1, Orphans: 1},
		},
		{
			name: "packets exactly 750 ms apart are in time",
			frames: []can.Frame{
				bam(0, 0, PGNDM1, 18), dt(750, 0, 0xFF, 1, dm1), dt(1500, 0, 0xFF, 2, dm1), dt(2250, 0, 0xFF, 3, dm1),
			},
			wantStats: TransportStats{Completed: 1},
			wantData:  dm1,
		},
		{
			name: "timeout noticed on an unrelated frame",
			frames: []can.Frame{
				bam(0, 0, PGNDM1, 18), dt(50, 0, 0xFF, 1, dm1),
				at(900, 0x0CF00400, 0x60, 0x7D, 0x84, 0x48, 0x14, 0x00, 0xF0, 0x84),
			},
			wantErrs:  []error{ErrTPTimeout},
			wantStats: TransportStats{Timeouts: 1},
			wantData:  []byte{0x60, 0x7D, 0x84, 0x48, 0x14, 0x00, 0xF0, 0x84}, // the EEC1 frame still comes out
		},
		{
			name: "second BAM from the same source restarts",
			frames: concat(
				[]can.Frame{bam(0, 0, PGNDM1, 18), dt(50, 0, 0xFF, 1, dm1)},
				broadcast(100, 50, 0, PGNEC1, other),
			),
			wantErrs:  []error{ErrTPAborted},
			wantStats: TransportStats{Restarted: 1, Completed: 1},
			wantData:  other,
		},
		{
			name:      "size above 1785 bytes",
			frames:    []can.Frame{bamPackets(0, 0, PGNDM1, 1786, 255)},
			wantErrs:  []error{ErrTPAnnouncement},
			wantStats: TransportStats{BadAnnouncements: 1},
		},
		{
			name:      "packet count does not match size",
			frames:    []can.Frame{bamPackets(0, 0, PGNDM1, 18, 4)},
			wantErrs:  []error{ErrTPAnnouncement},
			wantStats: TransportStats{BadAnnouncements: 1},
		},
		{
			name: "BAM to a specific address",
			frames: []can.Frame{
				at(0, NewID(7, PGNTPCM, 0, 0x21), controlBAM, 18, 0, 3, 0xFF, 0xCA, 0xFE, 0x00),
			},
			wantErrs:  []error{ErrTPAnnouncement},
			wantStats: TransportStats{BadAnnouncements: 1},
		},
		{
			name: "RTS to the global address",
			frames: []can.Frame{
				at(0, NewID(7, PGNTPCM, 0, AddressGlobal), controlRTS, 18, 0, 3, 0xFF, 0xCA, 0xFE, 0x00),
			},
			wantErrs:  []error{ErrTPAnnouncement},
			wantStats: TransportStats{BadAnnouncements: 1},
		},
		{
			name:      "PDU1 PGN with a destination byte",
			frames:    []can.Frame{bam(0, 0, 0xEF21, 18)},
			wantErrs:  []error{ErrTPAnnouncement},
			wantStats: TransportStats{BadAnnouncements: 1},
		},
		{
			name:      "short TP.CM",
			frames:    []can.Frame{at(0, NewID(7, PGNTPCM, 0, AddressGlobal), controlBAM, 18, 0, 3)},
			wantErrs:  []error{ErrMalformed},
			wantStats: TransportStats{Malformed: 1},
		},
		{
			name:      "short TP.DT",
			frames:    []can.Frame{bam(0, 0, PGNDM1, 18), at(50, NewID(7, PGNTPDT, 0, AddressGlobal), 1, 2, 3)},
			wantErrs:  []error{ErrMalformed},
			wantStats: TransportStats{Malformed: 1},
		},
		{
			name: "abort by the sender",
			frames: []can.Frame{
				rts(0, 0x00, 0xF9, PGNVI, 18), abortFrame(10, 0x00, 0xF9, PGNVI, 1),
			},
			wantErrs:  []error{ErrTPAborted},
			wantStats: TransportStats{Aborted: 1},
		},
		{
			name:      "packet without announcement",
			frames:    []can.Frame{dt(0, 0, 0xFF, 1, dm1)},
			wantErrs:  []error{ErrTPNoSession},
			wantStats: TransportStats{Orphans: 1},
		},
		{
			name: "reserved control byte is ignored",
			frames: concat(
				[]can.Frame{at(0, NewID(7, PGNTPCM, 0, AddressGlobal), 0x21, 18, 0, 3, 0xFF, 0xCA, 0xFE, 0x00)},
				broadcast(10, 50, 0, PGNDM1, dm1),
			),
			wantStats: TransportStats{Completed: 1},
			wantData:  dm1,
		},
		{
			name: "abort by the addressee",
			frames: []can.Frame{
				rts(0, 0x00, 0xF9, PGNVI, 18), cts(10, 0xF9, 0x00, PGNVI, 3, 1), dt(20, 0x00, 0xF9, 1, dm1),
				abortFrame(30, 0xF9, 0x00, PGNVI, 3), dt(40, 0x00, 0xF9, 2, dm1),
			},
			wantErrs:  []error{ErrTPAborted, ErrTPNoSession},
			wantStats: TransportStats{Aborted: 1, Orphans: 1},
		},
		{
			name: "acknowledged before all packets were seen",
			frames: []can.Frame{
				rts(0, 0x00, 0xF9, PGNVI, 18), cts(10, 0xF9, 0x00, PGNVI, 3, 1), dt(20, 0x00, 0xF9, 1, dm1),
				eoma(30, 0xF9, 0x00, PGNVI, 18),
			},
			wantErrs:  []error{ErrTPSequence},
			wantStats: TransportStats{SequenceErrors: 1},
		},
		{
			name: "CTS asks for a packet after one missed here",
			frames: []can.Frame{
				rts(0, 0x00, 0xF9, PGNVI, 18), cts(10, 0xF9, 0x00, PGNVI, 1, 1), dt(20, 0x00, 0xF9, 1, dm1),
				cts(30, 0xF9, 0x00, PGNVI, 1, 3),
			},
			wantErrs:  []error{ErrTPSequence},
			wantStats: TransportStats{SequenceErrors: 1},
		},
		{
			name: "hold longer than T4 = 1050 ms",
			frames: []can.Frame{
				rts(0, 0x00, 0xF9, PGNVI, 18), cts(10, 0xF9, 0x00, PGNVI, 1, 1), dt(20, 0x00, 0xF9, 1, dm1),
				cts(100, 0xF9, 0x00, PGNVI, 0, 0xFF), cts(1200, 0xF9, 0x00, PGNVI, 2, 2),
			},
			wantErrs:  []error{ErrTPTimeout},
			wantStats: TransportStats{Timeouts: 1},
		},
		{
			name: "no CTS within T3 = 1250 ms of the RTS",
			frames: []can.Frame{
				rts(0, 0x00, 0xF9, PGNVI, 18), cts(1300, 0xF9, 0x00, PGNVI, 3, 1),
			},
			wantErrs:  []error{ErrTPTimeout},
			wantStats: TransportStats{Timeouts: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec, msgs, errs := decodeAll(tt.frames)
			if len(errs) != len(tt.wantErrs) {
				t.Fatalf("errors %v, want %v", errs, tt.wantErrs)
			}
			for i, err := range errs {
				if !errors.Is(err, tt.wantErrs[i]) {
					t.Errorf("error %d = %v, want %v", i, err, tt.wantErrs[i])
				}
			}
			if s := dec.TransportStats(); s != tt.wantStats {
				t.Errorf("stats %+v, want %+v", s, tt.wantStats)
			}
			switch {
			case tt.wantData == nil && len(msgs) != 0:
				t.Errorf("delivered %v: % X", msgs[0].PGN, msgs[0].Data)
			case tt.wantData != nil && (len(msgs) != 1 || !bytes.Equal(msgs[0].Data, tt.wantData)):
				t.Errorf("delivered %v, want one message % X", msgs, tt.wantData)
			}
			if n := dec.tp.Pending(); n != 0 && tt.wantStats.Completed+tt.wantStats.SequenceErrors+tt.wantStats.Aborted > 0 {
				t.Errorf("%d transfers still pending", n)
			}
		})
	}
}

// TestDecoderExpire drops a stalled transfer on a quiet bus.
func TestDecoderExpire(t *testing.T) {
	var dec Decoder
	f := bam(0, 0x00, PGNDM1, 18)
	if _, _, err := dec.Decode(&f); err != nil {
		t.Fatal(err)
	}
	if err := dec.Expire(epoch.Add(700 * time.Millisecond)); err != nil {
		t.Errorf("Expire within T1: %v", err)
	}
	if err := dec.Expire(epoch.Add(800 * time.Millisecond)); !errors.Is(err, ErrTPTimeout) {
		t.Errorf("Expire after T1 = %v, want ErrTPTimeout", err)
	}
	if dec.tp.Pending() != 0 || dec.TransportStats().Timeouts != 1 {
		t.Errorf("%d pending, stats %+v", dec.tp.Pending(), dec.TransportStats())
	}
}

// TestTPConnectionMode follows an RTS/CTS transfer from 0x00 to 0xF9 as a
// bystander (J1939-21 §5.10.3.2–4): two CTS windows, and a CTS asking for
// packet 2 again.
func TestTPConnectionMode(t *testing.T) {
	vi := []byte("1FUJGLDR12LM12345*") // 3 packets
	frames := []can.Frame{
		rts(0, 0x00, 0xF9, PGNVI, len(vi)),
		cts(5, 0xF9, 0x00, PGNVI, 2, 1),
		dt(10, 0x00, 0xF9, 1, vi),
		dt(20, 0x00, 0xF9, 2, vi),
		cts(30, 0xF9, 0x00, PGNVI, 1, 2), // packet 2 again
		dt(40, 0x00, 0xF9, 2, vi),
		cts(1000, 0xF9, 0x00, PGNVI, 0, 0xFF), // within T3 = 1250 ms; hold: T4 = 1050 ms
		cts(2000, 0xF9, 0x00, PGNVI, 1, 3),
		dt(2010, 0x00, 0xF9, 3, vi),
		eoma(2020, 0xF9, 0x00, PGNVI, len(vi)),
	}
	dec, msgs, errs := decodeAll(frames)
	if len(errs) != 0 || len(msgs) != 1 {
		t.Fatalf("messages %v, errors %v", msgs, errs)
	}
	m := msgs[0]
	if m.PGN != PGNVI || m.Source != 0x00 || m.Destination != 0xF9 || !bytes.Equal(m.Data, vi) {
		t.Errorf("got %v from %v to %v: %q", m.PGN, m.Source, m.Destination, m.Data)
	}
	if s := dec.TransportStats(); s != (TransportStats{Completed: 1}) {
		t.Errorf("stats %+v", s)
	}
}

// TestTPInterleaved runs two broadcasts and a connection-mode transfer at
// the same time: sessions are kept per source (and destination).
func TestTPInterleaved(t *testing.T) {
	a, b, c := payload(20, 0x00), payload(30, 0x40), payload(9, 0x80)
	frames := []can.Frame{
		bam(0, 0x00, PGNDM1, len(a)),
		bam(1, 0x55, PGNDM1, len(b)),
		rts(2, 0x00, 0xF9, PGNCI, len(c)),
		cts(3, 0xF9, 0x00, PGNCI, 2, 1),
	}
	for seq := 1; seq <= 5; seq++ {
		ms := seq * 50
		if seq <= 3 {
			frames = append(frames, dt(ms, 0x00, AddressGlobal, seq, a))
		}
		frames = append(frames, dt(ms+1, 0x55, AddressGlobal, seq, b))
		if seq <= 2 {
			frames = append(frames, dt(ms+2, 0x00, 0xF9, seq, c))
		}
	}
	dec, msgs, errs := decodeAll(frames)
	if len(errs) != 0 || len(msgs) != 3 {
		t.Fatalf("%d messages, errors %v", len(msgs), errs)
	}
	got := map[Address]map[Address][]byte{}
	for _, m := range msgs {
		if got[m.Source] == nil {
			got[m.Source] = map[Address][]byte{}
		}
		got[m.Source][m.Destination] = m.Data
	}
	if !bytes.Equal(got[0x00][0xFF], a) || !bytes.Equal(got[0x55][0xFF], b) || !bytes.Equal(got[0x00][0xF9], c) {
		t.Errorf("got %v", got)
	}
	if dec.tp.Pending() != 0 {
		t.Errorf("%d transfers pending", dec.tp.Pending())
	}
}

// TestTPMaxSize carries the largest message, 1785 bytes in 255 packets.
func TestTPMaxSize(t *testing.T) {
	big := payload(MaxMessageSize, 0)
	_, msgs, errs := decodeAll(broadcast(0, 50, 0x00, PGNDM1, big))
	if len(errs) != 0 || len(msgs) != 1 || !bytes.Equal(msgs[0].Data, big) {
		t.Fatalf("%d messages, errors %v", len(msgs), errs)
	}
}

// TestTPBusy announces more transfers than MaxSessions.
func TestTPBusy(t *testing.T) {
	var frames []can.Frame
	for src := range MaxSessions + 1 {
		frames = append(frames, bam(src, Address(src), PGNDM1, 18))
	}
	dec, _, errs := decodeAll(frames)
	if len(errs) != 1 || !errors.Is(errs[0], ErrTPBusy) {
		t.Fatalf("errors %v, want one ErrTPBusy", errs)
	}
	if s := dec.TransportStats(); s.Dropped != 1 || dec.tp.Pending() != MaxSessions {
		t.Errorf("stats %+v, %d pending", s, dec.tp.Pending())
	}
}

// TestTPNoAllocs checks that steady-state reassembly does not allocate.
func TestTPNoAllocs(t *testing.T) {
	frames := broadcast(0, 50, 0x00, PGNDM1, payload(18, 0))
	var dec Decoder
	run := func() {
		for i := range frames {
			frames[i].Time = frames[i].Time.Add(time.Second)
			if _, _, err := dec.Decode(&frames[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	run() // the first transfer creates the session
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%v allocations per transfer", n)
	}
}
