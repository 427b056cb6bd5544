package agent

import (
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/edge/gnss"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

func TestPositionReporter(t *testing.T) {
	t0 := time.Date(2010, 4, 11, 16, 57, 44, 0, time.UTC)
	fix := func(s int, lat float64) gnss.Fix {
		return gnss.Fix{Time: t0.Add(time.Duration(s) * time.Second), Lat: lat, Lon: 12.06, Valid: true}
	}
	// 0.001° of latitude is about 111 m.
	steps := []struct {
		fix  gnss.Fix
		want string
	}{
		{fix(0, 49.000), "first"},
		{fix(1, 49.000), ""},
		{fix(5, 49.001), ""},         // 111 m, 5 s
		{fix(9, 49.004), "distance"}, // 445 m from the last report at 0 s
		{fix(12, 49.004), ""},
		{fix(19, 49.004), "interval"}, // 10 s after the distance report
		{fix(20, 49.004), ""},
	}
	p := positionReporter{cfg: PositionConfig{Every: 10 * time.Second, DistanceM: 400}}
	for i, s := range steps {
		if got := p.observe(s.fix); got != s.want {
			t.Fatalf("step %d (t+%s): reason %q, want %q", i, s.fix.Time.Sub(t0), got, s.want)
		}
	}
}

func TestHaversine(t *testing.T) {
	// Regensburg Dom to Munich Frauenkirche: about 104.4 km.
	d := geofence.DistanceM(49.0195, 12.0977, 48.1386, 11.5736)
	if d < 103000 || d > 106000 {
		t.Fatalf("distance %.0f m, want about 104.4 km", d)
	}
}
