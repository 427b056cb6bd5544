package localcluster

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/nats-io/nats-server/v2/server"
)

// NodeArg is the first argument a node program is started with (see
// Config.NodeProgram); the program passes the arguments after it to
// RunNode.
const NodeArg = "-node"

// nodeSpec is one node of a local cluster: its file, and where its
// listeners, routes and store move.
type nodeSpec struct {
	File                                      string
	Host                                      string
	ClientPort, RoutePort, LeafPort, HTTPPort int   // HTTPPort 0: no monitoring
	Routes                                    []int // every node's route port
	StoreRoot                                 string
	MaxStore                                  int64
}

// options reads the node's file and moves its listeners, routes and store
// to this local cluster; every other setting is the file's.
func (sp nodeSpec) options() (*server.Options, error) {
	opts, err := server.ProcessConfigFile(sp.File)
	if err != nil {
		return nil, fmt.Errorf("localcluster: %w", err)
	}
	if opts.ServerName == "" {
		return nil, fmt.Errorf("localcluster: %s: server_name is required", sp.File)
	}
	if !opts.JetStream || opts.Cluster.Name == "" {
		return nil, fmt.Errorf("localcluster: %s: not a JetStream cluster node (jetstream and cluster blocks)", sp.File)
	}
	opts.Host, opts.Port = sp.Host, sp.ClientPort
	opts.HTTPHost, opts.HTTPPort = "", 0 // no monitoring port locally, unless the parent follows it
	if sp.HTTPPort != 0 {
		opts.HTTPHost, opts.HTTPPort = sp.Host, sp.HTTPPort
	}
	opts.Cluster.Host, opts.Cluster.Port = sp.Host, sp.RoutePort
	// Every node lists every node, as in the files; a node skips itself.
	opts.Routes = nil
	for _, p := range sp.Routes {
		opts.Routes = append(opts.Routes, &url.URL{Scheme: "nats-route", Host: net.JoinHostPort(sp.Host, strconv.Itoa(p))})
	}
	opts.LeafNode.Host, opts.LeafNode.Port = sp.Host, sp.LeafPort
	opts.StoreDir = filepath.Join(sp.StoreRoot, opts.ServerName)
	if sp.MaxStore > 0 && (opts.JetStreamMaxStore <= 0 || opts.JetStreamMaxStore > sp.MaxStore) {
		opts.JetStreamMaxStore = sp.MaxStore
	}
	opts.LameDuckDuration = 0
	opts.NoSigs = true
	return opts, nil
}

// args is the spec as a node program's arguments (after NodeArg).
func (sp nodeSpec) args() []string {
	routes := make([]string, len(sp.Routes))
	for i, p := range sp.Routes {
		routes[i] = strconv.Itoa(p)
	}
	return []string{
		"-file", sp.File, "-host", sp.Host,
		"-client-port", strconv.Itoa(sp.ClientPort), "-route-port", strconv.Itoa(sp.RoutePort),
		"-leaf-port", strconv.Itoa(sp.LeafPort), "-http-port", strconv.Itoa(sp.HTTPPort),
		"-routes", strings.Join(routes, ","),
		"-store-root", sp.StoreRoot, "-max-store", strconv.FormatInt(sp.MaxStore, 10),
	}
}

// parseNodeSpec reads args.
func parseNodeSpec(args []string, output io.Writer) (nodeSpec, error) {
	var sp nodeSpec
	var routes string
	fs := flag.NewFlagSet("localcluster node", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&sp.File, "file", "", "the node's nats-server configuration file (required)")
	fs.StringVar(&sp.Host, "host", "127.0.0.1", "host the listeners bind to")
	fs.IntVar(&sp.ClientPort, "client-port", 0, "client port")
	fs.IntVar(&sp.RoutePort, "route-port", 0, "cluster (route) port")
	fs.IntVar(&sp.LeafPort, "leaf-port", 0, "leaf-node port")
	fs.IntVar(&sp.HTTPPort, "http-port", 0, "monitoring port (0: none)")
	fs.StringVar(&routes, "routes", "", "every node's route port, comma-separated")
	fs.StringVar(&sp.StoreRoot, "store-root", "", "the store goes to store-root/<server name> (required)")
	fs.Int64Var(&sp.MaxStore, "max-store", 0, "JetStream disk budget, bytes (0: the file's)")
	if err := fs.Parse(args); err != nil {
		return sp, fmt.Errorf("localcluster: node arguments: %w", err)
	}
	if fs.NArg() > 0 {
		return sp, fmt.Errorf("localcluster: node arguments: unexpected %q", fs.Args())
	}
	if sp.File == "" || sp.StoreRoot == "" {
		return sp, errors.New("localcluster: node arguments: -file and -store-root are required")
	}
	for _, r := range strings.Split(routes, ",") {
		if r == "" {
			continue
		}
		p, err := strconv.Atoi(r)
		if err != nil {
			return sp, fmt.Errorf("localcluster: node arguments: -routes: %w", err)
		}
		sp.Routes = append(sp.Routes, p)
	}
	return sp, nil
}

// RunNode runs one node of a cluster in process mode, as args (the
// arguments after NodeArg) say, writing its log to logw, until ctx ends;
// then it shuts the node down cleanly. It returns early with an error if
// the node does not start or stops by itself.
func RunNode(ctx context.Context, args []string, logw io.Writer) error {
	sp, err := parseNodeSpec(args, logw)
	if err != nil {
		return err
	}
	opts, err := sp.options()
	if err != nil {
		return err
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("localcluster: %s: %w", opts.ServerName, err)
	}
	ns.SetLoggerV2(&lineLogger{w: logw}, false, false, false)
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return fmt.Errorf("localcluster: %s did not accept connections within 10s", opts.ServerName)
	}
	down := make(chan struct{})
	go func() { ns.WaitForShutdown(); close(down) }() // ends with the server
	select {
	case <-ctx.Done():
		ns.Shutdown()
		<-down
		return nil
	case <-down:
		return fmt.Errorf("localcluster: %s shut down by itself", opts.ServerName)
	}
}

// lineLogger writes nats-server's log as "[LVL] text" lines, the levels
// the parent maps back (see logLevel).
type lineLogger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineLogger) line(tag, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "[%s] %s\n", tag, fmt.Sprintf(format, v...))
}

func (l *lineLogger) Noticef(format string, v ...any) { l.line("INF", format, v...) }
func (l *lineLogger) Warnf(format string, v ...any)   { l.line("WRN", format, v...) }
func (l *lineLogger) Fatalf(format string, v ...any)  { l.line("FTL", format, v...) }
func (l *lineLogger) Errorf(format string, v ...any)  { l.line("ERR", format, v...) }
func (l *lineLogger) Debugf(format string, v ...any)  { l.line("DBG", format, v...) }
func (l *lineLogger) Tracef(format string, v ...any)  { l.line("TRC", format, v...) }

// logLevel maps a lineLogger line to its slog level and text.
func logLevel(line string) (slog.Level, string) {
	levels := map[string]slog.Level{"[INF] ": slog.LevelInfo, "[WRN] ": slog.LevelWarn, "[ERR] ": slog.LevelError, "[FTL] ": slog.LevelError, "[DBG] ": slog.LevelDebug, "[TRC] ": slog.LevelDebug - 4}
	if len(line) >= 6 {
		if lvl, ok := levels[line[:6]]; ok {
			return lvl, line[6:]
		}
	}
	return slog.LevelInfo, line
}

// embedded is a node running in this process.
type embedded struct{ ns *server.Server }

func startEmbedded(opts *server.Options, log *slog.Logger) (*embedded, error) {
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("localcluster: %s: %w", opts.ServerName, err)
	}
	if log != nil {
		ns.SetLoggerV2(natsembed.Logger(log.With("nats_server", opts.ServerName)), false, false, false)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("localcluster: %s did not accept connections within 10s", opts.ServerName)
	}
	return &embedded{ns: ns}, nil
}

func (e *embedded) status(context.Context) (status, error) {
	return status{routes: e.ns.NumRoutes(), current: e.ns.JetStreamIsCurrent(), leader: e.ns.JetStreamIsLeader()}, nil
}

func (e *embedded) alive() bool { return e.ns.Running() }

func (e *embedded) stop() {
	e.ns.Shutdown()
	e.ns.WaitForShutdown()
}
