// Package geofence loads geofences from GeoJSON (polygons with holes,
// circles, route corridors), validates them, and answers "which fences
// contain this point" through an R-tree of bounding boxes and exact tests.
package geofence
