package geofence

import (
	"errors"
	"fmt"
)

// ErrInvalid is matched (errors.Is) by every error Load returns for input
// it rejects: malformed GeoJSON as a whole, and each *FenceError. The more
// specific sentinels below tell the problems apart.
var ErrInvalid = errors.New("invalid geofence")

// Problems with one fence, wrapped inside a *FenceError.
var (
	// ErrUnsupportedGeometry: a geometry type other than Polygon,
	// MultiPolygon, Point (circle) or LineString (corridor), or none.
	ErrUnsupportedGeometry = errors.New("unsupported geometry")
	// ErrCoordinates: a position that is not [lon, lat(, alt)] numbers, or
	// lies outside −180…180 / −90…90.
	ErrCoordinates = errors.New("bad coordinates")
	// ErrRingNotClosed: a ring whose last position differs from its first.
	ErrRingNotClosed = errors.New("ring not closed")
	// ErrTooFewPoints: a ring with fewer than 4 positions (3 distinct
	// vertices), or a corridor line with fewer than 2 distinct positions.
	ErrTooFewPoints = errors.New("too few points")
	// ErrSelfIntersection: two edges of one ring cross or touch.
	ErrSelfIntersection = errors.New("self-intersection")
	// ErrAntimeridian: a shape that crosses ±180° longitude (or spans more
	// than 180° of it), or that reaches or encloses a pole; see the package
	// documentation.
	ErrAntimeridian = errors.New("crosses the antimeridian or a pole")
	// ErrRadius: a circle radius or corridor buffer that is missing, not a
	// number, or not positive.
	ErrRadius = errors.New("bad radius or buffer")
	// ErrProperty: a property of the wrong type or out of range (tags,
	// speedLimitKph, dwellSeconds, id, name, account).
	ErrProperty = errors.New("bad property")
	// ErrDuplicateID: two fences of one Load with the same ID.
	ErrDuplicateID = errors.New("duplicate fence id")
)

// A FenceError is the rejection of one feature by Load. Load collects one
// per rejected feature and returns them joined (errors.Join); use
// errors.As on each, or errors.Is with ErrInvalid and the sentinels above.
type FenceError struct {
	// Source names the input (LoadOptions.Source, or the file for
	// LoadFile).
	Source string
	// Index is the position of the feature in the collection, from 0.
	Index int
	// ID is the fence ID if it could be determined, else empty.
	ID string
	// Err is the problem; it wraps one of the sentinels above.
	Err error
}

// Error names the source, the feature and its ID, and the problem.
func (e *FenceError) Error() string {
	id := ""
	if e.ID != "" {
		id = fmt.Sprintf(" %q", e.ID)
	}
	return fmt.Sprintf("geofence: %s: feature %d%s: %v", e.Source, e.Index, id, e.Err)
}

// Unwrap returns ErrInvalid and the problem, so that both errors.Is(err,
// ErrInvalid) and errors.Is(err, ErrSelfIntersection) (say) hold.
func (e *FenceError) Unwrap() []error { return []error{ErrInvalid, e.Err} }
