package j1939

import (
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
)

// Decoder turns a stream of CAN frames into J1939 messages: single-frame
// parameter groups pass straight through, transport-protocol transfers come
// out reassembled once their last packet arrives. Decode the signals of a
// message with AppendSignals, a DM1 with DM1.Decode.
//
// The zero value is ready to use. A Decoder is not safe for concurrent use.
type Decoder struct {
	tp Transport
}

// Decode processes one frame. It returns the message the frame completes
// and true: the frame itself for a single-frame group, the reassembled
// transfer for the last TP.DT packet. TP.CM and other TP.DT frames return
// false. The message's Data aliases f.Data or the Decoder's buffer; it is
// valid until f changes or the next call.
//
// Errors do not stop the stream: ErrNotJ1939 for frames that are not
// J1939, and the transport errors of Transport.Receive, which may come
// along with a message when a stalled transfer times out.
func (d *Decoder) Decode(f *can.Frame) (Message, bool, error) {
	m, err := ParseFrame(f)
	if err != nil {
		return Message{}, false, err
	}
	if m.PGN == PGNTPCM || m.PGN == PGNTPDT {
		return d.tp.Receive(m)
	}
	return m, true, d.tp.Expire(m.Time)
}

// Expire drops the transfers that have been silent for too long at now
// (see Transport.Expire). Decode does this with every frame's time; call
// Expire from a ticker when the bus may go quiet.
func (d *Decoder) Expire(now time.Time) error { return d.tp.Expire(now) }

// TransportStats returns the counters of the transport-protocol reassembly.
func (d *Decoder) TransportStats() TransportStats { return d.tp.Stats() }
