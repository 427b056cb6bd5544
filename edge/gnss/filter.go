package gnss

import (
	"math"
	"time"
)

// DefaultMaxSpeedKph is the implied speed between two fixes above which the
// later one is taken for a jump: no road vehicle we track gets there.
const DefaultMaxSpeedKph = 300

// FilterConfig configures a Filter.
type FilterConfig struct {
	// MaxSpeedKph is the implied speed from the previous accepted fix above
	// which a fix is dropped as a jump; 0 means DefaultMaxSpeedKph.
	MaxSpeedKph float64
	// MaxAge drops fixes older than this relative to Now. Use it for live
	// receivers; 0 disables it (replays of old logs).
	MaxAge time.Duration
	// Now is the clock MaxAge is measured against; nil means time.Now.
	Now func() time.Time
}

// DropReason says why the Filter dropped a fix.
type DropReason int

// The outcomes of Filter.Check, in the order they are tested.
const (
	Kept          DropReason = iota // not dropped
	DropNoFix                       // the receiver has no valid fix
	DropNoTime                      // no time or no date known
	DropTooOld                      // older than FilterConfig.MaxAge
	DropBackwards                   // not later than the previous accepted fix
	DropJump                        // implied speed above FilterConfig.MaxSpeedKph
)

func (r DropReason) String() string {
	switch r {
	case Kept:
		return "kept"
	case DropNoFix:
		return "no fix"
	case DropNoTime:
		return "no time"
	case DropTooOld:
		return "too old"
	case DropBackwards:
		return "time backwards"
	case DropJump:
		return "jump"
	}
	return "unknown"
}

// FilterStats counts the fixes a Filter kept and dropped, by reason.
type FilterStats struct {
	Kept      int
	NoFix     int
	NoTime    int
	TooOld    int
	Backwards int
	Jump      int
}

// Dropped returns the number of fixes dropped for any reason.
func (s FilterStats) Dropped() int {
	return s.NoFix + s.NoTime + s.TooOld + s.Backwards + s.Jump
}

// A Filter decides which fixes are fit to publish. It drops fixes without a
// valid fix or without a time, fixes older than MaxAge, fixes whose time is
// not after the previous accepted fix (a receiver's clock stepping back, or
// a duplicate: they are dropped, never reordered), and jumps: fixes that
// would need more than MaxSpeedKph to reach from the previous accepted fix
// (great-circle distance).
//
// A jump is usually one bad fix, but it may be the accepted fix that was
// bad. So when a fix is dropped as a jump and the next one is consistent
// with it (both far away from the accepted fix, close to each other), the
// Filter trusts the pair and accepts that next fix.
//
// A Filter is not safe for concurrent use.
type Filter struct {
	maxSpeedKph float64
	maxAge      time.Duration
	now         func() time.Time

	last    Opt[Fix] // the previous accepted fix
	suspect Opt[Fix] // the fix dropped as a jump just before, if any
	stats   FilterStats
}

// NewFilter returns a Filter configured by cfg.
func NewFilter(cfg FilterConfig) *Filter {
	f := &Filter{maxSpeedKph: cfg.MaxSpeedKph, maxAge: cfg.MaxAge, now: cfg.Now}
	if f.maxSpeedKph <= 0 {
		f.maxSpeedKph = DefaultMaxSpeedKph
	}
	if f.now == nil {
		f.now = time.Now
	}
	return f
}

// Check returns Kept if fix passes the filter, and otherwise why it was
// dropped. Kept fixes become the reference for the next call.
func (f *Filter) Check(fix Fix) DropReason {
	reason := f.judge(fix)
	switch reason {
	case Kept:
		f.last, f.suspect = some(fix), Opt[Fix]{}
		f.stats.Kept++
	case DropNoFix:
		f.stats.NoFix++
	case DropNoTime:
		f.stats.NoTime++
	case DropTooOld:
		f.stats.TooOld++
	case DropBackwards:
		f.stats.Backwards++
	case DropJump:
		f.suspect = some(fix)
		f.stats.Jump++
	}
	return reason
}

func (f *Filter) judge(fix Fix) DropReason {
	switch {
	case !fix.Valid:
		return DropNoFix
	case fix.Time.IsZero():
		return DropNoTime
	case f.maxAge > 0 && f.now().Sub(fix.Time) > f.maxAge:
		return DropTooOld
	case !f.last.OK:
		return Kept
	case !fix.Time.After(f.last.V.Time):
		return DropBackwards
	case impliedKph(f.last.V, fix) <= f.maxSpeedKph:
		return Kept
	case f.suspect.OK && fix.Time.After(f.suspect.V.Time) && impliedKph(f.suspect.V, fix) <= f.maxSpeedKph:
		return Kept // the previous accepted fix was the outlier
	}
	return DropJump
}

// Stats returns the counts so far.
func (f *Filter) Stats() FilterStats { return f.stats }

// Reset forgets the previous accepted fix, so that the next valid fix is
// accepted whatever its time and place. The counters are kept. Use it when
// the input starts over, such as a replay that loops.
func (f *Filter) Reset() {
	f.last, f.suspect = Opt[Fix]{}, Opt[Fix]{}
}

// impliedKph is the speed needed to get from a to b in the time between
// them; b must be later than a.
func impliedKph(a, b Fix) float64 {
	return haversineKm(a.Lat, a.Lon, b.Lat, b.Lon) / b.Time.Sub(a.Time).Hours()
}

// earthRadiusKm is the mean Earth radius (IUGG).
const earthRadiusKm = 6371.0088

// haversineKm is the great-circle distance between two points in km.
func haversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := sq(math.Sin(dLat/2)) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*sq(math.Sin(dLon/2))
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(min(h, 1)))
}

func sq(x float64) float64 { return x * x }
