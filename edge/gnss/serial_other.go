//go:build !linux

package gnss

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// openTTY fails: serial ports are only supported on Linux.
func openTTY(string, int) (*os.File, error) {
	return nil, fmt.Errorf("serial ports on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// deviceGone reports no error as a device gone; only Linux has serial
// ports here.
func deviceGone(error) bool { return false }
