package geofence

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestHaversineHandComputed(t *testing.T) {
	// One degree of latitude is R·π/180 = 6,371,008.8 × 0.0174533 =
	// 111,195.08 m anywhere; one degree of longitude on the equator too.
	tests := []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		want                   float64
	}{
		{"1° of latitude", 48, 11, 49, 11, 111195.08},
		{"1° of longitude on the equator", 0, 0, 0, 1, 111195.08},
		{"quarter meridian", 0, 0, 90, 0, 10007557.2},
		// Munich Marienplatz to Cologne cathedral; reference value from
		// the spherical law of cosines with the same radius, computed
		// separately (Python, float64):
		// acos(sin φ1 sin φ2 + cos φ1 cos φ2 cos Δλ)·R = 456,132.91 m.
		{"Munich to Cologne", 48.1374, 11.5755, 50.9413, 6.9583, 456132.91},
	}
	for _, tt := range tests {
		if got := DistanceM(tt.lat1, tt.lon1, tt.lat2, tt.lon2); math.Abs(got-tt.want) > 0.1 {
			t.Errorf("%s: %.2f m, want %.2f", tt.name, got, tt.want)
		}
	}
}

// TestProjectionAccuracy bounds the error of segDist2's local projection
// against the great-circle distance, for points up to 10 km apart between
// the equator and 60° of latitude: < 0.1 % overall, < 0.01 % within 1 km.
func TestProjectionAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	worst := map[float64]float64{1000: 0, 10000: 0}
	for range 100000 {
		lat, lon := rng.Float64()*60*sign(rng), rng.Float64()*360-180
		maxD := 10000.0
		if rng.IntN(2) == 0 {
			maxD = 1000
		}
		d := maxD * math.Sqrt(rng.Float64())
		θ := rng.Float64() * 2 * math.Pi
		// Destination on the sphere at distance d, bearing θ.
		δ, φ1, λ1 := d/earthRadiusM, lat*degToRad, lon*degToRad
		φ2 := math.Asin(math.Sin(φ1)*math.Cos(δ) + math.Cos(φ1)*math.Sin(δ)*math.Cos(θ))
		λ2 := λ1 + math.Atan2(math.Sin(θ)*math.Sin(δ)*math.Cos(φ1), math.Cos(δ)-math.Sin(φ1)*math.Sin(φ2))
		q := point{λ2 * radToDeg, φ2 * radToDeg}
		p := point{lon, lat}
		got := math.Sqrt(segDist2(p, q, q, lonScale(lat))) * metresPerDegree
		true_ := DistanceM(p.y, p.x, q.y, q.x)
		if true_ < 1 {
			continue
		}
		rel := math.Abs(got-true_) / true_
		worst[maxD] = max(worst[maxD], rel)
	}
	if worst[1000] > 0.0001 || worst[10000] > 0.001 {
		t.Errorf("worst relative error %.5f %% within 1 km, %.5f %% within 10 km", worst[1000]*100, worst[10000]*100)
	}
	t.Logf("worst relative error %.5f %% within 1 km, %.5f %% within 10 km", worst[1000]*100, worst[10000]*100)
}

func sign(rng *rand.Rand) float64 {
	if rng.IntN(2) == 0 {
		return -1
	}
	return 1
}
