package isotp

import (
	"testing"

	"github.com/fleetwire/fleetwire/edge/can"
)

// TestFlowControl builds the flow control that the testers in the logs
// sent, and compares it with theirs byte for byte.
func TestFlowControl(t *testing.T) {
	tests := []struct {
		responseID uint32
		sent       string // the tester's frame, from the log
	}{
		// canedge-obd2-car-7512BE4D.log line 12, after the VIN's first frame.
		{0x7E8, "(1725695000.537500) can1 7E0#3000000000000000"},
		// kona-ev-2021-dcan-car-scanner-elm327.log lines 23 and 29.
		{0x7EC, "(7257.233100) can1 7E4#3000000000000000"},
		{0x7ED, "(7257.332700) can1 7E5#3000000000000000"},
	}
	for _, tt := range tests {
		var want can.Frame
		if err := can.ParseLine([]byte(tt.sent), &want); err != nil {
			t.Fatal(err)
		}
		want.Time = FlowControl(tt.responseID).Time
		if got := FlowControl(tt.responseID); got != want {
			t.Errorf("FlowControl(%X) = %+v, want %+v", tt.responseID, got, want)
		}
	}
	f := FlowControl(0x18DAF110)
	if f.ID != 0x18DA10F1 || !f.Extended || f.Payload()[0] != 0x30 {
		t.Errorf("FlowControl(18DAF110) = %+v", f)
	}
}

func TestRequestID(t *testing.T) {
	tests := map[uint32]uint32{
		0x7E8: 0x7E0, 0x7EF: 0x7E7, // OBD-II
		// Kona: UDS ECUs answering on request ID + 8.
		0x778: 0x770, 0x7A8: 0x7A0, 0x7D9: 0x7D1,
		// ISO 15765-4 29-bit: ECU 10 and 33, tester F1.
		0x18DAF110: 0x18DA10F1, 0x18DAF133: 0x18DA33F1,
	}
	for response, want := range tests {
		if got := RequestID(response); got != want {
			t.Errorf("RequestID(%X) = %X, want %X", response, got, want)
		}
	}
}
