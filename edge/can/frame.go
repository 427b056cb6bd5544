package can

import "time"

// Frame is one classic CAN frame (CAN FD is not decoded). It is a value
// type with its payload inline so that the decoding path does not allocate.
type Frame struct {
	// Time is when the frame was captured (log) or received (live).
	Time time.Time
	// ID is the 11-bit (standard) or 29-bit (extended) identifier.
	ID uint32
	// Extended is set for 29-bit identifiers (J1939 uses them).
	Extended bool
	// RTR marks a remote transmission request (no data).
	RTR bool
	// Len is the number of valid bytes in Data, 0..8.
	Len uint8
	// Data is the payload; bytes past Len are zero.
	Data [8]byte
}

// Payload returns the valid bytes of Data.
func (f *Frame) Payload() []byte { return f.Data[:f.Len] }
