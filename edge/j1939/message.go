package j1939

import (
	"fmt"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
)

// Message is one J1939 parameter group as received: either a single frame
// or a transfer reassembled by the transport protocol.
type Message struct {
	// Time is the capture time of the frame, or of the last packet of a
	// reassembled transfer.
	Time time.Time
	// PGN is the parameter group number; for a reassembled transfer, the
	// one announced in TP.CM.
	PGN PGN
	// Priority is from the identifier (of the TP.CM for a transfer).
	Priority uint8
	// Source is the sender's address.
	Source Address
	// Destination is the addressee, AddressGlobal for broadcasts.
	Destination Address
	// Data is the payload. It aliases the frame's Data or the Transport's
	// buffer: it is only valid until the frame is changed or the next call
	// to Decoder.Decode or Transport.Receive. Copy it to keep it.
	Data []byte
}

// ParseFrame reads the J1939 header of f. The returned message's Data
// aliases f.Data. It fails with ErrNotJ1939 for frames that cannot be
// J1939 (11-bit identifiers, remote requests).
func ParseFrame(f *can.Frame) (Message, error) {
	if !f.Extended || f.RTR || ID(f.ID) > MaxID {
		return Message{}, fmt.Errorf("frame %X (extended %t, remote %t): %w", f.ID, f.Extended, f.RTR, ErrNotJ1939)
	}
	id := ID(f.ID)
	return Message{
		Time:        f.Time,
		PGN:         id.PGN(),
		Priority:    id.Priority(),
		Source:      id.Source(),
		Destination: id.Destination(),
		Data:        f.Data[:min(int(f.Len), len(f.Data))],
	}, nil
}
