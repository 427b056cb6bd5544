// Package localcluster runs the hub as a 3-node JetStream cluster of
// embedded nats-servers on loopback, configured by the production files in
// deploy/nats (only ports and store directories are moved), for
// scripts/cluster and for the cluster fault tests.
package localcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
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
}

// Node is one server of the cluster.
type Node struct {
	Name                            string // server_name of its file
	file                            string
	clientPort, routePort, leafPort int
	mu                              sync.Mutex
	ns                              *server.Server // nil while stopped
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
	ports, err := pickPorts(cfg.Host, n, cfg.ClientPort, cfg.ClusterPort, cfg.LeafPort)
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg}
	for i, f := range cfg.Files {
		c.nodes = append(c.nodes, &Node{file: f, clientPort: ports[0][i], routePort: ports[1][i], leafPort: ports[2][i]})
	}
	for _, nd := range c.nodes {
		if err := c.startNode(nd); err != nil {
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

// pickPorts returns [client, cluster, leaf][node] ports: base+i, or free
// ports found by listening on port 0 (all held open together, so distinct).
func pickPorts(host string, n int, bases ...int) ([3][]int, error) {
	var out [3][]int
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

// options reads the node's file and moves its listeners, routes and store
// to this local cluster; every other setting is the file's.
func (c *Cluster) options(nd *Node) (*server.Options, error) {
	opts, err := server.ProcessConfigFile(nd.file)
	if err != nil {
		return nil, fmt.Errorf("localcluster: %w", err)
	}
	if opts.ServerName == "" {
		return nil, fmt.Errorf("localcluster: %s: server_name is required", nd.file)
	}
	if !opts.JetStream || opts.Cluster.Name == "" {
		return nil, fmt.Errorf("localcluster: %s: not a JetStream cluster node (jetstream and cluster blocks)", nd.file)
	}
	nd.Name = opts.ServerName
	opts.Host, opts.Port = c.cfg.Host, nd.clientPort
	opts.HTTPPort, opts.HTTPHost = 0, "" // no monitoring port locally
	opts.Cluster.Host, opts.Cluster.Port = c.cfg.Host, nd.routePort
	// Every node lists every node, as in the files; a node skips itself.
	opts.Routes = nil
	for _, o := range c.nodes {
		opts.Routes = append(opts.Routes, &url.URL{Scheme: "nats-route", Host: net.JoinHostPort(c.cfg.Host, strconv.Itoa(o.routePort))})
	}
	opts.LeafNode.Host, opts.LeafNode.Port = c.cfg.Host, nd.leafPort
	opts.StoreDir = filepath.Join(c.cfg.Dir, opts.ServerName)
	if c.cfg.MaxStore > 0 && (opts.JetStreamMaxStore <= 0 || opts.JetStreamMaxStore > c.cfg.MaxStore) {
		opts.JetStreamMaxStore = c.cfg.MaxStore
	}
	opts.LameDuckDuration = 0
	opts.NoSigs = true
	return opts, nil
}

func (c *Cluster) startNode(nd *Node) error {
	opts, err := c.options(nd)
	if err != nil {
		return err
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("localcluster: %s: %w", nd.Name, err)
	}
	if c.cfg.Logger != nil {
		ns.SetLoggerV2(&slogAdapter{l: c.cfg.Logger.With("nats_server", nd.Name)}, false, false, false)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return fmt.Errorf("localcluster: %s did not accept connections within 10s", nd.Name)
	}
	nd.mu.Lock()
	nd.ns = ns
	nd.mu.Unlock()
	return nil
}

func (nd *Node) server() *server.Server {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.ns
}

// Running reports whether the node is up.
func (nd *Node) Running() bool { return nd.server() != nil }

// ClientURL is the node's nats:// URL.
func (nd *Node) ClientURL(host string) string {
	return "nats://" + net.JoinHostPort(host, strconv.Itoa(nd.clientPort))
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

// Stop shuts the node down (its store stays on disk) and waits until it
// has stopped.
func (c *Cluster) Stop(nd *Node) {
	nd.mu.Lock()
	ns := nd.ns
	nd.ns = nil
	nd.mu.Unlock()
	if ns != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
	}
}

// Restart starts a stopped node again from its store on the same ports and
// waits until it has caught up with the meta group, or ctx ends.
func (c *Cluster) Restart(ctx context.Context, nd *Node) error {
	if nd.Running() {
		return fmt.Errorf("localcluster: %s is running", nd.Name)
	}
	if err := c.startNode(nd); err != nil {
		return err
	}
	return waitFor(ctx, "node "+nd.Name+" current with the JetStream meta group", func() bool {
		ns := nd.server()
		return ns != nil && ns.JetStreamIsCurrent()
	})
}

// WaitMetaLeader waits until a running node leads the JetStream meta group
// and every running node has a route to every other running node.
func (c *Cluster) WaitMetaLeader(ctx context.Context) error {
	return waitFor(ctx, "JetStream meta leader", func() bool {
		var running []*server.Server
		for _, nd := range c.nodes {
			if ns := nd.server(); ns != nil {
				running = append(running, ns)
			}
		}
		leader := false
		for _, ns := range running {
			if ns.NumRoutes() < len(running)-1 || !ns.JetStreamIsCurrent() {
				return false
			}
			leader = leader || ns.JetStreamIsLeader()
		}
		return leader
	})
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

// slogAdapter routes nats-server's logger into log/slog.
type slogAdapter struct{ l *slog.Logger }

func (a *slogAdapter) log(level slog.Level, format string, v ...any) {
	if a.l.Enabled(context.Background(), level) {
		a.l.Log(context.Background(), level, fmt.Sprintf(format, v...))
	}
}

func (a *slogAdapter) Noticef(format string, v ...any) { a.log(slog.LevelInfo, format, v...) }
func (a *slogAdapter) Warnf(format string, v ...any)   { a.log(slog.LevelWarn, format, v...) }
func (a *slogAdapter) Fatalf(format string, v ...any)  { a.log(slog.LevelError, format, v...) }
func (a *slogAdapter) Errorf(format string, v ...any)  { a.log(slog.LevelError, format, v...) }
func (a *slogAdapter) Debugf(format string, v ...any)  { a.log(slog.LevelDebug, format, v...) }
func (a *slogAdapter) Tracef(format string, v ...any)  { a.log(slog.LevelDebug-4, format, v...) }

// IsMetaLeader reports whether the node leads the JetStream meta group.
func (nd *Node) IsMetaLeader() bool {
	ns := nd.server()
	return ns != nil && ns.JetStreamIsLeader()
}
