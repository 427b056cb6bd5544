package geofence

import (
	"math"
	"testing"
)

// A corridor along the parallel 48° N from 11.0° E to 11.1° E with a 100 m
// buffer. Hand-computed: 1 m north is 1/111,195.08 degrees; one degree of
// longitude at 48° is 111,195.08 × cos 48° = 111,195.08 × 0.6691306 =
// 74,404.03 m, so 1 m east is 1/74,404.03 degrees there.
func TestCorridor(t *testing.T) {
	c, err := newCorridor([]point{{11.0, 48.0}, {11.1, 48.0}}, 100)
	if err != nil {
		t.Fatal(err)
	}
	f := &Fence{ID: "route", Kind: KindCorridor, geom: c}
	const north, east = 1 / 111195.08, 1 / 74404.03 // degrees per metre
	tests := []struct {
		name      string
		lat, lon  float64
		in        bool
		distanceM float64 // to the centre line
	}{
		{"on the line", 48, 11.05, true, 0},
		{"50 m north", 48 + 50*north, 11.05, true, 50},
		{"99 m south", 48 - 99*north, 11.02, true, 99},
		{"101 m south", 48 - 101*north, 11.02, false, 101},
		{"150 m north", 48 + 150*north, 11.05, false, 150},
		{"80 m past the east end", 48, 11.1 + 80*east, true, 80},
		{"120 m before the west end", 48, 11.0 - 120*east, false, 120},
		// Round end cap: 70 m east and 70 m north of the end is
		// 70·√2 = 98.99 m from it, 75 m each way 106.07 m.
		{"cap, 98.99 m", 48 + 70*north, 11.1 + 70*east, true, 98.99},
		{"cap, 106.07 m", 48 + 75*north, 11.1 + 75*east, false, 106.07},
	}
	for _, tt := range tests {
		if got := f.Contains(tt.lat, tt.lon); got != tt.in {
			t.Errorf("%s: Contains %v, want %v", tt.name, got, tt.in)
		}
		// 48 + 75 m north changes cos(lat) by 1.5·10⁻⁵ relative: the
		// hand values hold to a few centimetres.
		if got := f.DistanceM(tt.lat, tt.lon); math.Abs(got-tt.distanceM) > 0.02 {
			t.Errorf("%s: DistanceM %.3f, want %.2f", tt.name, got, tt.distanceM)
		}
	}
}

// TestCorridorBend checks an L-shaped route: the inside of the bend is
// covered by both legs, the outside by the rounded join.
func TestCorridorBend(t *testing.T) {
	const north = 1 / 111195.08
	east := 1 / (111195.08 * math.Cos(48*degToRad))
	// East 0.01° (744 m), then north 0.01° (1,112 m).
	c, err := newCorridor([]point{{11.0, 48.0}, {11.01, 48.0}, {11.01, 48.01}}, 30)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		lat, lon float64
		in       bool
	}{
		{"inside of the bend, 20 m from both legs", 48 + 20*north, 11.01 - 20*east, true},
		{"outside of the bend, 20 m east and south (28.3 m)", 48 - 20*north, 11.01 + 20*east, true},
		{"outside of the bend, 25 m east and south (35.4 m)", 48 - 25*north, 11.01 + 25*east, false},
		{"between the legs, far from both", 48 + 200*north, 11.01 - 200*east, false},
	}
	for _, tt := range tests {
		if got := c.contains(tt.lat, tt.lon); got != tt.in {
			t.Errorf("%s: %v, want %v (%.2f m)", tt.name, got, tt.in, c.distanceM(tt.lat, tt.lon))
		}
	}
	// Every point within the buffer is in the box.
	for deg := 0.0; deg < 360; deg++ {
		for _, v := range []point{{11.0, 48.0}, {11.01, 48.0}, {11.01, 48.01}} {
			q := destination(v, 29.999, deg)
			if !c.box.containsPoint(q.x, q.y) || !c.contains(q.y, q.x) {
				t.Fatalf("point %v, 30 m from vertex %v, outside the box or corridor", q, v)
			}
		}
	}
}
