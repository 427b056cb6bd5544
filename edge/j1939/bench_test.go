package j1939

import "testing"

// BenchmarkDecodeFrame runs the capture through a Decoder, frame by frame,
// decoding the signals of every message and each DM1: the edge agent's hot
// path. One op is one frame.
func BenchmarkDecodeFrame(b *testing.B) {
	frames := loadCapture(b)
	var (
		dec  Decoder
		sigs []Signal
		dm1  DM1
		n    int
	)
	b.ReportAllocs()
	for b.Loop() {
		f := &frames[n%len(frames)]
		n++
		m, ok, err := dec.Decode(f)
		if err != nil {
			b.Fatal(err)
		}
		if !ok {
			continue
		}
		sigs = AppendSignals(sigs[:0], m)
		if m.PGN == PGNDM1 {
			if err := dm1.Decode(m.Data); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "frames/s")
}
