//go:build linux

package gnss

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY opens a pseudo-terminal pair. The test writes to the master
// what a receiver would send; OpenSerial opens the slave at slavePath.
// Closing the master is what unplugging a USB receiver looks like to the
// reader of the slave.
func openPTY(t *testing.T) (master *os.File, slavePath string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pseudo-terminal master: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	rc, err := m.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var unlock int32 // 0: unlock the slave
	var n uint32
	var errno syscall.Errno
	err = rc.Control(func(fd uintptr) {
		if _, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
			return
		}
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n)))
	})
	if err != nil || errno != 0 {
		t.Fatalf("unlockpt/ptsname: %v %v", err, errno)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

// termiosOf returns the settings of the terminal at path, read through a
// descriptor of its own: they belong to the terminal, not the descriptor.
func termiosOf(t *testing.T, path string) syscall.Termios {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var tio syscall.Termios
	var ioctlErr error
	if err := rc.Control(func(fd uintptr) { ioctlErr = ioctlTermios(fd, syscall.TCGETS, &tio) }); err != nil || ioctlErr != nil {
		t.Fatalf("TCGETS %s: %v %v", path, err, ioctlErr)
	}
	return tio
}

func openSerial(t *testing.T, path string, opts SerialOptions) *Serial {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	s, err := OpenSerial(path, opts)
	if err != nil {
		t.Fatalf("OpenSerial: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSerialRegensburg plays the Regensburg drive into a pseudo-terminal
// and reads it back through OpenSerial: the fixes are those Reader gets
// from the file, but the last, whose epoch is only complete at the end of
// the file, which a serial port never reaches. Closing the master side
// then ends Run with ErrDeviceGone.
func TestSerialRegensburg(t *testing.T) {
	data, err := os.ReadFile(regensburg)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := readAll(t, regensburg)
	want = want[:len(want)-1]

	master, slave := openPTY(t)
	s := openSerial(t, slave, SerialOptions{Baud: 9600})

	tio := termiosOf(t, slave)
	if got := tio.Cflag & cbaud; got != syscall.B9600 {
		t.Errorf("speed code %#x, want B9600 (%#x)", got, syscall.B9600)
	}
	if tio.Lflag&(syscall.ICANON|syscall.ECHO|syscall.ISIG) != 0 || tio.Iflag&(syscall.ICRNL|syscall.IXON) != 0 ||
		tio.Oflag&syscall.OPOST != 0 || tio.Cflag&(syscall.CSIZE|syscall.PARENB|syscall.CSTOPB) != syscall.CS8 ||
		tio.Cflag&(syscall.CLOCAL|syscall.CREAD) != syscall.CLOCAL|syscall.CREAD || tio.Cc[syscall.VMIN] != 1 {
		t.Errorf("terminal not raw 8N1: %+v", tio)
	}

	var got []Fix
	allIn := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Run(t.Context(), func(fix Fix) error {
			got = append(got, fix)
			if len(got) == len(want) {
				close(allIn)
			}
			return nil
		})
	}()
	written := make(chan error, 1)
	go func() { // blocks while the slave's buffers are full
		_, err := master.Write(data)
		written <- err
	}()

	guard := time.NewTimer(30 * time.Second) // against hanging, not a measurement
	defer guard.Stop()
	select {
	case <-allIn:
	case err := <-done:
		t.Fatalf("Run returned %v after %d fixes, want %d", err, len(got), len(want))
	case <-guard.C:
		t.Fatalf("no %d fixes in time", len(want))
	}
	select {
	case err := <-written:
		if err != nil {
			t.Fatalf("write to the master: %v", err)
		}
	case <-guard.C:
		t.Fatal("the master was not drained")
	}

	master.Close() // the receiver is unplugged
	select {
	case err = <-done:
	case <-guard.C:
		t.Fatal("Run did not return when the device went away")
	}
	if !errors.Is(err, ErrDeviceGone) || !strings.Contains(err.Error(), slave) {
		t.Errorf("Run = %v, want ErrDeviceGone naming %s", err, slave)
	}
	t.Logf("unplugged: %v", err)
	if len(got) != len(want) {
		t.Fatalf("%d fixes, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("fix %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	st := s.Stats()
	if st.Emitted != len(want) || st.Malformed != 0 || st.ChecksumErrors != 0 || st.Filter.NoFix != 16 {
		t.Errorf("Stats = %+v, want %d emitted, nothing malformed, 16 without fix", st, len(want))
	}
}

// TestSerialCancelBlockedRead cancels Run while it waits for a quiet
// receiver, then runs it again on the same port.
func TestSerialCancelBlockedRead(t *testing.T) {
	master, slave := openPTY(t)
	s := openSerial(t, slave, SerialOptions{})
	if got := termiosOf(t, slave).Cflag & cbaud; got != syscall.B4800 {
		t.Errorf("default speed code %#x, want B4800 (%#x)", got, syscall.B4800)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	emitted := make(chan Fix, 3)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, func(fix Fix) error { emitted <- fix; return nil }) }()
	if _, err := master.WriteString(threeFixes); err != nil {
		t.Fatal(err)
	}
	guard := time.NewTimer(10 * time.Second) // against hanging, not a measurement
	defer guard.Stop()
	for range 2 { // the third epoch stays open: Run waits for more
		select {
		case <-emitted:
		case <-guard.C:
			t.Fatal("no fixes")
		}
	}
	if err := s.Run(t.Context(), func(Fix) error { return nil }); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-guard.C:
		t.Fatal("Run did not return after cancel")
	}

	// The deadline that unblocked Run is cleared: the port reads again.
	later := sentence("GPRMC,100006,A,4901.0300,N,01203.0000,E,20.0,0.0,110410,,,A") + "\r\n" +
		sentence("GPRMC,100008,A,4901.0400,N,01203.0000,E,20.0,0.0,110410,,,A") + "\r\n"
	go func() { done <- s.Run(t.Context(), func(fix Fix) error { emitted <- fix; return errEnough }) }()
	if _, err := master.WriteString(later); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, errEnough) {
			t.Errorf("Run again = %v, want errEnough from emit", err)
		}
	case <-guard.C:
		t.Fatal("Run again did not read")
	}
	if fix := <-emitted; fix.Time.Format("15:04:05") != "10:00:06" {
		t.Errorf("fix after restart at %v, want 10:00:06", fix.Time)
	}
}

func TestOpenSerialErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenSerial(filepath.Join(dir, "ttyUSB9"), SerialOptions{Logger: quiet})
	if !errors.Is(err, ErrDeviceGone) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenSerial of a missing device = %v, want ErrDeviceGone and fs.ErrNotExist", err)
	}

	file := filepath.Join(dir, "log.nmea")
	if err := os.WriteFile(file, []byte(threeFixes), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = OpenSerial(file, SerialOptions{Logger: quiet})
	if !errors.Is(err, syscall.ENOTTY) || errors.Is(err, ErrDeviceGone) || !strings.Contains(err.Error(), "not a terminal") {
		t.Errorf("OpenSerial of a file = %v, want ENOTTY, not ErrDeviceGone", err)
	}
}

func TestSpeedCodes(t *testing.T) {
	seen := map[uint32]int{}
	for _, baud := range SerialBauds() {
		code, ok := speedCode(baud)
		if !ok || code&^cbaud != 0 {
			t.Errorf("speedCode(%d) = %#x, %v", baud, code, ok)
		}
		if prev, dup := seen[code]; dup {
			t.Errorf("%d and %d share the speed code %#x", prev, baud, code)
		}
		seen[code] = baud
	}
}

func TestDeviceGone(t *testing.T) {
	for _, tt := range []struct {
		err  error
		gone bool
	}{
		{&fs.PathError{Op: "read", Path: "/dev/ttyUSB0", Err: syscall.EIO}, true},
		{&fs.PathError{Op: "open", Path: "/dev/ttyUSB0", Err: syscall.ENXIO}, true},
		{&fs.PathError{Op: "open", Path: "/dev/ttyUSB0", Err: syscall.ENODEV}, true},
		{&fs.PathError{Op: "open", Path: "/dev/ttyUSB0", Err: syscall.EACCES}, false},
		{os.ErrDeadlineExceeded, false},
	} {
		if got := deviceGone(tt.err); got != tt.gone {
			t.Errorf("deviceGone(%v) = %v, want %v", tt.err, got, tt.gone)
		}
	}
}
