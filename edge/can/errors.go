package can

import "errors"

// Errors returned by ParseLine, the sources and Dial. They are wrapped with
// a message that names the problem; test for them with errors.Is.
var (
	// ErrMalformed means the input is not a classic CAN frame: a line that
	// is not candump output, a raw frame of the wrong size, or a Frame given
	// to Send whose ID or length is out of range.
	ErrMalformed = errors.New("can: malformed frame")

	// ErrUnsupported means well-formed input that this package does not
	// decode: CAN FD and CAN XL frames, error frames and candump's
	// DROPCOUNT notices. Callers can ignore it silently.
	ErrUnsupported = errors.New("can: unsupported frame")

	// ErrNoFrames means a looping replay went through its whole file
	// without emitting a single frame, so looping would only burn CPU.
	ErrNoFrames = errors.New("can: no frames")

	// ErrRunning means Run was called on a source that is already running.
	ErrRunning = errors.New("can: source is already running")

	// ErrNoInterface means Dial was given the name of a network interface
	// that does not exist or is not a CAN interface.
	ErrNoInterface = errors.New("can: no such CAN interface")

	// ErrUnsupportedPlatform means live SocketCAN is not available: the
	// program does not run on Linux, or the kernel has no CAN support.
	ErrUnsupportedPlatform = errors.New("can: SocketCAN is not available on this platform")
)
