package detect

import (
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

// Geofence reports geofence.entered, geofence.exited and geofence.dwell
// for every fence but route corridors (see Route).
//
// Rule: a vehicle has entered a fence once it has been inside on every good
// fix for geofence.enter_after (5 s), or has driven geofence.enter_distance_m
// (20 m) inside on them, whichever comes first; a fix outside before that
// drops the candidate visit. It has left once it has been outside on every
// good fix for geofence.exit_after (10 s); a fix inside before that keeps
// the visit going. A vehicle driving along a fence's edge, whose fixes fall
// in and out with GNSS noise, therefore neither enters nor leaves, and
// the distance rule ignores the receiver's wander at rest (see odometer).
// Fixes that GNSSConfig does not accept are skipped: they neither confirm
// nor interrupt anything.
// geofence.dwell is sent once per visit when the vehicle has been inside
// for the fence's DwellAfter, counted from its first fix inside.
//
// A vehicle found inside a fence when the detector starts enters it by the
// same rule. A fence that disappears from the set (deleted) is left after
// geofence.exit_after, like any other.
type Geofence struct {
	cfg    Config
	odo    odometer
	tracks []fenceTrack // the fences the vehicle is in or entering, oldest first
}

// fenceTrack is one visit of a fence, candidate or confirmed.
type fenceTrack struct {
	fence   *geofence.Fence
	since   time.Time // the first fix inside
	metres  float64   // driven inside since then
	entered bool
	dwelled bool
	out     hold // while entered: outside
	inside  bool // inside at this update
}

// NewGeofence returns a geofence detector.
func NewGeofence(cfg Config) *Geofence { return &Geofence{cfg: cfg} }

// Detect implements Detector.
func (g *Geofence) Detect(in Input, emit func(Emission)) {
	cur := in.Change.Cur
	if !Accepts(g.cfg.GNSS, cur.Position) {
		return
	}
	step, _ := g.odo.see(cur, &g.cfg)
	for i := range g.tracks {
		g.tracks[i].inside = false
	}
	for _, f := range in.Fences {
		if f.Kind == geofence.KindCorridor {
			continue
		}
		t := g.track(f, cur.At)
		t.fence, t.inside = f, true // the latest version of the fence
	}

	kept := g.tracks[:0]
	for _, t := range g.tracks {
		if g.visit(&t, cur.At, step, emit) {
			kept = append(kept, t)
		}
	}
	clear(g.tracks[len(kept):]) // drop the fence pointers
	g.tracks = kept
}

// track returns the visit of f, starting one at now if there is none.
func (g *Geofence) track(f *geofence.Fence, now time.Time) *fenceTrack {
	for i := range g.tracks {
		if g.tracks[i].fence.ID == f.ID {
			return &g.tracks[i]
		}
	}
	g.tracks = append(g.tracks, fenceTrack{fence: f, since: now})
	return &g.tracks[len(g.tracks)-1]
}

// visit moves one visit on by an update at now, step metres after the last
// fix. It reports whether the visit goes on.
func (g *Geofence) visit(t *fenceTrack, now time.Time, step float64, emit func(Emission)) bool {
	cfg := &g.cfg.Geofence
	f := t.fence
	if !t.inside {
		if !t.entered {
			return false
		}
		if held, _ := t.out.see(now, true); held < cfg.ExitAfter {
			return true
		}
		emit(Emission{Type: event.TypeGeofenceExited, At: now, Data: event.GeofenceExitedData{
			GeofenceID: f.ID, GeofenceName: f.Name, Tags: f.Tags, VisitS: seconds(t.out.since.Sub(t.since)),
		}})
		return false
	}

	t.out.reset()
	if now.After(t.since) {
		t.metres += step
	}
	if !t.entered &&
		(cfg.EnterAfter > 0 && now.Sub(t.since) >= cfg.EnterAfter || cfg.EnterDistanceM > 0 && t.metres >= cfg.EnterDistanceM) {
		t.entered = true
		emit(Emission{Type: event.TypeGeofenceEntered, At: now, Data: event.GeofenceEnteredData{
			GeofenceID: f.ID, GeofenceName: f.Name, Tags: f.Tags,
		}})
	}
	if t.entered && !t.dwelled && f.DwellAfter > 0 && now.Sub(t.since) >= f.DwellAfter {
		t.dwelled = true
		emit(Emission{Type: event.TypeGeofenceDwell, At: now, Data: event.GeofenceDwellData{
			GeofenceID: f.ID, GeofenceName: f.Name, Tags: f.Tags, DwellS: seconds(now.Sub(t.since)),
		}})
	}
	return true
}
