package gnss

import (
	"errors"
	"math"
	"testing"
	"time"
)

// assemble feeds lines through Parse and an Assembler, skipping the
// sentence types that are not decoded, and returns every fix, the last one
// flushed.
func assemble(t *testing.T, lines ...string) []Fix {
	t.Helper()
	var a Assembler
	var fixes []Fix
	for _, line := range lines {
		s, err := Parse(line)
		if errors.Is(err, ErrUnsupported) {
			continue
		}
		if err != nil {
			t.Fatalf("Parse(%q): %v", line, err)
		}
		if fix, ok := a.Add(s); ok {
			fixes = append(fixes, fix)
		}
	}
	if fix, ok := a.Flush(); ok {
		fixes = append(fixes, fix)
	}
	return fixes
}

// sameFix compares fixes, positions to within 1e-6 degrees and other
// floats to within 1e-9.
func sameFix(got, want Fix) bool {
	near := func(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
	ok := near(got.Lat, want.Lat, 1e-6) && near(got.Lon, want.Lon, 1e-6) &&
		near(got.SpeedKph, want.SpeedKph, 1e-9) && near(got.HeadingDeg, want.HeadingDeg, 1e-9) &&
		near(got.AltitudeM, want.AltitudeM, 1e-9) && near(got.HDOP, want.HDOP, 1e-9)
	got.Lat, got.Lon, got.SpeedKph, got.HeadingDeg, got.AltitudeM, got.HDOP =
		want.Lat, want.Lon, want.SpeedKph, want.HeadingDeg, want.AltitudeM, want.HDOP
	return ok && got == want
}

func TestAssembler(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []Fix
	}{{
		name: "Regensburg epoch at top speed, ended by the next RMC",
		lines: []string{
			"$GPRMC,170806,A,4901.9188,N,01203.5009,E,56.4,255.1,110410,1.6,E,A*2D",
			"$GPRMB,A,,,,,,,,,,,,A,A*0B",
			"$GPGGA,170806,4901.9188,N,01203.5009,E,1,08,1.1,334.3,M,46.6,M,,*49",
			"$GPGSA,A,3,05,08,,15,17,18,,26,27,28,,,2.2,1.1,1.8*36",
			"$GPGSV,3,1,10,05,16,198,42,08,25,074,39,10,00,179,00,15,74,278,52*7B",
			"$GPGSV,3,2,10,17,21,125,42,18,24,310,45,24,00,293,00,26,22,307,43*79",
			"$GPGSV,3,3,10,27,40,275,50,28,52,063,51*70",
			"$GPGLL,4901.9188,N,01203.5009,E,170806,A,A*47",
			"$PGRME,5.0,M,6.5,M,8.2,M*22",
			"$HCHDG,253.8,,,1.6,E*22",
			sentence("GPRMC,170808,A,4901.8838,N,01203.3669,E,55.0,252.3,110410,1.6,E,A"),
		},
		want: []Fix{{
			Time: time.Date(2010, 4, 11, 17, 8, 6, 0, time.UTC),
			Lat:  49.031980, Lon: 12.058348,
			SpeedKph: 56.4 * 1.852, HasSpeed: true,
			HeadingDeg: 255.1, HasHeading: true,
			AltitudeM: 334.3, HasAltitude: true,
			FixQuality: 1, Satellites: 8, HDOP: 1.1, Valid: true,
		}, {
			Time: time.Date(2010, 4, 11, 17, 8, 8, 0, time.UTC),
			Lat:  49.031397, Lon: 12.056115,
			SpeedKph: 55.0 * 1.852, HasSpeed: true,
			HeadingDeg: 252.3, HasHeading: true,
			FixQuality: 1, Valid: true,
		}},
	}, {
		name: "et-332: ZDA first, RMC speed beats VTG, RMC without mode",
		lines: []string{
			"$GPZDA,153347.000,23,04,2010,,*57",
			"$GPGGA,153347.000,3940.6986,N,07544.9356,W,1,09,1.3,75.2,M,-33.8,M,,0000*53",
			"$GPGSA,A,3,26,15,21,27,24,09,18,05,29,,,,1.9,1.3,1.4*33",
			"$GPRMC,153347.000,A,3940.6986,N,07544.9356,W,0.12,87.21,230410,,*29",
			"$GPVTG,87.21,T,,M,0.12,N,0.2,K*5D",
		},
		want: []Fix{{
			Time: time.Date(2010, 4, 23, 15, 33, 47, 0, time.UTC),
			Lat:  39.678310, Lon: -75.748927,
			SpeedKph: 0.12 * 1.852, HasSpeed: true,
			HeadingDeg: 87.21, HasHeading: true,
			AltitudeM: 75.2, HasAltitude: true,
			FixQuality: 1, Satellites: 9, HDOP: 1.3, Valid: true,
		}},
	}, {
		name: "GGA and VTG only: speed and heading from VTG, date from the earlier RMC",
		lines: []string{
			sentence("GPRMC,100000,A,4901.0000,N,01203.0000,E,10.0,90.0,110410,,,A"),
			sentence("GPGGA,100001,4901.0000,N,01203.0100,E,1,07,0.9,300.0,M,46.6,M,,"),
			sentence("GPVTG,91.5,T,,M,10.2,N,18.9,K,A"),
			sentence("GPGSA,A,3,05,08,,15,17,18,,26,27,28,,,2.2,1.9,1.8"),
		},
		want: []Fix{{
			Time: time.Date(2010, 4, 11, 10, 0, 0, 0, time.UTC),
			Lat:  49.016667, Lon: 12.05,
			SpeedKph: 18.52, HasSpeed: true,
			HeadingDeg: 90, HasHeading: true,
			FixQuality: 1, Valid: true,
		}, {
			Time: time.Date(2010, 4, 11, 10, 0, 1, 0, time.UTC),
			Lat:  49.016667, Lon: 12.050167,
			SpeedKph: 18.9, HasSpeed: true,
			HeadingDeg: 91.5, HasHeading: true,
			AltitudeM: 300, HasAltitude: true,
			FixQuality: 1, Satellites: 7, HDOP: 0.9, Valid: true,
		}},
	}, {
		name: "Switzerland: RMC and GSA only, HDOP from the GSA, dead reckoning",
		lines: []string{
			sentence("GPRMC,114418.000,A,4707.4708,N,00734.8937,E,53.03,194.48,030410,,,E"),
			sentence("GPGSA,A,3,04,17,13,23,20,07,32,,,,,,2.5,1.6,1.9"),
		},
		want: []Fix{{
			Time: time.Date(2010, 4, 3, 11, 44, 18, 0, time.UTC),
			Lat:  47.124513, Lon: 7.581562,
			SpeedKph: 53.03 * 1.852, HasSpeed: true,
			HeadingDeg: 194.48, HasHeading: true,
			FixQuality: 6, HDOP: 1.6, Valid: true,
		}},
	}, {
		name: "bt451 no-fix epochs without any time: one fix per repeated RMC",
		lines: []string{
			"$GPRMC,,V,,,,,,,,,,N*53",
			"$GPVTG,,,,,,,,,N*30",
			"$GPGGA,,,,,,0,00,99.99,,,,,,*48",
			"$GPGSA,A,1,,,,,,,,,,,,,99.99,99.99,99.99*30",
			"$GPGSV,1,1,00*79",
			"$GPGLL,,,,,,V,N*64",
			"$GPZDA,,,,,00,00*48",
			"$GPRMC,,V,,,,,,,,,,N*53",
			"$GPGGA,,,,,,0,00,99.99,,,,,,*48",
		},
		want: []Fix{{HDOP: 99.99}, {HDOP: 99.99}},
	}, {
		name: "ch-4711 losing lock: RMC V with a position, GGA quality 0",
		lines: []string{
			"$GPGGA,135658.997,5543.0326,N,03724.7205,E,0,,,165.6,M,14.6,M,,*7D",
			"$GPRMC,135658.997,V,5543.0326,N,03724.7205,E,00.79,159.0,051209,,,N*73",
		},
		want: []Fix{{
			Time: time.Date(2009, 12, 5, 13, 56, 58, 997e6, time.UTC),
			Lat:  55.717210, Lon: 37.412008,
			SpeedKph: 0.79 * 1.852, HasSpeed: true,
			HeadingDeg: 159, HasHeading: true,
			AltitudeM: 165.6, HasAltitude: true,
		}},
	}, {
		name: "RMC V but GGA with a fix: valid, position from the GGA",
		lines: []string{
			sentence("GPRMC,120000,V,4800.0000,N,01100.0000,E,,,010409,,,N"),
			sentence("GPGGA,120000,4800.0060,N,01100.0000,E,2,05,1.2,500.0,M,46.3,M,,"),
		},
		want: []Fix{{
			Time: time.Date(2009, 4, 1, 12, 0, 0, 0, time.UTC),
			Lat:  48.0001, Lon: 11,
			AltitudeM: 500, HasAltitude: true,
			FixQuality: 2, Satellites: 5, HDOP: 1.2, Valid: true,
		}},
	}, {
		name: "bt451: an epoch of GLL and ZDA alone",
		lines: []string{
			"$GPGLL,5547.82107,N,02334.14132,E,152504.50,A,A*67",
			"$GPZDA,152504.50,09,12,2009,00,00*65",
		},
		want: []Fix{{
			Time: time.Date(2009, 12, 9, 15, 25, 4, 5e8, time.UTC),
			Lat:  55.797018, Lon: 23.569022,
			FixQuality: 1, Valid: true,
		}},
	}, {
		name: "telit: position per constellation, satellites from the combined GNS",
		lines: []string{
			"$GPGGA,043539.00,4333.190206,N,00127.618380,E,1,05,1.3,250.8,M,50.0,M,,*62",
			"$GAGGA,043539.00,4333.190206,N,00127.618380,E,1,01,1.3,250.8,M,50.0,M,,*77",
			"$GNGNS,043539.00,4333.190206,N,00127.618380,E,AAAAN,14,1.3,250.8,50.0,,,V*62",
			"$GPVTG,,T,1.7,M,0.0,N,0.0,K,A*0B",
			"$GAVTG,,T,1.7,M,0.0,N,0.0,K,A*1A",
			"$GPRMC,043539.00,A,4333.190206,N,00127.618380,E,0.0,,040925,1.7,W,A,V*7C",
			"$GARMC,043539.00,A,4333.190206,N,00127.618380,E,0.0,,040925,1.7,W,A,V*6D",
			"$GNGSA,A,2,02,08,10,23,27,,,,,,,,1.6,1.3,0.9,1*33",
			"$GNGSA,A,2,65,66,73,81,82,,,,,,,,1.6,1.3,0.9,2*3B",
		},
		want: []Fix{{
			Time: time.Date(2025, 9, 4, 4, 35, 39, 0, time.UTC),
			Lat:  43.553170, Lon: 1.460306,
			HasSpeed:  true,
			AltitudeM: 250.8, HasAltitude: true,
			FixQuality: 1, Satellites: 14, HDOP: 1.3, Valid: true,
		}},
	}, {
		name: "midnight without a date: the day moves on",
		lines: []string{
			sentence("GPRMC,235959,A,4800.0000,N,01100.0000,E,0.0,360.0,311224,,,A"),
			sentence("GPGGA,000000,4800.0000,N,01100.0000,E,1,05,1.2,500.0,M,46.3,M,,"),
			sentence("GPGGA,000001,4800.0000,N,01100.0000,E,1,05,1.2,500.0,M,46.3,M,,"),
		},
		want: []Fix{{
			Time: time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC),
			Lat:  48, Lon: 11,
			HasSpeed:   true,
			HeadingDeg: 0, HasHeading: true, // 360 reads as 0
			FixQuality: 1, Valid: true,
		}, {
			Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			Lat:  48, Lon: 11, AltitudeM: 500, HasAltitude: true,
			FixQuality: 1, Satellites: 5, HDOP: 1.2, Valid: true,
		}, {
			Time: time.Date(2025, 1, 1, 0, 0, 1, 0, time.UTC),
			Lat:  48, Lon: 11, AltitudeM: 500, HasAltitude: true,
			FixQuality: 1, Satellites: 5, HDOP: 1.2, Valid: true,
		}},
	}, {
		name: "munich clock stepping back: passed on as it is",
		lines: []string{
			"$GPRMC,124342.00,A,4810.5333,N,01133.9702,E,020.4,205.1,010409,002.0,E,A*3E",
			"$GPRMC,124341.00,A,4810.5275,N,01133.9667,E,021.9,198.8,010409,002.0,E,A*3E",
			sentence("GPGGA,124341.00,4810.5275,N,01133.9667,E,1,05,02.8,00485.2,M,0046.3,M,,"),
		},
		want: []Fix{{
			Time: time.Date(2009, 4, 1, 12, 43, 42, 0, time.UTC),
			Lat:  48.175555, Lon: 11.566170,
			SpeedKph: 20.4 * 1.852, HasSpeed: true,
			HeadingDeg: 205.1, HasHeading: true,
			FixQuality: 1, Valid: true,
		}, {
			Time: time.Date(2009, 4, 1, 12, 43, 41, 0, time.UTC),
			Lat:  48.175458, Lon: 11.566112,
			SpeedKph: 21.9 * 1.852, HasSpeed: true,
			HeadingDeg: 198.8, HasHeading: true,
			AltitudeM: 485.2, HasAltitude: true,
			FixQuality: 1, Satellites: 5, HDOP: 2.8, Valid: true,
		}},
	}, {
		name: "the same RMC twice: two epochs with the same time",
		lines: []string{
			"$GPRMC,124022.00,A,4810.8509,N,01133.9095,E,008.5,171.1,010409,002.0,E,A*3B",
			"$GPRMC,124022.00,A,4810.8509,N,01133.9095,E,008.5,171.1,010409,002.0,E,A*3B",
		},
		want: []Fix{{
			Time: time.Date(2009, 4, 1, 12, 40, 22, 0, time.UTC),
			Lat:  48.180848, Lon: 11.565158,
			SpeedKph: 8.5 * 1.852, HasSpeed: true, HeadingDeg: 171.1, HasHeading: true,
			FixQuality: 1, Valid: true,
		}, {
			Time: time.Date(2009, 4, 1, 12, 40, 22, 0, time.UTC),
			Lat:  48.180848, Lon: 11.565158,
			SpeedKph: 8.5 * 1.852, HasSpeed: true, HeadingDeg: 171.1, HasHeading: true,
			FixQuality: 1, Valid: true,
		}},
	}, {
		name: "GGA before any date: no time",
		lines: []string{
			"$GPGGA,000343.03,4808.9993,N,01135.0798,E,1,04,01.4,00460.0,M,0046.2,M,,*56",
		},
		want: []Fix{{
			Lat: 48.149988, Lon: 11.584663,
			AltitudeM: 460, HasAltitude: true,
			FixQuality: 1, Satellites: 4, HDOP: 1.4, Valid: true,
		}},
	}, {
		name:  "satellites in view alone make no fix",
		lines: []string{"$GPGSV,1,1,00*79"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := assemble(t, tt.lines...)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d fixes, want %d:\n%+v", len(got), len(tt.want), got)
			}
			for i := range got {
				if !sameFix(got[i], tt.want[i]) {
					t.Errorf("fix %d =\n%+v\nwant\n%+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestAssemblerFlushEmpty(t *testing.T) {
	var a Assembler
	if fix, ok := a.Flush(); ok {
		t.Errorf("Flush of a new Assembler = %+v, true", fix)
	}
	s, _ := Parse("$GPRMC,124022.00,A,4810.8509,N,01133.9095,E,008.5,171.1,010409,002.0,E,A*3B")
	a.Add(s)
	if _, ok := a.Flush(); !ok {
		t.Fatal("Flush after an RMC returned nothing")
	}
	if fix, ok := a.Flush(); ok {
		t.Errorf("second Flush = %+v, true", fix)
	}
}
