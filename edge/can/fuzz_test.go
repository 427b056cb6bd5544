package can

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// FuzzParseLine checks that ParseLine never panics, fails only with its
// two sentinels and a zeroed frame, and that what it accepts is a valid
// classic frame that reads back the same from both of candump's forms.
// The seeds are real lines from every log in testdata/can (the first 20
// and up to 3 per CAN ID of each) and the lines of this package's tests.
func FuzzParseLine(f *testing.F) {
	for _, path := range logFiles(f) {
		perID := map[string]int{}
		for i, line := range readLines(f, path) {
			id, _, _ := strings.Cut(string(line[min(len(line), 20):]), "#")
			if i < 20 || perID[id] < 3 {
				perID[id]++
				f.Add(line)
			}
		}
	}
	for _, tt := range validLines {
		f.Add([]byte(tt.line))
	}
	for _, line := range []string{
		"(1600000000.000000) can0 123##1DEADBEEF",
		"  can0  123  [12]  11 22 33 44 55 66 77 88 99 AA BB CC",
		"(1600000000.000000) can0 12345#80:00:11223344#AABB",
		"  can0  20000004   [8]  00 04 00 00 00 00 00 00   ERRORFRAME",
		"DROPCOUNT: dropped 3 CAN frames on 'can0' socket (total drops 3)",
		"(1600000000.000000) can0 7E8#0011223344556677_8",
		"(2020-01-01 12:00:00.000000)  can0  7E8   [1]  00",
	} {
		f.Add([]byte(line))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var fr Frame
		iface, err := parseLine(line, &fr)
		if err != nil {
			if fr != (Frame{}) {
				t.Fatalf("ParseLine(%q) = %v, left %+v", line, err, fr)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("ParseLine(%q) = %v, which wraps no sentinel", line, err)
			}
			// Quoted input is clipped to 32 bytes, at most 4 characters
			// each (\xFF).
			if len(err.Error()) > 256 {
				t.Fatalf("ParseLine(%q): error of %d bytes", line, len(err.Error()))
			}
			return
		}
		if problem := check(fr); problem != "" {
			t.Fatalf("ParseLine(%q) accepted %+v: %s", line, fr, problem)
		}
		for _, again := range []string{logLine(iface, fr), screenLine(iface, fr)} {
			var back Frame
			backIface, err := parseLine([]byte(again), &back)
			if err != nil || back != fr || string(backIface) != string(iface) {
				t.Fatalf("ParseLine(%q) = %+v on %q, but its\n%q reads back as %+v on %q, %v",
					line, fr, iface, again, back, backIface, err)
			}
		}
	})
}

// check returns what is wrong with a frame ParseLine accepted.
func check(f Frame) string {
	switch {
	case f.Len > 8:
		return "longer than 8 bytes"
	case !f.Extended && f.ID > 0x7FF:
		return "11-bit ID above 7FF"
	case f.ID > 0x1FFFFFFF:
		return "ID above 29 bits"
	case f.RTR && f.Len != 0:
		return "RTR frame with data"
	}
	for _, b := range f.Data[f.Len:] {
		if b != 0 {
			return "bytes past Len are not zero"
		}
	}
	return ""
}

// logLine writes f as candump -L does, with a nanosecond timestamp.
func logLine(iface []byte, f Frame) string {
	var b strings.Builder
	if !f.Time.IsZero() {
		fmt.Fprintf(&b, "(%d.%09d) ", f.Time.Unix(), f.Time.Nanosecond())
	}
	fmt.Fprintf(&b, "%s %s#", iface, formatID(f))
	if f.RTR {
		b.WriteString("R")
	} else {
		fmt.Fprintf(&b, "%X", f.Payload())
	}
	return b.String()
}

// screenLine writes f as candump does on screen, with -ta if it has a time.
func screenLine(iface []byte, f Frame) string {
	var b strings.Builder
	if !f.Time.IsZero() {
		fmt.Fprintf(&b, " (%d.%09d) ", f.Time.Unix(), f.Time.Nanosecond())
	}
	fmt.Fprintf(&b, " %s  %s   [%d] ", iface, formatID(f), f.Len)
	if f.RTR {
		b.WriteString(" remote request")
	}
	for _, d := range f.Payload() {
		fmt.Fprintf(&b, " %02X", d)
	}
	return b.String()
}

func formatID(f Frame) string {
	if f.Extended {
		return fmt.Sprintf("%08X", f.ID)
	}
	return fmt.Sprintf("%03X", f.ID)
}
