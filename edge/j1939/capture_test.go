package j1939

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"
)

// na, er and oor stand for the statuses in expectation tables.
const (
	na  = -1e300 // StatusNotAvailable
	er  = -2e300 // StatusError
	oor = -3e300 // StatusOutOfRange
)

// checkSignal compares a decoded signal with a value from an expectation
// table (na, er or oor for a status).
func checkSignal(t *testing.T, where string, sig Signal, want float64) {
	t.Helper()
	wantStatus := StatusValid
	switch want {
	case na:
		wantStatus = StatusNotAvailable
	case er:
		wantStatus = StatusError
	case oor:
		wantStatus = StatusOutOfRange
	}
	if sig.Status != wantStatus {
		t.Errorf("%s: SPN %d %s = %v, want status %v", where, sig.Spec.SPN, sig.Spec.Name, sig.Status, wantStatus)
		return
	}
	if wantStatus == StatusValid && math.Abs(sig.Value-want) > 1e-9 {
		t.Errorf("%s: SPN %d %s = %v, want %v", where, sig.Spec.SPN, sig.Spec.Name, sig.Value, want)
	}
}

// TestCaptureFrames decodes single lines of the capture. Each line is
// quoted with its line number in the file; the expected values were worked
// out by hand from the hex bytes with the SAE J1939-71 definitions
// (little-endian, value = raw × resolution + offset).
func TestCaptureFrames(t *testing.T) {
	lines, err := captureLines()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lineNo int
		line   string
		want   map[SPN]float64
	}{
		{3, "(1635188455.029900) can1 0CF00400#607D84481400F084", map[SPN]float64{
			512:  0,   // 0x7D = 125 − 125
			513:  7,   // 0x84 = 132 − 125
			190:  649, // 0x1448 = 5192 × 0.125
			2432: 7,   // 0x84 = 132 − 125
		}},
		{158, "(1635188455.478900) can1 0CF00400#307D845A1400F084", map[SPN]float64{
			190: 651.25, // 0x145A = 5210 × 0.125
		}},
		{4, "(1635188455.030900) can1 0CFEF100#F7000004000000FF", map[SPN]float64{
			69:   na,                        // byte 1 = 1111 0111: bits 1–2 = 11
			70:   1,                         // bits 3–4 = 01, parking brake set
			1633: na,                        // bits 5–6 = 11
			84:   0,                         // 0x0000: standing
			595:  0,                         // byte 4 = 0000 0100: bits 1–2 = 00
			596:  1,                         // bits 3–4 = 01, cruise control enabled
			597:  0,                         // bits 5–6 = 00, brake released
			598:  0,                         // bits 7–8 = 00
			599:  0, 600: 0, 601: 0, 602: 0, // byte 5 = 0
			86: 0, // byte 6 = 0 km/h
		}},
		{16, "(1635188455.060900) can1 18FEF200#37000000870100FF", map[SPN]float64{
			183: 2.75,        // 0x0037 = 55 × 0.05
			184: 0,           // 0x0000
			185: 391.0 / 512, // 0x0187 = 391 / 512 = 0.764 km/L
			51:  0,           // 0x00
		}},
		{50, "(1635188455.160900) can1 18FEF200#34000000870100FF", map[SPN]float64{
			183: 2.6, // 0x0034 = 52 × 0.05
		}},
		{23, "(1635188455.080850) can1 18FEE000#FFFFFFFF47B00100", map[SPN]float64{
			244: na,        // 0xFFFFFFFF
			245: 13832.875, // 0x0001B047 = 110663 × 0.125
		}},
		{135, "(1635188455.410900) can1 18FEEE00#6F3F392BFFFFFFFF", map[SPN]float64{
			110:  71,       // 0x6F = 111 − 40
			174:  23,       // 0x3F = 63 − 40
			175:  72.78125, // 0x2B39 = 11065 × 0.03125 − 273
			176:  na,
			52:   na,
			1134: na,
		}},
		{492, "(1635188456.410950) can1 18FEEE00#6F3E392BFFFFFFFF", map[SPN]float64{
			174: 22, // 0x3E = 62 − 40
		}},
		{67, "(1635188455.210900) can1 18FEEF00#B2FFFF40FFFFFFFA", map[SPN]float64{
			94:  712, // 0xB2 = 178 × 4 kPa
			22:  na,
			98:  na,
			100: 256, // 0x40 = 64 × 4 kPa
			101: na,
			109: na,
			111: 100, // 0xFA = 250 × 0.4 %
		}},
		{244, "(1635188455.690900) can1 18FEFC00#FFBBFFFFFFFFFFFF", map[SPN]float64{
			80: na,
			96: 74.8, // 0xBB = 187 × 0.4 %
			95: na, 99: na, 169: na, 38: na,
		}},
		{228, "(1635188455.652900) can1 18FEF700#FFFFFFFF09010901", map[SPN]float64{
			114: na, 115: na, 167: na,
			168: 13.25, // 0x0109 = 265 × 0.05 V
			158: 13.25, // 0x0109
		}},
		{320, "(1635188455.910900) can1 18FEF500#C5FFFFC923FFFFFF", map[SPN]float64{
			108: 98.5,     // 0xC5 = 197 × 0.5 kPa
			170: na,       // 0xFFFF
			171: 13.28125, // 0x23C9 = 9161 × 0.03125 − 273
			172: na,
			79:  na,
		}},
		{100, "(1635188455.310900) can1 18FEF600#00015833FFA331FF", map[SPN]float64{
			81:  0,         // 0x00
			102: 2,         // 0x01 × 2 kPa
			105: 48,        // 0x58 = 88 − 40
			106: 102,       // 0x33 = 51 × 2 kPa
			107: na,        // 0xFF
			173: 124.09375, // 0x31A3 = 12707 × 0.03125 − 273
			112: na,
		}},
		{187, "(1635188455.552900) can1 18FEDD00#FFFFFEFFFFFFFFFF", map[SPN]float64{
			104: na, // 0xFF
			103: er, // 0xFEFF: the sender flags turbocharger speed as faulty
		}},
		{29, "(1635188455.099950) can1 0CF00300#DD000BFFFF0C617D", map[SPN]float64{
			558:  1,  // byte 1 = 11 01 11 01: bits 1–2 = 01, pedal at low idle
			559:  na, // bits 3–4 = 11
			1437: 1,  // bits 5–6 = 01
			2970: na, // bits 7–8 = 11
			91:   0,  // 0x00
			92:   11, // 0x0B = 11 %
			974:  na,
			29:   na,
		}},
		{2, "(1635188455.021900) can1 18FEDF00#82FFFFFF7D090201", map[SPN]float64{
			514:  5,     // 0x82 = 130 − 125
			515:  na,    // 0xFFFF
			2978: 0,     // 0x7D = 125 − 125
			3236: 104.2, // 0x0209 = 521 × 0.2 kg/h
		}},
		{355, "(1635188456.011400) can1 18FE5600#FA3AFFFF1F1FC8FF", map[SPN]float64{
			1761: 100, // 0xFA = 250 × 0.4 %
			3031: 18,  // 0x3A = 58 − 40
		}},
	}
	for _, tt := range tests {
		if tt.lineNo > len(lines) || lines[tt.lineNo-1] != tt.line {
			t.Errorf("line %d of the capture is not %q", tt.lineNo, tt.line)
			continue
		}
		f := mustFrame(t, tt.line)
		sigs, err := DecodeFrame(nil, &f)
		if err != nil {
			t.Errorf("line %d: %v", tt.lineNo, err)
			continue
		}
		found := 0
		for _, sig := range sigs {
			want, ok := tt.want[sig.Spec.SPN]
			if !ok {
				continue
			}
			found++
			checkSignal(t, "line "+strconv.Itoa(tt.lineNo), sig, want)
		}
		if found != len(tt.want) {
			t.Errorf("line %d: %d of the %d expected SPNs decoded", tt.lineNo, found, len(tt.want))
		}
	}
}

// TestCaptureWholeFile runs the whole capture through a Decoder and checks
// it against testdata/README.md: frame counts per PGN, sources, duration,
// the engine idling at about 650 rpm with the vehicle standing, 60 DM1 and
// 12 EC1 transfers by BAM. Every decoded value must lie in its range.
func TestCaptureWholeFile(t *testing.T) {
	frames := loadCapture(t)
	var (
		dec      Decoder
		perPGN   = map[PGN]int{}
		perBAM   = map[PGN]int{}
		ids      = map[uint32]bool{}
		sources  = map[Address]bool{}
		statuses = map[Status]int{}
		sigs     []Signal
		dm1      DM1
		speed    = [2]float64{math.Inf(1), math.Inf(-1)}
	)
	for i := range frames {
		f := &frames[i]
		ids[f.ID] = true
		head, err := ParseFrame(f)
		if err != nil {
			t.Fatalf("frame %d: %v", i+1, err)
		}
		perPGN[head.PGN]++
		sources[head.Source] = true

		m, ok, err := dec.Decode(f)
		if err != nil {
			t.Errorf("frame %d: %v", i+1, err)
		}
		if !ok {
			continue
		}
		if head.PGN == PGNTPDT && m.Destination == AddressGlobal {
			perBAM[m.PGN]++
		}
		if m.PGN == PGNDM1 {
			if err := dm1.Decode(m.Data); err != nil {
				t.Errorf("frame %d: DM1: %v", i+1, err)
			}
		}
		sigs = AppendSignals(sigs[:0], m)
		for _, sig := range sigs {
			statuses[sig.Status]++
			s := sig.Spec
			switch {
			case sig.Status == StatusValid && (sig.Value < s.Min || sig.Value > s.Max):
				t.Errorf("frame %d: %v outside %v..%v", i+1, sig, s.Min, s.Max)
			case sig.Status != StatusValid && sig.Value != 0:
				t.Errorf("frame %d: %v carries value %v", i+1, sig, sig.Value)
			case sig.Status == StatusOutOfRange:
				t.Errorf("frame %d: %v (raw %#x)", i+1, sig, sig.Raw)
			}
			switch s.SPN {
			case 190:
				speed[0], speed[1] = min(speed[0], sig.Value), max(speed[1], sig.Value)
			case 84:
				if !sig.Valid() || sig.Value != 0 {
					t.Errorf("frame %d: %v, README: vehicle standing", i+1, sig)
				}
			}
		}
	}

	// Numbers stated in testdata/README.md.
	if len(frames) != 21497 {
		t.Errorf("%d frames, README: 21,497", len(frames))
	}
	if len(ids) != 45 {
		t.Errorf("%d distinct IDs, README: 45", len(ids))
	}
	if !sources[0x00] || !sources[0x55] || len(sources) != 2 {
		t.Errorf("sources %v, README: 0x00 (engine) and 0x55 (DPF controller)", sources)
	}
	first, last := frames[0].Time, frames[len(frames)-1].Time
	if want := time.Date(2021, 10, 25, 19, 0, 55, 21e6, time.UTC); !first.Round(time.Millisecond).Equal(want) {
		t.Errorf("first frame at %v, README: %v", first, want)
	}
	if want := time.Date(2021, 10, 25, 19, 1, 55, 13e6, time.UTC); !last.Round(time.Millisecond).Equal(want) {
		t.Errorf("last frame at %v, README: %v", last, want)
	}
	wantPerPGN := map[PGN]int{
		PGNEEC1: 5999, PGNEEC3: 3000, PGNEEC2: 1200,
		PGNAT1IG1: 1200, PGNAT1OG1: 1200, PGNEGF1: 1200,
		PGNCCVS1: 600, PGNLFE1: 600, PGNVD: 600,
		PGNET1: 60, PGNEFLP1: 120,
		PGNTPCM: 72, PGNTPDT: 252,
	}
	for pgn, want := range wantPerPGN {
		if perPGN[pgn] != want {
			t.Errorf("PGN %v: %d frames, README: %d", pgn, perPGN[pgn], want)
		}
	}
	if perBAM[PGNDM1] != 60 || perBAM[PGNEC1] != 12 || len(perBAM) != 2 {
		t.Errorf("BAM transfers %v, README: DM1 60 times, EC1 12 times", perBAM)
	}
	if speed[0] < 640 || speed[1] > 660 {
		t.Errorf("engine speed %v..%v rpm, README: idling at about 650 rpm", speed[0], speed[1])
	}
	// Measured over the file: 646.5..653.75 rpm.
	if speed != [2]float64{646.5, 653.75} {
		t.Errorf("engine speed %v..%v rpm, want 646.5..653.75", speed[0], speed[1])
	}
	stats := dec.TransportStats()
	if stats != (TransportStats{Completed: 72}) {
		t.Errorf("transport stats %+v, want 72 completed and nothing else", stats)
	}
	if statuses[StatusValid] == 0 || statuses[StatusNotAvailable] == 0 || statuses[StatusError] != 60 {
		// The 60 errors are SPN 103, turbocharger speed 0xFEFF, once a second.
		t.Errorf("statuses %v, want valid and n/a values and 60 errors", statuses)
	}
	t.Logf("frames per PGN: %v", perPGN)
	t.Logf("signal statuses: %v", statuses)
}

// The reassembled BAM payloads of the capture: the packets of lines
// 204/229/252 (DM1, the same in all 60 transfers) and
// 873/894/920/945/968/989 (the first EC1), cut to the size their TP.CM
// announces (18 and 39 bytes).
var (
	captureDM1 = []byte{
		0x43, 0xFF, // lamps: MIL on, others off, protect n/a; no flashing
		0xD4, 0x03, 0x09, 0x7E, // SPN 980 FMI 9 OC 126
		0x90, 0x0C, 0x14, 0x02, // SPN 3216 FMI 20 OC 2
		0x61, 0x02, 0x09, 0x01, // SPN 609 FMI 9 OC 1
		0x61, 0x02, 0x0C, 0x03, // SPN 609 FMI 12 OC 3
	}
	captureEC1 = []byte{
		0x50, 0x14, 0xBD, 0x32, 0x41, 0x8C, 0x20,
		0x1C, 0xDF, 0xC0, 0x2B, 0xE1, 0x58, 0x34,
		0xD3, 0xA0, 0x41, 0xFF, 0xFF, 0x52, 0x09,
		0xE0, 0x47, 0x03, 0x41, 0xD0, 0x7D, 0xE1,
		0x30, 0x41, 0xBC, 0x03, 0xFF, 0xFF, 0x80,
		0xE0, 0xFF, 0xFF, 0xFF,
	}
)

// TestCaptureBAM reassembles the capture's BAM transfers (TP.CM on
// 1CECFF00, TP.DT on 1CEBFF00) and checks their PGN and content.
func TestCaptureBAM(t *testing.T) {
	frames := loadCapture(t)
	var dec Decoder
	got := map[PGN]int{}
	for i := range frames {
		m, ok, err := dec.Decode(&frames[i])
		if err != nil {
			t.Fatalf("frame %d: %v", i+1, err)
		}
		if !ok || m.PGN != PGNDM1 && m.PGN != PGNEC1 {
			continue
		}
		got[m.PGN]++
		want := captureDM1
		if m.PGN == PGNEC1 {
			want = captureEC1
			if got[PGNEC1] > 1 {
				// Later transfers differ from the first in the low bytes of
				// SPN 528 (speed at point 2, byte 4) and of the extended
				// speed control upper limit (byte 29) by a few 0.125 rpm.
				want = slices.Clone(captureEC1)
				want[3], want[28] = m.Data[3], m.Data[28]
				if d := int(m.Data[3]) - int(captureEC1[3]); d < -8 || d > 8 {
					t.Errorf("frame %d: EC1 byte 4 = %#x, want near %#x", i+1, m.Data[3], captureEC1[3])
				}
			}
		}
		if !bytes.Equal(m.Data, want) {
			t.Errorf("frame %d: %v = % X, want % X", i+1, m.PGN, m.Data, want)
		}
		if m.Source != 0x00 || m.Destination != AddressGlobal || m.Priority != 7 {
			t.Errorf("frame %d: %v from %v to %v priority %d", i+1, m.PGN, m.Source, m.Destination, m.Priority)
		}
	}
	if got[PGNDM1] != 60 || got[PGNEC1] != 12 {
		t.Errorf("reassembled %v, README: DM1 60 times, EC1 12 times", got)
	}

	// The first DM1 transfer: TP.CM at line 178, last TP.DT at line 252.
	lines, err := captureLines()
	if err != nil {
		t.Fatal(err)
	}
	var tp Transport
	var m Message
	for _, n := range []int{178, 204, 229, 252} {
		f := mustFrame(t, lines[n-1])
		head, _ := ParseFrame(&f)
		var ok bool
		if m, ok, err = tp.Receive(head); err != nil || ok != (n == 252) {
			t.Fatalf("line %d: ok %t, err %v", n, ok, err)
		}
	}
	if want := time.Date(2021, 10, 25, 19, 0, 55, 718900000, time.UTC); !m.Time.Equal(want) {
		t.Errorf("DM1 time %v, want the last packet's %v", m.Time, want)
	}
}

// TestCaptureDM1 decodes the capture's DM1: four active DTCs and the MIL on.
func TestCaptureDM1(t *testing.T) {
	var dm1 DM1
	if err := dm1.Decode(captureDM1); err != nil {
		t.Fatal(err)
	}
	// Byte 1 = 0x43 = 01 00 00 11; byte 2 = 0xFF (J1939-73 lamp layout).
	wantLamps := Lamps{
		MIL:          Lamp{LampOn, FlashNone},
		RedStop:      Lamp{LampOff, FlashNone},
		AmberWarning: Lamp{LampOff, FlashNone},
		Protect:      Lamp{LampNotAvailable, FlashNone},
	}
	if dm1.Lamps != wantLamps {
		t.Errorf("lamps %+v, want %+v", dm1.Lamps, wantLamps)
	}
	// Version 4 DTCs worked out by hand: SPN = byte 3 | byte 4 << 8 |
	// (byte 5 >> 5) << 16, FMI = byte 5 & 0x1F, OC = byte 6 & 0x7F.
	wantDTCs := []DTC{
		{SPN: 980, FMI: 9, Occurrences: 126}, // D4 03 09 7E
		{SPN: 3216, FMI: 20, Occurrences: 2}, // 90 0C 14 02: aftertreatment 1 intake NOx, data drifted high
		{SPN: 609, FMI: 9, Occurrences: 1},   // 61 02 09 01
		{SPN: 609, FMI: 12, Occurrences: 3},  // 61 02 0C 03
	}
	if !slices.Equal(dm1.DTCs, wantDTCs) {
		t.Errorf("DTCs %v, want %v", dm1.DTCs, wantDTCs)
	}
}

// TestCaptureEC1 decodes the capture's engine configuration, which only
// comes by BAM (39 bytes), through the same signal table as single frames.
func TestCaptureEC1(t *testing.T) {
	sigs := AppendSignals(nil, Message{PGN: PGNEC1, Data: captureEC1})
	want := map[SPN]float64{
		188: 650,     // bytes 1–2 0x1450 = 5200 × 0.125 rpm: the idle speed seen in EEC1
		539: 64,      // byte 3 0xBD = 189 − 125 %
		528: 2086.25, // bytes 4–5 0x4132 = 16690 × 0.125
		540: 15,      // byte 6 0x8C = 140 − 125
		529: 900,     // bytes 7–8 0x1C20 = 7200 × 0.125
		541: 98,      // byte 9 0xDF = 223 − 125
		530: 1400,    // bytes 10–11 0x2BC0 = 11200 × 0.125
		542: 100,     // byte 12 0xE1 = 225 − 125
		531: 1675,    // bytes 13–14 0x3458 = 13400 × 0.125
		543: 86,      // byte 15 0xD3 = 211 − 125
		532: 2100,    // bytes 16–17 0x41A0 = 16800 × 0.125: high idle
		544: 2386,    // bytes 20–21 0x0952 Nm: reference torque of a heavy diesel
		533: 2300,    // bytes 22–23 0x47E0 = 18400 × 0.125
		534: 0.3,     // byte 24 0x03 × 0.1 s
		535: 650,     // byte 25 0x41 = 65 × 10 rpm
		536: 2080,    // byte 26 0xD0 = 208 × 10 rpm
		537: 0,       // byte 27 0x7D = 125 − 125
		538: 100,     // byte 28 0xE1 = 225 − 125
	}
	if len(sigs) != len(want) {
		t.Errorf("%d signals, want %d", len(sigs), len(want))
	}
	for _, sig := range sigs {
		checkSignal(t, "EC1", sig, want[sig.Spec.SPN])
	}
}

// TestDecoderNotJ1939 feeds an 11-bit frame: an error, no message.
func TestDecoderNotJ1939(t *testing.T) {
	f := mustFrame(t, "(1.000000) can1 7E8#03410D0000000000")
	var dec Decoder
	if _, ok, err := dec.Decode(&f); ok || !errors.Is(err, ErrNotJ1939) {
		t.Errorf("Decode(11-bit) = %t, %v, want ErrNotJ1939", ok, err)
	}
	f.Extended, f.ID = true, 1<<29
	if _, err := DecodeFrame(nil, &f); !errors.Is(err, ErrNotJ1939) {
		t.Errorf("DecodeFrame(30-bit id) = %v, want ErrNotJ1939", err)
	}
}
