package geofence

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzLoad feeds Load arbitrary bytes. Load must not panic, must reject
// with an error matching ErrInvalid, and whatever it accepts must index
// and answer consistently: a fence contains a probe point exactly when the
// Index returns it for that point, only within its box, at distance 0
// (polygons, circles) or within the buffer (corridors), and distances are
// never NaN or negative.
func FuzzLoad(f *testing.F) {
	seeds := []string{
		`{"type": "FeatureCollection", "features": []}`,
		`{"type": "Feature", "properties": {"radius": 100}, "geometry": {"type": "Point", "coordinates": [11.5, 48.1]}}`,
		`{"type": "Feature", "properties": {"bufferMeters": 30, "tags": "a,b"}, "geometry": {"type": "LineString", "coordinates": [[11.5, 48.1], [11.6, 48.2], [11.6, 48.3]]}}`,
		feature(polygonJSON(`[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]`), `"tags": ["x"], "speedLimitKph": 30, "dwellSeconds": 60`),
		feature(`{"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [[4, 4], [4, 6], [6, 6], [6, 4], [4, 4]]]}`, ""),
		feature(`{"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[2, 0], [3, 0], [3, 1], [2, 0]]]]}`, ""),
		feature(polygonJSON(`[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]`), ""),
		feature(polygonJSON(`[[179, 0], [-179, 0], [-179, 1], [179, 1], [179, 0]]`), ""),
		feature(`{"type": "Point", "coordinates": [179.999, 10]}`, `"radius": 1000`),
		feature(`{"type": "GeometryCollection", "geometries": []}`, ""),
		`{"type": "FeatureCollection", "features": [1, null, {}]}`,
		`[`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	if lez, err := os.ReadFile(filepath.Join(fenceDir, "munich/umweltzone_muenchen.geojson")); err == nil {
		f.Add(lez)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fences, err := Load(bytes.NewReader(data), LoadOptions{IDProperty: "name", Tags: []string{"fuzz"}})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not match ErrInvalid: %v", err)
			}
			if fences != nil {
				t.Fatal("fences returned with an error")
			}
			return
		}
		ix := NewIndex(fences)
		if ix.Len() != len(fences) {
			t.Fatalf("Len %d, %d fences", ix.Len(), len(fences))
		}
		var dst []*Fence
		for _, fe := range fences {
			minX, minY, maxX, maxY := fe.geom.bounds()
			cx, cy := (minX+maxX)/2, (minY+maxY)/2
			probes := [][2]float64{{minY, minX}, {maxY, maxX}, {cy, cx}, {cy, minX}, {minY, cx}, {0, 0}}
			if pg, ok := fe.geom.(*polygon); ok {
				p := pg.parts[0].pts[0]
				probes = append(probes, [2]float64{p.y, p.x})
			}
			for _, p := range probes {
				lat, lon := p[0], p[1]
				in := fe.Contains(lat, lon)
				d := fe.DistanceM(lat, lon)
				if math.IsNaN(d) || d < 0 {
					t.Fatalf("%s: DistanceM(%v, %v) = %v", fe.ID, lat, lon, d)
				}
				if in && (lon < minX || lon > maxX || lat < minY || lat > maxY) {
					t.Fatalf("%s contains (%v, %v) outside its box", fe.ID, lat, lon)
				}
				switch g := fe.geom.(type) {
				case *corridor:
					if in && d > g.bufferM*(1+1e-9)+1e-6 {
						t.Fatalf("%s contains (%v, %v) at %v m, buffer %v", fe.ID, lat, lon, d, g.bufferM)
					}
				default:
					if in && d != 0 {
						t.Fatalf("%s contains (%v, %v) at distance %v", fe.ID, lat, lon, d)
					}
				}
				dst = ix.Lookup(lat, lon, dst[:0])
				if slices.Contains(dst, fe) != in {
					t.Fatalf("%s: Contains(%v, %v) = %v, Lookup %v", fe.ID, lat, lon, in, ids(dst))
				}
			}
		}
	})
}
