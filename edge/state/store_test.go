package state

import (
	"testing"
	"time"
)

var t0 = time.Date(2024, 9, 7, 7, 43, 19, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func newStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSpeedPrefersBusAndNamesSource(t *testing.T) {
	s := newStore(t, Config{})
	s.SetFix(at(0), Position{Lat: 49, Lon: 12}, 50, true)
	if r, ok := s.Current().Speed(); !ok || r.Value != 50 || r.Source != SourceGNSS {
		t.Fatalf("GNSS only: %+v %v", r, ok)
	}
	s.SetSignal(at(1), SignalSpeed, 48, SourceOBD)
	if r, ok := s.Current().Speed(); !ok || r.Value != 48 || r.Source != SourceOBD {
		t.Fatalf("bus speed not preferred: %+v %v", r, ok)
	}
	// The bus goes silent for longer than its 5 s max age; GNSS continues.
	s.SetFix(at(7), Position{Lat: 49, Lon: 12}, 52, true)
	if r, ok := s.Current().Speed(); !ok || r.Value != 52 || r.Source != SourceGNSS {
		t.Fatalf("stale bus speed reused: %+v %v", r, ok)
	}
	if _, ok := s.Current().Value(SignalSpeed); ok {
		t.Fatal("stale bus speed reported as valid")
	}
}

func TestStaleNeverReused(t *testing.T) {
	s := newStore(t, Config{MaxAge: map[Signal]time.Duration{SignalCoolant: 2 * time.Second}})
	s.SetSignal(at(0), SignalCoolant, 90, SourceOBD)
	if v, ok := s.Current().Value(SignalCoolant); !ok || v != 90 {
		t.Fatalf("fresh coolant = %v %v", v, ok)
	}
	c := s.Tick(at(3))
	if _, ok := c.Cur.Value(SignalCoolant); ok {
		t.Fatal("coolant still valid 3 s after its last reading with a 2 s max age")
	}
	if _, ok := c.Prev.Value(SignalCoolant); !ok {
		t.Fatal("the previous snapshot changed: snapshots must be values")
	}
}

func TestIgnition(t *testing.T) {
	cases := []struct {
		name  string
		cfg   Config
		steps func(*Store) Change
		want  bool
		known bool
	}{
		{"rpm unknown", Config{}, func(s *Store) Change { return s.Tick(at(0)) }, false, false},
		{"rpm idle", Config{}, func(s *Store) Change { return s.SetSignal(at(0), SignalRPM, 780, SourceOBD) }, true, true},
		{"rpm zero", Config{}, func(s *Store) Change { return s.SetSignal(at(0), SignalRPM, 0, SourceOBD) }, false, true},
		{"rpm bus silent", Config{}, func(s *Store) Change {
			s.SetSignal(at(0), SignalRPM, 780, SourceOBD)
			return s.Tick(at(10))
		}, false, true},
		{"voltage charging", Config{Ignition: IgnitionVoltage}, func(s *Store) Change { return s.SetSignal(at(0), SignalBattery, 14.1, SourceOBD) }, true, true},
		{"voltage resting", Config{Ignition: IgnitionVoltage}, func(s *Store) Change { return s.SetSignal(at(0), SignalBattery, 12.4, SourceOBD) }, false, true},
		{"input", Config{Ignition: IgnitionInput}, func(s *Store) Change { return s.SetIgnition(at(0), true) }, true, true},
		{"input ignores rpm", Config{Ignition: IgnitionInput}, func(s *Store) Change { return s.SetSignal(at(0), SignalRPM, 800, SourceOBD) }, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch := c.steps(newStore(t, c.cfg))
			ig := ch.Cur.Ignition
			if ig.Valid() != c.known || (c.known && ig.Value != c.want) {
				t.Fatalf("ignition %+v, want known=%v on=%v", ig, c.known, c.want)
			}
		})
	}
}

func TestDTCSet(t *testing.T) {
	s := newStore(t, Config{})
	s.SetDTCs(at(0), []string{"P0420", "P0301", "P0301"}, SourceOBD)
	cur := s.Current()
	if len(cur.DTCs.Value) != 2 || !cur.HasDTC("P0301") || cur.HasDTC("P0171") {
		t.Fatalf("DTCs %v", cur.DTCs.Value)
	}
}

func TestTimeNeverGoesBack(t *testing.T) {
	s := newStore(t, Config{})
	s.SetSignal(at(10), SignalRPM, 800, SourceOBD)
	c := s.SetSignal(at(5), SignalCoolant, 80, SourceOBD) // a late reading
	if !c.Cur.At.Equal(at(10)) {
		t.Fatalf("snapshot time went back to %s", c.Cur.At)
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := New(Config{Ignition: "key"}); err == nil {
		t.Fatal("unknown ignition mode accepted")
	}
	if _, err := New(Config{MaxAge: map[Signal]time.Duration{SignalRPM: -1}}); err == nil {
		t.Fatal("negative max age accepted")
	}
}

func TestParseSignal(t *testing.T) {
	for s := SignalInvalid + 1; s < signalCount; s++ {
		got, ok := ParseSignal(s.String())
		if !ok || got != s {
			t.Fatalf("ParseSignal(%q) = %v, %v", s, got, ok)
		}
	}
}
