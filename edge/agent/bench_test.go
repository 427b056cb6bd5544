package agent

import (
	"bufio"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/fleetwire/fleetwire/edge/can"
	"github.com/fleetwire/fleetwire/edge/state"
)

// BenchmarkBusToState measures the agent's hot path for the vehicle bus:
// one candump line parsed, decoded (J1939 or OBD-II) and applied to the
// vehicle state, per op. A 1 Mbit/s bus carries up to ~8,000 frames/s; the
// target is ten times that on one core.
func BenchmarkBusToState(b *testing.B) {
	for _, c := range []struct{ name, file string }{
		{"j1939", "../../testdata/can/canedge-j1939-heavy-vehicle-11111111-first60s.log"},
		{"obd2", "../../testdata/can/canedge-obd2-car-7512BE4D.log"},
	} {
		b.Run(c.name, func(b *testing.B) {
			lines := readLines(b, c.file)
			st, err := state.New(state.Config{})
			if err != nil {
				b.Fatal(err)
			}
			dec := newBusDecoder(slog.New(slog.NewTextHandler(io.Discard, nil)))
			apply := func(u update) {
				if u.dtcs != nil {
					st.SetDTCs(u.at, u.dtcs, u.source)
					return
				}
				st.SetSignal(u.at, u.sig, u.value, u.source)
			}
			var f can.Frame
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := can.ParseLine(lines[i%len(lines)], &f); err != nil {
					continue
				}
				dec.decode(f, apply)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

func readLines(b *testing.B, path string) [][]byte {
	b.Helper()
	fh, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	var lines [][]byte
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	return lines
}
