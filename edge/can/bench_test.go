package can

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkParseLine parses the J1939 capture, 21,497 lines, per op.
func BenchmarkParseLine(b *testing.B) {
	lines := readLines(b, j1939)
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	var f Frame
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			if err := ParseLine(l, &f); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(lines))*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkReader reads the J1939 capture from memory through a Reader:
// line splitting, parsing, counting and emitting.
func BenchmarkReader(b *testing.B) {
	data, err := os.ReadFile(j1939)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	frames := 0
	for b.Loop() {
		r := NewReader(bytes.NewReader(data), ReaderOptions{Logger: quiet})
		if err := r.Run(b.Context(), func(Frame) error { frames++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
}
