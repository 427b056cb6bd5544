package geofence

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// mixedFences is every real polygon plus circles and corridors around
// Munich, so that the index holds all three kinds.
func mixedFences(tb testing.TB) []*Fence {
	tb.Helper()
	fences := realFences(tb)
	for i := range 50 {
		c, err := newCircle(point{11.4 + float64(i)*0.006, 48.1 + float64(i%7)*0.01}, 200+float64(i)*20)
		if err != nil {
			tb.Fatal(err)
		}
		fences = append(fences, &Fence{ID: fmt.Sprintf("circle-%d", i), Kind: KindCircle, geom: c})
	}
	route, err := newCorridor([]point{{11.50, 48.10}, {11.55, 48.13}, {11.60, 48.13}, {11.65, 48.20}}, 150)
	if err != nil {
		tb.Fatal(err)
	}
	return append(fences, &Fence{ID: "route", Kind: KindCorridor, geom: route})
}

// linearLookup is the obvious answer Lookup must give.
func linearLookup(fences []*Fence, lat, lon float64) []*Fence {
	var out []*Fence
	for _, f := range fences {
		if f.Contains(lat, lon) {
			out = append(out, f)
		}
	}
	return out
}

func TestIndexMatchesLinearScan(t *testing.T) {
	fences := mixedFences(t)
	ix := NewIndex(fences)
	rng := rand.New(rand.NewPCG(7, 8))
	var dst []*Fence
	hits := 0
	for i := range 40000 {
		// Half the points near a random fence's box, half anywhere in
		// the area the fences cover.
		var lat, lon float64
		if i%2 == 0 {
			minX, minY, maxX, maxY := fences[rng.IntN(len(fences))].geom.bounds()
			lon = minX - 0.01 + rng.Float64()*(maxX-minX+0.02)
			lat = minY - 0.01 + rng.Float64()*(maxY-minY+0.02)
		} else {
			lon, lat = -1+rng.Float64()*14, 45+rng.Float64()*7
		}
		dst = ix.Lookup(lat, lon, dst[:0])
		want := linearLookup(fences, lat, lon)
		if !slices.Equal(ids(dst), ids(want)) {
			t.Fatalf("(%v, %v): Lookup %v, linear scan %v", lat, lon, ids(dst), ids(want))
		}
		hits += len(dst)
	}
	if hits < 10000 {
		t.Errorf("only %d hits: the test points miss the fences", hits)
	}
}

func TestIndexLookupDoesNotAllocate(t *testing.T) {
	ix := NewIndex(mixedFences(t))
	dst := make([]*Fence, 0, 16)
	allocs := testing.AllocsPerRun(1000, func() {
		dst = ix.Lookup(48.1374, 11.5755, dst[:0]) // Marienplatz: LEZ, district, circles
	})
	if allocs != 0 {
		t.Errorf("%v allocations per Lookup", allocs)
	}
	if len(dst) < 2 {
		t.Errorf("Marienplatz in %v", ids(dst))
	}
}

// TestIndexConcurrent runs lookups from several goroutines (run with
// -race) and checks they all agree with a sequential run.
func TestIndexConcurrent(t *testing.T) {
	ix := NewIndex(mixedFences(t))
	points := make([][2]float64, 2000)
	rng := rand.New(rand.NewPCG(9, 10))
	for i := range points {
		points[i] = [2]float64{48.05 + rng.Float64()*0.2, 11.35 + rng.Float64()*0.4}
	}
	want := make([][]string, len(points))
	for i, p := range points {
		want[i] = ids(ix.Lookup(p[0], p[1], nil))
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			var dst []*Fence
			for i, p := range points {
				dst = ix.Lookup(p[0], p[1], dst[:0])
				if got := ids(dst); !slices.Equal(got, want[i]) {
					t.Errorf("point %d: %v, want %v", i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestIndexAccessors(t *testing.T) {
	fences := loadReal(t, "munich/umweltzone_muenchen.geojson")
	// nil and fences without geometry are left out.
	ix := NewIndex(append([]*Fence{nil, {ID: "hand-made"}}, fences...))
	if ix.Len() != 1 {
		t.Fatalf("Len %d, want 1", ix.Len())
	}
	got := ix.Fences()
	if len(got) != 1 || got[0] != fences[0] {
		t.Fatalf("Fences %v", got)
	}
	got[0] = nil
	if ix.Fences()[0] == nil {
		t.Error("Fences returned the Index's own slice")
	}
	if (&Fence{}).Contains(0, 0) || !math.IsInf((&Fence{}).DistanceM(0, 0), 1) {
		t.Error("a Fence without geometry contains something")
	}
	for _, p := range [][2]float64{{math.NaN(), 11.5755}, {48.1374, math.NaN()}} {
		if got := ix.Lookup(p[0], p[1], nil); len(got) != 0 {
			t.Errorf("Lookup(%v) = %v", p, ids(got))
		}
	}
	empty := NewIndex(nil)
	if empty.Len() != 0 || len(empty.Lookup(48.1374, 11.5755, nil)) != 0 {
		t.Error("empty index")
	}
}
