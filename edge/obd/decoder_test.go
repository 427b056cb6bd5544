package obd

import (
	"errors"
	"testing"

	"github.com/fleetwire/fleetwire/edge/can"
)

func TestDecoderSingleFrames(t *testing.T) {
	d := NewDecoder(nil)
	for _, tc := range []struct {
		line    string
		ok      bool
		ecu     uint32
		signals map[string]float64
		sup     string // Supported.String()
		err     error
	}{
		// CANedge capture: the logger's request, then the car's answer.
		{line: "(1725695001.687500) can1 7E0#02010C5555555555"},
		{line: "(1725695337.578300) can1 7E8#04410C2E35CCCCCC", ok: true, ecu: 0x7E8, signals: map[string]float64{"engine_speed": 2957.25}},
		{line: "(1725694999.693250) can1 7E8#0641010027E100CC", ok: true, ecu: 0x7E8, signals: map[string]float64{"mil_on": 0, "dtc_count": 0}},
		// Kona capture: functional request, answers from two ECUs.
		{line: "(7255.267200) can1 7DF#0201200000000000"},
		{line: "(7255.273400) can1 7EB#0641208001800000", ok: true, ecu: 0x7EB, sup: "[20 21 30 31]"},
		{line: "(7255.275600) can1 7EC#06412080018001AA", ok: true, ecu: 0x7EC, sup: "[20 21 30 31 40]"},
		// Kona capture: a refusal, and a Mode 03 answer left to DecodeDTCs.
		{line: "7EB#037F191100000000", ok: true, ecu: 0x7EB, err: ErrNegativeResponse},
		{line: "7EC#024300AAAAAAAAAA", ok: true, ecu: 0x7EC},
		// Kona capture: the tester's flow control, and a UDS answer from a
		// body ECU on its own ID.
		{line: "7E4#3000000000000000"},
		{line: "7A8#0250900000000000"},
		// Not in the captures: ISO-TP lengths that do not fit the frame.
		{line: "7E8#00410C", ok: true, ecu: 0x7E8, err: ErrMalformed},
		{line: "7E8#06410C1AF8", ok: true, ecu: 0x7E8, err: ErrMalformed},
		{line: "7E8#08410C1AF80D3205", ok: true, ecu: 0x7E8, err: ErrMalformed},
		// 29-bit ISO 15765-4 response ID 0x18DAF110 (ECU 0x10 to tester 0xF1).
		{line: "18DAF110#03410D32", ok: true, ecu: 0x18DAF110, signals: map[string]float64{"vehicle_speed": 50}},
		{line: "18DAF210#03410D32"},
		// Multi-frame without a Reassembler: ignored.
		{line: "7E8#1014490201544D42"},
	} {
		f := frame(t, tc.line)
		resp, ok, err := d.Decode(f)
		if ok != tc.ok || !errors.Is(err, tc.err) || (!ok && err != nil) {
			t.Errorf("%s: ok %v, err %v; want %v, %v", tc.line, ok, err, tc.ok, tc.err)
			continue
		}
		if !ok {
			continue
		}
		if resp.ECU != tc.ecu || !resp.Time.Equal(f.Time) {
			t.Errorf("%s: ECU %#x at %v", tc.line, resp.ECU, resp.Time)
		}
		if len(resp.Signals) != len(tc.signals) {
			t.Errorf("%s: signals %v, want %v", tc.line, resp.Signals, tc.signals)
		}
		for _, s := range resp.Signals {
			if want, found := tc.signals[s.Name]; !found || !near(s.Value, want) {
				t.Errorf("%s: %v, want %v", tc.line, s, want)
			}
		}
		if tc.sup != "" && resp.Supported.String() != tc.sup {
			t.Errorf("%s: supported %v, want %s", tc.line, resp.Supported, tc.sup)
		}
	}
}

func TestDecoderNegativeResponseNamesECU(t *testing.T) {
	// Kona capture: 7EC refuses KWP 0x18 with serviceNotSupported.
	_, _, err := NewDecoder(nil).Decode(frame(t, "7EC#037F181100000000"))
	var nr *NegativeResponseError
	if !errors.As(err, &nr) || nr.ECU != 0x7EC || nr.Service != 0x18 || nr.Code != NRCServiceNotSupported {
		t.Fatalf("error %#v", err)
	}
	if want := "obd: negative response from 0x7ec to service 0x18: serviceNotSupported (0x11)"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
}

func TestDecoderMultiFrame(t *testing.T) {
	// The CANedge capture's VIN answer, lines 11–14, with the logger's
	// flow control in between.
	lines := []string{
		"(1725695000.487500) can1 7E0#0209025555555555",
		"(1725695000.493300) can1 7E8#1014490201544D42",
		"(1725695000.537500) can1 7E0#3000000000000000",
		"(1725695000.538250) can1 7E8#214A50374E58354E",
		"(1725695000.539200) can1 7E8#2259303834393233",
	}
	d := NewDecoder(newTestReassembler())
	var got []Response
	for _, line := range lines {
		resp, ok, err := d.Decode(frame(t, line))
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if ok {
			got = append(got, resp)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d responses, want 1", len(got))
	}
	if got[0].ECU != 0x7E8 || got[0].Time.UnixMicro() != 1725695000539200 {
		t.Errorf("response from %#x at %v, want 0x7E8 at the last frame", got[0].ECU, got[0].Time)
	}
	vin, err := DecodeVIN(got[0].Payload)
	if err != nil || vin != "TMBJP7NX5NY084923" {
		t.Errorf("DecodeVIN = %q, %v", vin, err)
	}
}

func TestDecoderOddFrames(t *testing.T) {
	d := &Decoder{} // the zero Decoder works
	for _, f := range []can.Frame{
		{ID: 0x7E8},                             // no data
		{ID: 0x7E8, RTR: true, Len: 8},          // remote request
		{ID: 0x7E8, Len: 200, Data: [8]byte{7}}, // Len past the array: no panic
		{ID: 0x7E8, Len: 1, Data: [8]byte{0x30}},
	} {
		if _, ok, err := d.Decode(f); !ok && err != nil {
			t.Errorf("Decode(%+v) = not ok with error %v", f, err)
		}
	}
	resp, ok, err := d.Decode(frame(t, "7E8#03410D32"))
	if !ok || err != nil || len(resp.Signals) != 1 {
		t.Errorf("zero Decoder: %v, %v, %v", resp, ok, err)
	}
}

// emptyReassembler completes a message with no bytes, which the Decoder
// must report, not index.
type emptyReassembler struct{}

func (emptyReassembler) Add(f can.Frame) ([]byte, uint32, bool) { return nil, f.ID, true }

func TestDecoderEmptyReassembledPayload(t *testing.T) {
	_, ok, err := NewDecoder(emptyReassembler{}).Decode(frame(t, "7E8#1014490201544D42"))
	if !ok || !errors.Is(err, ErrMalformed) {
		t.Errorf("ok %v, err %v; want ErrMalformed", ok, err)
	}
}
