package isotp

import "github.com/fleetwire/fleetwire/edge/can"

// FlowControl returns the flow-control frame a tester sends after a first
// frame arrived on responseID, to let the ECU send the rest: flow status
// ContinueToSend (CTS, 0x30), block size 0 (all consecutive frames without waiting for more
// flow control), STmin 0 (no gap required between them), padded to 8
// bytes with zeros. It is addressed to RequestID(responseID); IDs above
// 7FF are taken to be 29-bit.
func FlowControl(responseID uint32) can.Frame {
	return can.Frame{
		ID:       RequestID(responseID),
		Extended: responseID > 0x7FF,
		Len:      8,
		Data:     [8]byte{flowControlFrame << 4},
	}
}

// RequestID returns the CAN ID on which a tester addresses the ECU that
// answers on responseID:
//
//   - for 11-bit IDs (up to 7FF) responseID − 8, as OBD-II does (7E8 →
//     7E0) and many UDS ECUs (7A8 → 7A0);
//   - for 29-bit IDs (ISO 15765-4 normal fixed addressing, 18DA<target>
//     <source>) the target and source address bytes swapped: the ECU 10
//     answers the tester F1 on 18DAF110 and is addressed on 18DA10F1.
func RequestID(responseID uint32) uint32 {
	if responseID > 0x7FF {
		target, source := responseID>>8&0xFF, responseID&0xFF
		return responseID&^0xFFFF | source<<8 | target
	}
	return (responseID - 8) & 0x7FF
}
