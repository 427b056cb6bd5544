package obd

import (
	"fmt"
	"math/bits"
	"strings"
)

// Supported is a set of Mode 01 PIDs, as an ECU announces them in its
// supported-PID bitmaps: PID 0x00 answers which of 0x01–0x20 it supports,
// PID 0x20 which of 0x21–0x40, and so on up to 0xE0. Each bitmap's last
// bit is the next bitmap PID, so Has(0x20) also says whether it is worth
// asking for the range 0x21–0x40. The zero value is the empty set.
type Supported struct {
	bits [4]uint64 // bit p%64 of bits[p/64] is PID p
}

// Has reports whether pid is in the set.
func (s Supported) Has(pid uint8) bool { return s.bits[pid>>6]>>(pid&63)&1 == 1 }

// Add puts pid into the set.
func (s *Supported) Add(pid uint8) { s.bits[pid>>6] |= 1 << (pid & 63) }

// Merge adds every PID of o to the set.
func (s *Supported) Merge(o Supported) {
	for i := range s.bits {
		s.bits[i] |= o.bits[i]
	}
}

// Len returns the number of PIDs in the set.
func (s Supported) Len() int {
	n := 0
	for _, w := range s.bits {
		n += bits.OnesCount64(w)
	}
	return n
}

// PIDs returns the PIDs of the set in increasing order.
func (s Supported) PIDs() []uint8 {
	pids := make([]uint8, 0, s.Len())
	for i, w := range s.bits {
		for w != 0 {
			pids = append(pids, uint8(i*64+bits.TrailingZeros64(w)))
			w &= w - 1
		}
	}
	return pids
}

// String returns the PIDs in hex, such as "[01 20 21 30 31]".
func (s Supported) String() string { return hexPIDs(s.PIDs()) }

// addBitmap merges the answer to bitmap PID base (0x00, 0x20, … 0xE0):
// the most significant bit of A is PID base+1, the least significant bit
// of D is PID base+0x20. The bitmap PID itself is added too, since the
// ECU has just answered it.
func (s *Supported) addBitmap(base uint8, bitmap uint32) {
	s.Add(base)
	for i := range 32 {
		if bitmap&(1<<(31-i)) != 0 {
			pid := int(base) + 1 + i
			if pid <= 0xFF {
				s.Add(uint8(pid))
			}
		}
	}
}

// isBitmapPID reports whether pid asks for a supported-PID bitmap.
func isBitmapPID(pid uint8) bool { return pid&0x1F == 0 }

// hexPIDs formats PIDs as "[0C 0D A6]" for errors and log records.
func hexPIDs(pids []uint8) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, pid := range pids {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%02X", pid)
	}
	b.WriteByte(']')
	return b.String()
}
