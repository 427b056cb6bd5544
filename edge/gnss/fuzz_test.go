package gnss

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that it fails only with its
// three sentinels, and that whatever it accepts is a well-framed sentence
// with values in range. The seeds are real lines from every log in
// testdata: up to 20 per file and sentence address, so the broken lines of
// the gpsd logs are all in.
func FuzzParse(f *testing.F) {
	for _, path := range logFiles(f) {
		perAddress := map[string]int{}
		for _, line := range readLines(f, path) {
			address := line[:min(len(line), 7)]
			if perAddress[address] < 20 {
				perAddress[address]++
				f.Add(line)
			}
		}
	}
	f.Fuzz(func(t *testing.T, line string) {
		s, err := Parse(line)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse returned %+v with error %v", s, err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Parse error %v wraps no sentinel", err)
			}
			return
		}
		if problem := recheck(line, s); problem != "" {
			t.Fatalf("Parse(%q) accepted %+v: %s", line, s, problem)
		}
		var a Assembler
		a.Add(s)
		a.Add(s)
		a.Flush()
	})
}

// recheck validates a sentence Parse accepted, independently of the
// parser: the frame and checksum of the line, and the range of every
// value. It returns the first problem found.
func recheck(line string, s Sentence) string {
	text := strings.Trim(line, " \t\r\n\x00")
	star := strings.IndexByte(text, '*')
	if !strings.HasPrefix(text, "$") || star < 0 || len(text) != star+3 {
		return "not framed as $…*hh"
	}
	var sum byte
	for _, c := range []byte(text[1:star]) {
		sum ^= c
	}
	if want := fmt.Sprintf("%02X", sum); !strings.EqualFold(text[star+1:], want) {
		return "checksum is not " + want
	}

	h := s.Head()
	typ := reflect.TypeOf(s).Name()
	if len(h.Talker) != 2 || h.Type != typ || !strings.HasPrefix(text[1:], h.Talker+h.Type) {
		return fmt.Sprintf("header %+v does not match %s", h, typ)
	}

	var problems []string
	check := func(ok bool, what string) {
		if !ok {
			problems = append(problems, what)
		}
	}
	float := func(o Opt[float64], lo, hi float64, what string) {
		check(!o.OK || !math.IsNaN(o.V) && o.V >= lo && o.V <= hi, what)
	}
	position := func(p Opt[LatLon]) {
		check(!p.OK || p.V.Lat >= -90 && p.V.Lat <= 90 && p.V.Lon >= -180 && p.V.Lon <= 180, "position out of range")
	}
	timeOfDay := func(t Opt[TimeOfDay]) {
		check(!t.OK || t.V >= 0 && time.Duration(t.V) < 24*time.Hour+time.Second, "time of day out of range")
	}
	date := func(d Opt[Date]) {
		if d.OK {
			back := time.Date(d.V.Year, d.V.Month, d.V.Day, 0, 0, 0, 0, time.UTC)
			check(back.Day() == d.V.Day && back.Month() == d.V.Month && d.V.Year >= 1980, "not a date")
		}
	}
	const huge = math.MaxFloat64
	switch s := s.(type) {
	case RMC:
		timeOfDay(s.Time)
		position(s.Position)
		date(s.Date)
		float(s.SpeedKnots, 0, huge, "speed")
		float(s.CourseDeg, 0, 360, "course")
		check(s.Status == 'A' || s.Status == 'V' || s.Status == 0, "status")
	case GGA:
		timeOfDay(s.Time)
		position(s.Position)
		check(s.Quality >= 0 && s.Quality <= 9, "quality")
		check(!s.Satellites.OK || s.Satellites.V >= 0, "satellites")
		float(s.HDOP, 0, huge, "HDOP")
		float(s.AltitudeM, -huge, huge, "altitude")
	case VTG:
		float(s.CourseTrueDeg, 0, 360, "course")
		float(s.SpeedKnots, 0, huge, "knots")
		float(s.SpeedKph, 0, huge, "km/h")
	case GSA:
		check(len(s.PRNs) <= 12, "more than 12 satellites")
		float(s.HDOP, 0, huge, "HDOP")
	case GNS:
		timeOfDay(s.Time)
		position(s.Position)
		float(s.HDOP, 0, huge, "HDOP")
	case GSV:
		check(len(s.Satellites) <= (strings.Count(text[:star], ",")-3)/4, "more satellites than groups")
		check(s.Message >= 1 && s.Message <= s.Messages, "message number")
		for _, sat := range s.Satellites {
			check(!sat.ElevationDeg.OK || sat.ElevationDeg.V >= -90 && sat.ElevationDeg.V <= 90, "elevation")
		}
	case GLL:
		timeOfDay(s.Time)
		position(s.Position)
	case ZDA:
		timeOfDay(s.Time)
		date(s.Date)
	default:
		return fmt.Sprintf("unexpected type %T", s)
	}
	return strings.Join(problems, ", ")
}

// FuzzReader feeds whole inputs through the Reader: it must never panic,
// and what it emits must be valid fixes in strictly increasing time. The
// seeds are the short logs; large inputs only slow the fuzzer down. Run it
// with -fuzzminimizetime of a few seconds, or it spends its time shrinking
// inputs.
func FuzzReader(f *testing.F) {
	for _, path := range logFiles(f) {
		if b, err := os.ReadFile(path); err == nil && len(b) < 16_000 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		r := NewReader(bytes.NewReader(input), ReaderOptions{Logger: quiet})
		var last time.Time
		err := r.Run(t.Context(), func(fix Fix) error {
			if !fix.Valid || !fix.Time.After(last) || math.IsNaN(fix.Lat+fix.Lon+fix.SpeedKph+fix.HeadingDeg+fix.AltitudeM+fix.HDOP) {
				t.Fatalf("emitted %+v after %v", fix, last)
			}
			last = fix.Time
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		s := r.Stats()
		if s.Emitted != s.Filter.Kept || s.Fixes != s.Filter.Kept+s.Filter.Dropped() {
			t.Fatalf("inconsistent stats %+v", s)
		}
	})
}
