package obd

import (
	"encoding/binary"
	"fmt"
)

// The OBD-II services (modes) this package decodes. A positive response
// starts with the service plus 0x40 (0x41 for Mode 01), a refusal with 0x7F.
const (
	ServiceCurrentData   = 0x01 // Mode 01: current powertrain data
	ServiceStoredDTCs    = 0x03 // Mode 03: stored (confirmed) DTCs
	ServicePendingDTCs   = 0x07 // Mode 07: pending DTCs
	ServiceVehicleInfo   = 0x09 // Mode 09: vehicle information (VIN…)
	ServicePermanentDTCs = 0x0A // Mode 0A: permanent DTCs
)

const (
	positiveResponse        = 0x40 // added to the service in a positive response
	negativeResponseService = 0x7F // first byte of a refusal
)

// DecodeResponse decodes a complete Mode 01 response payload, as it is
// after ISO-TP: 0x41, then one or more PIDs each followed by its data
// bytes (41 0C 1A F8 0D 32 …). It returns the signals of every PID in the
// signal table, in payload order; supported-PID bitmaps (PIDs 0x00, 0x20,
// …) are skipped, see DecodeSupported. A negative response (0x7F) is
// returned as a *NegativeResponseError.
//
// On an error the signals decoded before the problem are returned with it.
// DecodeResponse allocates the slice it returns; AppendResponse does not.
func DecodeResponse(payload []byte) ([]Signal, error) {
	return AppendResponse(nil, payload)
}

// AppendResponse is DecodeResponse appending to dst: with a dst of enough
// capacity it does not allocate.
func AppendResponse(dst []Signal, payload []byte) ([]Signal, error) {
	err := walkCurrentData(payload, func(pid uint8, data []byte) {
		dst = appendSignals(dst, pid, data)
	})
	return dst, err
}

// DecodeSupported decodes the supported-PID bitmaps in a Mode 01 response
// payload (41 00 BE 3F A8 13 …) into the set of PIDs they announce; other
// PIDs in the payload are skipped. The bitmap PIDs that were answered are
// in the set too.
func DecodeSupported(payload []byte) (Supported, error) {
	var s Supported
	err := walkCurrentData(payload, func(pid uint8, data []byte) {
		if isBitmapPID(pid) {
			s.addBitmap(pid, binary.BigEndian.Uint32(data))
		}
	})
	return s, err
}

// walkCurrentData checks a Mode 01 response payload and calls visit with
// each PID and its data bytes, in order. It stops at the first PID it
// cannot delimit: one that is not in the table, or whose data is cut off.
func walkCurrentData(payload []byte, visit func(pid uint8, data []byte)) error {
	if err := checkService(payload, ServiceCurrentData); err != nil {
		return err
	}
	if len(payload) < 2 {
		return fmt.Errorf("%w: Mode 01 response without a PID", ErrMalformed)
	}
	for rest := payload[1:]; len(rest) > 0; {
		pid := rest[0]
		n, ok := dataLen(pid)
		if !ok {
			return fmt.Errorf("%w %#02x at byte %d of % X", ErrUnknownPID, pid, len(payload)-len(rest), payload)
		}
		if len(rest)-1 < n {
			return fmt.Errorf("%w: PID %#02x needs %d data bytes, %d left in % X", ErrMalformed, pid, n, len(rest)-1, payload)
		}
		visit(pid, rest[1:1+n])
		rest = rest[1+n:]
	}
	return nil
}

// appendSignals appends the signals of one PID of the table to dst;
// bitmap PIDs have none.
func appendSignals(dst []Signal, pid uint8, data []byte) []Signal {
	defs := defsOf(pid)
	for i := range defs {
		dst = append(dst, defs[i].signal(data))
	}
	return dst
}

// dataLen returns the number of data bytes of a Mode 01 PID, false when
// the PID is neither a bitmap nor in the table.
func dataLen(pid uint8) (int, bool) {
	if isBitmapPID(pid) {
		return 4, true
	}
	if s := index[pid]; s.n > 0 {
		return table[s.start].Bytes, true
	}
	return 0, false
}

// signal applies d's formula to data, which holds d.Bytes bytes.
func (d *Def) signal(data []byte) Signal {
	var r [4]float64
	for i := range min(len(data), len(r)) {
		r[i] = float64(data[i])
	}
	return Signal{PID: d.PID, Name: d.Name, Unit: d.Unit, Value: d.formula(r[0], r[1], r[2], r[3])}
}

// checkService checks that payload is a positive response to service:
// a negative response becomes a *NegativeResponseError, another service
// ErrUnexpectedService.
func checkService(payload []byte, service byte) error {
	switch {
	case len(payload) == 0:
		return fmt.Errorf("%w: empty payload", ErrMalformed)
	case payload[0] == negativeResponseService:
		return negative(0, payload)
	case payload[0] != service+positiveResponse:
		return fmt.Errorf("%w: payload % X is not a response to service %#02x", ErrUnexpectedService, payload, service)
	}
	return nil
}
