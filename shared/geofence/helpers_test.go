package geofence

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fleetwire/fleetwire/edge/gnss"
)

// The repository's shared test data (see testdata/README.md at the root).
const (
	fenceDir = "../../testdata/geofences"
	nmeaDir  = "../../testdata/nmea/genivi"
)

// The options the tests load each real file with: IDs and names from the
// properties that carry them, tags as the agent would configure them.
var realFiles = map[string]LoadOptions{
	"london/london_congestionchargezone_ccz.json": {NameProperty: "BOUNDARY", Tags: []string{"congestion-zone"}},
	"london/london_lowemissionzone_lez_2008.json": {Tags: []string{"low-emission-zone"}},
	"cologne/umweltzone.geojson":                  {IDProperty: "OBJECTID", Tags: []string{"low-emission-zone"}},
	"cologne/stadtbezirke.geojson":                {IDProperty: "STB_NAME", Tags: []string{"district"}},
	"munich/umweltzone_muenchen.geojson":          {IDProperty: "fileName", NameProperty: "displayName", Tags: []string{"low-emission-zone"}},
	"munich/stadtbezirke_muenchen.geojson":        {Tags: []string{"district"}},
	"regensburg/vg250_kreise_regensburg.geojson":  {IDProperty: "RS", NameProperty: "BEZ", Tags: []string{"district"}},
	"switzerland/swiss_cantons_route.geojson":     {IDProperty: "name", Tags: []string{"canton"}},
}

// loadReal loads one of realFiles, failing the test on error.
func loadReal(tb testing.TB, name string) []*Fence {
	tb.Helper()
	opts, ok := realFiles[name]
	if !ok {
		tb.Fatalf("no options for %s", name)
	}
	fences, err := LoadFile(filepath.Join(fenceDir, name), opts)
	if err != nil {
		tb.Fatalf("load %s: %v", name, err)
	}
	return fences
}

// byID returns the fence with the given ID.
func byID(tb testing.TB, fences []*Fence, id string) *Fence {
	tb.Helper()
	for _, f := range fences {
		if f.ID == id {
			return f
		}
	}
	tb.Fatalf("no fence %q", id)
	return nil
}

// ids returns the sorted IDs of fences.
func ids(fences []*Fence) []string {
	out := make([]string, len(fences))
	for i, f := range fences {
		out[i] = f.ID
	}
	slices.Sort(out)
	return out
}

// replayFixes reads all fixes of an NMEA log as the agent would get them
// (gnss.Replay, filtered, as fast as possible).
func replayFixes(tb testing.TB, name string) []gnss.Fix {
	tb.Helper()
	r, err := gnss.NewReplay(filepath.Join(nmeaDir, name), gnss.ReplayOptions{Speed: 0, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var fixes []gnss.Fix
	err = r.Run(context.Background(), func(f gnss.Fix) error {
		fixes = append(fixes, f)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return fixes
}

// refContains is a reference point-in-polygon test for polygon fences:
// the textbook even-odd test (W. R. Franklin's PNPOLY) over every ring,
// without bands, boxes or boundary rules, to check polyPart against on
// points that are not on an edge.
func refContains(f *Fence, lat, lon float64) bool {
	pg := f.geom.(*polygon)
	for _, pp := range pg.parts {
		in := false
		start := 0
		for _, end := range pp.ringEnd {
			ring := pp.pts[start:end]
			for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
				a, b := ring[i], ring[j]
				if (a.y > lat) != (b.y > lat) && lon < (b.x-a.x)*(lat-a.y)/(b.y-a.y)+a.x {
					in = !in
				}
			}
			start = int(end)
		}
		if in {
			return true
		}
	}
	return false
}

// names joins the names of fences, sorted, for messages.
func names(fences []*Fence) string {
	out := make([]string, len(fences))
	for i, f := range fences {
		out[i] = f.Name
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
