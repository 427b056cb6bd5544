package geofence

import (
	"math"
	"time"
)

// Kind is a fence's geometry kind.
type Kind uint8

// Fence kinds.
const (
	// KindPolygon: a Polygon (with holes) or MultiPolygon.
	KindPolygon Kind = iota + 1
	// KindCircle: a Point with a "radius" property in metres.
	KindCircle
	// KindCorridor: a LineString with a "bufferMeters" property: a route.
	KindCorridor
)

// Fence is one validated geofence. It is immutable once loaded; an Index
// shares it between lookups and goroutines.
type Fence struct {
	ID      string
	Name    string
	Account string
	Tags    []string // e.g. depot, customer, congestion-zone, low-emission-zone, route
	Kind    Kind
	// SpeedLimitKph is the posted speed inside the fence, 0 when none.
	SpeedLimitKph float64
	// DwellAfter is how long a vehicle must stay inside before a dwell
	// event, 0 when the fence has no dwell threshold.
	DwellAfter time.Duration

	geom geometry
}

// HasTag reports whether the fence carries tag.
func (f *Fence) HasTag(tag string) bool {
	for _, t := range f.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// geometry is implemented per Kind (polygon.go, circle.go, corridor.go).
type geometry interface {
	// contains reports whether the point is inside (holes excluded).
	contains(lat, lon float64) bool
	// distanceM is the great-circle distance in metres from the point to
	// the fence: to the boundary for polygons and circles (0 inside), to
	// the centre line for corridors (inside while <= the buffer).
	distanceM(lat, lon float64) float64
	// bounds is the bounding box: min lon, min lat, max lon, max lat.
	bounds() (minLon, minLat, maxLon, maxLat float64)
}

// Contains reports whether the point is inside the fence. A Fence that was
// not made by Load has no geometry and contains nothing.
func (f *Fence) Contains(lat, lon float64) bool { return f.geom != nil && f.geom.contains(lat, lon) }

// DistanceM is the distance in metres from the point to the fence (see
// geometry.distanceM); route-deviation events report it. It is +Inf for a
// Fence without geometry.
func (f *Fence) DistanceM(lat, lon float64) float64 {
	if f.geom == nil {
		return math.Inf(1)
	}
	return f.geom.distanceM(lat, lon)
}
