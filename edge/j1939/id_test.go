package j1939

import "testing"

// TestID checks the identifier fields against SAE J1939-21 §5.2: priority
// in bits 28–26, EDP 25, DP 24, PF 23–16, PS 15–8, SA 7–0; PS is a
// destination when PF < 240 and part of the PGN otherwise.
func TestID(t *testing.T) {
	tests := []struct {
		id       ID
		source   string // where the example comes from
		priority uint8
		edp, dp  uint8
		pdu1     bool
		pgn      PGN
		src, dst Address
	}{
		{0x18FEF100, "CCVS1 at its J1939-71 default priority 6", 6, 0, 0, false, 65265, 0x00, AddressGlobal},
		{0x0CFEF100, "CCVS1 as in the capture, priority 3 (testdata/README.md)", 3, 0, 0, false, 65265, 0x00, AddressGlobal},
		{0x0CF00400, "EEC1, capture line 3", 3, 0, 0, false, 61444, 0x00, AddressGlobal},
		{0x18FEDF00, "EEC3, capture line 2", 6, 0, 0, false, 65247, 0x00, AddressGlobal},
		{0x10FDA300, "PGN 0xFDA3 at priority 4, capture", 4, 0, 0, false, 64931, 0x00, AddressGlobal},
		{0x18FDB355, "PGN 0xFDB3 from the DPF controller 0x55, capture", 6, 0, 0, false, 64947, 0x55, AddressGlobal},
		{0x1CECFF00, "TP.CM BAM, PDU1 to global, capture line 178", 7, 0, 0, true, 60416, 0x00, AddressGlobal},
		{0x1CEBFF00, "TP.DT to global, capture line 204", 7, 0, 0, true, 60160, 0x00, AddressGlobal},
		{0x1CECF900, "TP.CM RTS from 0x00 to 0xF9 (J1939-21 §5.10.3)", 7, 0, 0, true, 60416, 0x00, 0xF9},
		{0x18EA00F9, "request PGN 59904 from 0xF9 to 0x00 (J1939-21 §5.4.2)", 6, 0, 0, true, 59904, 0xF9, 0x00},
		{0x0C000003, "TSC1 PGN 0 from the transmission 0x03 to the engine 0x00", 3, 0, 0, true, 0, 0x03, 0x00},
		{0x19FEF100, "data page 1: PGN 0x1FEF1", 6, 0, 1, false, 0x1FEF1, 0x00, AddressGlobal},
		{0x1AFEF100, "extended data page 1: PGN 0x2FEF1", 6, 1, 0, false, 0x2FEF1, 0x00, AddressGlobal},
		{0x1BEF2A17, "EDP and DP set, PDU1: PGN 0x3EF00", 6, 1, 1, true, 0x3EF00, 0x17, 0x2A},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			id := tt.id
			if got := id.Priority(); got != tt.priority {
				t.Errorf("Priority = %d, want %d (%s)", got, tt.priority, tt.source)
			}
			if id.ExtendedDataPage() != tt.edp || id.DataPage() != tt.dp {
				t.Errorf("EDP, DP = %d, %d, want %d, %d (%s)", id.ExtendedDataPage(), id.DataPage(), tt.edp, tt.dp, tt.source)
			}
			if got := id.PDU1(); got != tt.pdu1 {
				t.Errorf("PDU1 = %t, want %t (%s)", got, tt.pdu1, tt.source)
			}
			if got := id.PGN(); got != tt.pgn {
				t.Errorf("PGN = %v, want %v (%s)", got, tt.pgn, tt.source)
			}
			if got := id.Source(); got != tt.src {
				t.Errorf("Source = %v, want %v (%s)", got, tt.src, tt.source)
			}
			if got := id.Destination(); got != tt.dst {
				t.Errorf("Destination = %v, want %v (%s)", got, tt.dst, tt.source)
			}
			if got := NewID(tt.priority, tt.pgn, tt.src, tt.dst); got != id {
				t.Errorf("NewID(%d, %v, %v, %v) = %v, want %v", tt.priority, tt.pgn, tt.src, tt.dst, got, id)
			}
			if id.PGN().PDU1() != tt.pdu1 {
				t.Errorf("PGN.PDU1 = %t, want %t", id.PGN().PDU1(), tt.pdu1)
			}
		})
	}
}

func TestIDPFPS(t *testing.T) {
	id := ID(0x18FEF100)
	if id.PF() != 0xFE || id.PS() != 0xF1 {
		t.Errorf("PF, PS of %v = %#x, %#x, want 0xfe, 0xf1", id, id.PF(), id.PS())
	}
	// A PDU2 PGN keeps its group extension whatever destination is asked.
	if got := NewID(6, PGNCCVS1, 0x00, 0x21); got != 0x18FEF100 {
		t.Errorf("NewID for PDU2 with a destination = %v, want 18FEF100", got)
	}
}

func TestPGNString(t *testing.T) {
	tests := []struct {
		pgn  PGN
		want string
	}{
		{65265, "65265 (CCVS1)"},
		{61444, "61444 (EEC1)"},
		{65226, "65226 (DM1)"},
		{60416, "60416 (TP.CM)"},
		{65280, "65280"}, // proprietary B, no acronym
	}
	for _, tt := range tests {
		if got := tt.pgn.String(); got != tt.want {
			t.Errorf("PGN(%d).String() = %q, want %q", uint32(tt.pgn), got, tt.want)
		}
	}
	if got := Address(0x55).String(); got != "0x55" {
		t.Errorf("Address(0x55).String() = %q", got)
	}
}
