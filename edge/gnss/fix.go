package gnss

import (
	"slices"
	"time"
)

// Fix is what the receiver reported for one epoch, merged from all the
// sentences that carry that epoch's time.
type Fix struct {
	// Time is the UTC time of the epoch. It is zero when the epoch had no
	// time or no date has been seen yet (from RMC or ZDA).
	Time time.Time
	// Lat and Lon are the position in decimal degrees (WGS84), north and
	// east positive.
	Lat, Lon float64
	// SpeedKph is the speed over ground in km/h; see HasSpeed.
	SpeedKph float64
	// HeadingDeg is the course over ground in degrees true, in [0, 360).
	// It is 0 unless HasHeading.
	HeadingDeg float64
	// AltitudeM is the altitude above mean sea level in metres; see
	// HasAltitude.
	AltitudeM float64
	// FixQuality is the GGA fix quality (0 no fix, 1 GPS, 2 differential,
	// 4 RTK fixed, 5 RTK float, 6 dead reckoning, …). In an epoch without
	// GGA it is derived from the mode letter of the RMC, GNS or GLL, or
	// from their status (A → 1) when the receiver sends no mode.
	FixQuality int
	// Satellites is the number of satellites used, 0 when unknown. With
	// one GGA/GNS per constellation it is the largest count reported.
	Satellites int
	// HDOP is the horizontal dilution of precision, 0 when unknown.
	HDOP float64
	// Valid means the epoch has a position and the receiver vouches for
	// it: an RMC with status A, a GGA with quality above 0, or a GNS or
	// GLL saying the same.
	Valid bool

	HasSpeed    bool // SpeedKph was reported
	HasHeading  bool // HeadingDeg was reported
	HasAltitude bool // AltitudeM was reported
}

// An Assembler merges the sentences of one epoch into a Fix. An epoch is
// the set of sentences with the same UTC time of day; it ends when a
// sentence with another time arrives (or when a timed sentence of the same
// talker and type repeats), or on Flush. Sentences without a time field
// (VTG, GSA) belong to the epoch of the last timed sentence; GSV is
// ignored. Where several sentences report the same quantity, sentences
// that vouch for a fix beat those that do not, timed sentences beat
// untimed ones (so a GSA sent before its epoch's RMC, as in the Munich
// log, only fills in an HDOP the previous epoch lacks), and otherwise the
// first one wins.
//
// The date comes from the epoch's RMC or ZDA, or else from the last one
// seen, moved on by a day when the time of day drops by more than 12
// hours (midnight).
// Time may go backwards between epochs; the Assembler passes that on and
// leaves it to the Filter.
//
// The zero value is ready to use. An Assembler is not safe for concurrent
// use.
type Assembler struct {
	cur epoch

	// day is the date in force and dayTime the latest time of day seen on
	// it, to notice midnight in epochs without a date.
	day     Opt[Date]
	dayTime TimeOfDay
}

// Add merges s into the current epoch. When s starts a new epoch, the fix
// of the previous one is returned with ok set.
func (a *Assembler) Add(s Sentence) (fix Fix, ok bool) {
	t, timed := timeOf(s)
	if a.cur.active && a.startsEpoch(s.Head(), t, timed) {
		fix, ok = a.finish(), true
	}
	a.cur.merge(s)
	if timed {
		a.cur.seen = append(a.cur.seen, s.Head())
		if t.OK && !a.cur.time.OK {
			a.cur.time = t
		}
	}
	return fix, ok
}

// Flush returns the fix of the current epoch, if it has any sentences, and
// starts afresh. Call it at the end of the input.
func (a *Assembler) Flush() (Fix, bool) {
	if !a.cur.active {
		return Fix{}, false
	}
	return a.finish(), true
}

func (a *Assembler) startsEpoch(h Header, t Opt[TimeOfDay], timed bool) bool {
	switch {
	case !timed:
		return false
	case t.OK && a.cur.time.OK && t.V != a.cur.time.V:
		return true
	default:
		return slices.Contains(a.cur.seen, h)
	}
}

// timeOf returns the time field of s; timed reports whether s has one at
// all (it may be empty, as in "$GPRMC,,V,…" before the first fix).
func timeOf(s Sentence) (t Opt[TimeOfDay], timed bool) {
	switch s := s.(type) {
	case RMC:
		return s.Time, true
	case GGA:
		return s.Time, true
	case GNS:
		return s.Time, true
	case GLL:
		return s.Time, true
	case ZDA:
		return s.Time, true
	}
	return Opt[TimeOfDay]{}, false
}

// finish turns the current epoch into a Fix and clears it.
func (a *Assembler) finish() Fix {
	e := &a.cur
	if e.time.OK {
		switch {
		case e.date.OK:
			a.day, a.dayTime = e.date, e.time.V
		case a.day.OK && e.time.V < a.dayTime-12*TimeOfDay(time.Hour):
			a.day.V, a.dayTime = a.day.V.next(), e.time.V
		case e.time.V > a.dayTime:
			a.dayTime = e.time.V
		}
	}

	fix := Fix{
		Lat:         e.pos.v.Lat,
		Lon:         e.pos.v.Lon,
		Valid:       e.pos.rank == rankValid,
		FixQuality:  e.quality.v,
		Satellites:  e.satellites,
		HDOP:        e.hdop.v,
		AltitudeM:   e.altitude.v,
		HasAltitude: e.altitude.ok(),
		SpeedKph:    e.speed.v,
		HasSpeed:    e.speed.ok(),
		HeadingDeg:  e.heading.v,
		HasHeading:  e.heading.ok(),
	}
	if fix.HeadingDeg >= 360 {
		fix.HeadingDeg -= 360
	}
	date := e.date
	if !date.OK {
		date = a.day
	}
	if e.time.OK && date.OK {
		fix.Time = date.V.At(e.time.V)
	}

	a.cur = epoch{seen: e.seen[:0]}
	return fix
}

// Ranks of the sources of a value: a value offered with a higher rank
// replaces the one kept.
const (
	rankNone     = iota // nothing offered yet
	rankFallback        // an untimed sentence, or a derived value
	rankPrimary         // a timed sentence that carries the value itself

	rankInvalid = rankFallback // a position the receiver does not vouch for
	rankValid   = rankPrimary  // a position from a sentence reporting a fix
)

// best keeps the value offered with the highest rank; on a tie the first
// one stays.
type best[T any] struct {
	v    T
	rank int
}

func (b *best[T]) offer(o Opt[T], rank int) {
	if o.OK && rank > b.rank {
		b.v, b.rank = o.V, rank
	}
}

func (b best[T]) ok() bool { return b.rank > rankNone }

// epoch accumulates the sentences of one epoch.
type epoch struct {
	active bool           // a sentence contributed
	time   Opt[TimeOfDay] // the epoch's time of day
	seen   []Header       // timed sentences merged, to notice a repeat

	date       Opt[Date]
	pos        best[LatLon]
	quality    best[int]
	satellites int
	hdop       best[float64]
	altitude   best[float64]
	speed      best[float64]
	heading    best[float64]
}

func (e *epoch) merge(s Sentence) {
	switch s := s.(type) {
	case RMC:
		e.position(s.Position, s.Valid())
		e.quality.offer(some(modeQuality(s.Valid(), s.Mode)), rankFallback)
		e.speed.offer(s.SpeedKph(), rankPrimary)
		e.heading.offer(s.CourseDeg, rankPrimary)
		e.setDate(s.Date)
	case GGA:
		e.position(s.Position, s.Valid())
		e.quality.offer(some(s.Quality), rankPrimary)
		e.satellites = max(e.satellites, s.Satellites.V)
		e.hdop.offer(s.HDOP, rankPrimary)
		e.altitude.offer(s.AltitudeM, rankPrimary)
	case GNS:
		e.position(s.Position, s.Valid())
		e.quality.offer(some(qualityOfMode[s.bestMode()]), rankFallback)
		e.satellites = max(e.satellites, s.Satellites.V)
		e.hdop.offer(s.HDOP, rankPrimary)
		e.altitude.offer(s.AltitudeM, rankPrimary)
	case GLL:
		e.position(s.Position, s.Valid())
		e.quality.offer(some(modeQuality(s.Valid(), s.Mode)), rankFallback)
	case ZDA:
		e.setDate(s.Date)
	case VTG:
		e.speed.offer(s.Kph(), rankFallback)
		e.heading.offer(s.CourseTrueDeg, rankFallback)
	case GSA:
		e.hdop.offer(s.HDOP, rankFallback)
	default: // GSV: satellites in view do not make a fix
		return
	}
	e.active = true
}

func (e *epoch) position(p Opt[LatLon], valid bool) {
	rank := rankInvalid
	if valid {
		rank = rankValid
	}
	e.pos.offer(p, rank)
}

func (e *epoch) setDate(d Opt[Date]) {
	if !e.date.OK {
		e.date = d
	}
}

// qualityOfMode maps an FAA mode letter to the matching GGA fix quality.
var qualityOfMode = map[byte]int{
	'A': 1, 'D': 2, 'P': 3, 'R': 4, 'F': 5, 'E': 6, 'M': 7, 'S': 8,
}

// modeQuality derives a GGA-style fix quality from the validity and mode
// letter of an RMC or GLL.
func modeQuality(valid bool, mode byte) int {
	switch {
	case !valid:
		return 0
	case mode == 0:
		return 1
	}
	return qualityOfMode[mode]
}
