package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
)

// buildFleetwire compiles the real fleetwire binary for tests that kill it.
func buildFleetwire(t *testing.T) string {
	t.Helper()
	return buildProgram(t, "github.com/fleetwire/fleetwire/cloud/cmd/fleetwire")
}

// buildProgram compiles the command pkg into a temporary directory, without
// the race detector even under -race: the children are what the tests
// kill, not what they examine.
func buildProgram(t *testing.T, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// lockedBuffer collects a child's output for the failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// process is fleetwire serve running as a child process.
type process struct {
	cmd *exec.Cmd
	out *lockedBuffer
}

func startServe(t *testing.T, ctx context.Context, bin, config, leaf string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, "serve", "--config", config), out: &lockedBuffer{}}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.Env = append(os.Environ(), "FLEETWIRE_LOG_LEVEL=warn")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	for {
		c, err := net.DialTimeout("tcp", leaf, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return p
		}
		select {
		case <-ctx.Done():
			t.Fatalf("fleetwire serve never opened its leaf port %s:\n%s", leaf, p.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill sends SIGKILL: no shutdown code runs, the store is left as it is.
func (p *process) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// TestCloudKilled kills fleetwire serve (hub and dispatcher) with SIGKILL in
// the middle of deliveries and restarts it from its store. Nothing may be
// lost or reordered. JetStream persists consumer acks only ~10 times a
// second, so without the delivery log dozens of events came again; with it
// at most the one whose 2xx raced the kill can (same webhook-id).
func TestCloudKilled(t *testing.T) {
	bin := buildFleetwire(t) // a cold build is not the test's time
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// startCloud provides the receiver, ports and a config; its in-process
	// server is stopped at once and the binary runs instead.
	c := startCloud(t, ctx)
	c.shutdown()
	rcv := c.rcv
	config := filepath.Join(t.TempDir(), "cloud.yaml")
	yaml := fmt.Sprintf(`hub:
  store_dir: %q
  leaf_listen: %q
api:
  listen: ""
dispatch:
  allow_http: true
  allow_private: true
  retry_schedule: [100ms]
subscriptions:
  - {id: all, account: acme, url: %q, secret: %q}
`, c.cfg.Hub.StoreDir, c.leaf, rcv.URL(), c.secret)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, ctx, bin, config, c.leaf)

	v1 := startVehicle(t, ctx, c, "v1")
	v2 := startVehicle(t, ctx, c, "v2")
	f1 := loadFixes(t, "20100411_Geko_Regensburg.txt", 600)
	f2 := loadFixes(t, "munich-gps.nmea", 600)
	v1.drive(ctx, f1[:300])
	v2.drive(ctx, f2[:300])
	if _, err := rcv.WaitFor(ctx, 150); err != nil {
		t.Fatalf("deliveries did not start: %v\n%s", err, p.out.String())
	}
	p.kill() // mid-delivery: about 150 of 600 delivered
	v1.drive(ctx, f1[300:450])
	v2.drive(ctx, f2[300:450])
	p = startServe(t, ctx, bin, config, c.leaf)
	v1.drive(ctx, f1[450:])
	v2.drive(ctx, f2[450:])

	want := len(v1.storedEvents()) + len(v2.storedEvents())
	for {
		ds := rcv.Deliveries()
		unique := map[string]bool{}
		for _, d := range ds {
			unique[d.ID] = true
		}
		if len(unique) >= want {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d events delivered\n%s", len(unique), want, p.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	ds := rcv.Deliveries()
	seen := map[string]bool{}
	var first []receiver.Delivery
	for _, d := range ds {
		if !seen[d.ID] {
			seen[d.ID] = true
			first = append(first, d)
		}
	}
	dups := len(ds) - len(first)
	t.Logf("SIGKILL mid-delivery: %d events, %d delivered again with the same webhook-id", want, dups)
	// Only the event whose 2xx arrived just before the kill, before its
	// delivery record was stored, can come again.
	if dups > 1 {
		t.Fatalf("%d events delivered twice after one kill, want at most 1", dups)
	}
	checkDeliveries(t, first, v1, v2)
	if n := rcv.Rejected(); n != 0 {
		t.Fatalf("receiver rejected %d signatures", n)
	}
}
