package detect

import (
	"time"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

// Router measures how far a point is from a fence, in metres: for a route
// corridor, from its centre line. FenceRouter asks the fence; tests fake it.
type Router interface {
	DistanceM(f *geofence.Fence, lat, lon float64) float64
}

// FenceRouter is the Router that asks the fence itself (Fence.DistanceM).
type FenceRouter struct{}

// DistanceM implements Router.
func (FenceRouter) DistanceM(f *geofence.Fence, lat, lon float64) float64 {
	return f.DistanceM(lat, lon)
}

// Route reports route.deviated and route.rejoined. A route is a corridor
// geofence (geofence.KindCorridor): a line with a buffer.
//
// Rule: the vehicle's route is the corridor it was last inside; until it
// has been inside one, it has no route to leave. It deviates once it has
// been inside no corridor, and at least route.distance_m (100 m) from its
// route's centre line, on every good fix for route.after (30 s); the
// corridor's buffer plus that distance is the slack GNSS noise and a
// parallel lane need. It rejoins once it has been inside a corridor (its
// route or another one, which becomes its route) on every good fix for
// route.rejoin_after (5 s). Fixes that GNSSConfig does not accept are
// skipped: they neither confirm nor interrupt anything. Each deviation is
// reported once, deviated and rejoined.
//
// A vehicle that finishes its route and drives on deviates from it: end
// corridors where the vehicle's trip ends.
type Route struct {
	cfg    Config
	router Router
	route  *geofence.Fence // the corridor the vehicle was last inside

	off      hold // far from the route, not yet for route.after
	deviated bool
	offSince time.Time
	maxM     float64
	back     hold // while deviated: inside a corridor

	fixAt time.Time // the fix distanceM was measured at
	distM float64
}

// NewRoute returns a route detector; a nil router means FenceRouter.
func NewRoute(cfg Config, router Router) *Route {
	if router == nil {
		router = FenceRouter{}
	}
	return &Route{cfg: cfg, router: router}
}

// Detect implements Detector.
func (r *Route) Detect(in Input, emit func(Emission)) {
	cur := in.Change.Cur
	if !Accepts(r.cfg.GNSS, cur.Position) {
		return
	}
	now, cfg := cur.At, &r.cfg.Route
	corridor := r.corridor(in.Fences)

	if r.deviated {
		if corridor == nil {
			r.back.reset()
			r.maxM = max(r.maxM, r.distance(cur.Position))
			return
		}
		if held, _ := r.back.see(now, true); held < cfg.RejoinAfter {
			return
		}
		emit(Emission{Type: event.TypeRouteRejoined, At: now, Data: event.RouteRejoinedData{
			RouteID:      corridor.ID,
			RouteName:    corridor.Name,
			Tags:         corridor.Tags,
			OffRouteS:    seconds(r.back.since.Sub(r.offSince)),
			MaxDistanceM: round(r.maxM, 0),
		}})
		r.deviated = false
		r.back.reset()
	}

	if corridor != nil {
		r.route, r.fixAt = corridor, time.Time{}
		r.off.reset()
		return
	}
	if r.route == nil {
		return
	}
	d := r.distance(cur.Position)
	if !r.off.holding() {
		r.maxM = 0
	}
	held, far := r.off.see(now, d >= cfg.DistanceM)
	if !far {
		return
	}
	r.maxM = max(r.maxM, d)
	if held < cfg.After {
		return
	}
	r.deviated, r.offSince = true, r.off.since
	r.off.reset()
	emit(Emission{Type: event.TypeRouteDeviated, At: now, Data: event.RouteDeviatedData{
		RouteID: r.route.ID, RouteName: r.route.Name, Tags: r.route.Tags, DistanceM: round(d, 0),
	}})
}

// corridor returns the corridor among fences the vehicle follows: its
// route when it is still inside it, else the first one; nil for none.
func (r *Route) corridor(fences []*geofence.Fence) *geofence.Fence {
	var first *geofence.Fence
	for _, f := range fences {
		if f.Kind != geofence.KindCorridor {
			continue
		}
		if r.route != nil && f.ID == r.route.ID {
			return f
		}
		if first == nil {
			first = f
		}
	}
	return first
}

// distance is how far pos is from the route, measured once per fix.
func (r *Route) distance(pos state.Reading[state.Position]) float64 {
	if !pos.At.Equal(r.fixAt) {
		r.fixAt, r.distM = pos.At, r.router.DistanceM(r.route, pos.Value.Lat, pos.Value.Lon)
	}
	return r.distM
}
