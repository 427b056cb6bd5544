package gnss

import "errors"

// Errors returned by Parse, the sources and the replay. They are wrapped with
// a message that names the problem; test for them with errors.Is.
var (
	// ErrMalformed means the input is not a usable NMEA sentence: garbage,
	// a line cut short or spliced into another, a missing checksum, or a
	// field that cannot be decoded.
	ErrMalformed = errors.New("gnss: malformed sentence")

	// ErrChecksum means the sentence's *hh checksum does not match its
	// content: the line was damaged on the way.
	ErrChecksum = errors.New("gnss: checksum mismatch")

	// ErrUnsupported means a well-formed sentence with a valid checksum whose
	// type this package does not decode (for example $GPTXT or the Garmin
	// proprietary $PGRME). Callers can ignore it silently.
	ErrUnsupported = errors.New("gnss: unsupported sentence")

	// ErrNoFixes means a looping replay went through its whole file without
	// emitting a single fix, so looping would only burn CPU.
	ErrNoFixes = errors.New("gnss: no usable fixes")

	// ErrRunning means Run was called on a source that is already running.
	ErrRunning = errors.New("gnss: source is already running")

	// ErrDeviceGone means the serial device is not there, or went away
	// while it was read: a USB receiver was unplugged, or has not been
	// plugged in (again) yet. Serial.Run and OpenSerial return it wrapped;
	// close the Serial and call OpenSerial again, with a backoff, until it
	// succeeds.
	ErrDeviceGone = errors.New("gnss: serial device gone")
)
