package obd

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
)

// A Reassembler puts multi-frame ISO-TP messages back together (the agent
// plugs in edge/can/isotp). The Decoder hands it every first frame and
// consecutive frame from an ECU response ID; Add returns ok with the
// complete payload and the ID of the ECU that sent it once the last frame
// of a message is in. The payload must stay valid until the next Add.
type Reassembler interface {
	Add(can.Frame) (payload []byte, ecu uint32, ok bool)
}

// A Response is one complete answer from one ECU.
type Response struct {
	// Time is the time of the frame that completed the response.
	Time time.Time
	// ECU is the CAN ID the response came from, such as 0x7E8.
	ECU uint32
	// Payload is the response after ISO-TP: the response service ID (0x41
	// for Mode 01, 0x43 for Mode 03, 0x49 for Mode 09, 0x7F for a refusal)
	// and its data. Valid until the next Decode.
	Payload []byte
	// Signals are the values of a Mode 01 response. Valid until the next
	// Decode.
	Signals []Signal
	// Supported holds the PIDs announced by the supported-PID bitmaps of a
	// Mode 01 response, empty if it has none.
	Supported Supported
}

// A Decoder turns CAN frames into OBD-II responses. It decodes single-frame
// ISO-TP messages itself, which covers Mode 01 (a one-PID answer is at
// most 7 bytes), and hands multi-frame messages to its Reassembler.
//
// It looks only at ECU response IDs (ISO 15765-4): 0x7E8–0x7EF, and the
// 29-bit 0x18DAF1xx. Decoding a single-frame response does not allocate.
// A Decoder is not safe for concurrent use.
type Decoder struct {
	reassembler Reassembler
	frame       [8]byte  // the last single frame, Response.Payload points into it
	signals     []Signal // reused by every Decode
}

// NewDecoder returns a Decoder that hands multi-frame messages to r; with
// a nil r it ignores them. The zero Decoder is a Decoder without one.
func NewDecoder(r Reassembler) *Decoder {
	return &Decoder{reassembler: r, signals: make([]Signal, 0, 8)}
}

// Decode takes the next frame from the bus. It returns ok when the frame
// completes a response from an ECU, and then an error as well when that
// response is malformed (ErrMalformed, ErrUnknownPID) or a refusal
// (a *NegativeResponseError); the Response is filled as far as it could
// be. Other frames (requests, flow control, the frames before the last
// one of a multi-frame message, other IDs) return ok false and no error.
//
// For Mode 01 Decode fills Signals and Supported; the payload of other
// services is left to DecodeDTCs, DecodeVIN and the like.
func (d *Decoder) Decode(f can.Frame) (resp Response, ok bool, err error) {
	if f.RTR || f.Len == 0 || !isResponseFrame(&f) {
		return Response{}, false, nil
	}
	var payload []byte
	switch pci := f.Data[0]; pci >> 4 {
	case 0x0: // single frame: PCI = length
		n := int(pci)
		if n == 0 || n > int(min(f.Len, 8))-1 {
			return Response{Time: f.Time, ECU: f.ID}, true,
				fmt.Errorf("%w: single frame length %d does not fit the %d-byte frame", ErrMalformed, n, f.Len)
		}
		d.frame = f.Data
		payload = d.frame[1 : 1+n]
	case 0x1, 0x2: // first frame, consecutive frame
		if d.reassembler == nil {
			return Response{}, false, nil
		}
		p, ecu, done := d.reassembler.Add(f)
		if !done {
			return Response{}, false, nil
		}
		payload, f.ID = p, ecu
	default: // flow control, or not ISO-TP
		return Response{}, false, nil
	}
	return d.decode(f.Time, f.ID, payload)
}

// decode decodes a complete payload from ecu.
func (d *Decoder) decode(t time.Time, ecu uint32, payload []byte) (Response, bool, error) {
	resp := Response{Time: t, ECU: ecu, Payload: payload}
	if len(payload) == 0 {
		return resp, true, fmt.Errorf("%w: empty payload from %#x", ErrMalformed, ecu)
	}
	switch payload[0] {
	case negativeResponseService:
		return resp, true, negative(ecu, payload)
	case ServiceCurrentData + positiveResponse:
		d.signals = d.signals[:0]
		err := walkCurrentData(payload, func(pid uint8, data []byte) {
			if isBitmapPID(pid) {
				resp.Supported.addBitmap(pid, binary.BigEndian.Uint32(data))
			} else {
				d.signals = appendSignals(d.signals, pid, data)
			}
		})
		resp.Signals = d.signals
		return resp, true, err
	}
	return resp, true, nil
}

// isResponseFrame reports whether f comes from an ECU response ID.
func isResponseFrame(f *can.Frame) bool {
	if f.Extended {
		return f.ID&^0xFF == 0x18DAF100
	}
	return f.ID >= 0x7E8 && f.ID <= 0x7EF
}
