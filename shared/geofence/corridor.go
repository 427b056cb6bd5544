package geofence

import (
	"fmt"
	"math"
)

// A corridor is a KindCorridor fence, a route: the points within bufferM
// metres of a polyline (its segments straight in lon/lat), measured in the
// local projection of segDist2. The ends are rounded, as in any buffer.
type corridor struct {
	line    []point // at least 2 points, no consecutive duplicates
	bufferM float64
	buf2    float64 // the buffer in degrees of latitude, squared
	box     rect    // the line's box widened by the buffer
}

// newCorridor checks the buffer and computes the box. line must hold at
// least two distinct points and span at most 180° of longitude.
func newCorridor(line []point, bufferM float64) (*corridor, error) {
	if !(bufferM > 0) || math.IsInf(bufferM, 0) {
		return nil, fmt.Errorf("%w: bufferMeters %v, want a positive number of metres", ErrRadius, bufferM)
	}
	box := emptyRect()
	for _, p := range line {
		box.extend(p)
	}
	// Widen by the buffer: in latitude by its length in degrees; in
	// longitude by that divided by the smallest cos(latitude) in the box,
	// the largest Δlon at which segDist2 can still find a point within
	// the buffer.
	dLat := degreesOf(bufferM)
	box.minY, box.maxY = box.minY-dLat, box.maxY+dLat
	if box.minY <= -90 || box.maxY >= 90 {
		return nil, fmt.Errorf("%w: corridor with a %v m buffer reaches a pole", ErrAntimeridian, bufferM)
	}
	dLon := dLat / lonScale(max(-box.minY, box.maxY))
	box.minX, box.maxX = box.minX-dLon, box.maxX+dLon
	if box.minX < -180 || box.maxX > 180 {
		return nil, fmt.Errorf("%w: corridor with a %v m buffer crosses ±180° longitude", ErrAntimeridian, bufferM)
	}
	m := boxMarginDeg
	box = rect{box.minX - m, box.minY - m, box.maxX + m, box.maxY + m}
	return &corridor{line: line, bufferM: bufferM, buf2: dLat * dLat, box: box}, nil
}

func (c *corridor) contains(lat, lon float64) bool {
	if !c.box.containsPoint(lon, lat) {
		return false
	}
	p, k := point{lon, lat}, lonScale(lat)
	for i := 1; i < len(c.line); i++ {
		if segDist2(p, c.line[i-1], c.line[i], k) <= c.buf2 {
			return true
		}
	}
	return false
}

// distanceM is the distance to the centre line; the point is inside while
// it is at most bufferM.
func (c *corridor) distanceM(lat, lon float64) float64 {
	p, k := point{lon, lat}, lonScale(lat)
	best := math.Inf(1)
	for i := 1; i < len(c.line); i++ {
		best = min(best, segDist2(p, c.line[i-1], c.line[i], k))
	}
	return math.Sqrt(best) * metresPerDegree
}

func (c *corridor) bounds() (minLon, minLat, maxLon, maxLat float64) {
	return c.box.minX, c.box.minY, c.box.maxX, c.box.maxY
}
