package geofence

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/edge_trace.csv")

const edgeTracePath = "testdata/edge_trace.csv"

// makeEdgeTrace builds testdata/edge_trace.csv from the Munich LEZ: see the
// file's header, which this writes.
func makeEdgeTrace(tb testing.TB) []byte {
	lez := byID(tb, loadReal(tb, "munich/umweltzone_muenchen.geojson"), "lez_munich")
	pts := lez.geom.(*polygon).parts[0].pts

	// The longest edge, measured in the local projection.
	k := lonScale(pts[0].y)
	long, longM := 0, 0.0
	for i := range len(pts) - 1 {
		if d := math.Sqrt(segDist2(pts[i], pts[i+1], pts[i+1], k)) * metresPerDegree; d > longM {
			long, longM = i, d
		}
	}
	a, b := pts[long], pts[long+1]

	// Unit vectors along and across the edge, in metres east and north.
	k = lonScale((a.y + b.y) / 2)
	ex, ey := (b.x-a.x)*k*metresPerDegree, (b.y-a.y)*metresPerDegree
	ex, ey = ex/longM, ey/longM
	nx, ny := -ey, ex // to the left of the direction of travel
	mid := point{(a.x + b.x) / 2, (a.y + b.y) / 2}
	if !lez.Contains(mid.y+3*ny/metresPerDegree, mid.x+3*nx/(metresPerDegree*k)) {
		nx, ny = -nx, -ny // make +n point into the zone
	}

	const fixes, offsetM = 120, 3.0
	speed := 0.8 * longM / (fixes - 1)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `# Synthetic GNSS trace along a real fence edge, for the geofence detectors' tests.
# Columns: latitude, longitude (WGS84 degrees), seconds since the first fix.
#
# Made by TestEdgeTrace in shared/geofence (go test ./shared/geofence -run TestEdgeTrace -update)
# from testdata/geofences/munich/umweltzone_muenchen.geojson, the Munich low-emission zone
# (Umweltzone app, GPL-3.0; see testdata/README.md and the licence file next to it).
#
# It takes the longest edge of the zone's ring, positions %d→%d, %.0f m long on the
# northern Mittlerer Ring, from lon %.7f lat %.7f to lon %.7f lat %.7f,
# and walks it from 10 %% to 90 %% of its length at %.1f m/s (%.0f km/h), one fix a second
# for 2 minutes (seconds 0…%d). Each fix is offset %.0f m from the edge, perpendicular to it:
# into the zone at even seconds, out of it at odd seconds. So raw containment flips on
# every fix, and every fix is %.0f m from the boundary. Coordinates are rounded to 7
# decimals (at most 1.1 cm).
lat,lon,seconds
`, long, long+1, longM, a.x, a.y, b.x, b.y, speed, speed*3.6, fixes-1, offsetM, offsetM)
	for s := range fixes {
		along := (0.1*longM + speed*float64(s))
		side := offsetM
		if s%2 == 1 {
			side = -offsetM
		}
		east, north := along*ex+side*nx, along*ey+side*ny
		lat := a.y + north/metresPerDegree
		lon := a.x + east/(metresPerDegree*k)
		fmt.Fprintf(&buf, "%.7f,%.7f,%d\n", lat, lon, s)
	}
	return buf.Bytes()
}

// TestEdgeTrace checks that testdata/edge_trace.csv is what makeEdgeTrace
// makes (rewrite it with -update) and that it does what it says: 120
// fixes, 1 s apart, alternately 3 m inside and 3 m outside the Munich LEZ.
func TestEdgeTrace(t *testing.T) {
	want := makeEdgeTrace(t)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(edgeTracePath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(edgeTracePath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date: run go test -run TestEdgeTrace -update", edgeTracePath)
	}

	// Read it the way a detector test would.
	r := csv.NewReader(bytes.NewReader(got))
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 121 || rows[0][0] != "lat" {
		t.Fatalf("%d rows, want a header and 120 fixes", len(rows))
	}
	lez := byID(t, loadReal(t, "munich/umweltzone_muenchen.geojson"), "lez_munich")
	ix := NewIndex([]*Fence{lez})
	for i, row := range rows[1:] {
		lat, err1 := strconv.ParseFloat(row[0], 64)
		lon, err2 := strconv.ParseFloat(row[1], 64)
		sec, err3 := strconv.Atoi(row[2])
		if err1 != nil || err2 != nil || err3 != nil || sec != i {
			t.Fatalf("row %d: %q", i+1, row)
		}
		in := len(ix.Lookup(lat, lon, nil)) == 1
		if in != (sec%2 == 0) {
			t.Errorf("second %d (%v, %v): inside %v", sec, lat, lon, in)
		}
		// Distance to the boundary: measure from the fixes outside
		// directly; for those inside, to the ring's edges.
		d := lez.geom.(*polygon).parts[0].distance2(point{lon, lat}, lonScale(lat), math.Inf(1))
		if m := math.Sqrt(d) * metresPerDegree; math.Abs(m-3) > 0.02 {
			t.Errorf("second %d: %.3f m from the boundary, want 3", sec, m)
		}
	}
}
