package j1939

import (
	"fmt"
	"strconv"
)

// LampStatus is the state of one DM1 warning lamp (SAE J1939-73 §5.7.1).
type LampStatus uint8

// Lamp states, as the 2-bit codes transmitted.
const (
	LampOff          LampStatus = 0
	LampOn           LampStatus = 1
	LampReserved     LampStatus = 2
	LampNotAvailable LampStatus = 3
)

// String names the lamp state.
func (l LampStatus) String() string {
	switch l {
	case LampOff:
		return "off"
	case LampOn:
		return "on"
	case LampReserved:
		return "reserved"
	}
	return "not available"
}

// FlashStatus is how a lit DM1 lamp flashes (SAE J1939-73 §5.7.1).
type FlashStatus uint8

// Flash states, as the 2-bit codes transmitted.
const (
	FlashSlow     FlashStatus = 0 // 1 Hz
	FlashFast     FlashStatus = 1 // 2 Hz or faster
	FlashReserved FlashStatus = 2
	FlashNone     FlashStatus = 3 // unavailable / do not flash
)

// String names the flash state.
func (f FlashStatus) String() string {
	switch f {
	case FlashSlow:
		return "slow"
	case FlashFast:
		return "fast"
	case FlashReserved:
		return "reserved"
	}
	return "none"
}

// Lamp is one warning lamp: whether it is lit and how it flashes.
type Lamp struct {
	Status LampStatus
	Flash  FlashStatus
}

// Lamps are the four lamps every DM1 reports, from its first two bytes.
type Lamps struct {
	// MIL is the malfunction indicator lamp (emissions faults), SPN 1213.
	MIL Lamp
	// RedStop means stop the vehicle, SPN 623.
	RedStop Lamp
	// AmberWarning means a fault that does not require stopping, SPN 624.
	AmberWarning Lamp
	// Protect is for faults outside the electronic system, SPN 987.
	Protect Lamp
}

// DTC is one diagnostic trouble code: which parameter (SPN) fails how
// (FMI), and how often it has gone from inactive to active.
type DTC struct {
	// SPN is the 19-bit suspect parameter number.
	SPN SPN
	// FMI is the 5-bit failure mode identifier (0–31), e.g. 3 "voltage
	// above normal", 9 "abnormal update rate".
	FMI uint8
	// Occurrences is the 7-bit occurrence count; 127 means not available.
	Occurrences uint8
	// LegacyConversion is set when the sender flagged (CM bit = 1) that it
	// encodes SPNs with conversion method 1, 2 or 3 instead of version 4.
	// Those cannot be told apart from the message; SPN is decoded as
	// version 4 and may be wrong.
	LegacyConversion bool
}

// String formats the code as "SPN 3216 FMI 20 OC 2".
func (d DTC) String() string {
	return "SPN " + strconv.FormatUint(uint64(d.SPN), 10) +
		" FMI " + strconv.Itoa(int(d.FMI)) +
		" OC " + strconv.Itoa(int(d.Occurrences))
}

// DM1 is the active diagnostic trouble codes message (PGN 65226, SAE
// J1939-73 §5.7.1): lamp status and the list of active DTCs. With one DTC
// it fits a single frame; with more it comes by BAM.
type DM1 struct {
	Lamps Lamps
	// DTCs are the active codes, empty when there are none.
	DTCs []DTC
}

// dtcSize is the size of one DTC in bytes.
const dtcSize = 4

// Decode reads a DM1 payload into d, reusing the storage of d.DTCs, so
// that decoding a stream of DM1 messages into the same DM1 does not
// allocate once it has seen the longest list. The layout is two lamp bytes
// followed by 4-byte DTCs (version 4 conversion):
//
//	byte 1   bits 8–7 MIL, 6–5 red stop, 4–3 amber warning, 2–1 protect
//	byte 2   the same for the flash states
//	byte 3   SPN bits 8–1
//	byte 4   SPN bits 16–9
//	byte 5   bits 8–6 SPN bits 19–17, bits 5–1 FMI
//	byte 6   bit 8 conversion method, bits 7–1 occurrence count
//
// The all-zero DTC that means "no active faults" and all-ones padding are
// skipped, as are bytes after the last whole DTC (a single frame ends in
// two 0xFF). A payload shorter than the two lamp bytes is ErrMalformed.
func (d *DM1) Decode(data []byte) error {
	d.DTCs = d.DTCs[:0]
	if len(data) < 2 {
		d.Lamps = Lamps{}
		return fmt.Errorf("DM1 of %d bytes, want at least 2: %w", len(data), ErrMalformed)
	}
	lamp := func(shift uint) Lamp {
		return Lamp{
			Status: LampStatus(data[0] >> shift & 3),
			Flash:  FlashStatus(data[1] >> shift & 3),
		}
	}
	d.Lamps = Lamps{MIL: lamp(6), RedStop: lamp(4), AmberWarning: lamp(2), Protect: lamp(0)}
	for b := data[2:]; len(b) >= dtcSize; b = b[dtcSize:] {
		if isNoDTC(b) {
			continue
		}
		d.DTCs = append(d.DTCs, DTC{
			SPN:              SPN(b[0]) | SPN(b[1])<<8 | SPN(b[2]>>5)<<16,
			FMI:              b[2] & 0x1F,
			Occurrences:      b[3] & 0x7F,
			LegacyConversion: b[3]&0x80 != 0,
		})
	}
	return nil
}

// isNoDTC reports whether a 4-byte DTC slot holds no fault: all zeros (the
// J1939-73 "no active DTCs" form) or all ones (padding).
func isNoDTC(b []byte) bool {
	and := b[0] & b[1] & b[2] & b[3]
	or := b[0] | b[1] | b[2] | b[3]
	return or == 0 || and == 0xFF
}
