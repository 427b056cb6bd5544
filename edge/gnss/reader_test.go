package gnss

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

const (
	gpsdDir    = "../../testdata/nmea/gpsd/"
	geniviDir  = "../../testdata/nmea/genivi/"
	regensburg = geniviDir + "20100411_Geko_Regensburg.txt"
)

var quiet = slog.New(slog.DiscardHandler)

// logFiles returns the NMEA logs in testdata, leaving out the licence
// texts next to them.
func logFiles(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob("../../testdata/nmea/*/*")
	if err != nil {
		tb.Fatal(err)
	}
	return slices.DeleteFunc(paths, func(p string) bool {
		base := filepath.Base(p)
		return strings.HasPrefix(base, "LICENSE") || strings.HasPrefix(base, "COPYING")
	})
}

// readAll runs a Reader over the file at path and returns the fixes it
// emitted and its stats.
func readAll(t *testing.T, path string) ([]Fix, Stats) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewReader(f, ReaderOptions{Name: filepath.Base(path), Logger: quiet})
	var fixes []Fix
	err = r.Run(t.Context(), func(fix Fix) error {
		fixes = append(fixes, fix)
		return nil
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return fixes, r.Stats()
}

// TestLogs reads every log in testdata. The counts are this package's
// view of each file; where testdata/README.md states a number, the
// comment says which.
func TestLogs(t *testing.T) {
	type place struct{ lat, lon, km float64 }
	tests := map[string]struct {
		want   Stats
		near   place   // every fix emitted is within km of here
		maxKph float64 // the fastest fix emitted
	}{
		// README: 144 valid checksums (138 + 6 GPTXT); 4 RMC without
		// fix; the drive after the 52-minute step back is dropped.
		gpsdDir + "bt451.log": {
			want: Stats{Lines: 156, Ignored: 12, Sentences: 138, Unsupported: 6, Fixes: 19, Emitted: 9,
				Filter: FilterStats{Kept: 9, NoFix: 4, Backwards: 6}},
			near: place{55.797, 23.569, 1}, maxKph: 0.7,
		},
		// README: 127 valid checksums, 9 epochs, max 18.7 km/h.
		gpsdDir + "nl2008u.log": {
			want: Stats{Lines: 145, Ignored: 18, Sentences: 119, Unsupported: 8, Fixes: 9, Emitted: 9,
				Filter: FilterStats{Kept: 9}},
			near: place{48.2, 8.4, 5}, maxKph: 18.7,
		},
		// README: 1,403 sentences, 61 epochs, stationary.
		gpsdDir + "ublox-neo-m9n-nmea.log": {
			want: Stats{Lines: 1414, Ignored: 11, Sentences: 1281, Unsupported: 122, Fixes: 61, Emitted: 61,
				Filter: FilterStats{Kept: 61}},
			near: place{38.1105, -122.6269, 0.1}, maxKph: 0.2,
		},
		// README: 225 valid checksums, 10 epochs.
		gpsdDir + "telit-pls83-w.log": {
			want: Stats{Lines: 234, Ignored: 9, Sentences: 225, Fixes: 10, Emitted: 10,
				Filter: FilterStats{Kept: 10}},
			near: place{43.5532, 1.4603, 0.1},
		},
		// README: 79 valid checksums; 5 RMC without fix, then 5 with.
		gpsdDir + "beidou-bd.log": {
			want: Stats{Lines: 94, Ignored: 15, Sentences: 67, Unsupported: 12, Fixes: 10, Emitted: 5,
				Filter: FilterStats{Kept: 5, NoFix: 5}},
			near: place{31.2, 121.6, 10}, maxKph: 0.6,
		},
		// README: 75 valid checksums, 14 epochs, the last 7 without fix.
		gpsdDir + "ch-4711.log": {
			want: Stats{Lines: 87, Ignored: 12, Sentences: 60, Unsupported: 15, Fixes: 14, Emitted: 7,
				Filter: FilterStats{Kept: 7, NoFix: 7}},
			near: place{55.71, 37.41, 2}, maxKph: 1.5,
		},
		// Spliced sentences are parsed piece by piece, so the counts
		// differ from the README's 33 bad checksums and 8 without one.
		gpsdDir + "gp-320fw-2019-04-07-coldboot.log": {
			want: Stats{Lines: 154, Ignored: 20, Sentences: 92, Malformed: 11, ChecksumErrors: 36, Fixes: 20, Emitted: 1,
				Filter: FilterStats{Kept: 1, NoFix: 18, NoTime: 1}},
			near: place{48.15, 11.585, 1}, maxKph: 0.2,
		},
		// README: every GGA (23) fails its checksum; 23 epochs.
		gpsdDir + "firefly-II.log": {
			want: Stats{Lines: 74, Ignored: 5, Sentences: 46, ChecksumErrors: 23, Fixes: 23, Emitted: 23,
				Filter: FilterStats{Kept: 23}},
			near: place{37.261, -121.961, 0.1},
		},
		// README: 34 lines of text, 1 bad checksum, 106 good; 19 epochs.
		gpsdDir + "et-332.log": {
			want: Stats{Lines: 160, Ignored: 19, Sentences: 106, Malformed: 34, ChecksumErrors: 1, Fixes: 19, Emitted: 19,
				Filter: FilterStats{Kept: 19}},
			near: place{39.678, -75.749, 0.1}, maxKph: 0.4,
		},
		// README: one GGA cut off; 5 epochs.
		gpsdDir + "triton400.log": {
			want: Stats{Lines: 35, Ignored: 7, Sentences: 28, Malformed: 1, Fixes: 5, Emitted: 5,
				Filter: FilterStats{Kept: 5}},
			near: place{26.636, -80.19, 0.1},
		},
		// README: 774 valid fixes, 16 RMC without time, max 104.5 km/h.
		geniviDir + "20100411_Geko_Regensburg.txt": {
			want: Stats{Lines: 9931, Sentences: 5196, Unsupported: 4735, Fixes: 790, Emitted: 774,
				Filter: FilterStats{Kept: 774, NoFix: 16}},
			near: place{49.034, 12.067, 5}, maxKph: 104.5,
		},
		// README: 1,847 valid RMC, 20 status V, the clock steps back
		// twice (12:43:41 and :42 again); two GPS glitches of about
		// 100 m in one second are dropped as jumps.
		geniviDir + "munich-gps.nmea": {
			want: Stats{Lines: 11208, Ignored: 6, Sentences: 11202, Fixes: 1867, Emitted: 1843,
				Filter: FilterStats{Kept: 1843, NoFix: 20, Backwards: 2, Jump: 2}},
			near: place{48.17, 11.57, 10}, maxKph: 62.4,
		},
		// README: 10,327 RMC with status A, 85 with V, max 129.8 km/h.
		geniviDir + "20100403_Z205_Switzerland.txt": {
			want: Stats{Lines: 38938, Sentences: 31232, Unsupported: 7706, Fixes: 10412, Emitted: 10327,
				Filter: FilterStats{Kept: 10327, NoFix: 85}},
			near: place{46.72, 7.34, 90}, maxKph: 129.8,
		},
	}

	files := logFiles(t)
	for _, path := range files {
		if _, ok := tests[path]; !ok {
			t.Errorf("%s has no expectations in TestLogs", path)
		}
	}
	for path, tt := range tests {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if !slices.Contains(files, path) {
				t.Fatalf("%s is missing", path)
			}
			fixes, stats := readAll(t, path)
			if stats != tt.want {
				t.Errorf("Stats =\n%+v\nwant\n%+v", stats, tt.want)
			}
			if len(fixes) != stats.Emitted {
				t.Errorf("emitted %d fixes, Stats.Emitted = %d", len(fixes), stats.Emitted)
			}
			var maxKph float64
			for i, fix := range fixes {
				if !fix.Valid || fix.Time.IsZero() {
					t.Fatalf("fix %d is not valid or has no time: %+v", i, fix)
				}
				if i > 0 && !fix.Time.After(fixes[i-1].Time) {
					t.Fatalf("fix %d at %v is not after %v", i, fix.Time, fixes[i-1].Time)
				}
				if d := haversineKm(tt.near.lat, tt.near.lon, fix.Lat, fix.Lon); d > tt.near.km {
					t.Fatalf("fix %d at %.5f, %.5f is %.1f km from %.3f, %.3f", i, fix.Lat, fix.Lon, d, tt.near.lat, tt.near.lon)
				}
				maxKph = max(maxKph, fix.SpeedKph)
			}
			if got := round1(maxKph); got != tt.maxKph {
				t.Errorf("top speed %.1f km/h, want %.1f", got, tt.maxKph)
			}
		})
	}
}

func round1(x float64) float64 { return float64(int(x*10+0.5)) / 10 }

// TestBT451 checks the README's account of bt451.log sentence by sentence.
func TestBT451(t *testing.T) {
	var valid, noFixRMC int
	for _, line := range readLines(t, gpsdDir+"bt451.log") {
		s, err := Parse(line)
		if err == nil || errors.Is(err, ErrUnsupported) {
			valid++
		}
		if rmc, ok := s.(RMC); ok && rmc.Status == 'V' {
			noFixRMC++
		}
	}
	if valid != 144 {
		t.Errorf("%d sentences with a valid checksum, want 144", valid)
	}
	if noFixRMC != 4 {
		t.Errorf("%d RMC without fix, want 4", noFixRMC)
	}

	fixes, stats := readAll(t, gpsdDir+"bt451.log")
	stationaryEnd := time.Date(2009, 12, 9, 15, 25, 8, 5e8, time.UTC)
	if last := fixes[len(fixes)-1].Time; !last.Equal(stationaryEnd) {
		t.Errorf("last fix at %v, want the end of the stationary piece %v", last, stationaryEnd)
	}
	// The driving piece, 14:33:06.0–14:33:08.5 at 2 Hz, lies 52 minutes
	// before it.
	if stats.Filter.Backwards != 6 {
		t.Errorf("%d fixes dropped for going back in time, want the 6 of the drive", stats.Filter.Backwards)
	}
}

// timedLines is an io.Reader that hands out one line per Read and sets
// *clock to the line's arrival time first, so that a test can say when
// each line comes in.
type timedLines struct {
	clock *time.Time
	lines []timedLine
}

type timedLine struct {
	at   time.Duration // after t0
	text string
}

func (r *timedLines) Read(p []byte) (int, error) {
	if len(r.lines) == 0 {
		return 0, io.EOF
	}
	l := r.lines[0]
	r.lines = r.lines[1:]
	*r.clock = t0.Add(l.at)
	return copy(p, l.text+"\n"), nil
}

// records is a slog.Handler that keeps the records it is given, stamped
// with a test clock.
type records struct {
	now func() time.Time
	mu  sync.Mutex
	all []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *records) WithGroup(string) slog.Handler            { return h }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	r.Time = h.now()
	h.all = append(h.all, r)
	return nil
}

func attrs(r slog.Record) map[string]string {
	m := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	return m
}

func TestReaderWarningsAreRateLimited(t *testing.T) {
	const good = "$GPRMC,124022.00,A,4810.8509,N,01133.9095,E,008.5,171.1,010409,002.0,E,A*3B"
	var clock time.Time
	input := &timedLines{clock: &clock, lines: []timedLine{
		{0, "$GPGGA,030130"},                      // warned at once
		{1 * time.Second, "+ 6: 28 (.....)"},      // held back…
		{2 * time.Second, "$GPRMC,1*00"},          // …
		{3 * time.Second, good},                   //
		{9 * time.Second, "$GPRMC,000344.03*05"},  // …
		{10 * time.Second, good},                  // 10 s on: warned, 3 skipped
		{12 * time.Second, "$GPVTG,,T,,M,2C"},     // held back
		{13 * time.Second, "# a comment is fine"}, //
	}}
	now := func() time.Time { return clock }
	logged := records{now: now}
	r := NewReader(input, ReaderOptions{
		Name:   "/dev/ttyUSB0",
		Now:    now,
		Logger: slog.New(&logged),
	})
	if err := r.Run(t.Context(), func(Fix) error { return nil }); err != nil {
		t.Fatal(err)
	}

	want := []struct {
		at      time.Duration
		skipped string
		example string
	}{
		{0, "1", "missing checksum"},
		{10 * time.Second, "3", "checksum mismatch"},
	}
	if len(logged.all) != len(want) {
		t.Fatalf("%d warnings, want %d: %v", len(logged.all), len(want), logged.all)
	}
	for i, w := range want {
		rec := logged.all[i]
		a := attrs(rec)
		if rec.Level != slog.LevelWarn || !rec.Time.Equal(t0.Add(w.at)) || a["source"] != "/dev/ttyUSB0" ||
			a["skipped"] != w.skipped || !strings.Contains(a["example"], w.example) {
			t.Errorf("warning %d: %v at %v: %q %v; want at %v, %s skipped, example about %q",
				i, rec.Level, rec.Time.Sub(t0), rec.Message, a, w.at, w.skipped, w.example)
		}
	}
	if s := r.Stats(); s.Malformed+s.ChecksumErrors != 5 {
		t.Errorf("Stats = %+v, want 5 skipped", s)
	}
}

func TestReaderLines(t *testing.T) {
	input := strings.Join([]string{
		"# header comment",
		"",
		"$GPRMC,124022.00,A,4810.8509,N,01133.9095,E,008.5,171.1,010409,002.0,E,A*3B\r",
		"$GPGGA,124022.00,4810.8509,N,01133.9095,E,1,04,23.9,-0704.5,M,0046.3,M,,*41",
		strings.Repeat("x", 5000),
		"\x00$PSRFTXT,Version:08.02 -HBGC3E00-GSW3.2.5 PPS_3.3.01.06-SDK-3EP1.00*68\r",
		// a GGA cut off, and the next epoch's RMC spliced onto it
		"$GPGGA,124023$GPRMC,124023.00,A,4810.8509,N,01133.9095,E,008.5,171.1,010409,002.0,E,A*3A",
		"$GPRMC,124024.00,A,4810.8509,N,01133.9095,E,008.5,171.1,010409,002.0,E,A*3D", // no newline
	}, "\n")
	r := NewReader(strings.NewReader(input), ReaderOptions{Logger: quiet})
	var times []string
	err := r.Run(t.Context(), func(fix Fix) error {
		times = append(times, fix.Time.Format("15:04:05"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"12:40:22", "12:40:23", "12:40:24"}; !slices.Equal(times, want) {
		t.Errorf("fixes at %v, want %v", times, want)
	}
	want := Stats{Lines: 8, Ignored: 2, Sentences: 4, Unsupported: 1, Malformed: 2, Fixes: 3, Emitted: 3,
		Filter: FilterStats{Kept: 3}}
	if got := r.Stats(); got != want {
		t.Errorf("Stats =\n%+v\nwant\n%+v", got, want)
	}
}

// threeFixes is a short input with three epochs, two seconds apart.
var threeFixes = strings.Join([]string{
	sentence("GPRMC,100000,A,4901.0000,N,01203.0000,E,20.0,0.0,110410,,,A"),
	sentence("GPRMC,100002,A,4901.0100,N,01203.0000,E,20.0,0.0,110410,,,A"),
	sentence("GPRMC,100004,A,4901.0200,N,01203.0000,E,20.0,0.0,110410,,,A"),
}, "\n") + "\n"

func TestReaderEmitError(t *testing.T) {
	errFull := errors.New("queue full")
	r := NewReader(strings.NewReader(threeFixes), ReaderOptions{Name: "test", Logger: quiet})
	calls := 0
	err := r.Run(t.Context(), func(Fix) error {
		calls++
		return errFull
	})
	if !errors.Is(err, errFull) || !strings.Contains(err.Error(), "emit") {
		t.Errorf("Run = %v, want the emit error wrapped", err)
	}
	if calls != 1 {
		t.Errorf("emit called %d times after failing", calls)
	}
	if s := r.Stats(); s.Emitted != 0 || s.Filter.Kept != 1 {
		t.Errorf("Stats = %+v, want 1 kept, 0 emitted", s)
	}
}

func TestReaderReadError(t *testing.T) {
	errBroken := errors.New("device unplugged")
	r := NewReader(io.MultiReader(strings.NewReader(threeFixes), iotest.ErrReader(errBroken)),
		ReaderOptions{Name: "/dev/ttyACM0", Logger: quiet})
	n := 0
	err := r.Run(t.Context(), func(Fix) error { n++; return nil })
	if !errors.Is(err, errBroken) || !strings.Contains(err.Error(), "/dev/ttyACM0") {
		t.Errorf("Run = %v, want the read error naming the source", err)
	}
	if n != 2 {
		t.Errorf("emitted %d fixes before the error, want 2 (the third epoch was not complete)", n)
	}
}

func TestReaderCancelFromEmit(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	r := NewReader(strings.NewReader(threeFixes), ReaderOptions{Logger: quiet})
	n := 0
	err := r.Run(ctx, func(Fix) error {
		n++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || err != ctx.Err() {
		t.Errorf("Run = %v, want ctx.Err()", err)
	}
	if n != 1 {
		t.Errorf("emit called %d times, want 1: no emit after cancel", n)
	}
}

// TestReaderCancelBlockedRead cancels a Reader blocked in Read on a
// connection with no data, as a quiet serial port would be.
func TestReaderCancelBlockedRead(t *testing.T) {
	conn, peer := net.Pipe()
	defer conn.Close()
	defer peer.Close()
	r := NewReader(conn, ReaderOptions{Logger: quiet})

	ctx, cancel := context.WithCancel(t.Context())
	emitted := make(chan Fix, 3)
	done := make(chan error, 1)
	go func() {
		done <- r.Run(ctx, func(fix Fix) error { emitted <- fix; return nil })
	}()
	go peer.Write([]byte(threeFixes)) // returns when read, or fails when peer closes
	<-emitted                         // Run is running, and will block in Read

	if err := r.Run(t.Context(), func(Fix) error { return nil }); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second): // a guard against hanging, not a measurement
		t.Fatal("Run did not return after cancel")
	}

	// The deadline that unblocked Run is cleared: the connection reads
	// again.
	go peer.Write([]byte(threeFixes))
	ctx, cancel = context.WithCancel(t.Context())
	err := NewReader(conn, ReaderOptions{Logger: quiet}).Run(ctx, func(Fix) error { cancel(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run on the same connection = %v, want a fix, then context.Canceled", err)
	}
}

func TestReaderMaxAge(t *testing.T) {
	now := time.Date(2010, 4, 11, 10, 0, 5, 0, time.UTC)
	r := NewReader(strings.NewReader(threeFixes), ReaderOptions{
		MaxAge: 2 * time.Second,
		Now:    func() time.Time { return now },
		Logger: quiet,
	})
	var n int
	if err := r.Run(t.Context(), func(Fix) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if s := r.Stats(); n != 1 || s.Filter.TooOld != 2 {
		t.Errorf("emitted %d, Stats = %+v; want the 10:00:04 fix only, 2 too old", n, s)
	}
}
