//go:build linux

package gnss

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// Termios bits the syscall package does not define on every
// architecture. crtscts is the same everywhere; cbaud, the mask of the
// speed bits in c_cflag, is the union of the lowest and the highest
// speed code (0x100f on most architectures, 0x1f on ppc64).
const (
	crtscts = 0x80000000
	cbaud   = syscall.B38400 | syscall.B4000000
)

// speedCode returns the termios code for baud, one of serialBauds.
func speedCode(baud int) (uint32, bool) {
	switch baud {
	case 1200:
		return syscall.B1200, true
	case 2400:
		return syscall.B2400, true
	case 4800:
		return syscall.B4800, true
	case 9600:
		return syscall.B9600, true
	case 19200:
		return syscall.B19200, true
	case 38400:
		return syscall.B38400, true
	case 57600:
		return syscall.B57600, true
	case 115200:
		return syscall.B115200, true
	case 230400:
		return syscall.B230400, true
	case 460800:
		return syscall.B460800, true
	case 921600:
		return syscall.B921600, true
	}
	return 0, false
}

// openTTY opens the terminal at path and sets it up for reading NMEA:
// raw, 8N1, at baud.
//
// O_NONBLOCK keeps open from waiting for carrier detect on a port that
// does not ignore the modem lines yet, and tells package os the
// descriptor is non-blocking, so that os registers it with the runtime
// poller. It stays non-blocking: a read waits in the poller, not in the
// kernel, which is what gives reads the deadlines that cancellation
// relies on. O_NOCTTY keeps the terminal from becoming the agent's
// controlling terminal.
func openTTY(path string, baud int) (*os.File, error) {
	speed, ok := speedCode(baud)
	if !ok {
		return nil, fmt.Errorf("unsupported baud rate %d", baud)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || deviceGone(err) {
			return nil, fmt.Errorf("%w: %w", ErrDeviceGone, err)
		}
		return nil, err
	}
	if err := setRaw(f, speed); err != nil {
		f.Close()
		if deviceGone(err) {
			return nil, fmt.Errorf("%w: %w", ErrDeviceGone, err)
		}
		return nil, err
	}
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		f.Close()
		return nil, fmt.Errorf("reads cannot be cancelled: %w", err)
	}
	return f, nil
}

// setRaw configures the terminal f like cfmakeraw, 8N1 at the speed code
// speed, ignoring the modem control lines and without flow control; a
// read returns as soon as a byte is there. It reads the settings back to
// check that the device took the speed.
//
// It reaches the descriptor through SyscallConn: File.Fd would put it
// back into blocking mode and lose the read deadlines.
func setRaw(f *os.File, speed uint32) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ioctlErr error
	err = rc.Control(func(fd uintptr) {
		var t syscall.Termios
		if ioctlErr = ioctlTermios(fd, syscall.TCGETS, &t); ioctlErr != nil {
			if errors.Is(ioctlErr, syscall.ENOTTY) {
				ioctlErr = fmt.Errorf("not a terminal: %w", ioctlErr)
			}
			return
		}
		t.Iflag &^= syscall.IGNBRK | syscall.BRKINT | syscall.PARMRK | syscall.ISTRIP |
			syscall.INLCR | syscall.IGNCR | syscall.ICRNL | syscall.IXON | syscall.IXOFF | syscall.IXANY
		t.Oflag &^= syscall.OPOST
		t.Lflag &^= syscall.ECHO | syscall.ECHONL | syscall.ICANON | syscall.ISIG | syscall.IEXTEN
		t.Cflag &^= syscall.CSIZE | syscall.PARENB | syscall.CSTOPB | crtscts | cbaud
		t.Cflag |= syscall.CS8 | syscall.CREAD | syscall.CLOCAL | speed
		t.Cc[syscall.VMIN], t.Cc[syscall.VTIME] = 1, 0
		if ioctlErr = ioctlTermios(fd, syscall.TCSETS, &t); ioctlErr != nil {
			ioctlErr = fmt.Errorf("set terminal attributes: %w", ioctlErr)
			return
		}
		var got syscall.Termios
		if ioctlErr = ioctlTermios(fd, syscall.TCGETS, &got); ioctlErr != nil {
			return
		}
		if got.Cflag&cbaud != speed {
			ioctlErr = fmt.Errorf("the device did not take the baud rate (speed code %#x, want %#x)", got.Cflag&cbaud, speed)
		}
	})
	if err != nil {
		return err
	}
	return ioctlErr
}

// ioctlTermios gets or sets (req TCGETS or TCSETS) the attributes of the
// terminal fd.
func ioctlTermios(fd uintptr, req uintptr, t *syscall.Termios) error {
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(unsafe.Pointer(t)))
	if errno != 0 {
		return errno
	}
	return nil
}

// deviceGone reports whether err is how Linux says that a terminal's
// device went away: EIO once a USB serial adapter is unplugged (or the
// other side of a pseudo-terminal closed), ENXIO or ENODEV when opening a
// device that is not there.
func deviceGone(err error) bool {
	return errors.Is(err, syscall.EIO) || errors.Is(err, syscall.ENXIO) || errors.Is(err, syscall.ENODEV)
}
