package gnss

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/fleetwire/fleetwire/edge/internal/lines"
)

// DefaultGPSDAddr is where gpsd listens unless told otherwise.
const DefaultGPSDAddr = "127.0.0.1:2947"

// Defaults for GPSDOptions.
const (
	DefaultReconnectMin = time.Second
	DefaultReconnectMax = 30 * time.Second
)

const (
	// gpsdDialTimeout bounds a connection attempt and the sending of
	// the WATCH command.
	gpsdDialTimeout = 10 * time.Second
	// maxGPSDLine is the longest report line read; a SKY report with 40
	// satellites is about 3.5 kB.
	maxGPSDLine = 64 << 10
)

// GPSDOptions configures a GPSD source.
type GPSDOptions struct {
	// Addr is gpsd's TCP address, host:port; default DefaultGPSDAddr.
	Addr string
	// Device, if set, asks gpsd for the reports of this device only
	// (such as "/dev/ttyACM0", as gpsd names it); reports of other
	// devices are ignored. By default all devices are watched, which
	// only makes sense with one receiver.
	Device string
	// ReconnectMin and ReconnectMax bound the wait before connecting
	// again when gpsd cannot be reached or goes away: the wait starts at
	// ReconnectMin, doubles after each failed attempt up to ReconnectMax,
	// and starts over once a connection has delivered a fix. Defaults
	// DefaultReconnectMin and DefaultReconnectMax.
	ReconnectMin, ReconnectMax time.Duration
	// MaxErrorM, if positive, marks fixes whose estimated horizontal
	// error is larger than this many metres as invalid, so the filter
	// drops them (as "no fix"; GPSDStats.Inaccurate counts them). The
	// estimate is gpsd's eph, or else the combination of epx and epy;
	// fixes without an estimate are kept. 0 keeps all fixes.
	MaxErrorM float64
	// MaxSpeedKph and MaxAge configure the filter; see FilterConfig.
	MaxSpeedKph float64
	MaxAge      time.Duration
	// Now is the clock for MaxAge, the warning rate limit and outage
	// durations; nil means time.Now. Reconnect waits are real timers.
	Now func() time.Time
	// Logger receives connection events (a warning once per outage) and
	// warnings about skipped input; nil means slog.Default().
	Logger *slog.Logger
}

// GPSDStats counts what a GPSD source has read and emitted since it was
// created.
//
// The embedded Stats counts gpsd's JSON reports the way Reader counts
// sentences: Lines are the lines received, Ignored the blank ones and the
// reports of devices not watched, Sentences the reports decoded (VERSION,
// DEVICES, DEVICE, WATCH, ERROR, TPV, SKY), Unsupported those of other
// classes (GST, ATT, PPS, TOFF, …), Malformed the lines that are not
// reports or carry impossible values, and Fixes the TPV reports turned
// into fixes. ChecksumErrors stays 0.
type GPSDStats struct {
	Stats
	Connects   int // connections made to gpsd
	Outages    int // times gpsd could not be reached or went away
	Inaccurate int // fixes marked invalid for exceeding MaxErrorM
}

// A GPSD is a Source that takes fixes from gpsd, the GNSS daemon, over its
// JSON protocol: it connects over TCP, sends
//
//	?WATCH={"enable":true,"json":true}
//
// and turns each TPV report into a Fix, with the satellites used and
// the HDOP of the latest SKY report of the same device. Reports of other
// classes are counted and ignored. The fixes go through the Filter.
//
// A TPV with mode 2 or 3 is a valid fix; its time, lat and lon give the
// time and position, speed (m/s) the speed in km/h, track the heading,
// and status the fix quality (DGPS, RTK, dead reckoning … mapped to the
// GGA codes). Only mode 3 fixes have an altitude: altMSL, else alt
// (older gpsd), else altHAE − geoidSep; altHAE alone is left out, as the
// ellipsoid height is off from mean sea level by up to 100 m.
//
// When gpsd cannot be reached, or goes away, Run logs one warning and
// tries again with a backoff (see GPSDOptions) until it succeeds, and
// logs when it is connected again.
type GPSD struct {
	opts  GPSDOptions
	watch []byte // the WATCH command
	pipe  *pipeline

	// Counted under pipe.mu.
	connects, outages, inaccurate int
}

var _ Source = (*GPSD)(nil)

// NewGPSD returns a GPSD source configured by opts. It does not connect;
// Run does.
func NewGPSD(opts GPSDOptions) (*GPSD, error) {
	if opts.Addr == "" {
		opts.Addr = DefaultGPSDAddr
	}
	if _, _, err := net.SplitHostPort(opts.Addr); err != nil {
		return nil, fmt.Errorf("gnss: gpsd address: %w", err)
	}
	if opts.ReconnectMin == 0 {
		opts.ReconnectMin = DefaultReconnectMin
	}
	if opts.ReconnectMax == 0 {
		opts.ReconnectMax = max(DefaultReconnectMax, opts.ReconnectMin)
	}
	switch {
	case opts.ReconnectMin < 0 || opts.ReconnectMax < opts.ReconnectMin:
		return nil, fmt.Errorf("gnss: gpsd %s: reconnect waits %v to %v are not an increasing range of positive durations",
			opts.Addr, opts.ReconnectMin, opts.ReconnectMax)
	case math.IsNaN(opts.MaxErrorM) || opts.MaxErrorM < 0:
		return nil, fmt.Errorf("gnss: gpsd %s: MaxErrorM %v is neither 0 (off) nor positive", opts.Addr, opts.MaxErrorM)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	watch := struct {
		Enable bool   `json:"enable"`
		JSON   bool   `json:"json"`
		Device string `json:"device,omitempty"`
	}{true, true, opts.Device}
	cmd, err := json.Marshal(watch)
	if err != nil {
		return nil, fmt.Errorf("gnss: gpsd %s: %w", opts.Addr, err)
	}
	cfg := FilterConfig{MaxSpeedKph: opts.MaxSpeedKph, MaxAge: opts.MaxAge, Now: opts.Now}
	return &GPSD{
		opts:  opts,
		watch: append(append([]byte("?WATCH="), cmd...), '\n'),
		pipe:  newPipeline("gpsd "+opts.Addr, opts.Logger, opts.Now, cfg),
	}, nil
}

// Stats returns the counts so far. It is safe to call while Run runs.
func (g *GPSD) Stats() GPSDStats {
	s := g.pipe.Stats()
	g.pipe.mu.Lock()
	defer g.pipe.mu.Unlock()
	return GPSDStats{Stats: s, Connects: g.connects, Outages: g.outages, Inaccurate: g.inaccurate}
}

// gpsdRun is the state of one Run.
type gpsdRun struct {
	down    time.Time // when the current outage began; zero while up
	up      bool      // the current connection has delivered a report
	gotFix  bool      // the current connection has delivered a TPV
	errSeen bool      // the current connection has sent an ERROR report
	sky     gpsdSky   // from the latest SKY report
	emitErr error     // what emit returned, which ends Run
}

// gpsdSky is what a TPV takes from the latest SKY report.
type gpsdSky struct {
	device string
	used   Opt[int]
	hdop   Opt[float64]
}

// Run connects to gpsd and emits fixes until ctx is cancelled or emit
// fails; see Source for the contract. It never returns nil: when gpsd
// cannot be reached or goes away it logs a warning, once per outage, and
// connects again, waiting in between as GPSDOptions say. Cancelling ctx
// closes the connection, so Run returns promptly even while it waits for
// gpsd.
func (g *GPSD) Run(ctx context.Context, emit func(Fix) error) error {
	if err := g.pipe.start(); err != nil {
		return err
	}
	defer g.pipe.stop()

	var st gpsdRun
	deliver := func(fix Fix) error {
		if err := g.pipe.emit(emit, fix); err != nil {
			st.emitErr = err
			return err
		}
		return nil
	}
	wait := g.opts.ReconnectMin
	for {
		err := g.session(ctx, &st, deliver)
		switch {
		case st.emitErr != nil:
			return st.emitErr
		case ctx.Err() != nil:
			return ctx.Err()
		}
		if err == nil {
			err = errors.New("connection ended")
		}
		if st.gotFix {
			wait = g.opts.ReconnectMin
		}
		if st.down.IsZero() {
			st.down = g.opts.Now()
			g.pipe.count(&g.outages)
			g.pipe.log.Warn("gnss: gpsd unavailable, reconnecting",
				"addr", g.opts.Addr, "error", err.Error(), "retry_in", wait)
		} else {
			g.pipe.log.Debug("gnss: gpsd still unavailable",
				"addr", g.opts.Addr, "error", err.Error(), "retry_in", wait)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		if wait > g.opts.ReconnectMax/2 { // doubling could overflow
			wait = g.opts.ReconnectMax
		} else {
			wait *= 2
		}
	}
}

// session connects to gpsd and handles its reports until the connection
// fails, ctx is done or deliver fails. It returns why it ended.
func (g *GPSD) session(ctx context.Context, st *gpsdRun, deliver func(Fix) error) error {
	st.up, st.gotFix, st.errSeen, st.sky = false, false, false, gpsdSky{}
	dialer := net.Dialer{Timeout: gpsdDialTimeout}
	conn, err := dialer.DialContext(ctx, "tcp", g.opts.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	g.pipe.count(&g.connects)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	if err := conn.SetWriteDeadline(time.Now().Add(gpsdDialTimeout)); err != nil {
		return err
	}
	if _, err := conn.Write(g.watch); err != nil {
		return fmt.Errorf("send WATCH: %w", err)
	}
	in := lines.NewReader(conn, maxGPSDLine)
	for {
		line, err := in.Next()
		switch {
		case errors.Is(err, lines.ErrTooLong):
			g.pipe.count(&g.pipe.stats.Lines)
			g.pipe.skipped(&g.pipe.stats.Malformed, fmt.Errorf("%w: line longer than %d bytes", ErrMalformed, maxGPSDLine))
			g.warn()
			continue
		case err != nil && !errors.Is(err, io.EOF):
			return err
		}
		if len(line) > 0 {
			if err := g.line(line, st, deliver); err != nil {
				return err
			}
			g.warn()
		}
		if err != nil {
			return errors.New("gpsd closed the connection")
		}
	}
}

// line handles one line from gpsd.
func (g *GPSD) line(line []byte, st *gpsdRun, deliver func(Fix) error) error {
	p := g.pipe
	p.count(&p.stats.Lines)
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		p.count(&p.stats.Ignored)
		return nil
	}
	var head struct {
		Class  string `json:"class"`
		Device string `json:"device"`
	}
	if err := json.Unmarshal(line, &head); err != nil || head.Class == "" {
		p.skipped(&p.stats.Malformed, fmt.Errorf("%w: not a gpsd report: %.60q", ErrMalformed, line))
		return nil
	}
	switch head.Class {
	case "VERSION", "DEVICES", "DEVICE", "WATCH", "ERROR", "TPV", "SKY":
	default:
		g.connected(st, "")
		p.count(&p.stats.Unsupported)
		return nil
	}
	if g.opts.Device != "" && head.Device != "" && head.Device != g.opts.Device {
		p.count(&p.stats.Ignored)
		return nil
	}

	var err error
	switch head.Class {
	case "TPV":
		var r gpsdTPV
		if err = json.Unmarshal(line, &r); err == nil {
			var fix Fix
			if fix, err = g.fix(r, st.sky); err == nil {
				g.connected(st, "")
				st.gotFix = true
				p.count(&p.stats.Sentences)
				return p.fix(fix, deliver)
			}
		}
	case "SKY":
		var r gpsdSKY
		if err = json.Unmarshal(line, &r); err == nil {
			st.sky = r.merge(st.sky)
		}
	case "VERSION":
		var r struct {
			Release    string `json:"release"`
			ProtoMajor int    `json:"proto_major"`
			ProtoMinor int    `json:"proto_minor"`
		}
		if err = json.Unmarshal(line, &r); err == nil {
			g.connected(st, r.Release)
			p.log.Debug("gnss: gpsd version", "addr", g.opts.Addr, "release", r.Release,
				"proto", strconv.Itoa(r.ProtoMajor)+"."+strconv.Itoa(r.ProtoMinor))
		}
	case "ERROR":
		var r struct {
			Message string `json:"message"`
		}
		if err = json.Unmarshal(line, &r); err == nil {
			level := slog.LevelWarn
			if st.errSeen { // once per connection is enough
				level = slog.LevelDebug
			}
			st.errSeen = true
			p.log.Log(context.Background(), level, "gnss: gpsd reports an error", "addr", g.opts.Addr, "message", r.Message)
		}
	default: // DEVICES, DEVICE, WATCH: nothing to do but note them
		p.log.Debug("gnss: gpsd report", "addr", g.opts.Addr, "report", string(line))
	}
	if err != nil {
		p.skipped(&p.stats.Malformed, fmt.Errorf("%w: gpsd %s report: %w", ErrMalformed, head.Class, err))
		return nil
	}
	g.connected(st, "")
	p.count(&p.stats.Sentences)
	return nil
}

// connected notes that the connection delivers reports, and logs it the
// first time, saying how long the outage before it lasted.
func (g *GPSD) connected(st *gpsdRun, release string) {
	if st.up {
		return
	}
	st.up = true
	attrs := []any{"addr", g.opts.Addr}
	if release != "" {
		attrs = append(attrs, "release", release)
	}
	if !st.down.IsZero() {
		attrs = append(attrs, "outage", g.opts.Now().Sub(st.down).Round(time.Millisecond))
		st.down = time.Time{}
	}
	g.pipe.log.Info("gnss: connected to gpsd", attrs...)
}

// warn logs skipped input not reported yet, like pipeline.warn.
func (g *GPSD) warn() { g.pipe.skips.Warn("gnss: skipping invalid gpsd input") }

// gpsdTPV is the part of a TPV report a Fix is made of. Absent fields
// are nil.
type gpsdTPV struct {
	Device   string          `json:"device"`
	Mode     int             `json:"mode"`
	Status   int             `json:"status"`
	Time     json.RawMessage `json:"time"`
	Lat      *float64        `json:"lat"`
	Lon      *float64        `json:"lon"`
	AltMSL   *float64        `json:"altMSL"`
	Alt      *float64        `json:"alt"`
	AltHAE   *float64        `json:"altHAE"`
	GeoidSep *float64        `json:"geoidSep"`
	Speed    *float64        `json:"speed"`
	Track    *float64        `json:"track"`
	Eph      *float64        `json:"eph"`
	Epx      *float64        `json:"epx"`
	Epy      *float64        `json:"epy"`
}

// fix turns a TPV report into a Fix, with the satellites and HDOP of sky
// if it is of the same device. It fails on impossible values.
func (g *GPSD) fix(r gpsdTPV, sky gpsdSky) (Fix, error) {
	var fix Fix
	t, err := gpsdTime(r.Time)
	if err != nil {
		return Fix{}, err
	}
	fix.Time = t
	hasPos := r.Lat != nil && r.Lon != nil
	if hasPos {
		if math.Abs(*r.Lat) > 90 || math.Abs(*r.Lon) > 180 {
			return Fix{}, fmt.Errorf("position %v, %v out of range", *r.Lat, *r.Lon)
		}
		fix.Lat, fix.Lon = *r.Lat, *r.Lon
	}
	fix.Valid = hasPos && r.Mode >= 2
	if fix.Valid {
		fix.FixQuality = gpsdQuality(r.Status)
	}
	if r.Speed != nil && *r.Speed >= 0 {
		fix.SpeedKph, fix.HasSpeed = *r.Speed*3.6, true
	}
	if r.Track != nil {
		h := math.Mod(*r.Track, 360)
		if h < 0 {
			h += 360
		}
		fix.HeadingDeg, fix.HasHeading = h, true
	}
	if r.Mode == 3 {
		switch {
		case r.AltMSL != nil:
			fix.AltitudeM, fix.HasAltitude = *r.AltMSL, true
		case r.Alt != nil:
			fix.AltitudeM, fix.HasAltitude = *r.Alt, true
		case r.AltHAE != nil && r.GeoidSep != nil:
			fix.AltitudeM, fix.HasAltitude = *r.AltHAE-*r.GeoidSep, true
		}
	}
	if sky.device == r.Device {
		fix.Satellites, fix.HDOP = sky.used.V, sky.hdop.V
	}
	if e, ok := r.horizontalErrorM(); ok && fix.Valid && g.opts.MaxErrorM > 0 && e > g.opts.MaxErrorM {
		fix.Valid = false
		g.pipe.count(&g.inaccurate)
	}
	return fix, nil
}

// horizontalErrorM is gpsd's estimate of the horizontal error in metres:
// eph, or else epx and epy combined.
func (r gpsdTPV) horizontalErrorM() (float64, bool) {
	switch {
	case r.Eph != nil:
		return *r.Eph, true
	case r.Epx != nil && r.Epy != nil:
		return math.Hypot(*r.Epx, *r.Epy), true
	case r.Epx != nil:
		return *r.Epx, true
	case r.Epy != nil:
		return *r.Epy, true
	}
	return 0, false
}

// gpsdTime decodes a TPV time: an ISO 8601 string since protocol 3.4,
// seconds since the Unix epoch before. An absent time is the zero time,
// which the filter drops.
func gpsdTime(raw json.RawMessage) (time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %w", s, err)
		}
		return t.UTC(), nil
	}
	var secs float64
	if err := json.Unmarshal(raw, &secs); err != nil || secs < 0 || secs > 1<<40 {
		return time.Time{}, fmt.Errorf("time %s is neither ISO 8601 nor Unix seconds", raw)
	}
	whole, frac := math.Modf(secs)
	return time.Unix(int64(whole), int64(math.Round(frac*1e9))).UTC(), nil
}

// gpsdQuality maps gpsd's TPV status to the GGA fix quality.
func gpsdQuality(status int) int {
	switch status {
	case 2: // DGPS
		return 2
	case 3: // RTK fixed
		return 4
	case 4: // RTK float
		return 5
	case 5: // dead reckoning
		return 6
	case 7: // surveyed-in, fixed position
		return 7
	case 8: // simulated
		return 8
	case 9: // P(Y), the precise positioning service
		return 3
	}
	return 1 // unknown, normal, GNSS with dead reckoning
}

// gpsdSKY is the part of a SKY report a Fix takes.
type gpsdSKY struct {
	Device     string   `json:"device"`
	HDOP       *float64 `json:"hdop"`
	USat       *int     `json:"uSat"`
	Satellites []struct {
		Used bool `json:"used"`
	} `json:"satellites"`
}

// merge returns sky updated with what r reports. gpsd sends SKY reports
// with the DOPs only (from a GSA) as well as full ones; a report leaves
// what it does not carry as it was, unless it is from another device.
// Before uSat (gpsd 3.20) the satellites used are counted.
func (r gpsdSKY) merge(sky gpsdSky) gpsdSky {
	if r.Device != sky.device {
		sky = gpsdSky{device: r.Device}
	}
	if r.HDOP != nil && *r.HDOP >= 0 {
		sky.hdop = some(*r.HDOP)
	}
	switch {
	case r.USat != nil && *r.USat >= 0:
		sky.used = some(*r.USat)
	case len(r.Satellites) > 0:
		n := 0
		for _, s := range r.Satellites {
			if s.Used {
				n++
			}
		}
		sky.used = some(n)
	}
	return sky
}
