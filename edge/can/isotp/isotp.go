// Package isotp reassembles ISO-TP (ISO 15765-2) messages from classic
// CAN frames: the transport that carries OBD-II and UDS diagnostic
// messages too long for one frame, such as the VIN.
//
// Only normal addressing is handled: the whole CAN ID is the address and
// the first data byte is the protocol control information (PCI):
//
//	0L …            single frame, L = 1…7 bytes of data
//	1L LL …         first frame, LLL = 8…4095 bytes, 6 of them in this frame
//	2N …            consecutive frame, N = sequence number 1…15, 0…15, …
//	3S BS ST        flow control, sent by the receiver
//
// Bytes past the announced length are padding and ignored.
package isotp

import (
	"errors"
	"fmt"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
)

// Defaults and limits of Config.
const (
	// DefaultTimeout is the default N_Cr: how long the receiver waits for
	// the next consecutive frame (ISO 15765-2 allows 1000 ms).
	DefaultTimeout = time.Second
	// MaxLen is the longest message a classic first frame can announce.
	MaxLen = 4095
	// DefaultMaxPending is the default number of messages reassembled at
	// the same time, each on its own CAN ID.
	DefaultMaxPending = 64
)

// PCI frame types, the high nibble of the first data byte.
const (
	singleFrame      = 0x0
	firstFrame       = 0x1
	consecutiveFrame = 0x2
	flowControlFrame = 0x3
)

// Config configures a Reassembler. The zero value is the defaults.
type Config struct {
	// Timeout is N_Cr, the longest gap between two frames of one message,
	// measured on the frames' times, not the wall clock; 0 means
	// DefaultTimeout. Frames with a zero Time never time out.
	Timeout time.Duration
	// MaxLen is the longest message accepted, up to and by default MaxLen
	// bytes. Longer first frames are refused with ErrTooLong.
	MaxLen int
	// MaxPending bounds the messages in progress at the same time, which
	// bounds memory (each takes up to MaxLen bytes); 0 means
	// DefaultMaxPending.
	MaxPending int
}

// A Message is a reassembled ISO-TP message.
type Message struct {
	// ID and Extended are the CAN ID the message came on.
	ID       uint32
	Extended bool
	// Time is the time of the frame that completed the message.
	Time time.Time
	// Data is the payload, exactly as long as its first or single frame
	// announced, without PCI bytes or padding. It is only valid until the
	// next call to Add or Expire: the Reassembler reuses its memory. Copy
	// it (bytes.Clone) to keep it.
	Data []byte
}

// Stats counts what a Reassembler was given and what came of it.
type Stats struct {
	Frames      int // frames added
	Messages    int // complete messages returned
	FlowControl int // flow-control frames, which carry no message data and are skipped

	// Problems, each returned as an error from Add (timeouts that Expire
	// finds are only counted).
	Malformed   int // ErrMalformed
	TooLong     int // ErrTooLong
	Unexpected  int // ErrUnexpected
	Sequence    int // ErrSequence
	Timeouts    int // ErrTimeout, from Add or Expire
	Interrupted int // ErrInterrupted
	Busy        int // ErrBusy
}

// A Reassembler turns the frames of ISO-TP senders into messages, one
// message in progress per CAN ID. Feed it the frames of the IDs that carry
// ISO-TP (say 7E8–7EF for OBD-II answers); frames of other protocols would
// be seen as malformed ISO-TP, or worse, as messages. The zero value is
// ready to use with the default Config. A Reassembler is not safe for
// concurrent use.
type Reassembler struct {
	cfg     Config
	pending map[key]*message
	stats   Stats

	// Memory for the data of the messages returned: the last single
	// frame, and the buffer of the last multi-frame message, which goes
	// back to free on the next call.
	single   [7]byte
	returned *message
	free     []*message
}

// key identifies the sender of a message.
type key struct {
	id       uint32
	extended bool
}

// message is a multi-frame message in progress.
type message struct {
	data []byte    // received so far
	size int       // announced by the first frame
	next uint8     // sequence number of the next consecutive frame
	last time.Time // time of the latest frame
}

// maxFree is how many message buffers a Reassembler keeps for reuse.
const maxFree = 16

// NewReassembler returns a Reassembler configured by cfg.
func NewReassembler(cfg Config) *Reassembler {
	return &Reassembler{cfg: cfg}
}

// Stats returns the counts so far.
func (r *Reassembler) Stats() Stats { return r.stats }

// Pending returns the number of messages in progress.
func (r *Reassembler) Pending() int { return len(r.pending) }

// Add handles one frame. It returns the message f completes, with ok set:
// a single frame, or the last consecutive frame of a message. Problems are
// returned as err, wrapping one of this package's errors, and counted;
// they do not stop reassembly, so keep adding frames. Add can return a
// message and an error together, when f aborts a message in progress on
// its ID (ErrTimeout, ErrInterrupted) and is itself a single frame. When f
// aborts a message and is itself refused, err joins both problems: a
// consecutive frame that comes too late is ErrTimeout and ErrUnexpected.
//
// A message in progress on f's ID times out when f comes more than the
// timeout after the message's previous frame; call Expire to time out
// messages on IDs that fell silent.
func (r *Reassembler) Add(f can.Frame) (msg Message, ok bool, err error) {
	r.recycle()
	r.stats.Frames++
	k := key{f.ID, f.Extended}
	p := r.pending[k]
	var aborted error
	if p != nil && r.timedOut(p, f.Time) {
		aborted = r.abort(k, p, &r.stats.Timeouts, ErrTimeout, "%s after the previous frame", f.Time.Sub(p.last))
		p = nil
	}
	payload := f.Payload()
	if f.RTR || len(payload) == 0 {
		return Message{}, false, join(aborted, r.problem(k, &r.stats.Malformed, ErrMalformed, "frame without data"))
	}
	switch payload[0] >> 4 {
	case singleFrame:
		msg, ok, err = r.onSingle(k, p, f, payload)
	case firstFrame:
		err = r.onFirst(k, p, f, payload)
	case consecutiveFrame:
		msg, ok, err = r.onConsecutive(k, p, f, payload)
	case flowControlFrame:
		r.stats.FlowControl++
	default:
		err = r.problem(k, &r.stats.Malformed, ErrMalformed, "unknown frame type %X", payload[0]>>4)
	}
	return msg, ok, join(aborted, err)
}

// onSingle handles a single frame: the whole message in one frame.
func (r *Reassembler) onSingle(k key, p *message, f can.Frame, payload []byte) (Message, bool, error) {
	n := int(payload[0] & 0x0F)
	switch {
	case n == 0:
		return Message{}, false, r.problem(k, &r.stats.Malformed, ErrMalformed, "single frame of length 0")
	case n > len(payload)-1:
		return Message{}, false, r.problem(k, &r.stats.Malformed, ErrMalformed,
			"single frame announces %d bytes but carries %d", n, len(payload)-1)
	case n > r.maxLen():
		return Message{}, false, r.problem(k, &r.stats.TooLong, ErrTooLong,
			"single frame of %d bytes, longer than the maximum %d", n, r.maxLen())
	}
	var err error
	if p != nil {
		err = r.abort(k, p, &r.stats.Interrupted, ErrInterrupted,
			"single frame after %d of %d bytes", len(p.data), p.size)
	}
	copy(r.single[:], payload[1:1+n])
	r.stats.Messages++
	return Message{ID: f.ID, Extended: f.Extended, Time: f.Time, Data: r.single[:n:n]}, true, err
}

// onFirst handles a first frame: it starts a multi-frame message.
func (r *Reassembler) onFirst(k key, p *message, f can.Frame, payload []byte) error {
	if len(payload) != 8 {
		return r.problem(k, &r.stats.Malformed, ErrMalformed, "first frame of %d bytes, not 8", len(payload))
	}
	size := int(payload[0]&0x0F)<<8 | int(payload[1])
	switch {
	case size == 0:
		return r.problem(k, &r.stats.TooLong, ErrTooLong, "first frame announces more than %d bytes", MaxLen)
	case size < 8:
		return r.problem(k, &r.stats.Malformed, ErrMalformed,
			"first frame announces %d bytes, which fit in a single frame", size)
	case size > r.maxLen():
		return r.problem(k, &r.stats.TooLong, ErrTooLong,
			"first frame announces %d bytes, more than the maximum %d", size, r.maxLen())
	}
	var err error
	if p != nil {
		err = r.abort(k, p, &r.stats.Interrupted, ErrInterrupted,
			"first frame after %d of %d bytes", len(p.data), p.size)
	} else if len(r.pending) >= r.maxPending() {
		// Make room by timing out what has fallen silent; if that is not
		// enough, refuse the newcomer rather than drop a message that
		// may still complete.
		r.Expire(f.Time)
		if len(r.pending) >= r.maxPending() {
			return r.problem(k, &r.stats.Busy, ErrBusy, "%d messages in progress", len(r.pending))
		}
	}
	p = r.alloc(size)
	p.data = append(p.data, payload[2:]...)
	p.size, p.next, p.last = size, 1, f.Time
	if r.pending == nil {
		r.pending = make(map[key]*message)
	}
	r.pending[k] = p
	return err
}

// onConsecutive handles a consecutive frame: the next piece of a message.
func (r *Reassembler) onConsecutive(k key, p *message, f can.Frame, payload []byte) (Message, bool, error) {
	if p == nil {
		return Message{}, false, r.problem(k, &r.stats.Unexpected, ErrUnexpected, "no first frame before it")
	}
	if sn := payload[0] & 0x0F; sn != p.next {
		return Message{}, false, r.abort(k, p, &r.stats.Sequence, ErrSequence,
			"sequence number %d, want %d, after %d of %d bytes", sn, p.next, len(p.data), p.size)
	}
	want := min(p.size-len(p.data), 7)
	if len(payload)-1 < want {
		return Message{}, false, r.abort(k, p, &r.stats.Malformed, ErrMalformed,
			"consecutive frame carries %d bytes, want %d", len(payload)-1, want)
	}
	p.data = append(p.data, payload[1:1+want]...)
	p.next = (p.next + 1) & 0x0F
	p.last = f.Time
	if len(p.data) < p.size {
		return Message{}, false, nil
	}
	delete(r.pending, k)
	r.returned = p
	r.stats.Messages++
	return Message{ID: f.ID, Extended: f.Extended, Time: f.Time, Data: p.data[:p.size:p.size]}, true, nil
}

// Expire aborts the messages whose latest frame is more than the timeout
// before now, counts them as timeouts and returns how many there were.
// Pass the time of the latest frame seen, or the wall clock for a live
// bus, so that a message whose sender fell silent does not wait forever.
func (r *Reassembler) Expire(now time.Time) int {
	r.recycle()
	n := 0
	for k, p := range r.pending {
		if r.timedOut(p, now) {
			r.abort(k, p, &r.stats.Timeouts, ErrTimeout, "expired")
			n++
		}
	}
	return n
}

// timedOut reports whether the message p, still waiting at time now, has
// waited longer than the timeout.
func (r *Reassembler) timedOut(p *message, now time.Time) bool {
	if now.IsZero() || p.last.IsZero() {
		return false
	}
	timeout := r.cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return now.Sub(p.last) > timeout
}

// abort ends the message p in progress on k, counts the reason with n and
// returns it as an error.
func (r *Reassembler) abort(k key, p *message, n *int, sentinel error, format string, args ...any) error {
	delete(r.pending, k)
	r.release(p)
	return r.problem(k, n, sentinel, format, args...)
}

// problem counts a problem with n and returns it as an error naming k.
func (r *Reassembler) problem(k key, n *int, sentinel error, format string, args ...any) error {
	*n++
	return fmt.Errorf("%w: %s: %s", sentinel, k, fmt.Sprintf(format, args...))
}

// alloc returns a message with room for size bytes, reusing a free one
// where possible.
func (r *Reassembler) alloc(size int) *message {
	if n := len(r.free); n > 0 {
		p := r.free[n-1]
		r.free = r.free[:n-1]
		if cap(p.data) < size {
			p.data = make([]byte, 0, size)
		}
		p.data = p.data[:0]
		return p
	}
	return &message{data: make([]byte, 0, size)}
}

// release keeps p for reuse.
func (r *Reassembler) release(p *message) {
	if len(r.free) < maxFree {
		r.free = append(r.free, p)
	}
}

// recycle takes back the buffer of the last message returned, whose data
// the caller may no longer use.
func (r *Reassembler) recycle() {
	if r.returned != nil {
		r.release(r.returned)
		r.returned = nil
	}
}

func (r *Reassembler) maxLen() int {
	if r.cfg.MaxLen <= 0 || r.cfg.MaxLen > MaxLen {
		return MaxLen
	}
	return r.cfg.MaxLen
}

func (r *Reassembler) maxPending() int {
	if r.cfg.MaxPending <= 0 {
		return DefaultMaxPending
	}
	return r.cfg.MaxPending
}

// join returns a and b as one error: nil, either, or both joined.
func join(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return errors.Join(a, b)
}

// String formats the CAN ID as candump does: 3 hex digits, or 8 for a
// 29-bit ID.
func (k key) String() string {
	if k.extended {
		return fmt.Sprintf("%08X", k.id)
	}
	return fmt.Sprintf("%03X", k.id)
}
