package obd

import (
	"testing"

	"github.com/fleetwire/fleetwire/edge/can"
)

// BenchmarkDecodeFrame runs the CANedge capture through a Decoder frame by
// frame, as the agent's frame loop would. "answers" holds only the car's
// Mode 01 answers of table PIDs, the hot path; "capture" is every frame:
// the logger's requests (skipped), the answers to PID 0xA4, which is not
// in the table (ErrUnknownPID allocates its message), and the VIN frames
// (ignored without a Reassembler).
func BenchmarkDecodeFrame(b *testing.B) {
	all := readCandump(b, carLog)
	var answers []can.Frame
	d := NewDecoder(nil)
	for _, f := range all {
		if resp, ok, err := d.Decode(f); ok && err == nil && len(resp.Signals) > 0 {
			answers = append(answers, f)
		}
	}
	for _, bc := range []struct {
		name   string
		frames []can.Frame
	}{{"answers", answers}, {"capture", all}} {
		b.Run(bc.name, func(b *testing.B) {
			d := NewDecoder(nil)
			signals, n := 0, 0
			b.ReportAllocs()
			for b.Loop() {
				resp, _, _ := d.Decode(bc.frames[n%len(bc.frames)])
				signals += len(resp.Signals)
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "frames/s")
			b.ReportMetric(float64(signals)/b.Elapsed().Seconds(), "signals/s")
		})
	}
}

// BenchmarkDecodeResponse decodes one Mode 01 payload with six PIDs.
func BenchmarkDecodeResponse(b *testing.B) {
	payload := []byte{0x41, 0x0C, 0x1A, 0xF8, 0x0D, 0x32, 0x05, 0x7B, 0x2F, 0x99, 0x42, 0x39, 0x91, 0xA6, 0x00, 0x01, 0xE2, 0x40}
	dst := make([]Signal, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = AppendResponse(dst[:0], payload)
	}
}

// TestDecoderDoesNotAllocate guards the hot path: decoding a single-frame
// answer, a bitmap, a request to skip.
func TestDecoderDoesNotAllocate(t *testing.T) {
	frames := []can.Frame{
		frame(t, "7E8#04410C2E35CCCCCC"),
		frame(t, "7E8#0641010027E100CC"),
		frame(t, "7EC#06412080018001AA"),
		frame(t, "7E0#02010C5555555555"),
	}
	d := NewDecoder(nil)
	for _, f := range frames {
		if n := testing.AllocsPerRun(100, func() { _, _, _ = d.Decode(f) }); n != 0 {
			t.Errorf("Decode(%X) allocates %v times", f.Data, n)
		}
	}
}
