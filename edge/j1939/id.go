package j1939

import (
	"fmt"
	"strconv"
)

// ID is a 29-bit J1939 CAN identifier (SAE J1939-21 §5.2):
//
//	bits 28–26  priority (0 highest … 7 lowest)
//	bit  25     extended data page (EDP)
//	bit  24     data page (DP)
//	bits 23–16  PDU format (PF)
//	bits 15–8   PDU specific (PS): destination address when PF < 240
//	            (PDU1), group extension when PF ≥ 240 (PDU2)
//	bits 7–0    source address (SA)
type ID uint32

// MaxID is the largest 29-bit identifier.
const MaxID ID = 1<<29 - 1

// pdu2Threshold is the first PDU format of PDU2 (broadcast) groups.
const pdu2Threshold = 240

// NewID builds the identifier of a frame carrying pgn from src to dst with
// the given priority (0–7). dst is used only for PDU1 groups; PDU2 groups
// are broadcast and keep their group extension.
func NewID(priority uint8, pgn PGN, src, dst Address) ID {
	id := ID(priority&7)<<26 | ID(pgn&maxPGN)<<8 | ID(src)
	if pgn.PDU1() {
		id = id&^(0xFF<<8) | ID(dst)<<8
	}
	return id
}

// Priority is the message priority, 0 (highest) to 7 (lowest).
func (id ID) Priority() uint8 { return uint8(id>>26) & 7 }

// ExtendedDataPage is the EDP bit, 0 or 1.
func (id ID) ExtendedDataPage() uint8 { return uint8(id>>25) & 1 }

// DataPage is the DP bit, 0 or 1.
func (id ID) DataPage() uint8 { return uint8(id>>24) & 1 }

// PF is the PDU format byte.
func (id ID) PF() uint8 { return uint8(id >> 16) }

// PS is the PDU specific byte: the destination address of a PDU1 frame,
// the group extension of a PDU2 frame.
func (id ID) PS() uint8 { return uint8(id >> 8) }

// PDU1 reports whether the frame is destination-specific (PF < 240).
func (id ID) PDU1() bool { return id.PF() < pdu2Threshold }

// Source is the sender's address.
func (id ID) Source() Address { return Address(id) }

// Destination is the addressee of a PDU1 frame; PDU2 frames are broadcast,
// so for them it is AddressGlobal.
func (id ID) Destination() Address {
	if id.PDU1() {
		return Address(id.PS())
	}
	return AddressGlobal
}

// PGN is the parameter group number: EDP, DP and PF, plus PS for PDU2
// frames. For PDU1 frames PS is a destination address and not part of it.
func (id ID) PGN() PGN {
	pgn := PGN(id>>8) & maxPGN
	if id.PDU1() {
		pgn &^= 0xFF
	}
	return pgn
}

// String formats the identifier the way candump does, as 8 hex digits.
func (id ID) String() string { return fmt.Sprintf("%08X", uint32(id)) }

// Address is a J1939 node address (source or destination).
type Address uint8

// Special addresses (SAE J1939-81).
const (
	// AddressNull is the source address of a node that has no address.
	AddressNull Address = 0xFE
	// AddressGlobal is the destination of broadcasts.
	AddressGlobal Address = 0xFF
)

// String formats the address as 0xNN.
func (a Address) String() string { return fmt.Sprintf("0x%02X", uint8(a)) }

// PGN is an 18-bit parameter group number.
type PGN uint32

// maxPGN masks the 18 bits of a PGN.
const maxPGN PGN = 1<<18 - 1

// PDU1 reports whether the group is destination-specific (PF < 240), in
// which case its low byte is always zero.
func (p PGN) PDU1() bool { return uint8(p>>8) < pdu2Threshold }

// Acronym is the SAE J1939 acronym of the parameter group ("CCVS1"), or ""
// if this package does not know it.
func (p PGN) Acronym() string { return pgnAcronyms[p] }

// String formats the PGN in decimal, the way SAE J1939-71 lists it,
// followed by its acronym when known: "65265 (CCVS1)".
func (p PGN) String() string {
	s := strconv.FormatUint(uint64(p), 10)
	if a := p.Acronym(); a != "" {
		s += " (" + a + ")"
	}
	return s
}
