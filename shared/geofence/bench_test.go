package geofence

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// The benchmark fixture: 10,000 polygons with real shapes, tiling a region
// of about 110 × 110 km around Munich, and random points over it.
//
// The shapes are the 55 polygon fences that load from testdata/geofences
// (Cologne and Munich LEZ and districts, the London charging zone,
// Regensburg with its hole, the Swiss cantons with their exclaves): each
// tile takes one, chosen at random, scaled uniformly (in metres, so
// shapes keep their proportions) until its box's longer side is 1.3 tiles,
// and centred on the tile. So the vertex counts and outlines are real
// (133 to 4,848 points per shape, 49,000 in all, about 900 per polygon on
// average) and, as with real districts, neighbouring boxes overlap and a
// point usually has several candidates.
const (
	benchFences = 10_000
	benchGrid   = 100     // tiles per side
	benchTile   = 0.01    // degrees of latitude per tile (1.1 km)
	benchLat    = 47.6    // south-west corner
	benchLon    = 11.0    //
	benchPoints = 1 << 20 // random lookup points, cycled
)

type benchFixture struct {
	fences   []*Fence
	boxes    []rect // the fences' boxes, contiguous, for the linear scan
	index    *Index
	points   []point
	vertices int
	bytes    uint64 // heap taken by the fences and the index
}

var (
	benchOnce sync.Once
	bench     *benchFixture
)

func getBenchFixture(tb testing.TB) *benchFixture {
	benchOnce.Do(func() { bench = newBenchFixture(tb) })
	return bench
}

func newBenchFixture(tb testing.TB) *benchFixture {
	var shapes []*polygon
	for _, f := range realFences(tb) {
		shapes = append(shapes, f.geom.(*polygon))
	}
	rng := rand.New(rand.NewPCG(11, 12))
	fx := &benchFixture{}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tileLon := benchTile / lonScale(benchLat+benchGrid*benchTile/2) // square tiles
	for i := range benchFences {
		row, col := i/benchGrid, i%benchGrid
		cy := benchLat + (float64(row)+0.5)*benchTile
		cx := benchLon + (float64(col)+0.5)*tileLon
		pg := placeShape(shapes[rng.IntN(len(shapes))], cx, cy, 1.3*benchTile)
		for _, pp := range pg.parts {
			fx.vertices += len(pp.pts)
		}
		f := &Fence{ID: "tile", Kind: KindPolygon, geom: pg}
		fx.fences = append(fx.fences, f)
		fx.boxes = append(fx.boxes, pg.box)
	}
	fx.index = NewIndex(fx.fences)
	runtime.GC()
	runtime.ReadMemStats(&after)
	fx.bytes = after.HeapAlloc - before.HeapAlloc
	fx.points = make([]point, benchPoints)
	for i := range fx.points {
		fx.points[i] = point{
			benchLon + rng.Float64()*benchGrid*tileLon,
			benchLat + rng.Float64()*benchGrid*benchTile,
		}
	}
	return fx
}

// indexNs times the Index on the first n points, in ns per lookup.
func (fx *benchFixture) indexNs(n int) float64 {
	dst := make([]*Fence, 0, 16)
	start := time.Now()
	for i := range n {
		p := fx.points[i%len(fx.points)]
		dst = fx.index.Lookup(p.y, p.x, dst[:0])
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// placeShape scales src uniformly so that its box's longer side measures
// size degrees of latitude, and centres it on (cx, cy).
func placeShape(src *polygon, cx, cy, size float64) *polygon {
	b := src.box
	sx, sy := (b.minX+b.maxX)/2, (b.minY+b.maxY)/2
	kS, kT := lonScale(sy), lonScale(cy)
	scale := size / max((b.maxX-b.minX)*kS, b.maxY-b.minY)
	parts := make([][][]point, len(src.parts))
	for i, pp := range src.parts {
		start := 0
		for _, end := range pp.ringEnd {
			ring := make([]point, 0, int(end)-start)
			for _, p := range pp.pts[start:end] {
				ring = append(ring, point{cx + (p.x-sx)*kS*scale/kT, cy + (p.y-sy)*scale})
			}
			parts[i] = append(parts[i], ring)
			start = int(end)
		}
	}
	return newPolygon(parts)
}

// BenchmarkLookup is the Index over the 10,000 polygons.
func BenchmarkLookup(b *testing.B) {
	fx := getBenchFixture(b)
	dst := make([]*Fence, 0, 16)
	n, hits := 0, 0
	for b.Loop() {
		p := fx.points[n%len(fx.points)]
		dst = fx.index.Lookup(p.y, p.x, dst[:0])
		hits += len(dst)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lookups/s")
	b.ReportMetric(float64(hits)/float64(n), "fences/lookup")
	b.Logf("%d fences, %d vertices, %.0f MB (%.0f bytes a vertex)",
		len(fx.fences), fx.vertices, float64(fx.bytes)/1e6, float64(fx.bytes)/float64(fx.vertices))
}

// BenchmarkLookupLinear is the baseline: every fence tested in turn, with
// a pre-check of the fence's box (kept in a contiguous slice, the fairest
// linear scan) and without (Contains on every fence; note that Contains
// itself starts with a box check, so this differs from the first mainly
// by the calls and pointer chasing). Each reports how many times slower
// it is than the Index, timed right after it on the same points
// (index-speedup), so that both see the same machine load.
func BenchmarkLookupLinear(b *testing.B) {
	fx := getBenchFixture(b)
	run := func(b *testing.B, lookup func(lat, lon float64, dst []*Fence) []*Fence) {
		dst := make([]*Fence, 0, 16)
		n := 0
		for b.Loop() {
			p := fx.points[n%len(fx.points)]
			dst = lookup(p.y, p.x, dst[:0])
			n++
		}
		perOp := float64(b.Elapsed().Nanoseconds()) / float64(n)
		indexNs := fx.indexNs(max(n, 200_000))
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lookups/s")
		b.ReportMetric(perOp/indexNs, "index-speedup")
		b.Logf("linear %.0f ns, index %.0f ns per lookup: the index is %.0f× faster", perOp, indexNs, perOp/indexNs)
	}
	b.Run("bbox", func(b *testing.B) {
		run(b, func(lat, lon float64, dst []*Fence) []*Fence {
			for i := range fx.boxes {
				if fx.boxes[i].containsPoint(lon, lat) && fx.fences[i].Contains(lat, lon) {
					dst = append(dst, fx.fences[i])
				}
			}
			return dst
		})
	})
	b.Run("nobbox", func(b *testing.B) {
		run(b, func(lat, lon float64, dst []*Fence) []*Fence {
			for _, f := range fx.fences {
				if f.Contains(lat, lon) {
					dst = append(dst, f)
				}
			}
			return dst
		})
	})
}

// TestBenchFixture checks that the benchmark measures what it claims: the
// Index agrees with the linear scan on the tiled polygons, the shapes are
// the real ones, and most points hit something.
func TestBenchFixture(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 10,000 polygons")
	}
	fx := getBenchFixture(t)
	if len(fx.fences) != benchFences || fx.index.Len() != benchFences {
		t.Fatalf("%d fences", len(fx.fences))
	}
	if avg := float64(fx.vertices) / benchFences; avg < 500 || avg > 1500 || math.IsNaN(avg) {
		t.Errorf("%.0f vertices per polygon", avg)
	}
	var dst []*Fence
	hits := 0
	for _, p := range fx.points[:2000] {
		dst = fx.index.Lookup(p.y, p.x, dst[:0])
		if want := linearLookup(fx.fences, p.y, p.x); len(want) != len(dst) {
			t.Fatalf("(%v, %v): index %d fences, linear %d", p.y, p.x, len(dst), len(want))
		}
		hits += min(len(dst), 1)
	}
	if hits < 1000 {
		t.Errorf("only %d of 2000 points in a fence", hits)
	}
}
