package j1939

import (
	"errors"
	"fmt"
	"time"
)

// Limits of the transport protocol (SAE J1939-21 §5.10).
const (
	// MaxMessageSize is the largest message the transport protocol
	// carries: 255 packets of 7 bytes.
	MaxMessageSize = 1785

	// MaxSessions bounds the transfers a Transport follows at once. A bus
	// rarely has more than a few; the bound keeps memory fixed when the
	// input is hostile.
	MaxSessions = 32
)

// Timeouts of J1939-21 §5.10.2.4, applied to the capture times of the
// frames: a transfer that stays silent longer is dropped.
const (
	// TimeoutT1 is the longest gap between two TP.DT packets, and between
	// a BAM and its first packet.
	TimeoutT1 = 750 * time.Millisecond
	// TimeoutT2 is the longest gap between a CTS and the packet it asks for.
	TimeoutT2 = 1250 * time.Millisecond
	// TimeoutT3 is the longest gap between an RTS, or the last packet a
	// CTS asked for, and the next CTS.
	TimeoutT3 = 1250 * time.Millisecond
	// TimeoutT4 is the longest gap after a CTS asking the sender to hold.
	TimeoutT4 = 1050 * time.Millisecond
)

// TP.CM control bytes.
const (
	controlRTS   = 16  // request to send
	controlCTS   = 17  // clear to send
	controlEOMA  = 19  // end of message acknowledgement
	controlBAM   = 32  // broadcast announce message
	controlAbort = 255 // connection abort
)

// packetSize is the payload of one TP.DT packet, after its sequence number.
const packetSize = 7

// TransportStats counts what a Transport has seen since it was created.
type TransportStats struct {
	Completed        uint64 // transfers reassembled
	Timeouts         uint64 // transfers dropped by a timeout
	SequenceErrors   uint64 // transfers dropped for a lost or misplaced packet
	Aborted          uint64 // transfers ended by a connection abort
	Restarted        uint64 // transfers replaced by a new one from the same sender
	BadAnnouncements uint64 // BAM or RTS frames with impossible content
	Orphans          uint64 // TP.DT packets without an announced transfer
	Dropped          uint64 // announcements ignored because MaxSessions were busy
	Malformed        uint64 // TP frames shorter than 8 bytes
}

// Transport reassembles J1939 transport-protocol transfers (J1939-21
// §5.10): messages of 9 to 1785 bytes (smaller ones are accepted too) sent
// as a TP.CM announcement (PGN 60416) followed by up to 255 TP.DT packets
// (PGN 60160) of 7 bytes.
//
// It follows broadcasts (BAM, one per sender) and connection-mode
// transfers (RTS/CTS, one per sender and addressee) by listening only: it
// never sends CTS or acknowledgements, and it uses the CTS frames the
// addressee sends to follow retransmissions. Packets must come in
// sequence; a lost, repeated or misplaced packet, a timeout or an abort
// drops the transfer with a counted error. Time is taken from the frames,
// so a replayed log behaves like the live bus.
//
// The zero value is ready to use. A Transport is not safe for concurrent
// use.
type Transport struct {
	// sessions holds every session ever needed, active or free for reuse,
	// so that steady-state reassembly does not allocate.
	sessions []*session
	stats    TransportStats
}

// session is one transfer in progress.
type session struct {
	active   bool
	bam      bool
	src, dst Address
	pgn      PGN
	priority uint8
	size     int // bytes announced
	packets  int // packets announced
	next     int // sequence number of the next packet expected
	// windowEnd is the last packet the latest CTS asked for, 0 before any.
	windowEnd int
	last      time.Time     // capture time of the last frame of the transfer
	timeout   time.Duration // longest silence allowed after last
	buf       [MaxMessageSize]byte
}

// String names the transfer for error messages.
func (s *session) String() string {
	if s.bam {
		return fmt.Sprintf("BAM of PGN %v from %v", s.pgn, s.src)
	}
	return fmt.Sprintf("RTS/CTS transfer of PGN %v from %v to %v", s.pgn, s.src, s.dst)
}

// progress describes how far the transfer got, for error messages.
func (s *session) progress() string {
	return fmt.Sprintf("after %d of %d packets", s.next-1, s.packets)
}

// Stats returns the counters.
func (t *Transport) Stats() TransportStats { return t.stats }

// Pending returns the number of transfers in progress.
func (t *Transport) Pending() int {
	n := 0
	for _, s := range t.sessions {
		if s.active {
			n++
		}
	}
	return n
}

// Receive processes a TP.CM or TP.DT message (other PGNs only advance the
// clock). When m is the last packet of a transfer it returns the
// reassembled message, with the announced PGN and size, and true. Its
// Data aliases the Transport's buffer and is valid until the next call.
//
// Before handling m, Receive drops the transfers that have been silent
// for longer than their timeout at m.Time (see Expire). Errors describe
// what was dropped or ignored; they wrap ErrTPTimeout, ErrTPSequence,
// ErrTPAborted, ErrTPAnnouncement, ErrTPNoSession, ErrTPBusy or
// ErrMalformed, and are counted in Stats.
func (t *Transport) Receive(m Message) (Message, bool, error) {
	err := t.Expire(m.Time)
	switch m.PGN {
	case PGNTPCM:
		return Message{}, false, join(err, t.control(m))
	case PGNTPDT:
		out, ok, derr := t.data(m)
		return out, ok, join(err, derr)
	}
	return Message{}, false, err
}

// Expire drops the transfers that have been silent for longer than their
// timeout at now, and returns an error wrapping ErrTPTimeout for them.
// Receive calls it with each message's time; call it with the time of
// every other frame too (Decoder does) so that a transfer whose sender
// fell silent is dropped promptly. A zero now is ignored, as are frames
// whose time goes backwards.
func (t *Transport) Expire(now time.Time) error {
	if now.IsZero() {
		return nil
	}
	var err error
	for _, s := range t.sessions {
		if !s.active || s.last.IsZero() {
			continue
		}
		if gap := now.Sub(s.last); gap > s.timeout {
			s.active = false
			t.stats.Timeouts++
			err = join(err, fmt.Errorf("%v dropped %s: silent for %v (limit %v): %w",
				s, s.progress(), gap.Round(time.Millisecond), s.timeout, ErrTPTimeout))
		}
	}
	return err
}

// control handles a TP.CM frame.
func (t *Transport) control(m Message) error {
	d := m.Data
	if len(d) < 8 {
		t.stats.Malformed++
		return fmt.Errorf("TP.CM from %v with %d bytes: %w", m.Source, len(d), ErrMalformed)
	}
	pgn := PGN(d[5]) | PGN(d[6])<<8 | PGN(d[7])<<16
	switch d[0] {
	case controlBAM, controlRTS:
		return t.announce(m, pgn)
	case controlCTS:
		return t.clearToSend(m, pgn)
	case controlEOMA:
		return t.endOfMessage(m)
	case controlAbort:
		return t.abort(m)
	}
	return nil // reserved control byte: not ours to judge
}

// announce starts a transfer on a BAM or RTS.
func (t *Transport) announce(m Message, pgn PGN) error {
	d := m.Data
	bam := d[0] == controlBAM
	size := int(d[1]) | int(d[2])<<8
	packets := int(d[3])
	kind := "RTS"
	if bam {
		kind = "BAM"
	}
	var problem string
	switch {
	case bam && m.Destination != AddressGlobal:
		problem = "BAM to " + m.Destination.String() + ", not global"
	case !bam && m.Destination == AddressGlobal:
		problem = "RTS to the global address"
	case size < 1 || size > MaxMessageSize:
		problem = fmt.Sprintf("size %d outside 1–%d", size, MaxMessageSize)
	case packets != (size+packetSize-1)/packetSize:
		problem = fmt.Sprintf("%d packets for %d bytes", packets, size)
	case pgn > maxPGN || pgn.PDU1() && pgn&0xFF != 0:
		problem = fmt.Sprintf("PGN 0x%X is not a parameter group number", uint32(pgn))
	}
	if problem != "" {
		t.stats.BadAnnouncements++
		return fmt.Errorf("%s from %v: %s: %w", kind, m.Source, problem, ErrTPAnnouncement)
	}

	var err error
	s := t.find(m.Source, m.Destination)
	if s != nil {
		// J1939-21: a new announcement from the same sender (to the same
		// addressee) ends the transfer in progress.
		t.stats.Restarted++
		err = fmt.Errorf("%v %s replaced by a new %s: %w", s, s.progress(), kind, ErrTPAborted)
	} else if s = t.free(); s == nil {
		t.stats.Dropped++
		return fmt.Errorf("%s of PGN %v from %v: %d transfers in progress: %w", kind, pgn, m.Source, MaxSessions, ErrTPBusy)
	}
	s.active, s.bam = true, bam
	s.src, s.dst = m.Source, m.Destination
	s.pgn, s.priority = pgn, m.Priority
	s.size, s.packets, s.next, s.windowEnd = size, packets, 1, 0
	s.last, s.timeout = m.Time, TimeoutT1
	if !bam {
		s.timeout = TimeoutT3 // the addressee answers with a CTS first
	}
	return err
}

// clearToSend follows a CTS from the addressee of an RTS/CTS transfer: it
// opens a window of packets, possibly rewinding to ask for a retransmission,
// or holds the transfer.
func (t *Transport) clearToSend(m Message, pgn PGN) error {
	s := t.find(m.Destination, m.Source) // the CTS goes back to the sender
	if s == nil || s.bam || s.pgn != pgn {
		return nil // a transfer we did not see announced
	}
	count, next := int(m.Data[1]), int(m.Data[2])
	s.last = m.Time
	if count == 0 {
		s.timeout = TimeoutT4
		return nil
	}
	if next < 1 || next > s.next || next > s.packets {
		// The addressee asks for a packet after one we never saw.
		s.active = false
		t.stats.SequenceErrors++
		return fmt.Errorf("%v dropped %s: CTS asks for packet %d: %w", s, s.progress(), next, ErrTPSequence)
	}
	s.next = next
	s.windowEnd = min(next+count-1, s.packets)
	s.timeout = TimeoutT2
	return nil
}

// endOfMessage handles the addressee's acknowledgement. A complete transfer
// is already closed, so one still open missed packets.
func (t *Transport) endOfMessage(m Message) error {
	s := t.find(m.Destination, m.Source)
	if s == nil || s.bam {
		return nil
	}
	s.active = false
	t.stats.SequenceErrors++
	return fmt.Errorf("%v acknowledged %s seen here: %w", s, s.progress(), ErrTPSequence)
}

// abort handles a connection abort, which either side may send.
func (t *Transport) abort(m Message) error {
	s := t.find(m.Source, m.Destination)
	if s == nil || s.bam {
		if s = t.find(m.Destination, m.Source); s == nil || s.bam {
			return nil
		}
	}
	s.active = false
	t.stats.Aborted++
	return fmt.Errorf("%v %s: connection abort by %v, reason %d: %w", s, s.progress(), m.Source, m.Data[1], ErrTPAborted)
}

// data handles a TP.DT packet.
func (t *Transport) data(m Message) (Message, bool, error) {
	d := m.Data
	if len(d) < 8 {
		t.stats.Malformed++
		return Message{}, false, fmt.Errorf("TP.DT from %v with %d bytes: %w", m.Source, len(d), ErrMalformed)
	}
	s := t.find(m.Source, m.Destination)
	if s == nil {
		t.stats.Orphans++
		return Message{}, false, fmt.Errorf("TP.DT %d from %v to %v: %w", d[0], m.Source, m.Destination, ErrTPNoSession)
	}
	seq := int(d[0])
	if seq != s.next {
		s.active = false
		t.stats.SequenceErrors++
		return Message{}, false, fmt.Errorf("%v dropped %s: packet %d, want %d: %w", s, s.progress(), seq, s.next, ErrTPSequence)
	}
	offset := (seq - 1) * packetSize
	copy(s.buf[offset:min(offset+packetSize, s.size)], d[1:])
	s.next++
	s.last = m.Time
	if seq == s.packets {
		s.active = false
		t.stats.Completed++
		return Message{
			Time:        m.Time,
			PGN:         s.pgn,
			Priority:    s.priority,
			Source:      s.src,
			Destination: s.dst,
			Data:        s.buf[:s.size],
		}, true, nil
	}
	s.timeout = TimeoutT1
	if seq == s.windowEnd {
		s.timeout = TimeoutT3 // the window is done: the addressee sends a CTS
	}
	return Message{}, false, nil
}

// find returns the active transfer from src to dst, or nil.
func (t *Transport) find(src, dst Address) *session {
	for _, s := range t.sessions {
		if s.active && s.src == src && s.dst == dst {
			return s
		}
	}
	return nil
}

// free returns an inactive session to reuse, growing the pool up to
// MaxSessions, or nil when all are busy.
func (t *Transport) free() *session {
	for _, s := range t.sessions {
		if !s.active {
			return s
		}
	}
	if len(t.sessions) == MaxSessions {
		return nil
	}
	s := new(session)
	t.sessions = append(t.sessions, s)
	return s
}

// join combines two possibly nil errors without allocating when at most one
// is set.
func join(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return errors.Join(a, b)
}
