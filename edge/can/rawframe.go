package can

import "encoding/binary"

// Linux's struct can_frame (linux/can.h), as a CAN_RAW socket reads and
// writes it: 16 bytes,
//
//	0..3   can_id    identifier and flags, in host byte order
//	4      len       data length 0..8 (formerly can_dlc)
//	5, 6   __pad, __res0
//	7      len8_dlc  raw DLC 9..15 of an 8-byte frame, or 0
//	8..15  data
//
// The flags are the top three bits of can_id.
const (
	rawFrameSize = 16

	rawEFFFlag = 0x80000000 // CAN_EFF_FLAG: 29-bit identifier
	rawRTRFlag = 0x40000000 // CAN_RTR_FLAG: remote transmission request
	rawERRFlag = 0x20000000 // CAN_ERR_FLAG: error message frame

	canFDFrameSize = 72 // struct canfd_frame
)

// decodeRawFrame decodes a struct can_frame read from a CAN_RAW socket;
// the caller sets the frame's Time. Error frames and CAN FD frames are
// ErrUnsupported; a buffer of another size, a length above 8 or an 11-bit
// identifier with bits above 7FF is ErrMalformed.
func decodeRawFrame(b []byte) (Frame, error) {
	switch len(b) {
	case rawFrameSize:
	case canFDFrameSize:
		return Frame{}, unsupported("CAN FD frame")
	default:
		return Frame{}, malformed("raw frame of %d bytes, want %d", len(b), rawFrameSize)
	}
	canID := binary.NativeEndian.Uint32(b[0:4])
	n := b[4]
	switch {
	case canID&rawERRFlag != 0:
		return Frame{}, unsupported("error frame %08X", canID&maxExtendedID)
	case n > 8:
		return Frame{}, malformed("raw frame length %d is above 8", n)
	case canID&rawEFFFlag == 0 && canID&maxExtendedID > maxStandardID:
		return Frame{}, malformed("11-bit identifier %X is above 7FF", canID&maxExtendedID)
	}
	f := Frame{
		ID:       canID & maxExtendedID,
		Extended: canID&rawEFFFlag != 0,
		RTR:      canID&rawRTRFlag != 0,
	}
	if !f.RTR {
		f.Len = n
		copy(f.Data[:n], b[8:8+n])
	}
	return f, nil
}

// encodeRawFrame encodes f as a struct can_frame for a CAN_RAW socket. An
// RTR frame is sent with length 0; data past f.Len is not sent. A frame
// whose identifier does not fit its format, or whose Len is above 8, is
// ErrMalformed.
func encodeRawFrame(b *[rawFrameSize]byte, f Frame) error {
	switch {
	case f.Len > 8:
		return malformed("frame length %d is above 8", f.Len)
	case !f.Extended && f.ID > maxStandardID:
		return malformed("11-bit identifier %X is above 7FF", f.ID)
	case f.Extended && f.ID > maxExtendedID:
		return malformed("29-bit identifier %X is above 1FFFFFFF", f.ID)
	}
	canID := f.ID
	if f.Extended {
		canID |= rawEFFFlag
	}
	*b = [rawFrameSize]byte{}
	if f.RTR {
		canID |= rawRTRFlag
	} else {
		b[4] = f.Len
		copy(b[8:], f.Data[:f.Len])
	}
	binary.NativeEndian.PutUint32(b[0:4], canID)
	return nil
}
