package gnss

import "strings"

// The sentence types Parse decodes. Field numbers in the comments count from
// 1 after the address, as NMEA documents do. An Opt field is not OK when the
// receiver left it empty; a one-letter indicator is 0 when empty.

// RMC is the recommended minimum: time, date, position, speed and course.
type RMC struct {
	Header
	Time       Opt[TimeOfDay] // 1
	Status     byte           // 2: 'A' valid, 'V' warning (no usable fix)
	Position   Opt[LatLon]    // 3–6
	SpeedKnots Opt[float64]   // 7: speed over ground
	CourseDeg  Opt[float64]   // 8: course over ground, degrees true
	Date       Opt[Date]      // 9
	Mode       byte           // 12: FAA mode (NMEA 2.3+), see GNS.Mode
	NavStatus  byte           // 13: navigational status (NMEA 4.1): S, C, U or V
}

// Valid reports whether the receiver marked the position as usable: status A
// and, when sent, a mode indicator that denotes a fix.
func (r RMC) Valid() bool { return r.Status == 'A' && modeUsable(r.Mode) }

// SpeedKph returns the speed over ground in km/h.
func (r RMC) SpeedKph() Opt[float64] { return knotsToKph(r.SpeedKnots) }

func parseRMC(h Header, f *fields) Sentence {
	return RMC{
		Header:     h,
		Time:       f.timeOfDay(0),
		Status:     f.char(1, "status", "AV"),
		Position:   f.latLon(2),
		SpeedKnots: f.nonNeg(6, "speed"),
		CourseDeg:  f.course(7, "course"),
		Date:       f.ddmmyy(8),
		Mode:       f.mode(11),
		NavStatus:  f.char(12, "navigational status", "SCUV"),
	}
}

// GGA is the fix data: time, position, fix quality, satellites, HDOP and
// altitude.
type GGA struct {
	Header
	Time     Opt[TimeOfDay] // 1
	Position Opt[LatLon]    // 2–5
	// Quality (6) is the fix quality: 0 no fix, 1 GPS, 2 differential,
	// 3 PPS, 4 RTK fixed, 5 RTK float, 6 estimated (dead reckoning),
	// 7 manual, 8 simulator. An empty field reads as 0.
	Quality    int
	Satellites Opt[int]     // 7: satellites used
	HDOP       Opt[float64] // 8: horizontal dilution of precision
	AltitudeM  Opt[float64] // 9–10: antenna altitude above mean sea level, metres
	GeoidSepM  Opt[float64] // 11–12: geoid above the WGS84 ellipsoid, metres
}

// Valid reports whether the receiver has a fix (quality above 0).
func (g GGA) Valid() bool { return g.Quality > 0 }

func parseGGA(h Header, f *fields) Sentence {
	g := GGA{
		Header:     h,
		Time:       f.timeOfDay(0),
		Position:   f.latLon(1),
		Quality:    f.whole(5, "quality", 0, 9).V,
		Satellites: f.whole(6, "satellites", 0, 999),
		HDOP:       f.dop(7, "HDOP"),
		AltitudeM:  f.number(8, "altitude"),
		GeoidSepM:  f.number(10, "geoid separation"),
	}
	f.unit(9, "M")
	f.unit(11, "M")
	return g
}

// VTG is course and speed over ground.
type VTG struct {
	Header
	CourseTrueDeg Opt[float64] // 1–2
	CourseMagDeg  Opt[float64] // 3–4
	SpeedKnots    Opt[float64] // 5–6
	SpeedKph      Opt[float64] // 7–8
	Mode          byte         // 9: FAA mode (NMEA 2.3+)
}

// Kph returns the speed in km/h: the km/h field, or the knots converted.
func (v VTG) Kph() Opt[float64] {
	if v.SpeedKph.OK {
		return v.SpeedKph
	}
	return knotsToKph(v.SpeedKnots)
}

func parseVTG(h Header, f *fields) Sentence {
	v := VTG{
		Header:        h,
		CourseTrueDeg: f.course(0, "true course"),
		CourseMagDeg:  f.course(2, "magnetic course"),
		SpeedKnots:    f.nonNeg(4, "speed in knots"),
		SpeedKph:      f.nonNeg(6, "speed in km/h"),
		Mode:          f.mode(8),
	}
	f.unit(1, "T")
	f.unit(3, "M")
	f.unit(5, "N")
	f.unit(7, "K")
	return v
}

// GSA lists the satellites used in the solution and the dilutions of
// precision. Receivers tracking several constellations send one per
// constellation.
type GSA struct {
	Header
	Selection byte         // 1: 'A' automatic or 'M' manual 2D/3D selection
	FixType   int          // 2: 1 no fix, 2 2D, 3 3D; 0 when empty
	PRNs      []int        // 3–14: satellites used, empty slots left out
	PDOP      Opt[float64] // 15
	HDOP      Opt[float64] // 16
	VDOP      Opt[float64] // 17
	// SystemID (18, NMEA 4.1) is 1 GPS, 2 GLONASS, 3 Galileo, 4 BeiDou,
	// 5 QZSS, 6 NavIC. A value that is not a whole number (some BeiDou
	// receivers put a DOP there) is ignored rather than rejected.
	SystemID Opt[int]
}

func parseGSA(h Header, f *fields) Sentence {
	g := GSA{
		Header:    h,
		Selection: f.char(0, "selection mode", "AM"),
		FixType:   f.whole(1, "fix type", 1, 3).V,
		PDOP:      f.dop(14, "PDOP"),
		HDOP:      f.dop(15, "HDOP"),
		VDOP:      f.dop(16, "VDOP"),
	}
	for i := 2; i < 14; i++ {
		if prn := f.whole(i, "satellite", 0, 999); prn.OK {
			g.PRNs = append(g.PRNs, prn.V)
		}
	}
	if id, ok := parseDigits(f.get(17)); ok {
		g.SystemID = some(id)
	}
	return g
}

// GNS is the multi-constellation fix data.
type GNS struct {
	Header
	Time     Opt[TimeOfDay] // 1
	Position Opt[LatLon]    // 2–5
	// Mode (6) has one FAA mode letter per constellation (GPS, GLONASS,
	// Galileo, BeiDou, …): N no fix, A autonomous, D differential, P precise,
	// R RTK fixed, F RTK float, E estimated (dead reckoning), M manual,
	// S simulator.
	Mode       string
	Satellites Opt[int]     // 7: satellites used, all constellations
	HDOP       Opt[float64] // 8
	AltitudeM  Opt[float64] // 9: above mean sea level, metres
	GeoidSepM  Opt[float64] // 10: geoid above the WGS84 ellipsoid, metres
	NavStatus  byte         // 13: navigational status (NMEA 4.1)
}

// Valid reports whether any constellation has a fix.
func (g GNS) Valid() bool { return g.bestMode() != 0 }

// bestMode returns the first mode letter that denotes a fix, or 0.
func (g GNS) bestMode() byte {
	for i := 0; i < len(g.Mode); i++ {
		if m := g.Mode[i]; modeUsable(m) {
			return m
		}
	}
	return 0
}

func parseGNS(h Header, f *fields) Sentence {
	g := GNS{
		Header:     h,
		Time:       f.timeOfDay(0),
		Position:   f.latLon(1),
		Mode:       f.get(5),
		Satellites: f.whole(6, "satellites", 0, 999),
		HDOP:       f.dop(7, "HDOP"),
		AltitudeM:  f.number(8, "altitude"),
		GeoidSepM:  f.number(9, "geoid separation"),
		NavStatus:  f.char(12, "navigational status", "SCUV"),
	}
	if !isUpper(g.Mode) {
		f.fail(5, "mode", "%.8q is not a string of mode letters", g.Mode)
	}
	return g
}

// GSV describes satellites in view, up to four per sentence; a group of
// GSV sentences covers them all.
type GSV struct {
	Header
	Messages   int         // 1: sentences in this group
	Message    int         // 2: number of this sentence, from 1
	InView     int         // 3: satellites in view
	Satellites []SatInView // 4–19, groups of four fields
	SignalID   Opt[int]    // last field (NMEA 4.1), a hex digit
}

// SatInView is one satellite of a GSV sentence.
type SatInView struct {
	PRN          int      // satellite ID, numbered as the talker numbers them
	ElevationDeg Opt[int] // -90–90
	AzimuthDeg   Opt[int] // 0–360, degrees true
	SNR          Opt[int] // carrier-to-noise density, dB-Hz; empty when not tracked
}

func parseGSV(h Header, f *fields) Sentence {
	f.required(0, "number of messages")
	f.required(1, "message number")
	g := GSV{
		Header:   h,
		Messages: f.whole(0, "number of messages", 1, 99).V,
		Message:  f.whole(1, "message number", 1, 99).V,
		InView:   f.whole(2, "satellites in view", 0, 999).V,
	}
	if g.Message > g.Messages {
		f.fail(1, "message number", "%d of %d", g.Message, g.Messages)
	}
	n := len(f.f) - 3
	switch n % 4 {
	case 0:
	case 1:
		last := len(f.f) - 1
		if s := f.get(last); s != "" {
			id, ok := hexDigit(s[0])
			if len(s) != 1 || !ok {
				f.fail(last, "signal ID", "%.8q is not a hex digit", s)
			}
			g.SignalID = some(int(id))
		}
		n--
	default:
		f.fail(len(f.f)-1, "satellites", "%d fields do not form groups of four", n)
		return g
	}
	for i := 3; i < 3+n; i += 4 {
		prn := f.whole(i, "satellite", 0, 999)
		sat := SatInView{
			PRN:          prn.V,
			ElevationDeg: f.whole(i+1, "elevation", -90, 90),
			AzimuthDeg:   f.whole(i+2, "azimuth", 0, 360),
			SNR:          f.whole(i+3, "SNR", 0, 99),
		}
		if prn.OK {
			g.Satellites = append(g.Satellites, sat)
		}
	}
	return g
}

// GLL is position, time and status.
type GLL struct {
	Header
	Position Opt[LatLon]    // 1–4
	Time     Opt[TimeOfDay] // 5
	Status   byte           // 6: 'A' valid, 'V' invalid
	Mode     byte           // 7: FAA mode (NMEA 2.3+)
}

// Valid reports whether the receiver marked the position as usable.
func (g GLL) Valid() bool { return g.Status == 'A' && modeUsable(g.Mode) }

func parseGLL(h Header, f *fields) Sentence {
	return GLL{
		Header:   h,
		Position: f.latLon(0),
		Time:     f.timeOfDay(4),
		Status:   f.char(5, "status", "AV"),
		Mode:     f.mode(6),
	}
}

// ZDA is time and date. The local time zone fields are not decoded.
type ZDA struct {
	Header
	Time Opt[TimeOfDay] // 1
	Date Opt[Date]      // 2–4: day, month, four-digit year
}

func parseZDA(h Header, f *fields) Sentence {
	z := ZDA{Header: h, Time: f.timeOfDay(0)}
	day := f.whole(1, "day", 1, 31)
	month := f.whole(2, "month", 1, 12)
	year := f.whole(3, "year", 1980, 9999)
	switch {
	case day.OK && month.OK && year.OK:
		z.Date = f.date(1, year.V, month.V, day.V)
	case day.OK || month.OK || year.OK:
		f.fail(1, "date", "day, month and year must be sent together")
	}
	return z
}

// modeUsable reports whether an FAA mode letter denotes a usable position:
// absent (0, older receivers), autonomous, differential, estimated (dead
// reckoning), RTK float, precise or RTK fixed.
func modeUsable(m byte) bool {
	return m == 0 || strings.IndexByte("ADEFPR", m) >= 0
}

func knotsToKph(knots Opt[float64]) Opt[float64] {
	if !knots.OK {
		return Opt[float64]{}
	}
	return some(knots.V * KnotsToKph)
}
