package gnss

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// A drive west through Munich as gpsd 3.22 reports it from a u-blox
// receiver on /dev/ttyACM0, with the quirks of other gpsd versions mixed
// in: a SKY without uSat (before 3.20), a SKY with the DOPs only (sent on
// a GSA), a TPV with the ellipsoid height only, a TPV timed in Unix
// seconds (before protocol 3.4), and reports of classes not used.
var gpsdDrive = []string{
	`{"class":"VERSION","release":"3.22","rev":"3.22","proto_major":3,"proto_minor":14}`,
	`{"class":"DEVICES","devices":[{"class":"DEVICE","path":"/dev/ttyACM0","driver":"u-blox","subtype":"SW EXT CORE 1.00 (3fda8e),HW 00190000","activated":"2025-03-14T09:26:50.120Z","flags":1,"native":1,"bps":38400,"parity":"N","stopbits":1,"cycle":1.00,"mincycle":0.02}]}`,
	`{"class":"WATCH","enable":true,"json":true,"nmea":false,"raw":0,"scaled":false,"timing":false,"split24":false,"pps":false}`,
	`{"class":"SKY","device":"/dev/ttyACM0","xdop":0.52,"ydop":0.61,"vdop":1.10,"tdop":0.74,"hdop":0.80,"gdop":1.63,"pdop":1.36,"nSat":13,"uSat":11,"satellites":[{"PRN":2,"el":45.0,"az":301.0,"ss":38.0,"used":true,"gnssid":0,"svid":2},{"PRN":5,"el":12.0,"az":40.0,"ss":0.0,"used":false,"gnssid":0,"svid":5}]}`,
	`{"class":"TPV","device":"/dev/ttyACM0","status":2,"mode":3,"time":"2025-03-14T09:26:53.000Z","ept":0.005,"lat":48.137154000,"lon":11.576124000,"altHAE":566.2000,"altMSL":519.6000,"alt":519.6000,"epx":1.900,"epy":2.400,"epv":4.100,"track":271.3000,"magtrack":274.5000,"magvar":3.2,"speed":13.889,"climb":0.100,"eps":4.80,"epc":8.20,"geoidSep":46.600,"eph":3.100,"sep":5.200}`,
	`{"class":"GST","device":"/dev/ttyACM0","time":"2025-03-14T09:26:53.000Z","rms":0.800,"major":2.500,"minor":1.900,"orient":96.000,"lat":1.900,"lon":2.400,"alt":4.100}`,
	`{"class":"PPS","device":"/dev/ttyACM0","real_sec":1741944414,"real_nsec":0,"clock_sec":1741944414,"clock_nsec":120334,"precision":-20,"qErr":-3221}`,
	`{"class":"TPV","device":"/dev/ttyACM0","status":2,"mode":3,"lat":48.13`, // cut off
	`{"class":"TPV","device":"/dev/ttyACM0","mode":1,"time":"2025-03-14T09:26:54.000Z","ept":0.005}`,
	`{"class":"TPV","device":"/dev/ttyACM0","status":1,"mode":2,"time":"2025-03-14T09:26:55.000Z","ept":0.005,"lat":48.137130000,"lon":11.575640000,"epx":9.500,"epy":11.200,"track":359.9000,"speed":12.500,"eph":14.700}`,
	``,
	`{"class":"SKY","device":"/dev/ttyACM0","hdop":1.20,"satellites":[{"PRN":2,"el":45,"az":301,"ss":38,"used":true},{"PRN":5,"el":12,"az":40,"ss":0,"used":false},{"PRN":13,"el":60,"az":88,"ss":41,"used":true},{"PRN":15,"el":33,"az":150,"ss":35,"used":true}]}`,
	`{"class":"SKY","device":"/dev/ttyACM0","xdop":0.90,"ydop":1.10,"vdop":1.90,"tdop":1.20,"hdop":1.40,"gdop":2.70,"pdop":2.30}`,
	`{"class":"TPV","device":"/dev/ttyACM0","status":1,"mode":3,"time":"2025-03-14T09:26:56.000Z","lat":48.137105000,"lon":11.575170000,"altHAE":566.0000,"geoidSep":46.600,"speed":12.200,"track":269.0000}`,
	`{"class":"TPV","device":"/dev/ttyACM0","mode":3,"time":"2025-03-14T09:26:57.000Z","lat":148.1,"lon":11.57}`,
	`{"class":"TPV","device":"/dev/ttyACM0","mode":3,"time":"yesterday","lat":48.1371,"lon":11.5749}`,
	`{"class":"TPV","device":"/dev/ttyACM0","mode":3,"time":1741944418.5,"lat":48.137080000,"lon":11.574700000,"alt":519.0000}`,
}

func TestGPSDReports(t *testing.T) {
	ln := listenGPSD(t)
	spy := newLogSpy()
	g := newGPSD(t, GPSDOptions{Addr: ln.Addr().String(), Logger: slog.New(spy)})
	run := startGPSD(t, g)
	conn, cmd := acceptGPSD(t, ln)
	if cmd != `?WATCH={"enable":true,"json":true}`+"\n" {
		t.Errorf("client sent %q", cmd)
	}
	writeLines(t, conn, gpsdDrive...)

	at := func(sec, ms int) time.Time { return time.Date(2025, 3, 14, 9, 26, sec, ms*1e6, time.UTC) }
	// Computed at run time, as Run does: constant expressions are exact.
	kph := func(ms float64) float64 { return ms * 3.6 }
	msl := func(hae, geoidSep float64) float64 { return hae - geoidSep }
	want := []Fix{
		{Time: at(53, 0), Lat: 48.137154, Lon: 11.576124, SpeedKph: kph(13.889), HeadingDeg: 271.3, AltitudeM: 519.6,
			FixQuality: 2, Satellites: 11, HDOP: 0.8, Valid: true, HasSpeed: true, HasHeading: true, HasAltitude: true},
		{Time: at(55, 0), Lat: 48.13713, Lon: 11.57564, SpeedKph: kph(12.5), HeadingDeg: 359.9,
			FixQuality: 1, Satellites: 11, HDOP: 0.8, Valid: true, HasSpeed: true, HasHeading: true},
		{Time: at(56, 0), Lat: 48.137105, Lon: 11.57517, SpeedKph: kph(12.2), HeadingDeg: 269, AltitudeM: msl(566, 46.6),
			FixQuality: 1, Satellites: 3, HDOP: 1.4, Valid: true, HasSpeed: true, HasHeading: true, HasAltitude: true},
		{Time: at(58, 500), Lat: 48.13708, Lon: 11.5747, AltitudeM: 519,
			FixQuality: 1, Satellites: 3, HDOP: 1.4, Valid: true, HasAltitude: true},
	}
	for i, w := range want {
		if got := run.next(t); got != w {
			t.Errorf("fix %d =\n%+v\nwant\n%+v", i, got, w)
		}
	}
	if err := run.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}

	wantStats := GPSDStats{
		Stats: Stats{Lines: len(gpsdDrive), Ignored: 1, Sentences: 11, Unsupported: 2, Malformed: 3, Fixes: 5, Emitted: 4,
			Filter: FilterStats{Kept: 4, NoFix: 1}},
		Connects: 1,
	}
	if got := g.Stats(); got != wantStats {
		t.Errorf("Stats =\n%+v\nwant\n%+v", got, wantStats)
	}
	// The first bad line is reported at once, the next two are held back
	// by the rate limit.
	if warned := spy.records("gnss: skipping invalid gpsd input"); len(warned) != 1 || attrs(warned[0])["skipped"] != "1" {
		t.Errorf("warnings about skipped input: %v", warned)
	}
	if c := spy.records("gnss: connected to gpsd"); len(c) != 1 || attrs(c[0])["release"] != "3.22" {
		t.Errorf("connection records: %v", c)
	}
	if w := spy.records("gnss: gpsd unavailable, reconnecting"); len(w) != 0 {
		t.Errorf("outage warnings without an outage: %v", w)
	}
}

// TestGPSDReconnect takes gpsd away, keeps it away for several attempts
// to reconnect, and brings it back on the same address.
func TestGPSDReconnect(t *testing.T) {
	ln := listenGPSD(t)
	addr := ln.Addr().String()
	spy := newLogSpy()
	g := newGPSD(t, GPSDOptions{Addr: addr, ReconnectMin: time.Millisecond, ReconnectMax: 4 * time.Millisecond,
		Logger: slog.New(spy)})
	run := startGPSD(t, g)

	conn, _ := acceptGPSD(t, ln)
	writeLines(t, conn, gpsdDrive[0], gpsdDrive[4])
	if fix := run.next(t); fix.Time.Second() != 53 {
		t.Fatalf("first fix at %v", fix.Time)
	}
	conn.Close() // gpsd goes away…
	ln.Close()
	// …and stays away. The wait doubles up to ReconnectMax.
	for i, r := range spy.waitFor(t, "gnss: gpsd still unavailable", 3)[:3] {
		if got, want := attrs(r)["retry_in"], []string{"2ms", "4ms", "4ms"}[i]; got != want {
			t.Errorf("attempt %d: retry in %s, want %s", i+2, got, want)
		}
	}

	ln, err := net.Listen("tcp", addr) // gpsd is back
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	conn, cmd := acceptGPSD(t, ln)
	if !strings.HasPrefix(cmd, "?WATCH=") {
		t.Errorf("client sent %q after reconnecting", cmd)
	}
	writeLines(t, conn, gpsdDrive[0], gpsdDrive[9])
	if fix := run.next(t); fix.Time.Second() != 55 {
		t.Fatalf("fix after reconnecting at %v", fix.Time)
	}
	if err := run.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}

	if w := spy.records("gnss: gpsd unavailable, reconnecting"); len(w) != 1 || attrs(w[0])["retry_in"] != "1ms" {
		t.Errorf("outage warnings %v, want 1, retrying in 1ms", w)
	}
	c := spy.records("gnss: connected to gpsd")
	if len(c) != 2 || attrs(c[0])["outage"] != "" || attrs(c[1])["outage"] == "" {
		t.Errorf("connection records %v, want 2, the second with the outage", c)
	}
	if s := g.Stats(); s.Connects != 2 || s.Outages != 1 || s.Emitted != 2 {
		t.Errorf("Stats = %+v, want 2 connects, 1 outage, 2 emitted", s)
	}
}

func TestGPSDCancelBlockedRead(t *testing.T) {
	ln := listenGPSD(t)
	spy := newLogSpy()
	g := newGPSD(t, GPSDOptions{Addr: ln.Addr().String(), Logger: slog.New(spy)})
	run := startGPSD(t, g)
	conn, _ := acceptGPSD(t, ln)
	writeLines(t, conn, gpsdDrive[0])
	spy.waitFor(t, "gnss: connected to gpsd", 1) // Run waits for the next report

	if err := g.Run(t.Context(), func(Fix) error { return nil }); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	if err := run.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	// Run closed the connection.
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := conn.Read(make([]byte, 1)); err == nil {
		t.Errorf("connection still open after Run returned: read %d bytes", n)
	}
}

func TestGPSDCancelWhileWaitingToReconnect(t *testing.T) {
	ln := listenGPSD(t)
	addr := ln.Addr().String()
	ln.Close() // nobody listens there
	spy := newLogSpy()
	g := newGPSD(t, GPSDOptions{Addr: addr, ReconnectMin: time.Hour, Logger: slog.New(spy)})
	run := startGPSD(t, g)
	w := spy.waitFor(t, "gnss: gpsd unavailable, reconnecting", 1)
	if a := attrs(w[0]); a["addr"] != addr || a["retry_in"] != "1h0m0s" || a["error"] == "" {
		t.Errorf("outage warning %v", a)
	}
	if err := run.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if s := g.Stats(); s.Connects != 0 || s.Outages != 1 {
		t.Errorf("Stats = %+v, want no connection, 1 outage", s)
	}
}

func TestGPSDEmitError(t *testing.T) {
	ln := listenGPSD(t)
	g := newGPSD(t, GPSDOptions{Addr: ln.Addr().String(), ReconnectMin: time.Millisecond, Logger: quiet})
	errFull := errors.New("queue full")
	done := make(chan error, 1)
	go func() { done <- g.Run(t.Context(), func(Fix) error { return errFull }) }()
	conn, _ := acceptGPSD(t, ln)
	writeLines(t, conn, gpsdDrive...)
	select {
	case err := <-done:
		if !errors.Is(err, errFull) || !strings.Contains(err.Error(), "emit") {
			t.Errorf("Run = %v, want the emit error wrapped", err)
		}
	case <-time.After(10 * time.Second): // against hanging, not a measurement
		t.Fatal("Run did not return when emit failed")
	}
	if s := g.Stats(); s.Connects != 1 || s.Emitted != 0 || s.Filter.Kept != 1 {
		t.Errorf("Stats = %+v, want 1 connection, 1 kept, none emitted", s)
	}
}

func TestGPSDDevice(t *testing.T) {
	ln := listenGPSD(t)
	g := newGPSD(t, GPSDOptions{Addr: ln.Addr().String(), Device: "/dev/ttyACM0", Logger: quiet})
	run := startGPSD(t, g)
	conn, cmd := acceptGPSD(t, ln)
	if want := `?WATCH={"enable":true,"json":true,"device":"/dev/ttyACM0"}` + "\n"; cmd != want {
		t.Errorf("client sent %q, want %q", cmd, want)
	}
	writeLines(t, conn,
		gpsdDrive[3], // SKY of /dev/ttyACM0: 11 used
		strings.ReplaceAll(gpsdDrive[11], "ttyACM0", "ttyUSB1"), // SKY of another device
		strings.ReplaceAll(gpsdDrive[4], "ttyACM0", "ttyUSB1"),  // TPV of another device
		gpsdDrive[9],
	)
	if fix := run.next(t); fix.Time.Second() != 55 || fix.Satellites != 11 {
		t.Errorf("fix %+v, want the one of 09:26:55 with 11 satellites", fix)
	}
	run.stop(t)
	if s := g.Stats(); s.Ignored != 2 || s.Fixes != 1 {
		t.Errorf("Stats = %+v, want 2 reports of the other device ignored", s)
	}
}

func TestGPSDMaxError(t *testing.T) {
	ln := listenGPSD(t)
	g := newGPSD(t, GPSDOptions{Addr: ln.Addr().String(), MaxErrorM: 5, Logger: quiet})
	run := startGPSD(t, g)
	conn, _ := acceptGPSD(t, ln)
	tpv := func(sec int, errs string) string {
		return `{"class":"TPV","device":"/dev/ttyACM0","mode":3,"time":"2025-03-14T09:27:0` + string(rune('0'+sec)) +
			`.000Z","lat":48.1371,"lon":11.5749` + errs + `}`
	}
	writeLines(t, conn,
		tpv(0, `,"eph":3.1,"epx":9.0,"epy":9.0`), // eph wins: kept
		tpv(1, `,"eph":14.7`),                    // dropped
		tpv(2, `,"epx":3.0,"epy":4.0`),           // 5 m: kept
		tpv(3, `,"epx":6.0`),                     // dropped
		tpv(4, ``),                               // no estimate: kept
	)
	for _, sec := range []int{0, 2, 4} {
		if fix := run.next(t); fix.Time.Second() != sec {
			t.Errorf("fix at %v, want second %d", fix.Time, sec)
		}
	}
	run.stop(t)
	if s := g.Stats(); s.Inaccurate != 2 || s.Filter.NoFix != 2 || s.Emitted != 3 {
		t.Errorf("Stats = %+v, want 2 inaccurate fixes dropped", s)
	}
}

func TestNewGPSD(t *testing.T) {
	g, err := NewGPSD(GPSDOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if g.opts.Addr != DefaultGPSDAddr || g.opts.ReconnectMin != DefaultReconnectMin || g.opts.ReconnectMax != DefaultReconnectMax {
		t.Errorf("defaults: %+v", g.opts)
	}
	if g, err := NewGPSD(GPSDOptions{ReconnectMin: time.Minute}); err != nil || g.opts.ReconnectMax != time.Minute {
		t.Errorf("ReconnectMin 1m alone: %v, %v", g, err)
	}
	for name, opts := range map[string]GPSDOptions{
		"no port":          {Addr: "localhost"},
		"negative wait":    {ReconnectMin: -time.Second},
		"max below min":    {ReconnectMin: 10 * time.Second, ReconnectMax: time.Second},
		"negative error":   {MaxErrorM: -1},
		"error not number": {MaxErrorM: math.NaN()},
	} {
		if _, err := NewGPSD(opts); err == nil {
			t.Errorf("%s: NewGPSD(%+v) succeeded", name, opts)
		}
	}
}

func TestGPSDTime(t *testing.T) {
	for raw, want := range map[string]time.Time{
		``:                            {},
		`null`:                        {},
		`"2020-07-11T22:37:45.000Z"`:  time.Date(2020, 7, 11, 22, 37, 45, 0, time.UTC),
		`"2020-07-11T22:37:45.25Z"`:   time.Date(2020, 7, 11, 22, 37, 45, 25e7, time.UTC),
		`"2020-07-12T00:37:45+02:00"`: time.Date(2020, 7, 11, 22, 37, 45, 0, time.UTC),
		`1594507065.5`:                time.Date(2020, 7, 11, 22, 37, 45, 5e8, time.UTC),
	} {
		got, err := gpsdTime([]byte(raw))
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("gpsdTime(%s) = %v, %v; want %v", raw, got, err, want)
		}
	}
	for _, raw := range []string{`"yesterday"`, `-1`, `1e300`, `true`, `{}`} {
		if got, err := gpsdTime([]byte(raw)); err == nil {
			t.Errorf("gpsdTime(%s) = %v, want an error", raw, got)
		}
	}
}

func TestGPSDQuality(t *testing.T) {
	for status, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 4, 4: 5, 5: 6, 6: 1, 7: 7, 8: 8, 9: 3, 42: 1} {
		if got := gpsdQuality(status); got != want {
			t.Errorf("gpsdQuality(%d) = %d, want %d", status, got, want)
		}
	}
}

func newGPSD(t *testing.T, opts GPSDOptions) *GPSD {
	t.Helper()
	g, err := NewGPSD(opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// listenGPSD listens on a free loopback port, where the test plays gpsd.
func listenGPSD(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// acceptGPSD accepts the client's connection and reads its command.
func acceptGPSD(t *testing.T, ln net.Listener) (net.Conn, string) {
	t.Helper()
	guard := time.Now().Add(10 * time.Second) // against hanging, not a measurement
	if err := ln.(*net.TCPListener).SetDeadline(guard); err != nil {
		t.Fatal(err)
	}
	conn, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetReadDeadline(guard); err != nil {
		t.Fatal(err)
	}
	cmd, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("read the client's command: %v", err)
	}
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	return conn, cmd
}

func writeLines(t *testing.T, conn net.Conn, lines ...string) {
	t.Helper()
	if _, err := conn.Write([]byte(strings.Join(lines, "\n") + "\n")); err != nil {
		t.Fatal(err)
	}
}

// gpsdRunner runs a GPSD source in the background for a test.
type gpsdRunner struct {
	fixes  chan Fix
	done   chan error
	cancel context.CancelFunc
	once   sync.Once
	err    error
}

func startGPSD(t *testing.T, g *GPSD) *gpsdRunner {
	ctx, cancel := context.WithCancel(t.Context())
	r := &gpsdRunner{fixes: make(chan Fix, 100), done: make(chan error, 1), cancel: cancel}
	go func() { r.done <- g.Run(ctx, func(fix Fix) error { r.fixes <- fix; return nil }) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// next returns the next fix emitted.
func (r *gpsdRunner) next(t *testing.T) Fix {
	t.Helper()
	select {
	case fix := <-r.fixes:
		return fix
	case err := <-r.done:
		r.done <- err
		t.Fatalf("Run returned %v, want another fix", err)
	case <-time.After(10 * time.Second): // against hanging, not a measurement
		t.Fatal("no fix")
	}
	return Fix{}
}

// stop cancels Run and returns what it returned.
func (r *gpsdRunner) stop(t *testing.T) error {
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(10 * time.Second): // against hanging, not a measurement
			t.Error("Run did not return after cancel")
		}
	})
	return r.err
}

// logSpy is a slog.Handler that keeps the records it is given and lets a
// test wait for one.
type logSpy struct {
	mu      sync.Mutex
	all     []slog.Record
	changed chan struct{} // closed and replaced on each record
}

func newLogSpy() *logSpy { return &logSpy{changed: make(chan struct{})} }

func (h *logSpy) Enabled(context.Context, slog.Level) bool { return true }
func (h *logSpy) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logSpy) WithGroup(string) slog.Handler            { return h }
func (h *logSpy) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all = append(h.all, r.Clone())
	close(h.changed)
	h.changed = make(chan struct{})
	return nil
}

// records returns the records with message msg.
func (h *logSpy) records(msg string) []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []slog.Record
	for _, r := range h.all {
		if r.Message == msg {
			out = append(out, r)
		}
	}
	return out
}

// waitFor waits until n records with message msg are logged and returns
// them.
func (h *logSpy) waitFor(t *testing.T, msg string, n int) []slog.Record {
	t.Helper()
	guard := time.NewTimer(10 * time.Second) // against hanging, not a measurement
	defer guard.Stop()
	for {
		h.mu.Lock()
		changed := h.changed
		h.mu.Unlock()
		if recs := h.records(msg); len(recs) >= n {
			return recs
		}
		select {
		case <-changed:
		case <-guard.C:
			t.Fatalf("no %d records %q in time", n, msg)
		}
	}
}

// FuzzGPSDLine feeds arbitrary lines to the report decoder: it must not
// panic, and what it emits must be a valid fix with a position in range.
func FuzzGPSDLine(f *testing.F) {
	for _, line := range gpsdDrive {
		f.Add(line)
	}
	f.Add(`{"class":"TPV","mode":3,"time":1e308,"lat":-90,"lon":180,"track":-1e308,"speed":1e308}`)
	f.Add(`{"class":"SKY","uSat":-5,"hdop":-1,"satellites":[{"used":"yes"}]}`)
	f.Fuzz(func(t *testing.T, line string) {
		g, err := NewGPSD(GPSDOptions{MaxErrorM: 10, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		var st gpsdRun
		for range 2 { // a second time, with the SKY state of the first
			err := g.line([]byte(line), &st, func(fix Fix) error {
				if !fix.Valid || math.Abs(fix.Lat) > 90 || math.Abs(fix.Lon) > 180 ||
					fix.HeadingDeg < 0 || fix.HeadingDeg >= 360 || fix.SpeedKph < 0 {
					t.Errorf("emitted %+v", fix)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("line = %v", err)
			}
		}
	})
}
