package isotp

import (
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
)

// BenchmarkReassemble measures the Reassembler on the whole OBD-II drive
// (15,302 frames: single frames and one VIN), on single frames alone and
// on a three-frame VIN.
func BenchmarkReassemble(b *testing.B) {
	drive := logFrames(b, obdLog)
	bench := func(b *testing.B, frames []can.Frame) {
		var r Reassembler
		b.ReportAllocs()
		for b.Loop() {
			for _, f := range frames {
				r.Add(f)
			}
		}
		b.ReportMetric(float64(len(frames))*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		if s := r.Stats(); s.Malformed+s.Sequence+s.Unexpected+s.Timeouts+s.Interrupted != 0 {
			b.Fatalf("Stats = %+v", s)
		}
	}
	b.Run("obd-drive", func(b *testing.B) { bench(b, drive) })
	b.Run("single-frame", func(b *testing.B) { bench(b, drive[1:2]) })
	b.Run("vin", func(b *testing.B) { bench(b, segment(0x7E8, pattern(20), 0xCC, time.Millisecond)) })
}
