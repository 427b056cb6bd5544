package geofence

import (
	"cmp"
	"math"
	"slices"

	"github.com/tidwall/rtree"
)

// An Index answers which fences contain a point: a grid over the fences
// (cells.go) lists for the point's cell the fences that hold it whole and
// the candidates, whose exact test decides; where the grid would be too
// coarse, an R-tree of the fences' bounding boxes finds the candidates.
//
// An Index is immutable and safe for concurrent lookups. To change the
// fences, build a new Index and swap it in (the agent keeps it in an
// atomic.Pointer); lookups running on the old one finish undisturbed.
type Index struct {
	// tree holds the boxes in float32, rounded outwards, so that they
	// still hold their fences and twice as many fit a cache line, and
	// with each fence its geometry, which saves a cache miss on the
	// Fence per candidate.
	tree   rtree.RTreeGN[float32, entry]
	fences []*Fence

	// grid answers the lookups in its cells but those marked
	// cellFallback, which search tree; its items index entries (the
	// fences in the tree's insertion order). big holds the fences the
	// grid leaves out, searched after it.
	grid    indexGrid
	entries []entry
	big     rtree.RTreeGN[float32, entry]
}

// An entry is an item of the trees and the grid.
type entry struct {
	geom  geometry
	fence *Fence
}

// NewIndex indexes fences. Nil fences and fences without a geometry (not
// made by Load) are left out. The Index keeps the Fence pointers, which
// must not be changed afterwards.
func NewIndex(fences []*Fence) *Index {
	type item struct {
		entry
		box     rect
		hilbert uint64
	}
	ix := &Index{fences: make([]*Fence, 0, len(fences))}
	items := make([]item, 0, len(fences))
	all := emptyRect()
	for _, f := range fences {
		if f == nil || f.geom == nil {
			continue
		}
		minX, minY, maxX, maxY := f.geom.bounds()
		box := rect{minX, minY, maxX, maxY}
		ix.fences = append(ix.fences, f)
		items = append(items, item{entry: entry{f.geom, f}, box: box})
		all.union(box)
	}
	// Inserting in the order of the boxes' centres along a Hilbert curve
	// gives the tree compact nodes that overlap little: the search ran
	// about 20 % faster in the benchmark than in input order.
	for i := range items {
		b := &items[i].box
		items[i].hilbert = hilbert(&all, (b.minX+b.maxX)/2, (b.minY+b.maxY)/2)
	}
	slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(a.hilbert, b.hilbert) })
	ix.entries = make([]entry, len(items))
	boxes := make([]rect, len(items))
	for i, it := range items {
		insert(&ix.tree, it.box, it.entry)
		ix.entries[i], boxes[i] = it.entry, it.box
	}
	for _, i := range ix.grid.build(ix.entries, boxes) {
		insert(&ix.big, boxes[i], ix.entries[i])
	}
	return ix
}

// insert adds e to tr under box b, rounded outwards to float32.
func insert(tr *rtree.RTreeGN[float32, entry], b rect, e entry) {
	tr.Insert([2]float32{down32(b.minX), down32(b.minY)}, [2]float32{up32(b.maxX), up32(b.maxY)}, e)
}

// Lookup appends to dst the fences that contain the point, in no
// particular order, and returns the extended slice. It does not allocate
// when dst has room for the result. A NaN coordinate matches nothing.
func (ix *Index) Lookup(lat, lon float64, dst []*Fence) []*Fence {
	if math.IsNaN(lat) || math.IsNaN(lon) {
		return dst
	}
	g := &ix.grid
	if g.start == nil {
		return search(&ix.tree, lat, lon, dst)
	}
	if !g.box.containsPoint(lon, lat) {
		return dst // outside every fence's box
	}
	list, shift := g.list(lon, lat)
	if len(list) == 1 && list[0] == cellFallback {
		return search(&ix.tree, lat, lon, dst)
	}
	for _, it := range list {
		switch uint8(it>>shift) & 3 {
		case cellIn:
			dst = append(dst, ix.entries[it>>32].fence)
		case cellEdge:
			if e := &ix.entries[it>>32]; e.geom.contains(lat, lon) {
				dst = append(dst, e.fence)
			}
		}
	}
	if ix.big.Len() > 0 {
		dst = search(&ix.big, lat, lon, dst)
	}
	return dst
}

// search appends to dst the fences of tr that contain the point.
func search(tr *rtree.RTreeGN[float32, entry], lat, lon float64, dst []*Fence) []*Fence {
	// Rounding to nearest keeps a point inside any box rounded outwards
	// that held it.
	p := [2]float32{float32(lon), float32(lat)}
	tr.Search(p, p, func(_, _ [2]float32, e entry) bool {
		if e.geom.contains(lat, lon) {
			dst = append(dst, e.fence)
		}
		return true
	})
	return dst
}

// Len is the number of fences indexed.
func (ix *Index) Len() int { return len(ix.fences) }

// Fences returns the fences indexed, in the order given to NewIndex, as a
// new slice.
func (ix *Index) Fences() []*Fence { return slices.Clone(ix.fences) }

// down32 and up32 round to a float32 no greater, and no less, than v.
func down32(v float64) float32 {
	f := float32(v)
	if float64(f) > v {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}

func up32(v float64) float32 {
	f := float32(v)
	if float64(f) < v {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}

// hilbert is the position of (x, y) along a Hilbert curve over box, on a
// 2¹⁶ × 2¹⁶ grid.
func hilbert(box *rect, x, y float64) uint64 {
	const side = 1 << 16
	scale := func(v, lo, hi float64) uint32 {
		if !(hi > lo) {
			return 0
		}
		return uint32(min(max((v-lo)/(hi-lo)*side, 0), side-1))
	}
	hx, hy := scale(x, box.minX, box.maxX), scale(y, box.minY, box.maxY)
	var d uint64
	for s := uint32(side / 2); s > 0; s /= 2 {
		var rx, ry uint32
		if hx&s != 0 {
			rx = 1
		}
		if hy&s != 0 {
			ry = 1
		}
		d += uint64(s) * uint64(s) * uint64((3*rx)^ry)
		if ry == 0 { // rotate the quadrant
			if rx == 1 {
				hx, hy = s-1-hx, s-1-hy
			}
			hx, hy = hy, hx
		}
	}
	return d
}
