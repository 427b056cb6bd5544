package geofence

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLoadRealFiles loads every real fence file but the London LEZ (see
// TestLoadLondonLEZDefect) and checks the feature counts, kinds, IDs, names
// and bounding boxes against testdata/README.md.
func TestLoadRealFiles(t *testing.T) {
	tests := []struct {
		file                   string
		count, multi           int // fences, MultiPolygon fences
		id, name               string
		minX, minY, maxX, maxY float64 // the README's bbox
	}{
		{"london/london_congestionchargezone_ccz.json", 3, 0,
			"london_congestionchargezone_ccz#0", "CSS Area 1", -0.16708, 51.48621, -0.07214, 51.53177},
		{"cologne/umweltzone.geojson", 6, 1, "5", "5", 6.80852, 50.89260, 7.03318, 50.99995},
		{"cologne/stadtbezirke.geojson", 9, 0, "Mülheim", "Mülheim", 6.77253, 50.83045, 7.16203, 51.08497},
		{"munich/umweltzone_muenchen.geojson", 1, 0, "lez_munich", "München", 11.51695, 48.10470, 11.62058, 48.17786},
		{"munich/stadtbezirke_muenchen.geojson", 27, 0,
			"vablock_stadtbezirke_opendata.13", "Schwanthalerhöhe", 11.36078, 48.06162, 11.72291, 48.24812},
		{"regensburg/vg250_kreise_regensburg.geojson", 2, 0, "09375", "Landkreis", 11.65906, 48.76492, 12.49127, 49.22415},
		{"switzerland/swiss_cantons_route.geojson", 7, 6, "16", "Vaud", 6.06386, 45.85819, 8.47852, 47.62107},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			fences := loadReal(t, tt.file)
			if len(fences) != tt.count {
				t.Fatalf("%d fences, want %d", len(fences), tt.count)
			}
			f := byID(t, fences, tt.id)
			if f.Name != tt.name {
				t.Errorf("fence %q: name %q, want %q", tt.id, f.Name, tt.name)
			}
			box := emptyRect()
			multi := 0
			for _, f := range fences {
				if f.Kind != KindPolygon {
					t.Errorf("fence %q: kind %v, want polygon", f.ID, f.Kind)
				}
				if len(f.geom.(*polygon).parts) > 1 {
					multi++
				}
				if !slices.Equal(f.Tags, realFiles[tt.file].Tags) {
					t.Errorf("fence %q: tags %q, want %q", f.ID, f.Tags, realFiles[tt.file].Tags)
				}
				box.union(f.geom.(*polygon).box)
			}
			if multi != tt.multi {
				t.Errorf("%d MultiPolygons, want %d", multi, tt.multi)
			}
			want := rect{tt.minX, tt.minY, tt.maxX, tt.maxY}
			const tol = 0.5e-5 + 1e-12 // the README rounds to 5 decimals
			if math.Abs(box.minX-want.minX) > tol || math.Abs(box.minY-want.minY) > tol ||
				math.Abs(box.maxX-want.maxX) > tol || math.Abs(box.maxY-want.maxY) > tol {
				t.Errorf("bounding box %+v, README says %+v", box, want)
			}
		})
	}
}

// TestLoadLondonLEZDefect documents the one defect in the real files: the
// main polygon of the London 2008 LEZ (feature 1, 20,765 points) is not
// simple. In three places the outline zigzags back over itself for a few
// metres: positions 15881…15884 (near 0.00223, 51.32970), 17743…17746
// (−0.12534, 51.30936) and 20250…20253 (−0.45665, 51.45524, near
// Heathrow), where the edge from the third point to the fourth crosses the
// edge from the first to the second, e.g.
//
//	(−0.456662, 51.455228) (−0.456628, 51.455262)
//	(−0.456650, 51.455242) (−0.456322, 51.455154)
//
// Load reports the first it meets, the westernmost (the sweep runs west to
// east); an all-pairs test of the ring, run once while writing this test,
// found exactly these three. The other 21 features are valid (their 8
// consecutive duplicate points, which the README mentions, are dropped).
// The README does not mention the defect.
func TestLoadLondonLEZDefect(t *testing.T) {
	name := "london/london_lowemissionzone_lez_2008.json"
	fences, err := LoadFile(filepath.Join(fenceDir, name), realFiles[name])
	if fences != nil {
		t.Errorf("got %d fences with the error", len(fences))
	}
	const want = `geofence: london_lowemissionzone_lez_2008.json: feature 1 "london_lowemissionzone_lez_2008#1": ` +
		`outer ring: self-intersection: edges 20250→20251 and 20252→20253 meet at about (-0.4566484, 51.4552416)`
	if err == nil || err.Error() != want {
		t.Fatalf("error\n%v\nwant\n%s", err, want)
	}
	if !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrSelfIntersection) {
		t.Errorf("error does not match ErrInvalid and ErrSelfIntersection")
	}
	var fe *FenceError
	if !errors.As(err, &fe) || fe.Index != 1 || fe.ID != "london_lowemissionzone_lez_2008#1" {
		t.Errorf("FenceError %+v", fe)
	}

	// The three places, checked on the raw positions.
	data, err := os.ReadFile(filepath.Join(fenceDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Features []struct {
			Geometry struct{ Coordinates [][][2]float64 }
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	ring := doc.Features[1].Geometry.Coordinates[0]
	pt := func(i int) point { return point{ring[i][0], ring[i][1]} }
	for _, i := range []int{15881, 17743, 20250} {
		if _, ok := intersection(pt(i), pt(i+1), pt(i+2), pt(i+3)); !ok {
			t.Errorf("edges %d→%d and %d→%d do not cross", i, i+1, i+2, i+3)
		}
	}
}

func TestLoadProperties(t *testing.T) {
	const doc = `{"type": "FeatureCollection", "features": [
	{"type": "Feature", "id": "top", "properties": {"id": "depot-7", "name": "Depot 7", "account": "acme",
		"tags": ["depot", " customer ", "depot", ""], "speedLimitKph": 20, "dwellSeconds": 90.5, "radius": 1},
	 "geometry": {"type": "Point", "coordinates": [11.5755, 48.1374, 520], "radius": 99, "foreign": true}},
	{"type": "Feature", "id": 42, "properties": {"tags": "route, night,,low-emission-zone", "bufferMeters": 50},
	 "geometry": {"type": "LineString", "coordinates": [[11.5, 48.1], [11.5, 48.1], [11.6, 48.1]]}},
	{"type": "Feature", "properties": {"id": 7.5, "label": "Seven"},
	 "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}},
	{"type": "Feature", "properties": {"fileName": "lez_x", "name": null, "tags": null},
	 "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}},
	{"type": "Feature", "properties": null,
	 "geometry": {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[2, 0], [3, 0], [3, 1], [2, 0]]]]}}
	]}`
	opts := LoadOptions{Source: "fleet.geojson", Account: "default", Tags: []string{"low-emission-zone"},
		IDProperty: "fileName", NameProperty: "label"}
	fences, err := Load(strings.NewReader(doc), opts)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		id, name, account string
		kind              Kind
		tags              []string
		speed             float64
		dwell             time.Duration
	}
	wants := []want{
		{"depot-7", "Depot 7", "acme", KindCircle, []string{"depot", "customer", "low-emission-zone"}, 20, 90500 * time.Millisecond},
		{"42", "42", "default", KindCorridor, []string{"route", "night", "low-emission-zone"}, 0, 0},
		{"7.5", "Seven", "default", KindPolygon, []string{"low-emission-zone"}, 0, 0},
		{"lez_x", "lez_x", "default", KindPolygon, []string{"low-emission-zone"}, 0, 0},
		{"fleet#4", "fleet#4", "default", KindPolygon, []string{"low-emission-zone"}, 0, 0},
	}
	if len(fences) != len(wants) {
		t.Fatalf("%d fences, want %d", len(fences), len(wants))
	}
	for i, w := range wants {
		f := fences[i]
		got := want{f.ID, f.Name, f.Account, f.Kind, f.Tags, f.SpeedLimitKph, f.DwellAfter}
		if got.id != w.id || got.name != w.name || got.account != w.account || got.kind != w.kind ||
			!slices.Equal(got.tags, w.tags) || got.speed != w.speed || got.dwell != w.dwell {
			t.Errorf("fence %d:\n got %+v\nwant %+v", i, got, w)
		}
	}
	if !fences[0].HasTag("customer") || fences[0].HasTag("route") {
		t.Error("HasTag")
	}
	// The radius is the property; a "radius" member of the geometry, like
	// any foreign member, is ignored.
	if r := fences[0].geom.(*circle).radiusM; r != 1 {
		t.Errorf("radius %v", r)
	}
}

func TestLoadSingleFeature(t *testing.T) {
	const doc = `{"type": "Feature", "properties": {"name": "Yard", "radius": 250},
		"geometry": {"type": "Point", "coordinates": [6.9583, 50.9413]}}`
	fences, err := Load(strings.NewReader(doc), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fences) != 1 || fences[0].ID != "input#0" || fences[0].Name != "Yard" || fences[0].Kind != KindCircle {
		t.Fatalf("got %+v", fences[0])
	}
}

// feature wraps a geometry and extra properties into a FeatureCollection
// holding one feature with the ID "bad".
func feature(geometry, props string) string {
	if props != "" {
		props = ", " + props
	}
	return `{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "bad"` + props +
		`}, "geometry": ` + geometry + `}]}`
}

func polygonJSON(ring string) string { return `{"type": "Polygon", "coordinates": [` + ring + `]}` }

func TestLoadInvalid(t *testing.T) {
	square := `[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]`
	tests := []struct {
		name     string
		doc      string
		sentinel error
		msg      string // the problem, after `feature 0 "bad": `
	}{
		{"unclosed", feature(polygonJSON(`[[0, 0], [1, 0], [1, 1], [0, 1]]`), ""), ErrRingNotClosed,
			"outer ring: ring not closed: first position (0, 0) differs from last (0, 1)"},
		{"3 points", feature(polygonJSON(`[[0, 0], [1, 0], [0, 0]]`), ""), ErrTooFewPoints,
			"outer ring: too few points: ring has 3 positions, want at least 4 (a closed triangle)"},
		{"2 distinct vertices", feature(polygonJSON(`[[0, 0], [1, 0], [1, 0], [0, 0]]`), ""), ErrTooFewPoints,
			"outer ring: too few points: ring has only 2 distinct vertices, want at least 3"},
		{"bow-tie", feature(polygonJSON(`[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]`), ""), ErrSelfIntersection,
			"outer ring: self-intersection: edges 0→1 and 2→3 meet at about (0.5000000, 0.5000000)"},
		{"figure eight touching at a vertex", feature(polygonJSON(`[[0, 0], [2, 0], [1, 1], [2, 2], [0, 2], [1, 1], [0, 0]]`), ""),
			ErrSelfIntersection, "outer ring: self-intersection: edges 1→2 and 4→5 meet at about (1.0000000, 1.0000000)"},
		{"spike", feature(polygonJSON(`[[0, 0], [2, 0], [1, 0], [1, 1], [0, 0]]`), ""), ErrSelfIntersection,
			"outer ring: self-intersection: edges 0→1 and 1→2 fold back onto each other at (2, 0)"},
		{"longitude out of range", feature(polygonJSON(`[[190, 0], [1, 0], [1, 1], [190, 0]]`), ""), ErrCoordinates,
			"outer ring: position 0: bad coordinates: longitude 190 outside −180…180"},
		{"latitude out of range", feature(polygonJSON(`[[0, 0], [1, -91], [1, 1], [0, 0]]`), ""), ErrCoordinates,
			"outer ring: position 1: bad coordinates: latitude -91 outside −90…90"},
		{"null coordinate", feature(polygonJSON(`[[0, 0], [1, null], [1, 1], [0, 0]]`), ""), ErrCoordinates,
			"outer ring: position 1: bad coordinates: position has a null longitude or latitude"},
		{"one number", feature(polygonJSON(`[[0, 0], [1], [1, 1], [0, 0]]`), ""), ErrCoordinates,
			"outer ring: position 1: bad coordinates: position has 1 numbers, want [longitude, latitude]"},
		{"string coordinate", feature(polygonJSON(`[[0, 0], ["1", 0], [1, 1], [0, 0]]`), ""), ErrCoordinates,
			"Polygon: bad coordinates: coordinates: json: cannot unmarshal string into Go value of type float64"},
		{"antimeridian", feature(polygonJSON(`[[179, 0], [-179, 0], [-179, 1], [179, 1], [179, 0]]`), ""), ErrAntimeridian,
			"outer ring: crosses the antimeridian or a pole: ring spans 358° of longitude (-179…179): it crosses ±180° or encloses a pole; split it at the antimeridian"},
		{"pole", feature(polygonJSON(`[[0, 80], [10, 80], [10, 90], [0, 90], [0, 80]]`), ""), ErrAntimeridian,
			"outer ring: crosses the antimeridian or a pole: ring reaches a pole"},
		{"bad hole", feature(`{"type": "Polygon", "coordinates": [`+square+`, [[0.2, 0.2], [0.4, 0.2], [0.4, 0.4], [0.3, 0.4]]]}`, ""),
			ErrRingNotClosed, "hole 1: ring not closed: first position (0.2, 0.2) differs from last (0.3, 0.4)"},
		{"bad MultiPolygon part", feature(`{"type": "MultiPolygon", "coordinates": [[`+square+`], [[[5, 5], [6, 6], [6, 5], [5, 6], [5, 5]]]]}`, ""),
			ErrSelfIntersection, "polygon 1: outer ring: self-intersection: edges 0→1 and 2→3 meet at about (5.5000000, 5.5000000)"},
		{"empty MultiPolygon", feature(`{"type": "MultiPolygon", "coordinates": []}`, ""), ErrTooFewPoints,
			"too few points: MultiPolygon without polygons"},
		{"no rings", feature(`{"type": "Polygon", "coordinates": []}`, ""), ErrTooFewPoints,
			"too few points: polygon without rings"},
		{"missing coordinates", feature(`{"type": "Polygon"}`, ""), ErrCoordinates,
			"Polygon: bad coordinates: coordinates: missing"},
		{"zero radius", feature(`{"type": "Point", "coordinates": [11.5, 48.1]}`, `"radius": 0`), ErrRadius,
			"bad radius or buffer: radius 0 m, want a positive number of metres"},
		{"negative radius", feature(`{"type": "Point", "coordinates": [11.5, 48.1]}`, `"radius": -5`), ErrRadius,
			"bad radius or buffer: radius -5 m, want a positive number of metres"},
		{"no radius", feature(`{"type": "Point", "coordinates": [11.5, 48.1]}`, ""), ErrRadius,
			`bad radius or buffer: a Point needs a "radius" property in metres`},
		{"radius as text", feature(`{"type": "Point", "coordinates": [11.5, 48.1]}`, `"radius": "100"`), ErrRadius,
			`bad radius or buffer: "radius": want a number, got "100"`},
		{"circle across the antimeridian", feature(`{"type": "Point", "coordinates": [179.999, 10]}`, `"radius": 1000`),
			ErrAntimeridian, "crosses the antimeridian or a pole: circle of 1000 m around (179.999, 10) crosses ±180° longitude"},
		{"circle around a pole", feature(`{"type": "Point", "coordinates": [0, 89.99]}`, `"radius": 5000`),
			ErrAntimeridian, "crosses the antimeridian or a pole: circle of 5000 m around (0, 89.99) reaches a pole"},
		{"circle point out of range", feature(`{"type": "Point", "coordinates": [0, 95]}`, `"radius": 5`),
			ErrCoordinates, "Point: bad coordinates: latitude 95 outside −90…90"},
		{"zero buffer", feature(`{"type": "LineString", "coordinates": [[0, 0], [1, 1]]}`, `"bufferMeters": 0`), ErrRadius,
			"bad radius or buffer: bufferMeters 0, want a positive number of metres"},
		{"no buffer", feature(`{"type": "LineString", "coordinates": [[0, 0], [1, 1]]}`, ""), ErrRadius,
			`bad radius or buffer: a LineString needs a "bufferMeters" property`},
		{"line of one point", feature(`{"type": "LineString", "coordinates": [[1, 1], [1, 1]]}`, `"bufferMeters": 10`),
			ErrTooFewPoints, "LineString: too few points: line has 1 distinct positions, want at least 2"},
		{"line across the antimeridian", feature(`{"type": "LineString", "coordinates": [[179.5, 0], [-179.5, 0]]}`, `"bufferMeters": 10`),
			ErrAntimeridian, "LineString: crosses the antimeridian or a pole: line spans 359° of longitude (-179.5…179.5): it crosses ±180°; split it at the antimeridian"},
		{"unknown geometry", feature(`{"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]]]}`, ""), ErrUnsupportedGeometry,
			`unsupported geometry: "MultiLineString" (want Polygon, MultiPolygon, Point with radius or LineString with bufferMeters)`},
		{"geometry collection", feature(`{"type": "GeometryCollection", "geometries": []}`, ""), ErrUnsupportedGeometry,
			`unsupported geometry: "GeometryCollection" (want Polygon, MultiPolygon, Point with radius or LineString with bufferMeters)`},
		{"null geometry", feature(`null`, ""), ErrUnsupportedGeometry, "unsupported geometry: feature has no geometry"},
		{"untyped geometry", feature(`{"coordinates": [0, 0]}`, ""), ErrUnsupportedGeometry, "unsupported geometry: geometry without a type"},
		{"tags of numbers", feature(polygonJSON(square), `"tags": [1, 2]`), ErrProperty,
			`bad property: "tags": want an array of strings or a comma-separated string, got [1, 2]`},
		{"negative speed limit", feature(polygonJSON(square), `"speedLimitKph": -30`), ErrProperty,
			`bad property: "speedLimitKph" is -30, want 0…1.7976931348623157e+308`},
		{"dwell beyond time.Duration", feature(polygonJSON(square), `"dwellSeconds": 1e12`), ErrProperty,
			`bad property: "dwellSeconds" is 1e+12, want 0…9.223372036e+09`},
		{"name of an object", feature(polygonJSON(square), `"name": {"de": "Zone"}`), ErrProperty,
			`bad property: "name": want a string or a number, got {"de": "Zone"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fences, err := Load(strings.NewReader(tt.doc), LoadOptions{Source: "t.geojson"})
			if err == nil {
				t.Fatalf("no error, %d fences", len(fences))
			}
			if fences != nil {
				t.Errorf("fences returned with the error")
			}
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, tt.sentinel) {
				t.Errorf("error %v does not match ErrInvalid and %v", err, tt.sentinel)
			}
			want := `geofence: t.geojson: feature 0 "bad": ` + tt.msg
			if err.Error() != want {
				t.Errorf("error\n%v\nwant\n%s", err, want)
			}
		})
	}
}

// TestLoadCollectsAll checks that Load reports every bad feature, not
// just the first, including duplicate IDs, and returns no fences.
func TestLoadCollectsAll(t *testing.T) {
	const doc = `{"type": "FeatureCollection", "features": [
	{"type": "Feature", "properties": {"id": "a"}, "geometry": {"type": "Point", "coordinates": [0, 0]}},
	{"type": "Feature", "properties": {"id": "b", "radius": 10}, "geometry": {"type": "Point", "coordinates": [0, 0]}},
	{"type": "Feature", "properties": {"id": "b", "radius": 10}, "geometry": {"type": "Point", "coordinates": [1, 1]}},
	"not a feature",
	{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}}
	]}`
	fences, err := Load(strings.NewReader(doc), LoadOptions{Source: "fleet.json"})
	if fences != nil {
		t.Errorf("fences returned with the error")
	}
	want := []string{
		`geofence: fleet.json: feature 0 "a": bad radius or buffer: a Point needs a "radius" property in metres`,
		`geofence: fleet.json: feature 2 "b": duplicate fence id: "b" is also the ID of feature 1`,
		`geofence: fleet.json: feature 3: not a GeoJSON Feature: json: cannot unmarshal string into Go value of type geofence.jsonFeature`,
		`geofence: fleet.json: feature 4 "fleet#4": outer ring: too few points: ring has 3 positions, want at least 4 (a closed triangle)`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("error\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
	if !errors.Is(err, ErrDuplicateID) {
		t.Error("not ErrDuplicateID")
	}
	var fe *FenceError
	if !errors.As(err, &fe) || fe.Index != 0 || fe.ID != "a" || !errors.Is(fe, ErrRadius) {
		t.Errorf("first FenceError %+v", fe)
	}
}

func TestLoadMalformed(t *testing.T) {
	tests := []struct{ doc, want string }{
		{``, "geofence: input: invalid geofence: unexpected end of JSON input"},
		{`{"type": "FeatureCollection", "features": [`, "geofence: input: invalid geofence: unexpected end of JSON input"},
		{`[1, 2]`, "geofence: input: invalid geofence: json: cannot unmarshal array into Go value of type struct { Type string \"json:\\\"type\\\"\"; Features []json.RawMessage \"json:\\\"features\\\"\" }"},
		{`{"type": "Polygon", "coordinates": []}`, `geofence: input: invalid geofence: GeoJSON type "Polygon", want FeatureCollection or Feature`},
		{`{"features": []}`, `geofence: input: invalid geofence: GeoJSON type "", want FeatureCollection or Feature`},
		{`{"type": "FeatureCollection", "features": {}}`, "geofence: input: invalid geofence: json: cannot unmarshal object into Go struct field .features of type []json.RawMessage"},
	}
	for _, tt := range tests {
		_, err := Load(strings.NewReader(tt.doc), LoadOptions{})
		if err == nil || err.Error() != tt.want || !errors.Is(err, ErrInvalid) {
			t.Errorf("Load(%q):\n got %v\nwant %s", tt.doc, err, tt.want)
		}
	}
	fences, err := Load(strings.NewReader(`{"type": "FeatureCollection", "features": []}`), LoadOptions{})
	if err != nil || len(fences) != 0 {
		t.Errorf("empty collection: %v, %v", fences, err)
	}
	if _, err := LoadFile("testdata/no-such-file.geojson", LoadOptions{}); err == nil || errors.Is(err, ErrInvalid) {
		t.Errorf("missing file: %v", err)
	}
}
