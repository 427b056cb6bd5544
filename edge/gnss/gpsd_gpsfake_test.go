//go:build linux

package gnss

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestGPSDWithGpsfake runs the GPSD source against a real gpsd, fed by
// gpsfake with the u-blox NEO-M9N log (Novato CA), and checks the fixes
// against those the NMEA pipeline reads from the same log.
//
// It needs gpsfake and gpsd: apt-get install gpsd gpsd-clients. It does
// not use a gpsd system service: gpsfake starts a gpsd of its own on a
// free port, and the test kills both (their process group) when done.
func TestGPSDWithGpsfake(t *testing.T) {
	gpsfake, err := exec.LookPath("gpsfake")
	if err != nil {
		t.Skip("gpsfake not installed: apt-get install gpsd gpsd-clients")
	}
	const log = gpsdDir + "ublox-neo-m9n-nmea.log"
	const wantFixes = 10

	port := freePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	exited := startGpsfake(t, gpsfake,
		"-1",         // play the log once
		"-q",         // quiet
		"-c", "0.01", // 10 ms between sentences: 61 epochs in about 14 s
		"-P", strconv.Itoa(port),
		log)
	waitForPort(t, addr, exited)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // against hanging
	defer cancel()
	g := newGPSD(t, GPSDOptions{Addr: addr, ReconnectMin: 50 * time.Millisecond, Logger: quiet})
	var got []Fix
	err = g.Run(ctx, func(fix Fix) error {
		got = append(got, fix)
		if len(got) == wantFixes {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		t.Fatalf("Run = %v after %d fixes, want %d fixes; stats %+v", err, len(got), wantFixes, g.Stats())
	}

	// gpsd's first reports can mix up epochs: it reads the backlog that
	// gpsfake wrote to the pty before gpsd opened it, while it works out
	// the receiver type. Every fix must be at the position the log gives
	// for its time, to within a metre; the last ones, in the steady
	// state, must be exactly the log's, with altitude and SKY data.
	const steady = 3
	nmea, _ := readAll(t, log)
	byTime := map[time.Time]Fix{}
	for _, fix := range nmea {
		byTime[fix.Time] = fix
	}
	for i, fix := range got {
		want, ok := byTime[fix.Time]
		if !ok || !fix.Valid {
			t.Errorf("fix %d at %v: not valid, or no such epoch in the log: %+v", i, fix.Time, fix)
			continue
		}
		if d := haversineKm(38.1105, -122.6269, fix.Lat, fix.Lon); d > 0.1 {
			t.Errorf("fix %d at %.5f, %.5f is %.2f km from Novato", i, fix.Lat, fix.Lon, d)
		}
		if d := 1000 * haversineKm(want.Lat, want.Lon, fix.Lat, fix.Lon); d > 1 {
			t.Errorf("fix %d at %v is %.1f m from where the log has it", i, fix.Time, d)
		}
		if i < len(got)-steady {
			continue
		}
		switch {
		case !fix.HasAltitude || !fix.HasSpeed:
			t.Errorf("fix %d is not a full 3D fix: %+v", i, fix)
		case math.Abs(fix.Lat-want.Lat) > 1e-7 || math.Abs(fix.Lon-want.Lon) > 1e-7:
			t.Errorf("fix %d at %.7f, %.7f; the log says %.7f, %.7f", i, fix.Lat, fix.Lon, want.Lat, want.Lon)
		case math.Abs(fix.AltitudeM-want.AltitudeM) > 0.05:
			t.Errorf("fix %d: altitude %.2f m, the log says %.2f m", i, fix.AltitudeM, want.AltitudeM)
		case math.Abs(fix.SpeedKph-want.SpeedKph) > 0.01:
			t.Errorf("fix %d: %.3f km/h, the log says %.3f km/h", i, fix.SpeedKph, want.SpeedKph)
		case fix.Satellites == 0 || fix.HDOP == 0:
			t.Errorf("fix %d has no SKY data: %+v", i, fix)
		}
	}
	s := g.Stats()
	if s.Connects != 1 || s.Outages != 0 || s.Malformed != 0 {
		t.Errorf("Stats = %+v, want one connection, no outage, nothing malformed", s)
	}
	t.Logf("%d fixes from gpsd, %v to %v; stats %+v", len(got), got[0].Time, got[len(got)-1].Time, s)
}

// startGpsfake starts gpsfake in a process group of its own, with the
// gpsd it starts, and kills the group when the test ends. The channel
// receives gpsfake's output if it exits before that.
func startGpsfake(t *testing.T, gpsfake string, args ...string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, gpsfake, args...)
	cmd.Env = append(cmd.Environ(), "TMPDIR="+t.TempDir()) // for gpsd's control socket
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start gpsfake: %v", err)
	}
	pgid := cmd.Process.Pid
	t.Logf("started %v (process group %d)", cmd.Args, pgid)

	exited := make(chan string, 1)
	waited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		exited <- fmt.Sprintf("%v: %s", err, out.Bytes())
		close(waited)
	}()
	t.Cleanup(func() {
		cancel()
		<-waited // bounded by WaitDelay
		// Whatever is left of the group, gpsd included, goes too.
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Errorf("kill gpsfake's process group %d: %v", pgid, err)
		}
		removeGPSDSharedMemory(args)
	})
	return exited
}

// removeGPSDSharedMemory removes the System V shared memory segment
// that gpsd exports its data in, left behind when it exits. gpsfake keys
// it by the port (0x4770pppp). It is best effort, with ipcrm.
func removeGPSDSharedMemory(gpsfakeArgs []string) {
	ipcrm, err := exec.LookPath("ipcrm")
	if err != nil {
		return
	}
	for i, a := range gpsfakeArgs[:len(gpsfakeArgs)-1] {
		if a != "-P" {
			continue
		}
		port, err := strconv.Atoi(gpsfakeArgs[i+1])
		if err != nil {
			return
		}
		// It fails if gpsd did not get to create the segment.
		_ = exec.Command(ipcrm, "-M", fmt.Sprintf("0x4770%04X", port)).Run()
	}
}

// freePort returns a TCP port on loopback that nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitForPort polls addr until it accepts connections, gpsfake exits,
// or 30 seconds pass.
func waitForPort(t *testing.T, addr string, exited <-chan string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gpsd does not listen on %s: %v", addr, err)
		}
		select {
		case out := <-exited:
			t.Fatalf("gpsfake exited before gpsd listened on %s: %s", addr, out)
		case <-time.After(50 * time.Millisecond): // polling interval
		}
	}
}
