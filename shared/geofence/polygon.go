package geofence

import "math"

// A polygon is a KindPolygon fence: the parts of a MultiPolygon, or the
// one part of a Polygon. A point is inside when it is inside any part.
type polygon struct {
	box   rect
	parts []polyPart
	one   [1]polyPart // parts of a Polygon: one allocation, one cache miss less
}

// A polyPart is one GeoJSON polygon: an outer ring and its holes.
//
// Point-in-polygon is even-odd ray casting over all rings of the part (so
// a hole needs no special case and ring orientation does not matter),
// with a ray running east along the point's latitude. An edge counts as
// crossed when its end points lie on opposite sides of that latitude under
// the half-open rule (one strictly above, the other not), so a ray through
// a vertex counts it once and horizontal edges never count. A point on an
// edge or vertex, of the outer ring or of a hole, is inside: fences are
// closed sets, and a point on a border shared by two fences is in both.
//
// Two structures keep lookups fast. Only the edges that can cross the ray
// are looked at: the part's latitude range is cut into bands of equal
// height, and each band lists the edges whose latitude range overlaps it.
// With about one band per edge a lookup tests a handful of edges even in a
// 20,000-point polygon. And most lookups test no edge at all: grids over
// the box record for each cell that no edge touches whether it is inside
// or outside (see grid.go).
type polyPart struct {
	box    rect
	coarse coarseGrid // next to box: most lookups need nothing else
	grid   cellGrid

	// pts holds the rings one after another, each closed (its first point
	// repeated at its end) and without consecutive duplicates. Edge i runs
	// from pts[i] to pts[i+1]; ringEnd[r] is one past ring r's last point.
	pts     []point
	ringEnd []int32

	// bandScale is the number of bands per degree of latitude; band b
	// lists the edges bandEdges[bandStart[b]:bandStart[b+1]].
	bandScale float64
	bandStart []int32
	bandEdges []int32
}

// newPolygon builds a polygon from validated parts, each a list of rings
// (outer first), each closed and free of consecutive duplicate points.
func newPolygon(parts [][][]point) *polygon {
	pg := &polygon{box: emptyRect()}
	pg.parts = pg.one[:]
	if len(parts) != 1 {
		pg.parts = make([]polyPart, len(parts))
	}
	for i, rings := range parts {
		pg.parts[i].init(rings)
		pg.box.union(pg.parts[i].box)
	}
	return pg
}

func (pp *polyPart) init(rings [][]point) {
	pp.box = emptyRect()
	n := 0
	for _, r := range rings {
		n += len(r)
	}
	pp.pts = make([]point, 0, n)
	pp.ringEnd = make([]int32, 0, len(rings))
	for _, r := range rings {
		for _, p := range r {
			pp.box.extend(p)
		}
		pp.pts = append(pp.pts, r...)
		pp.ringEnd = append(pp.ringEnd, int32(len(pp.pts)))
	}
	pp.buildBands()
	pp.buildGrids()
}

// buildBands fills the edge bands: one band per edge (a band then lists 4
// edges on average on the real fences), but no more than keeps the lists
// at about 9 entries per edge in all, so that a ring of long zigzag edges
// cannot make them quadratic.
func (pp *polyPart) buildBands() {
	edges := len(pp.pts) - len(pp.ringEnd)
	h := pp.box.maxY - pp.box.minY
	span := 0.0 // the edges' latitude ranges added up
	pp.eachEdge(func(_ int32, a, b point) { span += math.Abs(b.y - a.y) })
	bands := edges
	if span > 0 {
		// Σ(2 + span_e·bands/h) ≤ 9·edges
		bands = min(bands, int(7*float64(edges)*h/span))
	}
	bands = max(1, bands)
	pp.bandScale = float64(bands) / h
	if h <= 0 || pp.bandScale > math.MaxFloat64 { // a flat or subnormally thin part
		bands, pp.bandScale = 1, 0
	}

	// Count, then place: a compressed sparse row layout, one allocation
	// for all lists.
	pp.bandStart = make([]int32, bands+1)
	pp.eachEdge(func(_ int32, a, b point) {
		for i := pp.band(min(a.y, b.y)); i <= pp.band(max(a.y, b.y)); i++ {
			pp.bandStart[i+1]++
		}
	})
	for i := 1; i <= bands; i++ {
		pp.bandStart[i] += pp.bandStart[i-1]
	}
	pp.bandEdges = make([]int32, pp.bandStart[bands])
	next := make([]int32, bands)
	copy(next, pp.bandStart[:bands])
	pp.eachEdge(func(e int32, a, b point) {
		for i := pp.band(min(a.y, b.y)); i <= pp.band(max(a.y, b.y)); i++ {
			pp.bandEdges[next[i]] = e
			next[i]++
		}
	})
}

// eachEdge calls fn with every edge of every ring: its index (that of
// its first point in pts) and its end points.
func (pp *polyPart) eachEdge(fn func(i int32, a, b point)) {
	start := int32(0)
	for _, end := range pp.ringEnd {
		for i := start; i < end-1; i++ {
			fn(i, pp.pts[i], pp.pts[i+1])
		}
		start = end
	}
}

// band is the band of latitude y, which must lie in the part's box. The
// mapping is monotonic, so an edge whose latitude range holds y is listed
// in band(y).
func (pp *polyPart) band(y float64) int {
	b := int((y - pp.box.minY) * pp.bandScale)
	return min(max(b, 0), len(pp.bandStart)-2)
}

// contains reports whether the point x = longitude, y = latitude is in
// the part: from the grids when they know, else by ray casting.
func (pp *polyPart) contains(x, y float64) bool {
	if !pp.box.containsPoint(x, y) {
		return false
	}
	state := pp.coarse.state(&pp.box, x, y)
	if state == cellEdge {
		state = pp.grid.state(&pp.box, x, y)
	}
	switch state {
	case cellIn:
		return true
	case cellOut:
		return false
	}
	return pp.rayCast(x, y)
}

// rayCast is the exact test, for a point in the part's box.
func (pp *polyPart) rayCast(x, y float64) bool {
	b := pp.band(y)
	pts := pp.pts
	in := false
	for _, i := range pp.bandEdges[pp.bandStart[b]:pp.bandStart[b+1]] {
		a, c := pts[i], pts[i+1]
		if (a.y > y) != (c.y > y) {
			// The edge spans the ray's latitude. cross is proportional to
			// how far east of the point the edge meets that latitude.
			cross := (c.x-a.x)*(y-a.y) - (x-a.x)*(c.y-a.y)
			if cross == 0 {
				return true // on the edge
			}
			if (cross > 0) == (c.y > a.y) {
				in = !in
			}
		} else if a.y == y && (a.x == x || c.y == y && between(x, a.x, c.x)) {
			return true // on a vertex or a horizontal edge
		}
	}
	return in
}

func between(v, a, b float64) bool { return min(a, b) <= v && v <= max(a, b) }

// distance2 is the squared distance in degrees of latitude (see segDist2)
// from p to the nearest edge of the part, or best if that is nearer.
func (pp *polyPart) distance2(p point, k, best float64) float64 {
	pp.eachEdge(func(_ int32, a, b point) { best = min(best, segDist2(p, a, b, k)) })
	return best
}

func (pg *polygon) contains(lat, lon float64) bool {
	if len(pg.parts) == 1 { // its box is the part's
		return pg.parts[0].contains(lon, lat)
	}
	if !pg.box.containsPoint(lon, lat) {
		return false
	}
	for i := range pg.parts {
		if pg.parts[i].contains(lon, lat) {
			return true
		}
	}
	return false
}

// distanceM is 0 inside, else the distance to the nearest edge of any ring
// in the local projection of segDist2.
func (pg *polygon) distanceM(lat, lon float64) float64 {
	if pg.contains(lat, lon) {
		return 0
	}
	p, k := point{lon, lat}, lonScale(lat)
	best := math.Inf(1)
	for i := range pg.parts {
		best = pg.parts[i].distance2(p, k, best)
	}
	return math.Sqrt(best) * metresPerDegree
}

func (pg *polygon) bounds() (minLon, minLat, maxLon, maxLat float64) {
	return pg.box.minX, pg.box.minY, pg.box.maxX, pg.box.maxY
}
