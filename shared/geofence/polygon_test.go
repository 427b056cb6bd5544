package geofence

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// realFences loads every real fence file that loads, in a fixed order.
func realFences(tb testing.TB) []*Fence {
	tb.Helper()
	var all []*Fence
	for _, name := range slices.Sorted(maps.Keys(realFiles)) {
		if !strings.Contains(name, "lowemissionzone_lez_2008") {
			all = append(all, loadReal(tb, name)...)
		}
	}
	return all
}

// TestContainsRealPoints looks up landmarks in all real fences at once.
// The coordinates are the landmarks' published positions (rounded to
// about 10 m), each far from any boundary; the fences they should be in
// follow from the README's descriptions (the Munich LEZ is the area inside
// the Mittlerer Ring, the Regensburg Landkreis has the city as a hole,
// Vaud has a hole for the Geneva exclave of Céligny) and from the
// districts' names.
func TestContainsRealPoints(t *testing.T) {
	ix := NewIndex(realFences(t))
	tests := []struct {
		place    string
		lat, lon float64
		want     string // names, sorted and joined
	}{
		{"Marienplatz, Munich", 48.1374, 11.5755, "Altstadt-Lehel, München"},
		{"Allianz Arena, north of the Mittlerer Ring", 48.2188, 11.6247, "Schwabing-Freimann"},
		{"Trafalgar Square", 51.5080, -0.1281, "CSS Area 1"},
		{"Canary Wharf, east of the zone", 51.5054, -0.0235, ""},
		{"Cologne cathedral", 50.9413, 6.9583, "5, Innenstadt"}, // Cologne LEZ feature 5
		{"Regensburg cathedral: the city, a hole of the Landkreis", 49.0195, 12.0977, "Kreisfreie Stadt"},
		{"Donaustauf, Landkreis Regensburg", 49.0333, 12.2083, "Landkreis"},
		// Found by sampling the bounding box of Vaud's hole 2 (22 points,
		// 6.1668…6.1844, 46.3406…46.3513) for the point farthest from its
		// vertices that the hole ring alone contains.
		{"Céligny, an exclave of Geneva: a hole in Vaud", 46.3480, 6.1800, ""},
		{"Coppet, Vaud", 46.3167, 6.1917, "Vaud"},
		{"Bundeshaus, Bern", 46.9466, 7.4440, "Bern"},
		{"Sion", 46.2331, 7.3606, "Valais"},
	}
	for _, tt := range tests {
		got := names(ix.Lookup(tt.lat, tt.lon, nil))
		if got != tt.want {
			t.Errorf("%s (%v, %v): in [%s], want [%s]", tt.place, tt.lat, tt.lon, got, tt.want)
		}
	}

	// The point is in the hole, not merely outside Vaud's outer ring:
	// inside the box, and about 48 m from the hole's nearest edge.
	vaud := byID(t, loadReal(t, "switzerland/swiss_cantons_route.geojson"), "16")
	if d := vaud.DistanceM(46.3480, 6.1800); d < 40 || d > 60 {
		t.Errorf("Céligny is %.0f m from Vaud, want about 48", d)
	}
	if !vaud.geom.(*polygon).box.containsPoint(6.1800, 46.3480) {
		t.Error("Céligny is outside Vaud's box")
	}
}

// TestCologneDistricts checks that one landmark in each of Cologne's nine
// districts is in exactly that district. The points are the districts'
// town halls or centres (published coordinates), away from the borders.
func TestCologneDistricts(t *testing.T) {
	ix := NewIndex(loadReal(t, "cologne/stadtbezirke.geojson"))
	points := map[string][2]float64{
		"Innenstadt":   {50.9413, 6.9583}, // cathedral
		"Rodenkirchen": {50.8930, 6.9950},
		"Lindenthal":   {50.9283, 6.9286}, // university
		"Ehrenfeld":    {50.9517, 6.9183},
		"Nippes":       {50.9660, 6.9530},
		"Chorweiler":   {51.0270, 6.8960},
		"Porz":         {50.8806, 7.0546},
		"Kalk":         {50.9378, 7.0125},
		"Mülheim":      {50.9650, 7.0050},
	}
	for district, p := range points {
		got := ix.Lookup(p[0], p[1], nil)
		if len(got) != 1 || got[0].Name != district {
			t.Errorf("%s (%v): in [%s], want exactly [%s]", district, p, names(got), district)
		}
	}
}

// TestPolygonRules checks the boundary rules on hand-made shapes: a ray
// through a vertex counts once, horizontal edges are skipped, and points
// on an edge or vertex (of the outer ring or a hole) are inside.
func TestPolygonRules(t *testing.T) {
	// A diamond around (2, 2): rays at y = 2 run through its vertices.
	diamond := newPolygon([][][]point{{{{2, 0}, {4, 2}, {2, 4}, {0, 2}, {2, 0}}}})
	// A step: horizontal edges at y = 2 and y = 4.
	step := newPolygon([][][]point{{{{0, 0}, {4, 0}, {4, 2}, {2, 2}, {2, 4}, {0, 4}, {0, 0}}}})
	// A 10×10 square with a 2×2 hole at (4…6, 4…6).
	holed := newPolygon([][][]point{{
		{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}},
		{{4, 4}, {4, 6}, {6, 6}, {6, 4}, {4, 4}},
	}})
	tests := []struct {
		name string
		pg   *polygon
		x, y float64
		want bool
	}{
		{"diamond: inside, ray through the east vertex", diamond, 1, 2, true},
		{"diamond: outside west, ray through two vertices", diamond, -1, 2, false},
		{"diamond: outside east", diamond, 5, 2, false},
		{"diamond: on the east vertex", diamond, 4, 2, true},
		{"diamond: on the south vertex", diamond, 2, 0, true},
		{"diamond: on an edge", diamond, 3, 1, true},
		{"diamond: just outside an edge", diamond, 3.0001, 1, false},
		{"diamond: ray through the north vertex's latitude", diamond, 2, 4, true},
		{"diamond: west of the north vertex", diamond, 1.9999, 4, false},
		{"step: inside, ray along a horizontal edge", step, 1, 2, true},
		{"step: on the horizontal edge", step, 3, 2, true},
		{"step: on the horizontal edge's end", step, 2, 2, true},
		{"step: outside the notch", step, 3, 2.5, false},
		{"step: outside east on the edge's latitude", step, 5, 2, false},
		{"step: inside, top edge's latitude", step, 1, 4, true},
		{"step: outside, top edge's latitude", step, 3, 4, false},
		{"step: inside below the notch", step, 3, 1.5, true},
		{"holed: in the ring", holed, 2, 5, true},
		{"holed: in the hole", holed, 5, 5, false},
		{"holed: on the hole's edge", holed, 4, 5, true},
		{"holed: on the hole's corner", holed, 6, 6, true},
		{"holed: east of the hole", holed, 8, 5, true},
		{"holed: outside", holed, 11, 5, false},
	}
	for _, tt := range tests {
		if got := tt.pg.contains(tt.y, tt.x); got != tt.want {
			t.Errorf("%s (%v, %v): %v, want %v", tt.name, tt.x, tt.y, got, tt.want)
		}
	}
}

// TestPolygonMatchesReference compares the banded test with the textbook
// one on random points in the box of every real polygon (points exactly
// on an edge have probability zero).
func TestPolygonMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, f := range realFences(t) {
		box := f.geom.(*polygon).box
		in := 0
		for range 5000 {
			lon := box.minX + rng.Float64()*(box.maxX-box.minX)
			lat := box.minY + rng.Float64()*(box.maxY-box.minY)
			got, want := f.Contains(lat, lon), refContains(f, lat, lon)
			if got != want {
				t.Fatalf("%s at (%v, %v): %v, reference says %v", f.ID, lat, lon, got, want)
			}
			if got {
				in++
			}
		}
		if in == 0 {
			t.Errorf("%s: no random point inside", f.ID)
		}
	}
}

// TestPolygonBandsBounded checks that a ring of long zigzag edges, where
// one band per edge would need n² list entries, stays within the cap and
// still answers right.
func TestPolygonBandsBounded(t *testing.T) {
	const teeth = 2000
	ring := []point{{0, 0}}
	for i := range teeth {
		x := float64(i) * 0.001
		ring = append(ring, point{x, 1}, point{x + 0.0005, 0.01})
	}
	ring = append(ring, point{float64(teeth) * 0.001, 0}, point{0, 0})
	pg := newPolygon([][][]point{{ring}})
	pp := &pg.parts[0]
	edges := len(pp.pts) - 1
	if len(pp.bandEdges) > 9*edges {
		t.Errorf("%d band entries for %d edges", len(pp.bandEdges), edges)
	}
	f := &Fence{ID: "comb", geom: pg}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		lon, lat := rng.Float64()*2, rng.Float64()
		if got, want := f.Contains(lat, lon), refContains(f, lat, lon); got != want {
			t.Fatalf("(%v, %v): %v, reference says %v", lat, lon, got, want)
		}
	}
}

func TestPolygonDistance(t *testing.T) {
	// A square of 0.01° at the equator: 1,111.95 m a side.
	sq := &Fence{geom: newPolygon([][][]point{{{{0, 0}, {0.01, 0}, {0.01, 0.01}, {0, 0.01}, {0, 0}}}})}
	tests := []struct {
		lat, lon, want float64
	}{
		{0.005, 0.005, 0},                       // inside
		{0.015, 0.005, 0.005 * metresPerDegree}, // 555.98 m north of the top edge
		{0.005, -0.002, 0.002 * metresPerDegree},
		// 0.003° east and north of the corner (0.01, 0.01): hypotenuse
		// 0.003·√2° = 471.75 m (cos 0.013° = 1 to 3·10⁻⁸).
		{0.013, 0.013, 0.003 * math.Sqrt2 * metresPerDegree},
	}
	for _, tt := range tests {
		if got := sq.DistanceM(tt.lat, tt.lon); math.Abs(got-tt.want) > 0.01 {
			t.Errorf("DistanceM(%v, %v) = %.3f, want %.3f", tt.lat, tt.lon, got, tt.want)
		}
	}
	// The Munich LEZ: Marienplatz is inside. The Allianz Arena is north
	// of the zone's box (max latitude 48.17786), so at least that far
	// away, and no farther than the zone's first vertex (11.592636,
	// 48.175472): between about 4,552 m and 5,375 m.
	lez := byID(t, loadReal(t, "munich/umweltzone_muenchen.geojson"), "lez_munich")
	if d := lez.DistanceM(48.1374, 11.5755); d != 0 {
		t.Errorf("Marienplatz: %v m from the LEZ, want 0", d)
	}
	lo := (48.2188 - lez.geom.(*polygon).box.maxY) * metresPerDegree
	hi := DistanceM(48.2188, 11.6247, 48.175472, 11.592636)
	if d := lez.DistanceM(48.2188, 11.6247); d < lo || d > hi {
		t.Errorf("Allianz Arena: %.0f m from the LEZ, want %.0f…%.0f m", d, lo, hi)
	}
}

// TestGridsAgree checks that the grids never change an answer of the
// exact test: on random points in every real part's box, and on points
// within a few centimetres to a metre of its vertices and edges, where
// the cells are marked and a mistake in the marking would show.
func TestGridsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, f := range realFences(t) {
		for i := range f.geom.(*polygon).parts {
			pp := &f.geom.(*polygon).parts[i]
			if pp.coarse.scaleX == 0 {
				t.Errorf("%s part %d has no coarse grid", f.ID, i)
			}
			if pp.grid.cols*pp.grid.rows > coarseSide*coarseSide && pp.grid.cells == nil {
				t.Errorf("%s part %d (%d points) has no fine grid", f.ID, i, len(pp.pts))
			}
			check := func(x, y float64) {
				if !pp.box.containsPoint(x, y) {
					return
				}
				if got, want := pp.contains(x, y), pp.rayCast(x, y); got != want {
					t.Fatalf("%s part %d at (%v, %v): %v with the grids, %v without", f.ID, i, x, y, got, want)
				}
			}
			for range 2000 {
				check(pp.box.minX+rng.Float64()*(pp.box.maxX-pp.box.minX), pp.box.minY+rng.Float64()*(pp.box.maxY-pp.box.minY))
			}
			for range 2000 {
				j := rng.IntN(len(pp.pts) - 1)
				a, b := pp.pts[j], pp.pts[j+1]
				t := rng.Float64()
				d := math.Pow(10, -7-2*rng.Float64()) // 1 cm … 1 m in degrees
				check(a.x+t*(b.x-a.x)+d*rng.NormFloat64(), a.y+t*(b.y-a.y)+d*rng.NormFloat64())
			}
		}
	}
}
