package gnss

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// tod builds a time of day.
func tod(h, m, s int, frac time.Duration) Opt[TimeOfDay] {
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second + frac
	return some(TimeOfDay(d))
}

func date(y int, m time.Month, d int) Opt[Date] { return some(Date{y, m, d}) }

func pos(lat, lon float64) Opt[LatLon] { return some(LatLon{lat, lon}) }

// sentence adds the checksum to a sentence body: sentence("GPRMC,…").
func sentence(body string) string {
	return fmt.Sprintf("$%s*%02X", body, checksum(body))
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Sentence
	}{{
		name: "Regensburg RMC at top speed",
		line: "$GPRMC,170806,A,4901.9188,N,01203.5009,E,56.4,255.1,110410,1.6,E,A*2D\r\n",
		want: RMC{
			Header:     Header{"GP", "RMC"},
			Time:       tod(17, 8, 6, 0),
			Status:     'A',
			Position:   pos(49.031980, 12.058348),
			SpeedKnots: some(56.4),
			CourseDeg:  some(255.1),
			Date:       date(2010, time.April, 11),
			Mode:       'A',
		},
	}, {
		name: "Regensburg GGA of the same epoch",
		line: "$GPGGA,170806,4901.9188,N,01203.5009,E,1,08,1.1,334.3,M,46.6,M,,*49",
		want: GGA{
			Header:     Header{"GP", "GGA"},
			Time:       tod(17, 8, 6, 0),
			Position:   pos(49.031980, 12.058348),
			Quality:    1,
			Satellites: some(8),
			HDOP:       some(1.1),
			AltitudeM:  some(334.3),
			GeoidSepM:  some(46.6),
		},
	}, {
		name: "Regensburg RMC during a fix loss: no time",
		line: "$GPRMC,,V,,,,,,,110410,1.6,E,N*3A",
		want: RMC{
			Header: Header{"GP", "RMC"},
			Status: 'V',
			Date:   date(2010, time.April, 11),
			Mode:   'N',
		},
	}, {
		name: "bt451 RMC without a fix, nothing but status and mode",
		line: "$GPRMC,,V,,,,,,,,,,N*53",
		want: RMC{Header: Header{"GP", "RMC"}, Status: 'V', Mode: 'N'},
	}, {
		name: "bt451 RMC with an empty course",
		line: "$GPRMC,152505.00,A,5547.82113,N,02334.14130,E,0.253,,091209,,,A*7A",
		want: RMC{
			Header:     Header{"GP", "RMC"},
			Time:       tod(15, 25, 5, 0),
			Status:     'A',
			Position:   pos(55.797019, 23.569022),
			SpeedKnots: some(0.253),
			Date:       date(2009, time.December, 9),
			Mode:       'A',
		},
	}, {
		name: "et-332 RMC in the western hemisphere, NMEA 2.0 without mode",
		line: "$GPRMC,153347.000,A,3940.6986,N,07544.9356,W,0.12,87.21,230410,,*29",
		want: RMC{
			Header:     Header{"GP", "RMC"},
			Time:       tod(15, 33, 47, 0),
			Status:     'A',
			Position:   pos(39.678310, -75.748927),
			SpeedKnots: some(0.12),
			CourseDeg:  some(87.21),
			Date:       date(2010, time.April, 23),
		},
	}, {
		name: "nl2008u GNRMC with the NMEA 4.1 navigational status",
		line: "$GNRMC,091232.000,A,4813.0535,N,00824.8697,E,0.00,0.00,101015,,,A,V*06",
		want: RMC{
			Header:     Header{"GN", "RMC"},
			Time:       tod(9, 12, 32, 0),
			Status:     'A',
			Position:   pos(48.217558, 8.414495),
			SpeedKnots: some(0.0),
			CourseDeg:  some(0.0),
			Date:       date(2015, time.October, 10),
			Mode:       'A',
			NavStatus:  'V',
		},
	}, {
		name: "beidou line 81: a space before the '$', CRLF",
		line: " $GNRMC,074157.799,A,3114.8902,N,12135.2443,E,0.32,4.94,250215,,,A*7F\r\n",
		want: RMC{
			Header:     Header{"GN", "RMC"},
			Time:       tod(7, 41, 57, 799*time.Millisecond),
			Status:     'A',
			Position:   pos(31.248170, 121.587405),
			SpeedKnots: some(0.32),
			CourseDeg:  some(4.94),
			Date:       date(2015, time.February, 25),
			Mode:       'A',
		},
	}, {
		name: "Switzerland: a NUL byte before the sentence, lower-case checksum",
		line: "\x00$GPRMC,114418.000,A,4707.4708,N,00734.8937,E,53.03,194.48,030410,,,E*5a",
		want: RMC{
			Header:     Header{"GP", "RMC"},
			Time:       tod(11, 44, 18, 0),
			Status:     'A',
			Position:   pos(47.124513, 7.581562),
			SpeedKnots: some(53.03),
			CourseDeg:  some(194.48),
			Date:       date(2010, time.April, 3),
			Mode:       'E',
		},
	}, {
		name: "ch-4711 GGA after losing lock: quality 0, no satellite count",
		line: "$GPGGA,135658.997,5543.0326,N,03724.7205,E,0,,,165.6,M,14.6,M,,*7D",
		want: GGA{
			Header:    Header{"GP", "GGA"},
			Time:      tod(13, 56, 58, 997*time.Millisecond),
			Position:  pos(55.717210, 37.412008),
			AltitudeM: some(165.6),
			GeoidSepM: some(14.6),
		},
	}, {
		name: "munich GGA with a negative altitude",
		line: "$GPGGA,124022.00,4810.8509,N,01133.9095,E,1,04,23.9,-0704.5,M,0046.3,M,,*41",
		want: GGA{
			Header:     Header{"GP", "GGA"},
			Time:       tod(12, 40, 22, 0),
			Position:   pos(48.180848, 11.565158),
			Quality:    1,
			Satellites: some(4),
			HDOP:       some(23.9),
			AltitudeM:  some(-704.5),
			GeoidSepM:  some(46.3),
		},
	}, {
		name: "munich GGA whose receiver sent HDOP as 0NaN",
		line: "$GPGGA,130849.00,4810.6734,N,01134.4500,E,1,03,0NaN,00524.3,M,0046.3,M,,*1B",
		want: GGA{
			Header:     Header{"GP", "GGA"},
			Time:       tod(13, 8, 49, 0),
			Position:   pos(48.177890, 11.574167),
			Quality:    1,
			Satellites: some(3),
			AltitudeM:  some(524.3),
			GeoidSepM:  some(46.3),
		},
	}, {
		name: "ublox DGPS GGA in the western hemisphere",
		line: "$GNGGA,223745.00,3806.62964,N,12237.61382,W,2,12,0.54,83.1,M,-29.5,M,,0000*44",
		want: GGA{
			Header:     Header{"GN", "GGA"},
			Time:       tod(22, 37, 45, 0),
			Position:   pos(38.110494, -122.626897),
			Quality:    2,
			Satellites: some(12),
			HDOP:       some(0.54),
			AltitudeM:  some(83.1),
			GeoidSepM:  some(-29.5),
		},
	}, {
		name: "bt451 VTG while driving",
		line: "$GPVTG,221.16,T,,M,30.324,N,56.191,K,A*37",
		want: VTG{
			Header:        Header{"GP", "VTG"},
			CourseTrueDeg: some(221.16),
			SpeedKnots:    some(30.324),
			SpeedKph:      some(56.191),
			Mode:          'A',
		},
	}, {
		name: "nl2008u GSA with the NMEA 4.1 system ID",
		line: "$GNGSA,A,3,18,21,26,27,16,20,22,29,,,,,1.3,0.7,1.1,1*31",
		want: GSA{
			Header:    Header{"GN", "GSA"},
			Selection: 'A',
			FixType:   3,
			PRNs:      []int{18, 21, 26, 27, 16, 20, 22, 29},
			PDOP:      some(1.3),
			HDOP:      some(0.7),
			VDOP:      some(1.1),
			SystemID:  some(1),
		},
	}, {
		name: "beidou BDGSA with a DOP where the system ID belongs",
		line: "$BDGSA,A,3,02,03,04,,,,,,,,,,5.1,1.3,4.9,3.3*2F",
		want: GSA{
			Header:    Header{"BD", "GSA"},
			Selection: 'A',
			FixType:   3,
			PRNs:      []int{2, 3, 4},
			PDOP:      some(5.1),
			HDOP:      some(1.3),
			VDOP:      some(4.9),
		},
	}, {
		name: "telit GNS: one mode letter per constellation, 4.1 status",
		line: "$GNGNS,043539.00,4333.190206,N,00127.618380,E,AAAAN,14,1.3,250.8,50.0,,,V*62",
		want: GNS{
			Header:     Header{"GN", "GNS"},
			Time:       tod(4, 35, 39, 0),
			Position:   pos(43.553170, 1.460306),
			Mode:       "AAAAN",
			Satellites: some(14),
			HDOP:       some(1.3),
			AltitudeM:  some(250.8),
			GeoidSepM:  some(50.0),
			NavStatus:  'V',
		},
	}, {
		name: "nl2008u GSV with the NMEA 4.1 signal ID",
		line: "$GPGSV,3,1,12,07,06,336,17,08,05,281,25,10,51,291,39,16,70,279,37,0*69",
		want: GSV{
			Header:   Header{"GP", "GSV"},
			Messages: 3, Message: 1, InView: 12,
			Satellites: []SatInView{
				{7, some(6), some(336), some(17)},
				{8, some(5), some(281), some(25)},
				{10, some(51), some(291), some(39)},
				{16, some(70), some(279), some(37)},
			},
			SignalID: some(0),
		},
	}, {
		name: "bt451 GSV with satellites of unknown position",
		line: "$GPGSV,2,2,07,22,,,40,11,57,277,40,14,51,083,38*7F",
		want: GSV{
			Header:   Header{"GP", "GSV"},
			Messages: 2, Message: 2, InView: 7,
			Satellites: []SatInView{
				{22, Opt[int]{}, Opt[int]{}, some(40)},
				{11, some(57), some(277), some(40)},
				{14, some(51), some(83), some(38)},
			},
		},
	}, {
		name: "triton GSV with an empty last slot",
		line: "$GPGSV,3,3,11,20,09,138,36,13,04,183,51,32,03,113,44,,,,*44",
		want: GSV{
			Header:   Header{"GP", "GSV"},
			Messages: 3, Message: 3, InView: 11,
			Satellites: []SatInView{
				{20, some(9), some(138), some(36)},
				{13, some(4), some(183), some(51)},
				{32, some(3), some(113), some(44)},
			},
		},
	}, {
		name: "bt451 GSV with no satellites at all",
		line: "$GPGSV,1,1,00*79",
		want: GSV{Header: Header{"GP", "GSV"}, Messages: 1, Message: 1},
	}, {
		name: "triton GLL with a three-decimal time",
		line: "$GPGLL,2638.1726,N,08011.3892,W,030129.000,A,A*47",
		want: GLL{
			Header:   Header{"GP", "GLL"},
			Position: pos(26.636210, -80.189820),
			Time:     tod(3, 1, 29, 0),
			Status:   'A',
			Mode:     'A',
		},
	}, {
		name: "ublox ZDA",
		line: "$GNZDA,223745.00,11,07,2020,00,00*7A",
		want: ZDA{
			Header: Header{"GN", "ZDA"},
			Time:   tod(22, 37, 45, 0),
			Date:   date(2020, time.July, 11),
		},
	}, {
		name: "bt451 ZDA before the first fix",
		line: "$GPZDA,,,,,00,00*48",
		want: ZDA{Header: Header{"GP", "ZDA"}},
	}, {
		name: "leap second, southern hemisphere, GPS week rollover year",
		line: sentence("GPRMC,235960.5,A,3351.5,S,15112.5,E,0,360,311299,,,D"),
		want: RMC{
			Header:     Header{"GP", "RMC"},
			Time:       tod(23, 59, 60, 500*time.Millisecond),
			Status:     'A',
			Position:   pos(-33.858333, 151.208333),
			SpeedKnots: some(0.0),
			CourseDeg:  some(360.0),
			Date:       date(1999, time.December, 31),
			Mode:       'D',
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.line)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !sameSentence(got, tt.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// sameSentence compares two sentences, positions to within 1e-6 degrees.
func sameSentence(got, want Sentence) bool {
	g := reflect.New(reflect.TypeOf(got)).Elem()
	g.Set(reflect.ValueOf(got))
	if f := g.FieldByName("Position"); f.IsValid() {
		gp := f.Interface().(Opt[LatLon])
		wp := reflect.ValueOf(want).FieldByName("Position").Interface().(Opt[LatLon])
		if gp.OK && wp.OK && math.Abs(gp.V.Lat-wp.V.Lat) <= 1e-6 && math.Abs(gp.V.Lon-wp.V.Lon) <= 1e-6 {
			f.Set(reflect.ValueOf(wp))
		}
	}
	return reflect.DeepEqual(g.Interface(), want)
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    error
		message string // part of the error message naming the problem
	}{
		{"empty line", "\r\n", ErrMalformed, "empty line"},
		{"et-332 signal listing", "+ 6: 28 (.....)", ErrMalformed, "does not start with '$'"},
		{"triton GGA cut off after its time", "$GPGGA,030130", ErrMalformed, "missing checksum"},
		{"gp-320fw RMC cut off in NUL bytes", "$GPRMC,000346.03,A,4808\x00\x00\x00\x00      \r\n", ErrMalformed, "missing checksum"},
		{"gp-320fw restart marker", "$PLCS,REV,PLN012054S07,070312,145743", ErrMalformed, "missing checksum"},
		{"firefly GGA as the receiver sent it", "$GPGGA,005947.00,3715.6616,N,12157.6709,W,,11,0.8,86.0,M,-30.1,M,,*54", ErrChecksum, "computed 56, sentence says 54"},
		{"gp-320fw spliced RMC", "$GPRMC,000344.03,A,4808.9992,N,4,02.3*05", ErrChecksum, "computed 60"},
		{"et-332 GSA with escape sequences in its checksum", "$GPGSA,A,3,26,15,21,27,24,09,18,05,29,,,,1.9,1.3,1.4*3\x1b[H\x1b[J3", ErrChecksum, "not two hex digits"},
		{"gp-320fw checksum followed by a fragment", "$GPGSA,A,1,,,,,,,,,,,,,,,*1E0,*4E", ErrChecksum, "not two hex digits"},
		{"gp-320fw GSV with a valid checksum but a torn group", "$GPGSV,3,3,12,2,40,16,00,090,*72", ErrMalformed, "groups of four"},
		{"Garmin proprietary", "$PGRME,5.5,M,7.0,M,8.9,M*28", ErrUnsupported, "PGRME"},
		{"SiRF proprietary with digits", "$PSRF151,3,1577,55936,0x3D92CBF7*6D", ErrUnsupported, "PSRF151"},
		{"u-blox text", "$GPTXT,01,01,02,u-blox ag - www.u-blox.com*50", ErrUnsupported, "GPTXT"},
		{"compass heading, talker HC", "$HCHDG,212.6,,,1.6,E*29", ErrUnsupported, "HCHDG"},
		{"address too short", sentence("GP,00,0.0,,M,,M,,"), ErrMalformed, "address"},
		{"lower-case address", sentence("gprmc,170806,A,4901.9188,N,01203.5009,E,56.4,255.1,110410,,,A"), ErrMalformed, "address"},
		{"control character", sentence("GPRMC,170806,A,4901.9188,N,01203.5009,E,56.4,255.1,110410,,,\x01"), ErrMalformed, "invalid character"},
		{"too few fields", sentence("GPRMC,170806,A,4901.9188,N"), ErrMalformed, "RMC has 4 fields, want at least 9"},
		{"hour 25", sentence("GPRMC,250806,A,4901.9188,N,01203.5009,E,56.4,255.1,110410,,,A"), ErrMalformed, "RMC field 1 (time)"},
		{"time with letters", sentence("GPRMC,17O806,A,4901.9188,N,01203.5009,E,56.4,255.1,110410,,,A"), ErrMalformed, "RMC field 1 (time)"},
		{"unknown status", sentence("GPRMC,170806,X,4901.9188,N,01203.5009,E,56.4,255.1,110410,,,A"), ErrMalformed, "RMC field 2 (status)"},
		{"61 minutes of latitude", sentence("GPRMC,170806,A,4961.0000,N,01203.5009,E,56.4,255.1,110410,,,A"), ErrMalformed, "RMC field 3 (latitude)"},
		{"latitude beyond the pole", sentence("GPRMC,170806,A,9100.0000,N,01203.5009,E,56.4,255.1,110410,,,A"), ErrMalformed, "RMC field 3 (latitude)"},
		{"negative latitude", sentence("GPRMC,170806,A,-4901.9188,N,01203.5009,E,56.4,255.1,110410,,,A"), ErrMalformed, "RMC field 3 (latitude)"},
		{"hemisphere missing", sentence("GPRMC,170806,A,4901.9188,,01203.5009,E,56.4,255.1,110410,,,A"), ErrMalformed, "RMC field 4 (latitude hemisphere)"},
		{"longitude missing", sentence("GPRMC,170806,A,4901.9188,N,,,56.4,255.1,110410,,,A"), ErrMalformed, "position"},
		{"NaN speed", sentence("GPRMC,170806,A,4901.9188,N,01203.5009,E,NaN,255.1,110410,,,A"), ErrMalformed, "RMC field 7 (speed)"},
		{"speed with an exponent", sentence("GPRMC,170806,A,4901.9188,N,01203.5009,E,1e3,255.1,110410,,,A"), ErrMalformed, "RMC field 7 (speed)"},
		{"negative speed", sentence("GPRMC,170806,A,4901.9188,N,01203.5009,E,-5,255.1,110410,,,A"), ErrMalformed, "RMC field 7 (speed)"},
		{"course beyond 360", sentence("GPRMC,170806,A,4901.9188,N,01203.5009,E,56.4,361,110410,,,A"), ErrMalformed, "RMC field 8 (course)"},
		{"30 February", sentence("GPRMC,170806,A,4901.9188,N,01203.5009,E,56.4,255.1,300210,,,A"), ErrMalformed, "RMC field 9 (date)"},
		{"GGA quality 12", sentence("GPGGA,170806,4901.9188,N,01203.5009,E,12,08,1.1,334.3,M,46.6,M,,"), ErrMalformed, "GGA field 6 (quality)"},
		{"altitude in feet", sentence("GPGGA,170806,4901.9188,N,01203.5009,E,1,08,1.1,334.3,F,46.6,M,,"), ErrMalformed, "GGA field 10 (unit)"},
		{"GSV message 4 of 3", sentence("GPGSV,3,4,12,07,06,336,17"), ErrMalformed, "GSV field 2 (message number)"},
		{"GSV elevation 91", sentence("GPGSV,1,1,01,07,91,336,17"), ErrMalformed, "GSV field 5 (elevation)"},
		{"ZDA without a year", sentence("GPZDA,223745.00,11,07,,00,00"), ErrMalformed, "ZDA field 2 (date)"},
		{"GNS mode in lower case", sentence("GNGNS,043539.00,4333.190206,N,00127.618380,E,aaN,14,1.3,250.8,50.0,,,V"), ErrMalformed, "GNS field 6 (mode)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.line)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse = %+v, %v; want %v", s, err, tt.want)
			}
			if s != nil {
				t.Errorf("Parse returned %+v with the error", s)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not mention %q", err, tt.message)
			}
		})
	}
}

func TestParseErrorsAreExclusive(t *testing.T) {
	sentinels := []error{ErrMalformed, ErrChecksum, ErrUnsupported}
	for _, line := range []string{"garbage", "$GPGGA,1*00", "$PGRME,5.5,M,7.0,M,8.9,M*28", sentence("GPRMC,1")} {
		_, err := Parse(line)
		n := 0
		for _, s := range sentinels {
			if errors.Is(err, s) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("Parse(%q) = %v: matches %d sentinels, want 1", line, err, n)
		}
	}
}

func TestSpeedConversions(t *testing.T) {
	rmc := RMC{SpeedKnots: some(56.4)}
	if got := rmc.SpeedKph(); !got.OK || math.Abs(got.V-104.4528) > 1e-9 {
		t.Errorf("RMC.SpeedKph = %+v, want 104.4528", got)
	}
	if got := (RMC{}).SpeedKph(); got.OK {
		t.Errorf("RMC.SpeedKph without speed = %+v, want absent", got)
	}
	vtg := VTG{SpeedKnots: some(30.324), SpeedKph: some(56.191)}
	if got := vtg.Kph(); got != some(56.191) {
		t.Errorf("VTG.Kph = %+v, want the km/h field", got)
	}
	vtg.SpeedKph = Opt[float64]{}
	if got := vtg.Kph(); !got.OK || math.Abs(got.V-30.324*1.852) > 1e-9 {
		t.Errorf("VTG.Kph from knots = %+v", got)
	}
}

// readLines returns the lines of a test data file.
func readLines(tb testing.TB, path string) []string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}

func BenchmarkParse(b *testing.B) {
	lines := readLines(b, regensburg)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, line := range lines {
			if _, err := Parse(line); err == nil || errors.Is(err, ErrUnsupported) {
				n++
			}
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "sentences/s")
}
