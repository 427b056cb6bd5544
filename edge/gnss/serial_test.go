package gnss

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestOpenSerialRejectsBaud(t *testing.T) {
	for _, baud := range []int{-9600, 1, 300, 14400, 250000, 1000000} {
		s, err := OpenSerial("/dev/ttyUSB0", SerialOptions{Baud: baud, Logger: quiet})
		if err == nil {
			s.Close()
			t.Fatalf("OpenSerial with baud %d succeeded", baud)
		}
		msg := err.Error()
		if !strings.Contains(msg, strconv.Itoa(baud)) || !strings.Contains(msg, "/dev/ttyUSB0") {
			t.Errorf("baud %d: error %q names neither the rate nor the device", baud, msg)
		}
		for _, allowed := range SerialBauds() {
			if !strings.Contains(msg, strconv.Itoa(allowed)) {
				t.Errorf("baud %d: error %q does not list %d", baud, msg, allowed)
			}
		}
	}
}

func TestSerialBauds(t *testing.T) {
	bauds := SerialBauds()
	for _, want := range []int{DefaultBaud, 4800, 9600, 38400, 115200} {
		if !slices.Contains(bauds, want) {
			t.Errorf("SerialBauds() = %v, without %d", bauds, want)
		}
	}
	if !slices.IsSorted(bauds) {
		t.Errorf("SerialBauds() = %v, not in order", bauds)
	}
	bauds[0] = 1
	if SerialBauds()[0] == 1 {
		t.Error("SerialBauds returns the package's own slice")
	}
}
