// Package localcluster runs the hub as a 3-node JetStream cluster of
// nats-servers on loopback, configured by the production files in
// deploy/nats (only ports and store directories are moved), for
// scripts/cluster and for the cluster fault tests.
//
// The nodes run in this process (the default) or, with
// Config.NodeProgram, each as its own OS process, so that a test can kill
// one with SIGKILL and restart it from its store on the same ports.
package localcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ConfigFiles are the node configurations of deploy/nats, relative to dir
// (the repository's deploy/nats directory).
func ConfigFiles(dir string) []string {
	return []string{filepath.Join(dir, "hub-1.conf"), filepath.Join(dir, "hub-2.conf"), filepath.Join(dir, "hub-3.conf")}
}

// Config says which node files to load and where the local copy runs.
type Config struct {
	// Files are nats-server configuration files, one per node.
	Files []string
	// Dir holds each node's JetStream store in Dir/<server name>. Required.
	Dir string
	// Host the listeners bind to (default 127.0.0.1).
	Host string
	// ClientPort, ClusterPort and LeafPort are the first node's ports; node
	// i uses port+i. 0 picks free ports.
	ClientPort, ClusterPort, LeafPort int
	// MaxStore caps each node's JetStream disk budget (0: the file's).
	MaxStore int64
	// Logger receives the servers' log lines (nil: discarded).
	Logger *slog.Logger

	// NodeProgram, when set, runs every node as its own OS process: the
	// program is started as `NodeProgram -node …` and must then call
	// RunNode with the arguments after NodeArg (scripts/cluster does).
	// Kill then ends a node with SIGKILL. The parent follows each node
	// through its monitoring endpoint on Host.
	NodeProgram string
	// HTTPPort is the first node's monitoring port in process mode (node
	// i: +i); 0 picks free ports. Nodes in this process have none.
	HTTPPort int
}

// Node is one server of the cluster.
type Node struct {
	Name                                      string // server_name of its file
	file                                      string
	clientPort, routePort, leafPort, httpPort int
	mu                                        sync.Mutex
	inst                                      instance // nil while stopped
}

// instance is one run of a node: a server in this process or a child
// process.
type instance interface {
	// status reports what the node says of itself.
	status(ctx context.Context) (status, error)
	// alive reports whether it still runs.
	alive() bool
	// stop shuts it down cleanly and returns once it has stopped.
	stop()
}

// killer is an instance that can be killed without a chance to clean up.
type killer interface {
	kill() error
}

// status is a node's view of the cluster.
type status struct {
	routes  int  // route connections to other nodes
	current bool // current with the JetStream meta group
	leader  bool // leads the JetStream meta group
}

// Cluster is a running local cluster.
type Cluster struct {
	cfg   Config
	nodes []*Node
}

// Start loads the node files, starts every node and waits until the
// JetStream meta group has a leader, or ctx ends.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if len(cfg.Files) == 0 {
		return nil, errors.New("localcluster: no node configuration files")
	}
	if cfg.Dir == "" {
		return nil, errors.New("localcluster: Dir is required")
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	n := len(cfg.Files)
	bases := []int{cfg.ClientPort, cfg.ClusterPort, cfg.LeafPort}
	if cfg.NodeProgram != "" {
		bases = append(bases, cfg.HTTPPort)
	}
	ports, err := pickPorts(cfg.Host, n, bases...)
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg}
	for i, f := range cfg.Files {
		nd := &Node{file: f, clientPort: ports[0][i], routePort: ports[1][i], leafPort: ports[2][i]}
		if cfg.NodeProgram != "" {
			nd.httpPort = ports[3][i]
		}
		c.nodes = append(c.nodes, nd)
	}
	for _, nd := range c.nodes {
		if err := c.startNode(ctx, nd); err != nil {
			c.Shutdown()
			return nil, err
		}
	}
	if err := c.WaitMetaLeader(ctx); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

// pickPorts returns [kind][node] ports, one kind per base: base+i, or free
// ports found by listening on port 0 (all held open together, so
// distinct).
func pickPorts(host string, n int, bases ...int) ([][]int, error) {
	out := make([][]int, len(bases))
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for k, base := range bases {
		for i := range n {
			if base != 0 {
				out[k] = append(out[k], base+i)
				continue
			}
			l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
			if err != nil {
				return out, fmt.Errorf("localcluster: free port: %w", err)
			}
			held = append(held, l)
			out[k] = append(out[k], l.Addr().(*net.TCPAddr).Port)
		}
	}
	return out, nil
}

// spec is what the node needs to run here: its file and where to move its
// listeners, routes and store.
func (c *Cluster) spec(nd *Node) nodeSpec {
	sp := nodeSpec{
		File: nd.file, Host: c.cfg.Host,
		ClientPort: nd.clientPort, RoutePort: nd.routePort, LeafPort: nd.leafPort, HTTPPort: nd.httpPort,
		StoreRoot: c.cfg.Dir, MaxStore: c.cfg.MaxStore,
	}
	for _, o := range c.nodes {
		sp.Routes = append(sp.Routes, o.routePort)
	}
	return sp
}

func (c *Cluster) startNode(ctx context.Context, nd *Node) error {
	sp := c.spec(nd)
	// Read (and check) the file here in both modes: it names the node.
	opts, err := sp.options()
	if err != nil {
		return err
	}
	nd.Name = opts.ServerName
	var inst instance
	if c.cfg.NodeProgram != "" {
		inst, err = startChild(ctx, c.cfg.NodeProgram, nd.Name, sp, c.cfg.Logger)
	} else {
		inst, err = startEmbedded(opts, c.cfg.Logger)
	}
	if err != nil {
		return err
	}
	nd.mu.Lock()
	nd.inst = inst
	nd.mu.Unlock()
	return nil
}

func (nd *Node) instance() instance {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.inst
}

// take removes the node's instance (nil if it was stopped).
func (nd *Node) take() instance {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	inst := nd.inst
	nd.inst = nil
	return inst
}

// Running reports whether the node is up.
func (nd *Node) Running() bool {
	inst := nd.instance()
	return inst != nil && inst.alive()
}

// ClientURL is the node's nats:// URL.
func (nd *Node) ClientURL(host string) string {
	return "nats://" + net.JoinHostPort(host, strconv.Itoa(nd.clientPort))
}

// Pid is the node's process id in process mode while it runs, else 0.
func (nd *Node) Pid() int {
	if ch, ok := nd.instance().(*child); ok {
		return ch.cmd.Process.Pid
	}
	return 0
}

// Nodes are the cluster's servers, in the order of Config.Files.
func (c *Cluster) Nodes() []*Node { return c.nodes }

// ClientURLs is the comma-separated list of the nodes' client URLs, as
// fleetwire's hub.url takes it.
func (c *Cluster) ClientURLs() string {
	var urls []string
	for _, nd := range c.nodes {
		urls = append(urls, nd.ClientURL(c.cfg.Host))
	}
	return strings.Join(urls, ",")
}

// LeafURLs are the nodes' leaf-node URLs (nats-leaf://host:port).
func (c *Cluster) LeafURLs() []string {
	var urls []string
	for _, nd := range c.nodes {
		urls = append(urls, "nats-leaf://"+net.JoinHostPort(c.cfg.Host, strconv.Itoa(nd.leafPort)))
	}
	return urls
}

// LeafAddrs are the nodes' leaf-node host:port addresses.
func (c *Cluster) LeafAddrs() []string {
	var addrs []string
	for _, nd := range c.nodes {
		addrs = append(addrs, net.JoinHostPort(c.cfg.Host, strconv.Itoa(nd.leafPort)))
	}
	return addrs
}

// Node returns the node named name, or nil.
func (c *Cluster) Node(name string) *Node {
	for _, nd := range c.nodes {
		if nd.Name == name {
			return nd
		}
	}
	return nil
}

// Stop shuts the node down cleanly (its store stays on disk) and waits
// until it has stopped.
func (c *Cluster) Stop(nd *Node) {
	if inst := nd.take(); inst != nil {
		inst.stop()
	}
}

// Kill ends the node's process with SIGKILL: no shutdown code runs, its
// store stays as the kill left it. It returns once the process is gone.
// Only nodes of a cluster with Config.NodeProgram can be killed.
func (c *Cluster) Kill(nd *Node) error {
	nd.mu.Lock()
	inst := nd.inst
	k, ok := inst.(killer)
	if ok {
		nd.inst = nil
	}
	nd.mu.Unlock()
	if inst == nil {
		return fmt.Errorf("localcluster: %s is not running", nd.Name)
	}
	if !ok {
		return fmt.Errorf("localcluster: %s: only a node running as its own process (Config.NodeProgram) can be killed", nd.Name)
	}
	return k.kill()
}

// Restart starts a stopped or killed node again from its store on the same
// ports and waits until it has caught up with the meta group, or ctx ends.
func (c *Cluster) Restart(ctx context.Context, nd *Node) error {
	if nd.Running() {
		return fmt.Errorf("localcluster: %s is running", nd.Name)
	}
	c.Stop(nd) // an instance that died on its own
	if err := c.startNode(ctx, nd); err != nil {
		return err
	}
	return waitFor(ctx, "node "+nd.Name+" current with the JetStream meta group", func() bool {
		inst := nd.instance()
		if inst == nil {
			return false
		}
		st, err := inst.status(ctx)
		return err == nil && st.current
	})
}

// WaitMetaLeader waits until a running node leads the JetStream meta group
// and every running node has a route to every other running node.
func (c *Cluster) WaitMetaLeader(ctx context.Context) error {
	return waitFor(ctx, "JetStream meta leader", func() bool {
		sts := c.statuses(ctx)
		leader := false
		for _, st := range sts {
			if st.routes < len(sts)-1 || !st.current {
				return false
			}
			leader = leader || st.leader
		}
		return leader
	})
}

// MetaLeader waits until a running node leads the JetStream meta group and
// returns it, or ctx ends.
func (c *Cluster) MetaLeader(ctx context.Context) (*Node, error) {
	var leader *Node
	err := waitFor(ctx, "JetStream meta leader", func() bool {
		for _, nd := range c.nodes {
			if inst := nd.instance(); inst != nil {
				if st, err := inst.status(ctx); err == nil && st.leader {
					leader = nd
					return true
				}
			}
		}
		return false
	})
	return leader, err
}

// statuses asks every running node; a running node that does not answer
// counts as not current.
func (c *Cluster) statuses(ctx context.Context) []status {
	var out []status
	for _, nd := range c.nodes {
		inst := nd.instance()
		if inst == nil || !inst.alive() {
			continue
		}
		st, err := inst.status(ctx)
		if err != nil {
			st = status{}
		}
		out = append(out, st)
	}
	return out
}

// IsMetaLeader reports whether the node leads the JetStream meta group. In
// process mode it asks the node, for at most two seconds; MetaLeader takes
// a context.
func (nd *Node) IsMetaLeader() bool {
	inst := nd.instance()
	if inst == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := inst.status(ctx)
	return err == nil && st.leader
}

// Shutdown stops every node.
func (c *Cluster) Shutdown() {
	var wg sync.WaitGroup
	for _, nd := range c.nodes {
		wg.Add(1)
		go func() { defer wg.Done(); c.Stop(nd) }()
	}
	wg.Wait()
}

// waitFor polls cond every 10 ms until it holds or ctx ends.
func waitFor(ctx context.Context, what string, cond func() bool) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("localcluster: waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
	return nil
}
