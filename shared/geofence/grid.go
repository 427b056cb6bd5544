package geofence

import "math"

// States of a grid cell.
const (
	cellOpen uint8 = iota // not classified (only while building)
	cellEdge              // an edge may pass through: run the exact test
	cellOut               // no edge touches the cell, which is outside
	cellIn                // no edge touches the cell, which is inside
)

// A polyPart has two uniform grids over its box that answer most lookups
// without testing an edge: a coarse one of 16 × 16 cells kept inside the
// part's struct, next to the box, so that it costs no cache miss of its
// own, and a fine one of about 8 cells per edge.
//
// Every edge marks the cells along its course as cellEdge (see
// segmentCells: in each row it spans, the columns it crosses there, not
// all those of its box, which for long diagonal edges is several times
// fewer cells and halved the exact tests in the benchmark); every other
// cell then lies wholly inside or wholly outside, found by the exact test
// at its centre, once per run of such cells along a row (neighbours with
// no edge between them agree).
//
// The marking is sound although coordinates are floats: a point's column
// is floor((x − minX)·scale), monotonic in x, so the columns' real
// half-open intervals [x_i, x_i+1) tile the box, and likewise rows. The
// course of an edge through a row is computed with an error of about
// 10⁻¹³ degrees at most and widened by markMargin, 10⁻⁹ degrees, on every
// side, before being mapped to columns by the same monotonic function. So
// a cell that is not marked holds no point of the boundary, nor one within
// 10⁻⁹ degrees of it, and the grids never change an answer, only its
// speed.
type (
	// coarseGrid is the inline grid: 16 × 16 cells, 2 bits each.
	coarseGrid struct {
		scaleX, scaleY float64 // cells per degree; 0 when there is no grid
		cells          [coarseSide * coarseSide / 4]uint8
	}
	// cellGrid is the fine grid.
	cellGrid struct {
		cols, rows     int
		scaleX, scaleY float64 // cells per degree
		// cells holds the states row by row, 2 bits each, four to a
		// byte; nil when there is no grid.
		cells []uint8
	}
)

const (
	coarseSide       = 16
	gridCellsPerEdge = 8    // fine grid size …
	maxGridSide      = 1024 // … within this limit
	// gridMarkBudget bounds the work of marking edges, per cell or edge,
	// whichever are more: long edges crossing a fine grid get no grid
	// rather than a quadratic one.
	gridMarkBudget = 4
	// markMargin (degrees, about 0.1 mm) widens the course of an edge
	// through a grid (see segmentCells).
	markMargin = 1e-9
)

// buildGrids builds pp's grids; pp's bands must be built.
func (pp *polyPart) buildGrids() {
	w, h := pp.box.maxX-pp.box.minX, pp.box.maxY-pp.box.minY
	if !(w > 0 && h > 0) {
		return // a flat part: the exact test will do
	}
	if sx, sy, cells := pp.classify(coarseSide, coarseSide); cells != nil {
		pp.coarse.scaleX, pp.coarse.scaleY = sx, sy
		pack(cells, pp.coarse.cells[:])
	}

	target := float64(gridCellsPerEdge * (len(pp.pts) - len(pp.ringEnd)))
	g := &pp.grid
	g.cols = min(max(int(math.Ceil(math.Sqrt(target*w/h))), 1), maxGridSide)
	g.rows = min(max(int(target)/g.cols, 1), maxGridSide)
	if g.cols*g.rows <= coarseSide*coarseSide {
		return // no finer than the coarse grid
	}
	if sx, sy, cells := pp.classify(g.cols, g.rows); cells != nil {
		g.scaleX, g.scaleY = sx, sy
		g.cells = make([]uint8, (len(cells)+3)/4)
		pack(cells, g.cells)
	}
}

// classify returns the scales and the cell states, a byte each, of a
// cols × rows grid over pp's box; nil cells when the grid is too costly or
// the box too thin.
func (pp *polyPart) classify(cols, rows int) (scaleX, scaleY float64, cells []uint8) {
	box := &pp.box
	scaleX, scaleY = float64(cols)/(box.maxX-box.minX), float64(rows)/(box.maxY-box.minY)
	if scaleX > math.MaxFloat64 || scaleY > math.MaxFloat64 {
		return 0, 0, nil // subnormally thin
	}
	cell := func(x, y float64) (c, r int) { return cellOf(box, x, y, scaleX, scaleY, cols, rows) }
	eachCell := func(a, b point, mark func(r, c0, c1 int)) {
		segmentCells(box, scaleX, scaleY, cols, rows, a, b, mark)
	}

	cost := 0
	pp.eachEdge(func(_ int32, a, b point) {
		eachCell(a, b, func(_, c0, c1 int) { cost += c1 - c0 + 1 })
	})
	if cost > gridMarkBudget*max(cols*rows, len(pp.pts)) {
		return 0, 0, nil
	}
	cells = make([]uint8, cols*rows)
	pp.eachEdge(func(_ int32, a, b point) {
		eachCell(a, b, func(r, c0, c1 int) {
			for c := c0; c <= c1; c++ {
				cells[r*cols+c] = cellEdge
			}
		})
	})

	for r := range rows {
		state := cellOpen // of the run of unmarked cells the loop is in
		for c := range cols {
			k := r*cols + c
			switch {
			case cells[k] == cellEdge:
				state = cellOpen
				continue
			case state != cellOpen:
				cells[k] = state
				continue
			}
			x := box.minX + (float64(c)+0.5)/scaleX
			y := box.minY + (float64(r)+0.5)/scaleY
			if cc, rr := cell(x, y); cc != c || rr != r {
				cells[k] = cellEdge // rounding: leave it to the exact test
				continue
			}
			state = cellOut
			if pp.rayCast(x, y) {
				state = cellIn
			}
			cells[k] = state
		}
	}
	return scaleX, scaleY, cells
}

// segmentCells calls mark(r, c0, c1) for every row r of the grid of
// cellOf(box, ·, ·, scaleX, scaleY, cols, rows) that the segment a–b may
// pass through, with the columns c0…c1 it may pass through in that row:
// its course through the grid, not its box, which for a diagonal edge
// over many cells is far less. The course is widened by markMargin
// degrees on every side, which covers the rounding of its computation
// and of cellOf's row and column boundaries many times over, so every
// cell holding a point of the segment is marked.
func segmentCells(box *rect, scaleX, scaleY float64, cols, rows int, a, b point, mark func(r, c0, c1 int)) {
	const m = markMargin
	minX, maxX := min(a.x, b.x)-m, max(a.x, b.x)+m
	minY, maxY := min(a.y, b.y)-m, max(a.y, b.y)+m
	col := func(x float64) int { return min(max(int((x-box.minX)*scaleX), 0), cols-1) }
	row := func(y float64) int { return min(max(int((y-box.minY)*scaleY), 0), rows-1) }
	// x at latitude y on the line through a and b, within the segment.
	at := func(y float64) float64 {
		t := min(max((y-a.y)/(b.y-a.y), 0), 1)
		return a.x + t*(b.x-a.x)
	}
	r0, r1 := row(minY), row(maxY)
	if a.y == b.y || r0 == r1 {
		for r := r0; r <= r1; r++ {
			mark(r, col(minX), col(maxX))
		}
		return
	}
	for r := r0; r <= r1; r++ {
		// The part of the segment in the row's latitudes, widened.
		y0 := max(minY, box.minY+float64(r)/scaleY-m)
		y1 := min(maxY, box.minY+float64(r+1)/scaleY+m)
		if r == r0 {
			y0 = minY
		}
		if r == r1 {
			y1 = maxY
		}
		x0, x1 := at(y0), at(y1)
		mark(r, col(max(min(x0, x1)-m, minX)), col(min(max(x0, x1)+m, maxX)))
	}
}

// pack stores byte-per-cell states at 2 bits a cell.
func pack(cells, dst []uint8) {
	for k, s := range cells {
		dst[k/4] |= s << (k % 4 * 2)
	}
}

// cellOf returns the column and row of (x, y), clamped to the grid.
func cellOf(box *rect, x, y, scaleX, scaleY float64, cols, rows int) (c, r int) {
	c = min(max(int((x-box.minX)*scaleX), 0), cols-1)
	r = min(max(int((y-box.minY)*scaleY), 0), rows-1)
	return c, r
}

// state is the state of the cell of (x, y), a point in box; cellEdge when
// there is no grid.
func (g *coarseGrid) state(box *rect, x, y float64) uint8 {
	if g.scaleX == 0 {
		return cellEdge
	}
	c, r := cellOf(box, x, y, g.scaleX, g.scaleY, coarseSide, coarseSide)
	k := r*coarseSide + c
	return g.cells[k/4] >> (k % 4 * 2) & 3
}

// state is the state of the cell of (x, y), a point in box; cellEdge when
// there is no grid.
func (g *cellGrid) state(box *rect, x, y float64) uint8 {
	if g.cells == nil {
		return cellEdge
	}
	c, r := cellOf(box, x, y, g.scaleX, g.scaleY, g.cols, g.rows)
	k := r*g.cols + c
	return g.cells[k/4] >> (k % 4 * 2) & 3
}
