package j1939

import "errors"

// Errors returned by this package. They are wrapped with a message that
// names the frame or session concerned; test for them with errors.Is. None
// of them is fatal: the caller counts or logs it and goes on with the next
// frame.
var (
	// ErrNotJ1939 means the frame cannot be J1939: it has an 11-bit
	// identifier, is a remote request, or its identifier has more than
	// 29 bits.
	ErrNotJ1939 = errors.New("j1939: not a J1939 frame")

	// ErrMalformed means a frame or message is too short or has content
	// that cannot be decoded (a TP frame with fewer than 8 bytes, a DM1
	// without its lamp bytes, non-ASCII identification text).
	ErrMalformed = errors.New("j1939: malformed message")

	// ErrTPAnnouncement means a TP.CM BAM or RTS announced a transfer that
	// cannot be: size 0 or above 1785 bytes, a packet count that does not
	// match the size, a BAM not sent to the global address, an RTS sent to
	// it, or a PGN wider than 18 bits.
	ErrTPAnnouncement = errors.New("j1939: invalid TP announcement")

	// ErrTPSequence means a TP.DT packet did not carry the expected
	// sequence number (a packet lost, repeated or out of order), or a CTS
	// or end-of-message acknowledgement showed that packets were missed.
	// The transfer is dropped.
	ErrTPSequence = errors.New("j1939: TP packet out of sequence")

	// ErrTPTimeout means a transfer saw no packet for longer than the
	// J1939-21 timeout (T1 = 750 ms between packets). It is dropped.
	ErrTPTimeout = errors.New("j1939: TP transfer timed out")

	// ErrTPAborted means a transfer ended before it was complete: a
	// connection abort was seen, or the same sender started a new
	// transfer, which replaces the old one.
	ErrTPAborted = errors.New("j1939: TP transfer aborted")

	// ErrTPNoSession means a TP.DT packet arrived for which no transfer
	// was announced (the announcement was missed or rejected).
	ErrTPNoSession = errors.New("j1939: TP packet without announcement")

	// ErrTPBusy means an announcement was ignored because MaxSessions
	// transfers are already in progress.
	ErrTPBusy = errors.New("j1939: too many TP transfers")
)
