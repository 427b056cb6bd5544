package j1939

import (
	"strconv"

	"github.com/fleetwire/fleetwire/edge/can"
)

// Status says whether a Signal carries a usable value.
type Status uint8

// Signal statuses. Only StatusValid signals have a Value; the others carry
// a raw value that J1939 reserves for "no number here".
const (
	// StatusValid means Value is a measurement within the SPN's range.
	StatusValid Status = iota
	// StatusNotAvailable means the sender does not have the parameter
	// (raw all ones: 0xFF, 0xFFxx, 0xFFxxxxxx; 11 for a 2-bit state), or
	// the message is too short to hold it.
	StatusNotAvailable
	// StatusError means the sender flags the parameter as faulty (0xFE,
	// 0xFExx, 0xFExxxxxx; 10 for a 2-bit state).
	StatusError
	// StatusOutOfRange means a raw value J1939 reserves (0xFB–0xFD as the
	// top byte), or a value outside the SPN's valid range.
	StatusOutOfRange
)

// String names the status.
func (s Status) String() string {
	switch s {
	case StatusValid:
		return "valid"
	case StatusNotAvailable:
		return "not available"
	case StatusError:
		return "error"
	case StatusOutOfRange:
		return "out of range"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Signal is one decoded SPN value. It is a small value type pointing into
// the static signal table, so decoding allocates nothing.
type Signal struct {
	// Spec describes the SPN: number, name, unit, scaling. Read-only.
	Spec *Spec
	// Raw is the value as transmitted, before scaling.
	Raw uint32
	// Value is Raw × Resolution + Offset in Spec.Unit when Status is
	// StatusValid, and 0 otherwise.
	Value float64
	// Status tells whether Value is usable.
	Status Status
}

// Valid reports whether the signal carries a usable value.
func (s Signal) Valid() bool { return s.Status == StatusValid }

// String formats the signal for logs: "SPN 190 Engine Speed = 649 rpm", or
// the status instead of the value when there is none.
func (s Signal) String() string {
	if s.Spec == nil {
		return "SPN ? = " + s.Status.String()
	}
	head := "SPN " + strconv.FormatUint(uint64(s.Spec.SPN), 10) + " " + s.Spec.Name + " = "
	if s.Status != StatusValid {
		return head + s.Status.String()
	}
	v := strconv.FormatFloat(s.Value, 'f', -1, 64)
	if s.Spec.Unit == "" {
		return head + v
	}
	return head + v + " " + s.Spec.Unit
}

// Decode extracts the SPN from the payload of its parameter group.
func (sp *Spec) Decode(data []byte) Signal {
	sig := Signal{Spec: sp}
	raw, ok := extract(data, int(sp.StartByte-1)*8+int(sp.StartBit-1), int(sp.Length))
	if !ok {
		sig.Status = StatusNotAvailable
		return sig
	}
	sig.Raw = raw
	if sig.Status = rawStatus(raw, int(sp.Length)); sig.Status != StatusValid {
		return sig
	}
	v := float64(raw)*sp.Resolution + sp.Offset
	// Allow half a step of slack: Min and Max are written as decimals and
	// the scaled value carries the rounding of the resolution.
	if slack := sp.Resolution / 2; v < sp.Min-slack || v > sp.Max+slack {
		sig.Status = StatusOutOfRange
		return sig
	}
	sig.Value = v
	return sig
}

// AppendSignals decodes every SPN of m that the signal table knows and
// appends them to dst, in table order. Parameter groups without signals
// (DM1, TP, unknown PGNs) append nothing. It allocates only when dst has
// to grow; reuse dst[:0] between calls.
func AppendSignals(dst []Signal, m Message) []Signal {
	specs := specsByPGN[m.PGN]
	for i := range specs {
		dst = append(dst, specs[i].Decode(m.Data))
	}
	return dst
}

// DecodeFrame decodes the signals of a single frame and appends them to
// dst. It does not reassemble transport-protocol transfers; use a Decoder
// for a stream of frames.
func DecodeFrame(dst []Signal, f *can.Frame) ([]Signal, error) {
	m, err := ParseFrame(f)
	if err != nil {
		return dst, err
	}
	return AppendSignals(dst, m), nil
}

// extract reads length bits (1–32) starting at bit start of data, where bit
// 0 is the least significant bit of data[0] and values are little-endian.
// It reports false if data is too short.
func extract(data []byte, start, length int) (uint32, bool) {
	if length < 1 || length > 32 || start < 0 || start+length > len(data)*8 {
		return 0, false
	}
	var v uint64
	first, last := start/8, (start+length-1)/8
	for i := last; i >= first; i-- {
		v = v<<8 | uint64(data[i])
	}
	v >>= start % 8
	return uint32(v & (1<<length - 1)), true
}

// rawStatus applies the J1939-71 transmitted signal ranges. For whole
// bytes the top byte decides: 0xFF… not available, 0xFE… error,
// 0xFB…–0xFD… reserved. For bit fields, all ones is not available and all
// ones minus one is error (a 2-bit state: 00 off, 01 on, 10 error, 11 not
// available). A 1-bit field has no such codes.
func rawStatus(raw uint32, length int) Status {
	if length%8 == 0 {
		switch top := raw >> (length - 8); {
		case top == 0xFF:
			return StatusNotAvailable
		case top == 0xFE:
			return StatusError
		case top > max8:
			return StatusOutOfRange
		}
		return StatusValid
	}
	if length == 1 {
		return StatusValid
	}
	switch ones := uint32(1)<<length - 1; raw {
	case ones:
		return StatusNotAvailable
	case ones - 1:
		return StatusError
	}
	return StatusValid
}
