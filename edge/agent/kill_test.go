package agent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer collects a child's output.
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

// child is the edge agent running as a child process (this test binary
// re-executed, see TestMain).
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan struct{}
	err    error // valid once exited is closed
}

func startChild(t *testing.T, config string) *child {
	t.Helper()
	c := &child{t: t, cmd: exec.Command(os.Args[0], "-test.run=^$"), out: &lockedBuffer{}, exited: make(chan struct{})}
	// The agent rejects FLEETWIRE_ variables it does not know: pass none.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FLEETWIRE_") {
			c.cmd.Env = append(c.cmd.Env, kv)
		}
	}
	c.cmd.Env = append(c.cmd.Env, childConfigEnv+"="+config)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.exited
	})
	return c
}

// wait polls cond until it holds; the child exiting or ctx ending fails
// the test with the child's output.
func (c *child) wait(ctx context.Context, what string, cond func() bool) {
	c.t.Helper()
	for !cond() {
		select {
		case <-c.exited:
			c.t.Fatalf("agent exited (%v) while waiting for %s:\n%s", c.err, what, c.out.String())
		case <-ctx.Done():
			c.t.Fatalf("waiting for %s: %v\n%s", what, ctx.Err(), c.out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (c *child) logged(msg string) bool { return strings.Contains(c.out.String(), msg) }

// kill sends SIGKILL: no shutdown code runs, the store is left as it is.
func (c *child) kill() {
	c.t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	<-c.exited
}

// scrape reads the agent's metrics (unlabelled series only).
func scrape(t *testing.T, ctx context.Context, addr string) map[string]float64 {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil // not listening yet
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		name, val, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") || strings.Contains(name, "{") {
			continue
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			m[name] = v
		}
	}
	return m
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestAgentKilled runs the agent as a process (configured by a file, as
// fleetwire-edge run) replaying a real drive 300× sped up, kills it with
// SIGKILL while it is recording and forwarding, and starts it again on
// the same store. The restarted agent recovers its store (it says so, with
// the last sequence, and its backlog metric is right at once), the drive
// is recorded again from its start, and the hub ends up with seq 1..N
// contiguous, no event twice, N at least what was stored before the kill.
func TestAgentKilled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hub, hubJS := startQuietHub(t, ctx)
	dir := t.TempDir()
	metrics := freeAddr(t)
	nmea, err := filepath.Abs(nmeaDir + "munich-gps.nmea")
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "edge.yaml")
	yaml := fmt.Sprintf(`vehicle: {account: acme, id: v1}
hub: {url: %q}
store: {dir: %q}
gnss: {replay: %q, speed: 300}
position: {every: 1s}
heartbeat_every: 1h
metrics: {listen: %q}
log_level: info
`, hub.LeafURL(), filepath.Join(dir, "store"), nmea, metrics)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}

	// Killed once the agent has stored 300 events (about one per second
	// of the drive) and the hub has some. The replay is paced by the
	// clock from its first fix, so a starved agent can catch up but never
	// get ahead: with 300 of the drive's ~1,870 events stored, at least
	// 5 s of the replay remain, whatever the load, and the kill falls
	// while it records. (Waiting for events on the hub instead tied the
	// kill to how fast the forwarder keeps up, and the drive could end
	// first.)
	p := startChild(t, config)
	var before float64
	p.wait(ctx, "300 events stored and some on the hub", func() bool {
		if n, _ := tryHubCount(ctx, hubJS); n == 0 {
			return false
		}
		before = scrape(t, ctx, metrics)["fleetwire_edge_outbox_appended_total"]
		return before >= 300
	})
	if p.logged("gnss: replay finished") {
		t.Fatal("the drive ended before the kill: nothing was being written")
	}
	p.kill()
	atKill := hubCount(t, ctx, hubJS)

	p = startChild(t, config)
	recovered := regexp.MustCompile(`outbox: store recovered".* last_seq=(\d+) waiting=(\d+)`)
	var m []string
	p.wait(ctx, "the store recovered", func() bool { m = recovered.FindStringSubmatch(p.out.String()); return m != nil })
	lastSeq, _ := strconv.ParseUint(m[1], 10, 64)
	waiting, _ := strconv.ParseUint(m[2], 10, 64)
	if float64(lastSeq) < before {
		t.Fatalf("recovered last seq %d, but %v events were stored before the kill", lastSeq, before)
	}
	if lastSeq < atKill {
		t.Fatalf("recovered last seq %d, but the hub held %d events at the kill", lastSeq, atKill)
	}
	p.wait(ctx, "the drive recorded again", func() bool { return p.logged("gnss: replay finished") })
	var st map[string]float64
	p.wait(ctx, "the backlog forwarded", func() bool {
		st = scrape(t, ctx, metrics)
		return st != nil && st["fleetwire_edge_outbox_backlog"] == 0
	})
	n := lastSeq + uint64(st["fleetwire_edge_outbox_appended_total"])
	events := waitHub(t, ctx, hubJS, int(n))
	if got := events[len(events)-1].e.Seq; got != n {
		t.Fatalf("last seq on the hub %d, want %d", got, n)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	if p.err != nil {
		t.Fatalf("agent stopped with %v:\n%s", p.err, p.out.String())
	}
	t.Logf("killed after %v appended (hub %d); recovered last seq %d with %d waiting; %d events on the hub, seq 1..%d",
		before, atKill, lastSeq, waiting, len(events), n)
}
