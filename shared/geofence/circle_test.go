package geofence

import (
	"math"
	"testing"
)

// Hand-computed distances: one degree of latitude is 111,195.08 m, so
// 0.009° is 1,000.76 m and 0.004° is 444.78 m; one degree of longitude at
// 48.1374° is 111,195.08 × cos 48.1374° = 74,205.65 m, so 0.006° is
// 445.23 m and 0.008° 593.65 m (along the parallel; the great circle is
// shorter by micrometres).
func TestCircle(t *testing.T) {
	c, err := newCircle(point{11.5755, 48.1374}, 500)
	if err != nil {
		t.Fatal(err)
	}
	f := &Fence{ID: "marienplatz", Kind: KindCircle, geom: c}
	tests := []struct {
		name      string
		lat, lon  float64
		in        bool
		distanceM float64 // to the rim, 0 inside
	}{
		{"centre", 48.1374, 11.5755, true, 0},
		{"444.78 m north", 48.1414, 11.5755, true, 0},
		{"1,000.76 m north", 48.1464, 11.5755, false, 500.76},
		{"1,000.76 m south", 48.1284, 11.5755, false, 500.76},
		{"0.006° = 445.23 m east", 48.1374, 11.5815, true, 0},
		{"0.008° = 593.65 m east", 48.1374, 11.5835, false, 93.65},
		{"490 m north", 48.1374 + 490/metresPerDegree, 11.5755, true, 0},
		{"510 m north", 48.1374 + 510/metresPerDegree, 11.5755, false, 10},
	}
	for _, tt := range tests {
		if got := f.Contains(tt.lat, tt.lon); got != tt.in {
			t.Errorf("%s: Contains %v, want %v", tt.name, got, tt.in)
		}
		if got := f.DistanceM(tt.lat, tt.lon); math.Abs(got-tt.distanceM) > 0.01 {
			t.Errorf("%s: DistanceM %.3f, want %.2f", tt.name, got, tt.distanceM)
		}
	}
}

// TestCircleBox checks that the box holds the whole cap: points on the
// rim in every direction, at several latitudes, are inside both.
func TestCircleBox(t *testing.T) {
	for _, lat := range []float64{0, 48, -60, 80} {
		for _, r := range []float64{10, 5000, 200000} {
			c, err := newCircle(point{10, lat}, r)
			if err != nil {
				t.Fatal(err)
			}
			for deg := 0.0; deg < 360; deg += 0.5 {
				q := destination(point{10, lat}, r*0.999999, deg)
				if !c.box.containsPoint(q.x, q.y) || !c.contains(q.y, q.x) {
					t.Fatalf("lat %v r %v bearing %v: rim point %v outside box %+v or circle", lat, r, deg, q, c.box)
				}
			}
		}
	}
}

// destination is the point d metres from p at bearing deg on the sphere.
func destination(p point, d, deg float64) point {
	δ, θ := d/earthRadiusM, deg*degToRad
	φ1, λ1 := p.y*degToRad, p.x*degToRad
	φ2 := math.Asin(math.Sin(φ1)*math.Cos(δ) + math.Cos(φ1)*math.Sin(δ)*math.Cos(θ))
	λ2 := λ1 + math.Atan2(math.Sin(θ)*math.Sin(δ)*math.Cos(φ1), math.Cos(δ)-math.Sin(φ1)*math.Sin(φ2))
	return point{λ2 * radToDeg, φ2 * radToDeg}
}
