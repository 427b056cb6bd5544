// Package geofence loads geofences from GeoJSON (polygons with holes,
// circles, route corridors), validates them, and answers "which fences
// contain this point" through an R-tree of bounding boxes and exact tests.
//
// # Loading
//
// Load and LoadFile read a FeatureCollection (or one Feature) into Fences;
// LoadOptions supplies IDs, names, accounts and tags the features lack.
// Every feature is checked and all problems are reported together, each
// as a *FenceError naming the feature and the problem. Rejected:
//
//   - positions that are not [lon, lat] numbers within ±180 / ±90;
//   - rings that are not closed, have fewer than 4 positions or fewer than
//     3 distinct vertices, or are not simple: two edges that cross or
//     touch, or neighbouring edges folding back on each other (found by a
//     sort-and-sweep over the edges' longitude ranges, O(n log n + k));
//   - rings or lines spanning more than 180° of longitude, and rings that
//     reach a pole: see below;
//   - a missing, non-numeric or non-positive radius or buffer;
//   - geometry types other than Polygon, MultiPolygon, Point and
//     LineString;
//   - properties of the wrong type, and duplicate IDs.
//
// Consecutive duplicate positions are dropped, not rejected: real
// boundary data has them. Ring orientation is not checked (the London and
// Cologne files are clockwise, RFC 7946 asks for counter-clockwise), nor
// whether holes lie inside their outer ring or rings of one polygon cross
// each other.
//
// # The antimeridian and the poles
//
// Coordinates are used as plain lon/lat, as RFC 7946 defines GeoJSON
// edges (straight in lon/lat). A ring that crosses ±180° written that way
// spans more than 180° of longitude and would describe the rest of the
// world instead; a ring around a pole cannot be written at all. Load
// therefore rejects rings and corridor lines spanning more than 180° of
// longitude, rings that touch latitude ±90°, and circles and corridors
// whose box would cross ±180° or reach a pole, with a message saying so
// (ErrAntimeridian). Fences there must be split at the antimeridian into
// the parts of a MultiPolygon, as RFC 7946 §3.1.9 asks; such a
// MultiPolygon is accepted (its box spans all longitudes, which is correct
// but makes the R-tree less selective for it). No road vehicle needs a
// fence at a pole.
//
// # Geometry
//
// Polygons: a point is inside by even-odd ray casting over the outer ring
// and holes, exact up to floating-point rounding; points on an edge or a
// vertex are inside, so fences are closed and a point on a border shared
// by two districts is in both. Two grids of cells known to be wholly
// inside or outside answer most lookups without looking at an edge, and
// edges are binned in latitude bands so that the others test only a few
// (see polyPart and grid.go). All this takes about 40 bytes per vertex.
//
// Circles: within the radius along a great circle (haversine, spherical
// Earth of mean radius 6,371,008.8 m).
//
// Corridors, and distances to polygon edges: point-to-segment distance in
// a local equirectangular projection centred on the query point
// (longitude scaled by the cosine of its latitude). Within 10 km of the
// shape, up to 60° of latitude, it differs from the great-circle distance
// by less than 0.1 % (0.01 % within 1 km), well under 1 % for fence-sized
// shapes.
//
// # Index
//
// NewIndex puts the fences' bounding boxes into an R-tree
// (github.com/tidwall/rtree, float32 boxes rounded outwards, inserted in
// Hilbert order); for circles and corridors the box is widened by the
// radius or buffer in degrees at that latitude. Over them it lays a
// uniform grid of about 16 cells per fence, each cell listing the fences
// whose box overlaps it with, for each of its 4 × 4 subcells, whether the
// fence holds it whole, misses it or needs the exact test there (see
// cells.go). Index.Lookup reads the point's cell and runs the exact test
// only where the subcell says so; fences spanning too many cells, and
// cells packed with too many fences, are left to the R-tree. Lookups do
// not allocate when dst has room. An Index is immutable and safe for
// concurrent lookups; to change the fences, build a new one and swap it
// atomically.
package geofence
