package gnss

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"
)

// DefaultBaud is the serial speed used when SerialOptions.Baud is 0: the
// rate NMEA 0183 specifies. Many current receivers default to 9600 or
// 38400 instead; set Baud to match the receiver.
const DefaultBaud = 4800

// serialBauds are the speeds OpenSerial accepts, in increasing order.
var serialBauds = []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600}

// SerialBauds returns the speeds that SerialOptions.Baud accepts, in
// increasing order.
func SerialBauds() []int { return slices.Clone(serialBauds) }

// SerialOptions configures a Serial.
type SerialOptions struct {
	// Baud is the line speed, one of SerialBauds; 0 means DefaultBaud.
	Baud int
	// MaxSpeedKph and MaxAge configure the filter; see FilterConfig.
	// MaxAge 0 disables the age check, which suits a gateway whose clock
	// may be wrong until it has synchronised.
	MaxSpeedKph float64
	MaxAge      time.Duration
	// Now is the clock for MaxAge and the warning rate limit; nil means
	// time.Now.
	Now func() time.Time
	// Logger receives warnings about skipped input; nil means
	// slog.Default().
	Logger *slog.Logger
}

// A Serial is a Source that reads NMEA 0183 from a receiver on a serial
// port, such as /dev/ttyUSB0, /dev/ttyACM0 or a /dev/serial/by-id/ link.
// The port is set up raw, 8N1, at the configured speed, without flow
// control and ignoring the modem control lines; lines are handled as by
// Reader. Serial ports are supported on Linux only: elsewhere OpenSerial
// returns an error wrapping errors.ErrUnsupported.
//
// A serial port does not end. When the device goes away (a USB receiver
// unplugged, a hang-up), Run returns an error wrapping ErrDeviceGone. The
// device node may come back with the same name; to go on, Close the
// Serial and call OpenSerial again, with a backoff, until it succeeds.
// OpenSerial too returns an error wrapping ErrDeviceGone while the device
// is not there; other errors (a bad Baud, a path that is not a terminal,
// no permission) will not go away by retrying.
type Serial struct {
	path string
	f    *os.File
	pipe *pipeline
}

var _ Source = (*Serial)(nil)

// OpenSerial opens and configures the serial device at path. Call Close
// when done.
func OpenSerial(path string, opts SerialOptions) (*Serial, error) {
	if opts.Baud == 0 {
		opts.Baud = DefaultBaud
	}
	if !slices.Contains(serialBauds, opts.Baud) {
		return nil, fmt.Errorf("gnss: serial %s: unsupported baud rate %d, want one of %v", path, opts.Baud, serialBauds)
	}
	f, err := openTTY(path, opts.Baud)
	if err != nil {
		return nil, fmt.Errorf("gnss: serial %s: %w", path, err)
	}
	cfg := FilterConfig{MaxSpeedKph: opts.MaxSpeedKph, MaxAge: opts.MaxAge, Now: opts.Now}
	return &Serial{path: path, f: f, pipe: newPipeline(path, opts.Logger, opts.Now, cfg)}, nil
}

// Run reads the port and emits the fixes; see Source for the contract. It
// does not return nil: it returns when ctx is cancelled, when emit fails,
// or with an error wrapping ErrDeviceGone when the device goes away (see
// Serial). Fix times come from the receiver.
func (s *Serial) Run(ctx context.Context, emit func(Fix) error) error {
	if err := s.pipe.start(); err != nil {
		return err
	}
	defer s.pipe.stop()
	return s.pipe.run(ctx, ttyReader{s.f}, func(fix Fix) error { return s.pipe.emit(emit, fix) })
}

// Close closes the port. Call it after Run has returned.
func (s *Serial) Close() error { return s.f.Close() }

// Stats returns the counts so far. It is safe to call while Run runs.
func (s *Serial) Stats() Stats { return s.pipe.Stats() }

// ttyReader reads a terminal, turning the ways a terminal says that its
// device has gone into errors wrapping ErrDeviceGone. Its read deadline
// lets the pipeline unblock a read on cancellation.
type ttyReader struct{ f *os.File }

func (r ttyReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		// A terminal only reads end-of-file once it is hung up. The error
		// must not wrap io.EOF, which the pipeline takes for a normal end.
		err = fmt.Errorf("%w: hang-up", ErrDeviceGone)
	case deviceGone(err):
		err = fmt.Errorf("%w: %w", ErrDeviceGone, err)
	}
	return n, err
}

func (r ttyReader) SetReadDeadline(t time.Time) error { return r.f.SetReadDeadline(t) }
