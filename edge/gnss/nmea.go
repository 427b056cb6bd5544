package gnss

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// KnotsToKph converts a speed in knots, as NMEA reports it, to km/h.
const KnotsToKph = 1.852

// Sentence is one decoded NMEA sentence: an RMC, GGA, VTG, GSA, GNS, GSV,
// GLL or ZDA value. Use a type switch to get at the fields.
type Sentence interface {
	// Head returns the talker ID and sentence type.
	Head() Header
}

// Header is the address field every sentence starts with.
type Header struct {
	Talker string // talker ID: "GP", "GN", "GL", "GA", "GB", "BD", "GQ", …
	Type   string // sentence type: "RMC", "GGA", …
}

// Head returns h; embedding Header makes a struct a Sentence.
func (h Header) Head() Header { return h }

// Opt is a field that a sentence may leave empty: OK reports whether V was
// sent.
type Opt[T any] struct {
	V  T
	OK bool
}

func some[T any](v T) Opt[T] { return Opt[T]{V: v, OK: true} }

// TimeOfDay is a UTC time of day as NMEA sends it, measured from midnight.
// It may reach 24h during a leap second (23:59:60).
type TimeOfDay time.Duration

// String formats t as hh:mm:ss.sss.
func (t TimeOfDay) String() string {
	return time.Time{}.Add(time.Duration(t)).Format("15:04:05.000")
}

// Date is a calendar date (UTC) from an RMC or ZDA sentence.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// At returns the instant at time of day t on d.
func (d Date) At(t TimeOfDay) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Add(time.Duration(t))
}

// next returns the following day.
func (d Date) next() Date {
	y, m, day := time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, time.UTC).Date()
	return Date{Year: y, Month: m, Day: day}
}

// LatLon is a position in decimal degrees (WGS84), north and east positive.
type LatLon struct {
	Lat, Lon float64
}

// Parse decodes one NMEA 0183 sentence such as
//
//	$GPRMC,165744,A,4901.5940,N,01203.9163,E,0.0,131.9,110410,1.6,E,A*1F
//
// Surrounding white space, NUL bytes and the line ending are ignored. The
// checksum is required and verified. Fields added by later NMEA versions
// (4.1 navigational status, system and signal IDs) are tolerated; trailing
// fields this package does not use may be missing.
//
// Errors wrap ErrMalformed, ErrChecksum or ErrUnsupported (a valid sentence
// of a type Parse does not decode, including all proprietary $P… sentences).
// Parse never panics.
func Parse(line string) (Sentence, error) {
	body, err := unframe(line)
	if err != nil {
		return nil, err
	}
	address, rest, hasFields := strings.Cut(body, ",")
	h, err := header(address, line)
	if err != nil {
		return nil, err
	}
	decoder, ok := decoders[h.Type]
	if !ok {
		return nil, fmt.Errorf("%w: %s%s", ErrUnsupported, h.Talker, h.Type)
	}
	var f fields
	if hasFields {
		f.f = strings.Split(rest, ",")
	}
	if len(f.f) < decoder.minFields {
		return nil, malformed(line, "%s has %d fields, want at least %d", h.Type, len(f.f), decoder.minFields)
	}
	s := decoder.parse(h, &f)
	if f.problem != "" {
		return nil, malformed(line, "%s %s", h.Type, f.problem)
	}
	return s, nil
}

// decoders maps each supported sentence type to its parser and the number
// of fields it needs: the fields this package uses must be present, later
// ones may be missing.
var decoders = map[string]struct {
	minFields int
	parse     func(Header, *fields) Sentence
}{
	"RMC": {9, parseRMC},
	"GGA": {10, parseGGA},
	"VTG": {8, parseVTG},
	"GSA": {17, parseGSA},
	"GNS": {9, parseGNS},
	"GSV": {3, parseGSV},
	"GLL": {6, parseGLL},
	"ZDA": {4, parseZDA},
}

func malformed(line, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %.80q", ErrMalformed, fmt.Sprintf(format, args...), line)
}

// unframe checks the $…*hh frame of line and returns what lies between the
// '$' and the '*'.
func unframe(line string) (string, error) {
	s := strings.Trim(line, " \t\r\n\x00")
	switch {
	case s == "":
		return "", malformed(line, "empty line")
	case s[0] != '$':
		return "", malformed(line, "does not start with '$'")
	}
	star := strings.IndexByte(s, '*')
	if star < 0 {
		return "", malformed(line, "missing checksum")
	}
	body, sum := s[1:star], s[star+1:]
	want, ok := parseHexByte(sum)
	if !ok {
		return "", fmt.Errorf("%w: checksum field %.8q is not two hex digits: %.80q", ErrChecksum, sum, line)
	}
	if got := checksum(body); got != want {
		return "", fmt.Errorf("%w: computed %02X, sentence says %s: %.80q", ErrChecksum, got, sum, line)
	}
	for i := 0; i < len(body); i++ {
		if c := body[i]; c < 0x20 || c > 0x7e || c == '$' {
			return "", malformed(line, "invalid character %q at offset %d", c, i+1)
		}
	}
	return body, nil
}

// checksum is the NMEA checksum: the XOR of all bytes between '$' and '*'.
func checksum(body string) byte {
	var sum byte
	for i := 0; i < len(body); i++ {
		sum ^= body[i]
	}
	return sum
}

func parseHexByte(s string) (byte, bool) {
	if len(s) != 2 {
		return 0, false
	}
	hi, ok1 := hexDigit(s[0])
	lo, ok2 := hexDigit(s[1])
	return hi<<4 | lo, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// header splits an address such as "GPRMC" into talker and type.
// Proprietary addresses ("PGRME", "PSRF151") are reported as unsupported.
func header(address, line string) (Header, error) {
	if address != "" && address[0] == 'P' && isAlnum(address) {
		return Header{}, fmt.Errorf("%w: proprietary %s", ErrUnsupported, address)
	}
	if len(address) != 5 || !isUpper(address) {
		return Header{}, malformed(line, "address %.12q is not a 2-letter talker and a 3-letter type", address)
	}
	return Header{Talker: address[:2], Type: address[2:]}, nil
}

func isUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// fields decodes the fields of one sentence. It keeps the first problem and
// returns zero values after it, so that the sentence parsers read like a
// table of fields and check for errors once at the end. Indexes are 0-based
// after the address; fields beyond the end read as empty.
type fields struct {
	f       []string
	problem string // "field 3 (latitude): …", to follow the sentence type
}

func (p *fields) get(i int) string {
	if p.problem != "" || i >= len(p.f) {
		return ""
	}
	return p.f[i]
}

func (p *fields) fail(i int, name, format string, args ...any) {
	if p.problem == "" {
		p.problem = fmt.Sprintf("field %d (%s): %s", i+1, name, fmt.Sprintf(format, args...))
	}
}

// required checks that a field the sentence cannot do without is not empty.
func (p *fields) required(i int, name string) {
	if p.get(i) == "" {
		p.fail(i, name, "empty")
	}
}

// float decodes a plain decimal number such as "-12.5" within [lo, hi].
func (p *fields) float(i int, name string, lo, hi float64) Opt[float64] {
	s := p.get(i)
	if s == "" {
		return Opt[float64]{}
	}
	v, ok := parseDecimal(s)
	switch {
	case !ok:
		p.fail(i, name, "%.16q is not a number", s)
	case v < lo || v > hi:
		p.fail(i, name, "%v is out of range [%v, %v]", v, lo, hi)
	default:
		return some(v)
	}
	return Opt[float64]{}
}

// nonNeg decodes a number that cannot be negative, such as a speed or a DOP.
func (p *fields) nonNeg(i int, name string) Opt[float64] {
	return p.float(i, name, 0, math.MaxFloat64)
}

// dop decodes a dilution of precision. Some receivers send "NaN" or "0NaN"
// when it is undefined; that reads as empty instead of spoiling the
// sentence.
func (p *fields) dop(i int, name string) Opt[float64] {
	if strings.Contains(p.get(i), "NaN") {
		return Opt[float64]{}
	}
	return p.nonNeg(i, name)
}

// course decodes an angle in degrees, [0, 360].
func (p *fields) course(i int, name string) Opt[float64] {
	return p.float(i, name, 0, 360)
}

// number decodes a signed decimal number such as an altitude.
func (p *fields) number(i int, name string) Opt[float64] {
	return p.float(i, name, -math.MaxFloat64, math.MaxFloat64)
}

// whole decodes a decimal integer within [lo, hi]; a minus sign is only
// accepted when lo is negative.
func (p *fields) whole(i int, name string, lo, hi int) Opt[int] {
	s := p.get(i)
	if s == "" {
		return Opt[int]{}
	}
	digits, neg := strings.CutPrefix(s, "-")
	v, ok := parseDigits(digits)
	if neg {
		v = -v
	}
	switch {
	case !ok || neg && lo >= 0:
		p.fail(i, name, "%.16q is not a whole number", s)
	case v < lo || v > hi:
		p.fail(i, name, "%d is out of range [%d, %d]", v, lo, hi)
	default:
		return some(v)
	}
	return Opt[int]{}
}

// char decodes a one-letter indicator that must be one of allowed, or empty
// (0).
func (p *fields) char(i int, name, allowed string) byte {
	s := p.get(i)
	if s == "" {
		return 0
	}
	if len(s) != 1 || !strings.Contains(allowed, s) {
		p.fail(i, name, "%.8q is not one of %q", s, allowed)
		return 0
	}
	return s[0]
}

// mode decodes an FAA mode indicator (NMEA 2.3+): any upper-case letter, 0
// when absent.
func (p *fields) mode(i int) byte {
	return p.char(i, "mode", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
}

// unit checks a unit letter such as the "M" after an altitude.
func (p *fields) unit(i int, want string) {
	if s := p.get(i); s != "" && s != want {
		p.fail(i, "unit", "%.8q, want %q", s, want)
	}
}

// timeOfDay decodes hhmmss with an optional fraction: "165744", "152505.50".
func (p *fields) timeOfDay(i int) Opt[TimeOfDay] {
	s := p.get(i)
	if s == "" {
		return Opt[TimeOfDay]{}
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	hms, ok := parseDigits(whole)
	if !ok || len(whole) != 6 || hasFrac && (frac == "" || len(frac) > 9) {
		p.fail(i, "time", "%.16q is not hhmmss[.sss]", s)
		return Opt[TimeOfDay]{}
	}
	h, m, sec := hms/10000, hms/100%100, hms%100
	if h > 23 || m > 59 || sec > 60 {
		p.fail(i, "time", "%.16q is not a time of day", s)
		return Opt[TimeOfDay]{}
	}
	var nanos int
	if hasFrac {
		n, ok := parseDigits(frac)
		if !ok {
			p.fail(i, "time", "%.16q is not hhmmss[.sss]", s)
			return Opt[TimeOfDay]{}
		}
		nanos = n * pow10[9-len(frac)]
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(sec)*time.Second + time.Duration(nanos)
	return some(TimeOfDay(d))
}

var pow10 = [...]int{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// ddmmyy decodes an RMC date. Two-digit years are read as 1980–2079.
func (p *fields) ddmmyy(i int) Opt[Date] {
	s := p.get(i)
	if s == "" {
		return Opt[Date]{}
	}
	v, ok := parseDigits(s)
	if !ok || len(s) != 6 {
		p.fail(i, "date", "%.16q is not ddmmyy", s)
		return Opt[Date]{}
	}
	year := 2000 + v%100
	if year >= 2080 {
		year -= 100
	}
	return p.date(i, year, v/100%100, v/10000)
}

// date checks a calendar date.
func (p *fields) date(i, year, month, day int) Opt[Date] {
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, time.Month(month)) {
		p.fail(i, "date", "%04d-%02d-%02d is not a date", year, month, day)
		return Opt[Date]{}
	}
	return some(Date{Year: year, Month: time.Month(month), Day: day})
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// latLon decodes the four fields ddmm.mmmm,N/S,dddmm.mmmm,E/W starting at i.
// A position without numbers is absent; one with only latitude or only
// longitude is an error.
func (p *fields) latLon(i int) Opt[LatLon] {
	lat := p.degrees(i, "latitude", "NS", 90)
	lon := p.degrees(i+2, "longitude", "EW", 180)
	if p.problem != "" || !lat.OK && !lon.OK {
		return Opt[LatLon]{}
	}
	if !lat.OK || !lon.OK {
		p.fail(i, "position", "latitude or longitude missing")
		return Opt[LatLon]{}
	}
	return some(LatLon{Lat: lat.V, Lon: lon.V})
}

// degrees decodes one NMEA angle, degrees and minutes run together
// ("4901.5940" is 49° 01.5940′), followed by its hemisphere field.
func (p *fields) degrees(i int, name, hemispheres string, limit float64) Opt[float64] {
	s, hemi := p.get(i), p.get(i+1)
	if s == "" {
		return Opt[float64]{} // a hemisphere letter alone is harmless
	}
	v, ok := parseDecimal(s)
	if !ok || s[0] == '-' || s[0] == '+' {
		p.fail(i, name, "%.16q is not dddmm.mmmm", s)
		return Opt[float64]{}
	}
	deg := math.Floor(v / 100)
	minutes := v - 100*deg
	deg += minutes / 60
	if minutes >= 60 || deg > limit {
		p.fail(i, name, "%.16q is out of range", s)
		return Opt[float64]{}
	}
	switch {
	case len(hemi) != 1 || !strings.Contains(hemispheres, hemi):
		p.fail(i+1, name+" hemisphere", "%.8q is not one of %q", hemi, hemispheres)
		return Opt[float64]{}
	case hemi[0] == 'S' || hemi[0] == 'W':
		deg = -deg
	}
	return some(deg)
}

// parseDecimal accepts only what NMEA sends: an optional sign, digits and at
// most one decimal point. Unlike strconv.ParseFloat alone it rejects "NaN",
// "Inf", exponents, hex and underscores.
func parseDecimal(s string) (float64, bool) {
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits++
		case c == '.':
			dots++
		case (c == '-' || c == '+') && i == 0:
		default:
			return 0, false
		}
	}
	if digits == 0 || dots > 1 {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// parseDigits decodes an unsigned decimal integer of at most 9 digits.
func parseDigits(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}
