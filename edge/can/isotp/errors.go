package isotp

import "errors"

// Errors returned by Reassembler.Add. Each is wrapped with a message that
// names the CAN ID and the problem, and counted in Stats; test for them
// with errors.Is. None of them stops reassembly: keep adding frames.
var (
	// ErrMalformed means a frame that is not valid ISO-TP: no data, an
	// unknown frame type, a single frame whose length is 0 or longer than
	// the frame, a first frame shorter than 8 bytes or announcing fewer
	// than 8 bytes, or a consecutive frame cut short. A malformed
	// consecutive frame aborts its message; other malformed frames are
	// ignored.
	ErrMalformed = errors.New("isotp: malformed frame")

	// ErrTooLong means a first frame announcing more than the configured
	// maximum, or more than 4095 bytes (the escape to 32-bit lengths). The
	// frame is ignored.
	ErrTooLong = errors.New("isotp: message too long")

	// ErrUnexpected means a consecutive frame on an ID with no message in
	// progress. It is ignored.
	ErrUnexpected = errors.New("isotp: unexpected consecutive frame")

	// ErrSequence means a consecutive frame with the wrong sequence
	// number: a frame was lost or repeated. The message is aborted.
	ErrSequence = errors.New("isotp: consecutive frame out of sequence")

	// ErrTimeout means the next frame of a message did not come within
	// the timeout (N_Cr). The message is aborted.
	ErrTimeout = errors.New("isotp: timeout waiting for consecutive frame")

	// ErrInterrupted means a single or first frame arrived on an ID while
	// a message was in progress there. The message in progress is aborted
	// and the new frame handled.
	ErrInterrupted = errors.New("isotp: message interrupted by a new one")

	// ErrBusy means a first frame was refused because the configured
	// number of messages are already in progress on other IDs.
	ErrBusy = errors.New("isotp: too many messages in progress")
)
