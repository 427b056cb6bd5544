package geofence

import "math"

// An Index answers most lookups from a uniform grid over all its fences
// (over the union of their boxes) without searching the R-tree. Each cell
// lists the fences whose box overlaps it, and for each the state of the
// cell's 4 × 4 subcells: wholly inside the fence (in the answer without a
// test), wholly outside (not), or crossed by its boundary (run the exact
// test). A polygon that leaves the whole cell outside is not listed. So a
// lookup reads one short list, which takes about as long as one cache
// miss, and usually tests no edge: in the benchmark (10,000 polygons, 16
// cells per fence) a lookup finds 0.55 fences from the subcell states and
// runs 0.34 exact tests, where the R-tree gave 1.34 candidates, each a
// test, and its search took half a lookup's time.
//
// The grid has about cellsPerFence cells per fence, square in metres at
// the middle latitude. It adapts to nothing else, so two kinds of fences
// stay in R-trees instead, and a lookup still finds them as before:
//
//   - a fence whose box spans more than maxFenceCells cells (one much
//     larger than most, or a MultiPolygon split at the antimeridian) goes
//     into a second, small R-tree searched after the cell's list;
//   - a cell that would list more than maxCellList fences (fences far
//     smaller than the average, packed into a few cells) is marked as
//     such, and a lookup there searches the R-tree of all fences instead.
//
// A polygon's subcells are classified as the cells of its own grids (see
// grid.go): every edge marks those along its course, and each other
// subcell, which then holds no point of the boundary and so lies wholly
// inside or wholly outside, takes the answer of the exact test at its
// centre. Circles and corridors are candidates in every subcell of the
// cells their box overlaps.
type indexGrid struct {
	box rect // the union of the fences' boxes
	// The cells are 4 × 4 blocks of subcells: the subcell of a point is
	// found as a cell of cellOf on a grid of 4·cols × 4·rows (so that the
	// marking argument of grid.go holds for subcells), its cell by
	// dividing by 4.
	scaleX, scaleY float64 // subcells per degree
	cols, rows     int     // cells
	// Cell k lists items[start[k]:start[k+1]]: an item is an index into
	// Index.entries in the high 32 bits and the states of the fence in
	// the cell's 16 subcells in the low 32 bits, 2 bits each, row by row
	// (cellEdge: run the exact test; cellOut; cellIn). A list of one item
	// cellFallback sends the lookup to the R-tree. start is nil when
	// there is no grid.
	start []uint32
	items []uint64
}

const (
	cellsPerFence = 16
	subSide       = 4 // subcells per cell side
	maxIndexCells = 1 << 22
	maxFenceCells = 1024
	maxCellList   = 32
	cellFallback  = math.MaxUint64
	// cellMarkBudget bounds the work of marking a polygon's edges, per
	// subcell or edge, whichever are more; beyond it all its subcells are
	// left to the exact test.
	cellMarkBudget = 4
)

// build makes the grid over boxes[i], the box of entries[i]; the entries
// left out of it (too large) are returned, by index.
func (g *indexGrid) build(entries []entry, boxes []rect) (big []int) {
	*g = indexGrid{box: emptyRect()}
	for _, b := range boxes {
		g.box.union(b)
	}
	w, h := g.box.maxX-g.box.minX, g.box.maxY-g.box.minY
	if len(boxes) == 0 || !(w > 0 && h > 0) {
		return nil
	}
	target := float64(min(cellsPerFence*len(boxes), maxIndexCells))
	wm := w * lonScale((g.box.minY+g.box.maxY)/2) // in degrees of latitude
	g.cols = min(max(int(math.Ceil(math.Sqrt(target*wm/h))), 1), maxIndexCells)
	g.rows = min(max(int(target)/g.cols, 1), maxIndexCells)
	g.scaleX, g.scaleY = float64(subSide*g.cols)/w, float64(subSide*g.rows)/h
	if g.scaleX > math.MaxFloat64 || g.scaleY > math.MaxFloat64 || g.cols*g.rows > maxIndexCells {
		*g = indexGrid{}
		return nil
	}

	// The (cell, item) pairs, then a compressed sparse row layout.
	type pair struct {
		cell uint32
		item uint64
	}
	var pairs []pair
	var states []uint8
	for i, b := range boxes {
		c0, r0 := g.subcell(b.minX, b.minY)
		c1, r1 := g.subcell(b.maxX, b.maxY)
		// Whole cells.
		c0, r0 = c0/subSide*subSide, r0/subSide*subSide
		c1, r1 = c1/subSide*subSide+subSide-1, r1/subSide*subSide+subSide-1
		nc, nr := c1-c0+1, r1-r0+1
		if nc*nr > maxFenceCells*subSide*subSide {
			big = append(big, i)
			continue
		}
		states = states[:0]
		for range nc * nr {
			states = append(states, cellEdge)
		}
		if pg, ok := entries[i].geom.(*polygon); ok {
			g.classify(pg, c0, r0, c1, r1, states)
		}
		for r := r0; r <= r1; r += subSide {
			for c := c0; c <= c1; c += subSide {
				var sub uint64
				out := true
				for k := range subSide * subSide {
					s := states[(r-r0+k/subSide)*nc+c-c0+k%subSide]
					sub |= uint64(s) << (2 * k)
					out = out && s == cellOut
				}
				if !out {
					cell := r/subSide*g.cols + c/subSide
					pairs = append(pairs, pair{uint32(cell), uint64(i)<<32 | sub})
				}
			}
		}
	}

	cells := g.cols * g.rows
	count := make([]uint32, cells)
	for _, p := range pairs {
		count[p.cell]++
	}
	g.start = make([]uint32, cells+1)
	for k, n := range count {
		if n > maxCellList {
			n = 1
		}
		g.start[k+1] = g.start[k] + n
	}
	g.items = make([]uint64, g.start[cells])
	next := count // reused: the next free slot of each cell
	for k := range cells {
		if count[k] > maxCellList {
			g.items[g.start[k]] = cellFallback
			next[k] = math.MaxUint32
			continue
		}
		next[k] = g.start[k]
	}
	// Fences keep their order (that of the entries, along a Hilbert
	// curve) within a list.
	for _, p := range pairs {
		if next[p.cell] != math.MaxUint32 {
			g.items[next[p.cell]] = p.item
			next[p.cell]++
		}
	}
	return big
}

// subcell returns the column and row of the subcell of (x, y), clamped to
// the grid.
func (g *indexGrid) subcell(x, y float64) (c, r int) {
	return cellOf(&g.box, x, y, g.scaleX, g.scaleY, subSide*g.cols, subSide*g.rows)
}

// list returns the items of the cell of (x, y), a point in the grid's box,
// and the shift of the point's subcell's state in them.
func (g *indexGrid) list(x, y float64) (items []uint64, shift uint) {
	c, r := g.subcell(x, y)
	k := r/subSide*g.cols + c/subSide
	return g.items[g.start[k]:g.start[k+1]], uint(2 * (r%subSide*subSide + c%subSide))
}

// classify sets states, the subcells c0…c1 × r0…r1 row by row, all
// cellEdge on entry, to cellIn or cellOut where pg's boundary does not
// pass.
func (g *indexGrid) classify(pg *polygon, c0, r0, c1, r1 int, states []uint8) {
	nc := c1 - c0 + 1
	eachCell := func(a, b point, mark func(r, c0, c1 int)) {
		segmentCells(&g.box, g.scaleX, g.scaleY, subSide*g.cols, subSide*g.rows, a, b, func(r, ca, cb int) {
			if r >= r0 && r <= r1 && cb >= c0 && ca <= c1 {
				mark(r, max(ca, c0), min(cb, c1))
			}
		})
	}
	cost, edges := 0, 0
	for i := range pg.parts {
		pg.parts[i].eachEdge(func(_ int32, a, b point) {
			eachCell(a, b, func(_, ca, cb int) { cost += cb - ca + 1 })
			edges++
		})
	}
	if cost > cellMarkBudget*max(len(states), edges) {
		return // all left to the exact test
	}
	for k := range states {
		states[k] = cellOpen
	}
	for i := range pg.parts {
		pg.parts[i].eachEdge(func(_ int32, a, b point) {
			eachCell(a, b, func(r, ca, cb int) {
				for c := ca; c <= cb; c++ {
					states[(r-r0)*nc+c-c0] = cellEdge
				}
			})
		})
	}
	// Neighbours in a row with no edge between them agree, so one test
	// settles a run.
	for r := r0; r <= r1; r++ {
		state := cellOpen // of the run of unmarked subcells the loop is in
		for c := c0; c <= c1; c++ {
			k := (r-r0)*nc + c - c0
			switch {
			case states[k] == cellEdge:
				state = cellOpen
				continue
			case state != cellOpen:
				states[k] = state
				continue
			}
			x := g.box.minX + (float64(c)+0.5)/g.scaleX
			y := g.box.minY + (float64(r)+0.5)/g.scaleY
			if cc, rr := g.subcell(x, y); cc != c || rr != r {
				states[k] = cellEdge // rounding: leave it to the exact test
				continue
			}
			state = cellOut
			if pg.contains(y, x) {
				state = cellIn
			}
			states[k] = state
		}
	}
}
