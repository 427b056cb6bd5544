package geofence

import (
	"fmt"
	"math"
)

// A circle is a KindCircle fence: the points within radiusM metres of the
// centre along a great circle (haversine), its rim included.
type circle struct {
	center  point
	radiusM float64
	box     rect
}

// boxMarginDeg widens computed boxes by about 0.1 mm so that rounding can
// never leave a point that the exact test accepts outside its box.
const boxMarginDeg = 1e-9

// newCircle checks the radius and computes the box of the spherical cap.
func newCircle(c point, radiusM float64) (*circle, error) {
	if !(radiusM > 0) || math.IsInf(radiusM, 0) {
		return nil, fmt.Errorf("%w: radius %v m, want a positive number of metres", ErrRadius, radiusM)
	}
	// The cap spans d radians of latitude either way, and at most
	// asin(sin d / cos φ) of longitude (at the latitude where its rim is
	// tangent to a meridian).
	d := radiusM / earthRadiusM
	dLat := d * radToDeg
	if math.Abs(c.y)+dLat >= 90 {
		return nil, fmt.Errorf("%w: circle of %v m around (%v, %v) reaches a pole", ErrAntimeridian, radiusM, c.x, c.y)
	}
	dLon := math.Asin(min(math.Sin(d)/math.Cos(c.y*degToRad), 1)) * radToDeg
	if c.x-dLon < -180 || c.x+dLon > 180 {
		return nil, fmt.Errorf("%w: circle of %v m around (%v, %v) crosses ±180° longitude", ErrAntimeridian, radiusM, c.x, c.y)
	}
	m := boxMarginDeg
	return &circle{
		center:  c,
		radiusM: radiusM,
		box:     rect{c.x - dLon - m, c.y - dLat - m, c.x + dLon + m, c.y + dLat + m},
	}, nil
}

func (c *circle) contains(lat, lon float64) bool {
	return c.box.containsPoint(lon, lat) && DistanceM(c.center.y, c.center.x, lat, lon) <= c.radiusM
}

// distanceM is the great-circle distance to the rim, 0 inside.
func (c *circle) distanceM(lat, lon float64) float64 {
	return max(DistanceM(c.center.y, c.center.x, lat, lon)-c.radiusM, 0)
}

func (c *circle) bounds() (minLon, minLat, maxLon, maxLat float64) {
	return c.box.minX, c.box.minY, c.box.maxX, c.box.maxY
}
