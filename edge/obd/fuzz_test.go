package obd

import (
	"errors"
	"testing"
)

// FuzzDecodeResponse feeds arbitrary payloads to every payload decoder.
// None may panic; every signal must lie within its table range (which also
// rules out NaN); a refusal must come as a *NegativeResponseError; DTCs
// must print as codes that parse back. The seeds are the payloads of both
// OBD captures, single frames and reassembled ones.
func FuzzDecodeResponse(f *testing.F) {
	for _, path := range []string{carLog, konaLog} {
		seen := map[string]bool{}
		d := NewDecoder(newTestReassembler())
		for _, fr := range readCandump(f, path) {
			resp, ok, _ := d.Decode(fr)
			if ok && !seen[string(resp.Payload)] {
				seen[string(resp.Payload)] = true
				f.Add(append([]byte(nil), resp.Payload...))
			}
		}
	}
	f.Add([]byte{0x41, 0x0C, 0x1A, 0xF8, 0x0D, 0x32, 0x00, 0xBE, 0x1F, 0xA8, 0x13, 0xA6, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Add([]byte{0x43, 0x02, 0x03, 0x01, 0xC1, 0x00})

	f.Fuzz(func(t *testing.T, payload []byte) {
		signals, err := DecodeResponse(payload)
		for _, s := range signals {
			checkTableRange(t, s)
		}
		var refusal *NegativeResponseError
		if errors.Is(err, ErrNegativeResponse) != errors.As(err, &refusal) {
			t.Errorf("refusal %v is not a *NegativeResponseError", err)
		}
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownPID) &&
			!errors.Is(err, ErrUnexpectedService) && !errors.Is(err, ErrNegativeResponse) {
			t.Errorf("DecodeResponse error %v is none of the sentinels", err)
		}

		if sup, err := DecodeSupported(payload); err == nil && sup.Len() > 0 && len(payload) < 6 {
			t.Errorf("bitmap %v from a payload too short to hold one", sup)
		}

		dtcs, _ := DecodeDTCs(payload)
		for _, c := range dtcs {
			if back, err := ParseDTC(c.String()); err != nil || back != c {
				t.Errorf("DTC %v does not parse back: %v, %v", c, back, err)
			}
		}

		if vin, err := DecodeVIN(payload); err == nil && ValidateVIN(vin) != nil {
			t.Errorf("DecodeVIN returned the invalid %q", vin)
		}
	})
}

// checkTableRange fails the test for a signal that does not match a Def
// or lies outside its range.
func checkTableRange(t *testing.T, s Signal) {
	t.Helper()
	for _, d := range defsOf(s.PID) {
		if d.Name == s.Name {
			if !(s.Value >= d.Min && s.Value <= d.Max) {
				t.Errorf("%v outside %v..%v", s, d.Min, d.Max)
			}
			return
		}
	}
	t.Errorf("%v matches no Def of PID %#02x", s, s.PID)
}
