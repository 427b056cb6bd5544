package can

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

const (
	canDir = "../../testdata/can/"
	obdLog = canDir + "canedge-obd2-car-7512BE4D.log"
	j1939  = canDir + "canedge-j1939-heavy-vehicle-11111111-first60s.log"
	kona   = canDir + "kona-ev-2021-dcan-car-scanner-elm327.log"
	gvret  = canDir + "kona-ev-2021-dcan-car-scanner-elm327.gvret.csv"
)

var quiet = slog.New(slog.DiscardHandler)

// logFiles returns the candump logs in testdata.
func logFiles(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob(canDir + "*.log")
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no logs in %s: %v", canDir, err)
	}
	return paths
}

// readLines returns the lines of the file at path, without terminators.
func readLines(tb testing.TB, path string) [][]byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

// readFrames reads the file at path with a Reader and returns the frames
// and the stats.
func readFrames(t *testing.T, path string) ([]Frame, Stats) {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r := NewReader(file, ReaderOptions{Name: filepath.Base(path), Logger: quiet})
	var frames []Frame
	if err := r.Run(t.Context(), func(f Frame) error {
		frames = append(frames, f)
		return nil
	}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return frames, r.Stats()
}

// TestLogs reads every log in testdata/can and checks it against what
// testdata/README.md says about it.
func TestLogs(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse("2006-01-02 15:04:05.000000", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := map[string]struct {
		frames      int
		first, last time.Time
		extended    bool           // all frames 29-bit, or all 11-bit
		distinct    int            // distinct IDs
		perID       map[uint32]int // frames of some IDs
	}{
		// README: 15,302 frames, 07:43:19.687–08:15:09.295 UTC, 7,651 on
		// 0x7E0 and 7,651 on 0x7E8.
		obdLog: {
			frames: 15302,
			first:  utc("2024-09-07 07:43:19.687450"), last: utc("2024-09-07 08:15:09.294750"),
			distinct: 2, perID: map[uint32]int{0x7E0: 7651, 0x7E8: 7651},
		},
		// README: 21,497 frames, 19:00:55.021–19:01:55.013 UTC, all
		// 29-bit, 45 IDs; the counts of its table.
		j1939: {
			frames: 21497,
			first:  utc("2021-10-25 19:00:55.020850"), last: utc("2021-10-25 19:01:55.013100"),
			extended: true, distinct: 45,
			perID: map[uint32]int{
				0x0CF00400: 5999, 0x18FEDF00: 3000, 0x0CF00300: 1200,
				0x18F00E00: 1200, 0x18F00F00: 1200, 0x0CF00A00: 1200,
				0x0CFEF100: 600, 0x18FEF200: 600, 0x18FEE000: 600,
				0x18FEEE00: 60, 0x18FEEF00: 120, 0x1CECFF00: 72, 0x1CEBFF00: 252,
			},
		},
		// README: 1,845 frames, 7254.438300 … 8311.389600 s of the
		// logger's clock, 72 IDs, 375 requests on 0x7DF.
		kona: {
			frames: 1845,
			first:  time.Unix(7254, 438300000).UTC(), last: time.Unix(8311, 389600000).UTC(),
			distinct: 72, perID: map[uint32]int{0x7DF: 375},
		},
	}
	for _, path := range logFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, ok := tests[path]
			if !ok {
				t.Fatalf("no expectations for %s", path)
			}
			frames, stats := readFrames(t, path)
			wantStats := Stats{Lines: want.frames, Frames: want.frames, Emitted: want.frames}
			if stats != wantStats {
				t.Errorf("Stats = %+v, want %+v", stats, wantStats)
			}
			if len(frames) != want.frames {
				t.Fatalf("%d frames, want %d", len(frames), want.frames)
			}
			if first, last := frames[0].Time, frames[len(frames)-1].Time; !first.Equal(want.first) || !last.Equal(want.last) {
				t.Errorf("frames from %v to %v, want %v to %v", first, last, want.first, want.last)
			}
			perID := map[uint32]int{}
			for i, f := range frames {
				perID[f.ID]++
				// README: every frame of these logs has 8 data bytes.
				if f.Extended != want.extended || f.Len != 8 || f.RTR {
					t.Fatalf("frame %d: %+v", i, f)
				}
				if i > 0 && f.Time.Before(frames[i-1].Time) {
					t.Fatalf("frame %d at %v is before the one before", i, f.Time)
				}
			}
			if len(perID) != want.distinct {
				t.Errorf("%d distinct IDs, want %d", len(perID), want.distinct)
			}
			for id, n := range want.perID {
				if perID[id] != n {
					t.Errorf("%d frames on %X, want %d", perID[id], id, n)
				}
			}
		})
	}
}

// TestKonaMatchesGVRET checks the candump conversion of the Kona capture
// against the original GVRET CSV it was made from: the same frames, in
// the same order, with the same times.
func TestKonaMatchesGVRET(t *testing.T) {
	frames, _ := readFrames(t, kona)
	file, err := os.Open(gvret)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	records, err := csv.NewReader(bufio.NewReader(file)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	records = records[1:] // Time Stamp,ID,Extended,Bus,LEN,D1,…,D8
	if len(records) != len(frames) {
		t.Fatalf("%d CSV records, %d frames", len(records), len(frames))
	}
	for i, rec := range records {
		micros, err1 := strconv.ParseInt(rec[0], 10, 64)
		id, err2 := strconv.ParseUint(rec[1], 16, 32)
		n, err3 := strconv.Atoi(rec[4])
		if err := errorsJoin(err1, err2, err3); err != nil || n > 8 {
			t.Fatalf("record %d %q: %v", i, rec, err)
		}
		want := Frame{
			Time:     time.UnixMicro(micros).UTC(),
			ID:       uint32(id),
			Extended: rec[2] == "true",
			Len:      uint8(n),
		}
		for j := range n {
			b, err := strconv.ParseUint(rec[5+j], 16, 8)
			if err != nil {
				t.Fatalf("record %d %q: %v", i, rec, err)
			}
			want.Data[j] = byte(b)
		}
		if frames[i] != want {
			t.Fatalf("frame %d = %+v, the CSV has %+v", i, frames[i], want)
		}
	}
}

func errorsJoin(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
