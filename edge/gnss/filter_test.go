package gnss

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2010, 4, 11, 17, 0, 0, 0, time.UTC)

// at returns a valid fix s seconds after t0, northkm km north of
// Regensburg.
func at(s float64, northKm float64) Fix {
	return Fix{
		Time:  t0.Add(time.Duration(s * float64(time.Second))),
		Lat:   49 + northKm/111.195, // km per degree of latitude
		Lon:   12.1,
		Valid: true,
	}
}

func TestFilter(t *testing.T) {
	noFix := at(5, 0)
	noFix.Valid = false
	noTime := at(5, 0)
	noTime.Time = time.Time{}

	tests := []struct {
		name  string
		cfg   FilterConfig
		fixes []Fix
		want  []DropReason
	}{{
		name:  "a steady drive is kept",
		fixes: []Fix{at(0, 0), at(1, 0.02), at(2, 0.04)},
		want:  []DropReason{Kept, Kept, Kept},
	}, {
		name:  "no fix and no time",
		fixes: []Fix{noFix, noTime, at(6, 0)},
		want:  []DropReason{DropNoFix, DropNoTime, Kept},
	}, {
		name:  "time going backwards or standing still is dropped, not reordered",
		fixes: []Fix{at(10, 0), at(9, 0), at(10, 0), at(11, 0)},
		want:  []DropReason{Kept, DropBackwards, DropBackwards, Kept},
	}, {
		name:  "one outlier 10 km away is dropped",
		fixes: []Fix{at(0, 0), at(1, 10), at(2, 0.02), at(3, 0.04)},
		want:  []DropReason{Kept, DropJump, Kept, Kept},
	}, {
		// 299 km/h: 0.0830556 km in one second.
		name:  "just below the limit is kept, just above is a jump",
		fixes: []Fix{at(0, 0), at(1, 299.0/3600), at(2, 299.0/3600+301.0/3600)},
		want:  []DropReason{Kept, Kept, DropJump},
	}, {
		name:  "a bad first fix: the two next ones agree, the filter follows them",
		fixes: []Fix{at(0, 10), at(1, 0), at(2, 0.02), at(3, 0.04)},
		want:  []DropReason{Kept, DropJump, Kept, Kept},
	}, {
		name:  "two outliers that disagree are both dropped",
		fixes: []Fix{at(0, 0), at(1, 10), at(2, -10), at(3, 0.02)},
		want:  []DropReason{Kept, DropJump, DropJump, Kept},
	}, {
		name:  "after a long gap a far fix is plausible",
		fixes: []Fix{at(0, 0), at(3600, 100)},
		want:  []DropReason{Kept, Kept},
	}, {
		name:  "a lower speed limit",
		cfg:   FilterConfig{MaxSpeedKph: 50},
		fixes: []Fix{at(0, 0), at(36, 0.4), at(72, 1.0)},
		want:  []DropReason{Kept, Kept, DropJump},
	}, {
		name:  "too old for a live source",
		cfg:   FilterConfig{MaxAge: 5 * time.Second, Now: func() time.Time { return t0.Add(10 * time.Second) }},
		fixes: []Fix{at(4, 0), at(5, 0), at(6, 0)},
		want:  []DropReason{DropTooOld, Kept, Kept},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFilter(tt.cfg)
			var want FilterStats
			for i, fix := range tt.fixes {
				if got := f.Check(fix); got != tt.want[i] {
					t.Errorf("fix %d: Check = %v, want %v", i, got, tt.want[i])
				}
				count(&want, tt.want[i])
			}
			if got := f.Stats(); got != want {
				t.Errorf("Stats = %+v, want %+v", got, want)
			}
		})
	}
}

func count(s *FilterStats, r DropReason) {
	switch r {
	case Kept:
		s.Kept++
	case DropNoFix:
		s.NoFix++
	case DropNoTime:
		s.NoTime++
	case DropTooOld:
		s.TooOld++
	case DropBackwards:
		s.Backwards++
	case DropJump:
		s.Jump++
	}
}

func TestFilterReset(t *testing.T) {
	f := NewFilter(FilterConfig{})
	f.Check(at(10, 0))
	f.Reset()
	if got := f.Check(at(0, 50)); got != Kept {
		t.Errorf("first fix after Reset: %v, want kept", got)
	}
	if got := f.Stats(); got.Kept != 2 {
		t.Errorf("Reset lost the counters: %+v", got)
	}
	if got, want := f.Stats().Dropped(), 0; got != want {
		t.Errorf("Dropped = %d, want %d", got, want)
	}
}

func TestHaversine(t *testing.T) {
	tests := []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		wantKm                 float64
	}{
		{"same point", 49.0, 12.1, 49.0, 12.1, 0},
		{"one degree of latitude", 49, 12, 50, 12, 111.195},
		{"a quarter of the equator", 0, 0, 0, 90, 10007.557},
		{"antipodes", 0, 0, 0, 180, 20015.115},
		{"Regensburg to Munich", 49.0134, 12.1016, 48.1351, 11.5820, 104.88},
	}
	for _, tt := range tests {
		if got := haversineKm(tt.lat1, tt.lon1, tt.lat2, tt.lon2); math.Abs(got-tt.wantKm) > 0.1 {
			t.Errorf("%s: %.3f km, want %.3f", tt.name, got, tt.wantKm)
		}
	}
}

func TestDropReasonString(t *testing.T) {
	for r := Kept; r <= DropJump; r++ {
		if s := r.String(); s == "" || s == "unknown" {
			t.Errorf("DropReason(%d).String() = %q", r, s)
		}
	}
}
