package localcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// stopGrace is how long a clean stop may take before the process is
// killed.
const stopGrace = 15 * time.Second

// child is a node running as its own process (Config.NodeProgram). The
// parent knows it through its monitoring endpoint: /healthz and /varz.
type child struct {
	name string
	cmd  *exec.Cmd
	mon  string // http://host:port of its monitoring endpoint
	out  *output
	done chan struct{} // closed when the process has exited
	err  error         // how it exited, set before done is closed
}

// startChild starts program as the node sp and waits until it accepts
// connections with JetStream enabled, or ctx ends.
func startChild(ctx context.Context, program, name string, sp nodeSpec, log *slog.Logger) (*child, error) {
	if sp.HTTPPort == 0 {
		return nil, fmt.Errorf("localcluster: %s: a node process needs a monitoring port", name)
	}
	// The child may run in another directory one day: absolute paths.
	var err error
	if sp.File, err = filepath.Abs(sp.File); err != nil {
		return nil, fmt.Errorf("localcluster: %w", err)
	}
	if sp.StoreRoot, err = filepath.Abs(sp.StoreRoot); err != nil {
		return nil, fmt.Errorf("localcluster: %w", err)
	}
	c := &child{
		name: name,
		cmd:  exec.Command(program, append([]string{NodeArg}, sp.args()...)...),
		mon:  "http://" + net.JoinHostPort(sp.Host, strconv.Itoa(sp.HTTPPort)),
		out:  &output{log: log, name: name},
		done: make(chan struct{}),
	}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	dieWithParent(c.cmd)
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("localcluster: %s: %w", name, err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }() // ends when the process does
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if c.healthy(sctx, "/healthz?js-enabled-only=true") {
			return c, nil
		}
		select {
		case <-c.done:
			return nil, fmt.Errorf("localcluster: %s exited at start (%v):\n%s", name, c.err, c.out.tail())
		case <-sctx.Done():
			_ = c.kill()
			return nil, fmt.Errorf("localcluster: %s not ready: %w\n%s", name, sctx.Err(), c.out.tail())
		case <-t.C:
		}
	}
}

// get decodes the monitoring endpoint's answer to path into v (if not
// nil) and fails unless it is 200.
func (c *child) get(ctx context.Context, path string, v any) error {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, c.mon+path, nil)
	if err != nil {
		return fmt.Errorf("localcluster: %s: %w", c.name, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("localcluster: %s: %w", c.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("localcluster: %s %s: %w", c.name, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("localcluster: %s %s: %s: %s", c.name, path, resp.Status, bytes.TrimSpace(body))
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("localcluster: %s %s: %w", c.name, path, err)
	}
	return nil
}

func (c *child) healthy(ctx context.Context, path string) bool { return c.get(ctx, path, nil) == nil }

// status: /varz says the routes and the meta leader; /healthz with
// js-meta-only says whether the node is current with the meta group.
func (c *child) status(ctx context.Context) (status, error) {
	var v server.Varz
	if err := c.get(ctx, "/varz", &v); err != nil {
		return status{}, err
	}
	st := status{routes: v.Routes, current: c.healthy(ctx, "/healthz?js-meta-only=true")}
	st.leader = v.JetStream.Meta != nil && v.JetStream.Meta.Leader != "" && v.JetStream.Meta.Leader == v.Name
	return st, nil
}

func (c *child) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// stop asks the node to shut down (SIGTERM) and kills it if it has not
// within stopGrace.
func (c *child) stop() {
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		_ = c.kill()
		return
	}
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		_ = c.kill()
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (c *child) kill() error {
	if err := c.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("localcluster: killing %s: %w", c.name, err)
	}
	<-c.done
	return nil
}

// output keeps the end of a child's output for error messages and, with
// a logger, passes each line on at its level.
type output struct {
	log     *slog.Logger
	name    string
	mu      sync.Mutex
	last    []byte // at most maxTail bytes
	partial []byte // an unfinished line
}

const maxTail = 16 << 10

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.last = append(o.last, p...)
	if len(o.last) > maxTail {
		o.last = append(o.last[:0], o.last[len(o.last)-maxTail:]...)
	}
	if o.log == nil {
		return len(p), nil
	}
	o.partial = append(o.partial, p...)
	for {
		i := bytes.IndexByte(o.partial, '\n')
		if i < 0 {
			break
		}
		lvl, text := logLevel(string(o.partial[:i]))
		o.log.Log(context.Background(), lvl, text, "nats_server", o.name)
		o.partial = o.partial[i+1:]
	}
	return len(p), nil
}

func (o *output) tail() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return string(o.last)
}
