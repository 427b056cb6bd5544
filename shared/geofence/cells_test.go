package geofence

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// gridIndexes are indexes over the real fences whose grids have cells of
// very different sizes relative to the fences: each file alone (the
// cells a few hundred metres to kilometres), each polygon alone (a grid
// of about 16 cells over the fence) and everything together with the
// circles and the corridor (cells of tens of kilometres).
func gridIndexes(tb testing.TB) map[string][]*Fence {
	tb.Helper()
	sets := map[string][]*Fence{"all": mixedFences(tb)}
	for _, name := range slices.Sorted(maps.Keys(realFiles)) {
		if strings.Contains(name, "lowemissionzone_lez_2008") {
			continue // does not load: see TestLoadLondonLEZDefect
		}
		fences := loadReal(tb, name)
		sets[name] = fences
		if len(fences) > 1 {
			for _, f := range fences {
				sets[name+"/"+f.ID] = []*Fence{f}
			}
		}
	}
	return sets
}

// nearBoundary returns a point on, or within about 1 cm to 1 m of, a
// random vertex or edge of a random polygon of fences (a random point in
// a random fence's box if none is a polygon).
func nearBoundary(rng *rand.Rand, fences []*Fence) (lat, lon float64) {
	f := fences[rng.IntN(len(fences))]
	pg, ok := f.geom.(*polygon)
	if !ok {
		minX, minY, maxX, maxY := f.geom.bounds()
		return minY + rng.Float64()*(maxY-minY), minX + rng.Float64()*(maxX-minX)
	}
	pp := &pg.parts[rng.IntN(len(pg.parts))]
	j := rng.IntN(len(pp.pts) - 1)
	a, b := pp.pts[j], pp.pts[j+1]
	switch rng.IntN(4) {
	case 0: // exactly on a vertex
		return a.y, a.x
	case 1: // on the edge, up to rounding
		t := rng.Float64()
		return a.y + t*(b.y-a.y), a.x + t*(b.x-a.x)
	default:
		t := rng.Float64()
		d := math.Pow(10, -7-2*rng.Float64()) // 1 cm … 1 m in degrees
		return a.y + t*(b.y-a.y) + d*rng.NormFloat64(), a.x + t*(b.x-a.x) + d*rng.NormFloat64()
	}
}

// TestIndexGridMatchesLinearScan checks the grid path of Lookup against
// each fence's own test, on random points and on points on and near the
// real boundaries, where the subcells are marked and a wrong mark would
// show; and, away from the boundaries, against the textbook test.
func TestIndexGridMatchesLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	sets := gridIndexes(t)
	for _, name := range slices.Sorted(maps.Keys(sets)) {
		fences := sets[name]
		ix := NewIndex(fences)
		if ix.grid.start == nil {
			t.Fatalf("%s: no grid", name)
		}
		n := 20000
		if len(fences) == 1 {
			n = 2000
		}
		var dst []*Fence
		hits := 0
		for i := range n {
			var lat, lon float64
			random := i%2 == 0
			if random {
				b := ix.grid.box
				lon = b.minX - 0.001 + rng.Float64()*(b.maxX-b.minX+0.002)
				lat = b.minY - 0.001 + rng.Float64()*(b.maxY-b.minY+0.002)
			} else {
				lat, lon = nearBoundary(rng, fences)
			}
			dst = ix.Lookup(lat, lon, dst[:0])
			want := linearLookup(fences, lat, lon)
			if !slices.Equal(ids(dst), ids(want)) {
				t.Fatalf("%s (%v, %v): Lookup %v, linear scan %v", name, lat, lon, ids(dst), ids(want))
			}
			hits += len(dst)
			if !random {
				continue
			}
			for _, f := range fences {
				if _, ok := f.geom.(*polygon); ok && slices.Contains(dst, f) != refContains(f, lat, lon) {
					t.Fatalf("%s (%v, %v): Lookup says %s %v, the reference test %v", name, lat, lon, f.ID, slices.Contains(dst, f), !slices.Contains(dst, f))
				}
			}
		}
		if hits == 0 {
			t.Errorf("%s: no hits", name)
		}
	}
}

// TestIndexGridStates checks the subcell states directly: every subcell
// marked wholly inside or outside a fence agrees with the fence's own test
// at random points in it and at its corners, nudged inwards by a hair.
func TestIndexGridStates(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	sets := gridIndexes(t)
	for _, name := range []string{"all", "munich/stadtbezirke_muenchen.geojson", "switzerland/swiss_cantons_route.geojson", "regensburg/vg250_kreise_regensburg.geojson"} {
		ix := NewIndex(sets[name])
		g := &ix.grid
		classified := [4]int{}
		for k := range g.cols * g.rows {
			c0, r0 := k%g.cols*subSide, k/g.cols*subSide
			for _, it := range g.items[g.start[k]:g.start[k+1]] {
				if it == cellFallback {
					continue
				}
				e := &ix.entries[it>>32]
				for s := range subSide * subSide {
					state := uint8(it>>(2*s)) & 3
					classified[state]++
					if state == cellEdge {
						continue
					}
					c, r := c0+s%subSide, r0+s/subSide
					x0, y0 := g.box.minX+float64(c)/g.scaleX, g.box.minY+float64(r)/g.scaleY
					x1, y1 := g.box.minX+float64(c+1)/g.scaleX, g.box.minY+float64(r+1)/g.scaleY
					eps := 1e-12
					pts := []point{{x0 + eps, y0 + eps}, {x1 - eps, y0 + eps}, {x0 + eps, y1 - eps}, {x1 - eps, y1 - eps}}
					for range 4 {
						pts = append(pts, point{x0 + rng.Float64()*(x1-x0), y0 + rng.Float64()*(y1-y0)})
					}
					for _, p := range pts {
						if cc, rr := g.subcell(p.x, p.y); cc != c || rr != r {
							continue // rounding put it in a neighbour
						}
						if got := e.geom.contains(p.y, p.x); got != (state == cellIn) {
							t.Fatalf("%s: %s at (%v, %v) in subcell (%d, %d): contains %v, grid state %d", name, e.fence.ID, p.y, p.x, c, r, got, state)
						}
					}
				}
			}
		}
		if classified[cellIn] == 0 || classified[cellEdge] == 0 {
			t.Errorf("%s: subcell states %v", name, classified)
		}
	}
}

// TestIndexGridFallbacks covers the fences the grid leaves to the
// R-trees: a cell packed with more than maxCellList small fences (far
// smaller than the average, since a few large fences stretch the grid)
// and fences spanning more than maxFenceCells cells.
func TestIndexGridFallbacks(t *testing.T) {
	var fences []*Fence
	add := func(kind Kind, g geometry) {
		fences = append(fences, &Fence{ID: fmt.Sprintf("f%d", len(fences)), Kind: kind, geom: g})
	}
	// 60 depots of 100 to 700 m in the centre of Munich.
	for i := range 60 {
		c, err := newCircle(point{11.57 + float64(i%10)*0.001, 48.13 + float64(i/10)*0.001}, 100+float64(i)*10)
		if err != nil {
			t.Fatal(err)
		}
		add(KindCircle, c)
	}
	// 2,000 more of 1 km scattered over Europe, so that there are cells
	// of about 1°, and two squares of 40° and 50° around them spanning
	// more than maxFenceCells cells, and a small one far away.
	rng := rand.New(rand.NewPCG(25, 26))
	for range 2000 {
		c, err := newCircle(point{-10 + rng.Float64()*40, 36 + rng.Float64()*20}, 1000)
		if err != nil {
			t.Fatal(err)
		}
		add(KindCircle, c)
	}
	square := func(x, y, d float64) geometry {
		return newPolygon([][][]point{{{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}}})
	}
	add(KindPolygon, square(-20, 10, 50))
	add(KindPolygon, square(-15, 15, 40))
	add(KindPolygon, square(-60, -40, 0.5))
	// The real Munich fences, a diagonal corridor and a MultiPolygon
	// split at the antimeridian, which spans all longitudes.
	fences = append(fences, loadReal(t, "munich/stadtbezirke_muenchen.geojson")...)
	route, err := newCorridor([]point{{-50, -30}, {0, 10}, {11.6, 48.1}}, 2000)
	if err != nil {
		t.Fatal(err)
	}
	add(KindCorridor, route)
	add(KindPolygon, newPolygon([][][]point{
		{{{179, -17}, {180, -17}, {180, -16}, {179, -16}, {179, -17}}},
		{{{-180, -17}, {-179, -17}, {-179, -16}, {-180, -16}, {-180, -17}}},
	}))

	ix := NewIndex(fences)
	g := &ix.grid
	fallback := 0
	for k := range g.cols * g.rows {
		if list := g.items[g.start[k]:g.start[k+1]]; len(list) == 1 && list[0] == cellFallback {
			fallback++
		}
	}
	if fallback == 0 || ix.big.Len() < 2 {
		t.Fatalf("%d fallback cells, %d big fences: the test misses the R-tree paths", fallback, ix.big.Len())
	}
	var dst []*Fence
	hits := 0
	for i := range 40000 {
		var lat, lon float64
		switch i % 4 {
		case 0: // anywhere
			lon, lat = -180+rng.Float64()*360, -60+rng.Float64()*120
		case 1: // around the depots
			lon, lat = 11.56+rng.Float64()*0.03, 48.12+rng.Float64()*0.03
		case 2:
			minX, minY, maxX, maxY := fences[rng.IntN(len(fences))].geom.bounds()
			lon = minX + rng.Float64()*(maxX-minX)
			lat = minY + rng.Float64()*(maxY-minY)
		default:
			lat, lon = nearBoundary(rng, fences)
		}
		dst = ix.Lookup(lat, lon, dst[:0])
		want := linearLookup(fences, lat, lon)
		if !slices.Equal(ids(dst), ids(want)) {
			t.Fatalf("(%v, %v): Lookup %v, linear scan %v", lat, lon, ids(dst), ids(want))
		}
		hits += len(dst)
	}
	if hits < 10000 {
		t.Errorf("only %d hits", hits)
	}
}
