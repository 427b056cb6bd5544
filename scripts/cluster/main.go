// Command cluster runs the hub as a local 3-node JetStream cluster of
// embedded nats-servers, configured by deploy/nats (only ports and stores
// move to loopback), prints the URLs to give fleetwire serve and the edge
// agents, and stops on Ctrl-C.
//
//	go run ./scripts/cluster                       # ports 4222-4224, 6222-6224, 7422-7424; store in a temp dir
//	go run ./scripts/cluster -dir /tmp/fw-cluster  # keep the stores (restart from them)
//	go run ./scripts/cluster -random-ports
//	go run ./scripts/cluster -processes            # each node its own process (kill -9 one to try a crash)
//	go run ./scripts/cluster -secure /tmp/fw-auth  # as deploy/README.md secures it: only registered keys get in
//
// With -node as its first argument it runs one node of such a cluster
// instead (localcluster.RunNode): the tests start it so for their kills.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fleetwire/fleetwire/cloud/callout"
	"github.com/fleetwire/fleetwire/cloud/hub/localcluster"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == localcluster.NodeArg {
		os.Exit(node(os.Args[2:]))
	}
	confDir := flag.String("config", "deploy/nats", "directory of hub-1.conf, hub-2.conf, hub-3.conf")
	dir := flag.String("dir", "", "store directory (default: a temporary directory removed at exit)")
	client := flag.Int("client-port", 4222, "first node's client port (node i: +i)")
	route := flag.Int("cluster-port", 6222, "first node's cluster (route) port")
	leaf := flag.Int("leaf-port", 7422, "first node's leaf-node port")
	random := flag.Bool("random-ports", false, "pick free ports instead")
	maxStore := flag.Int64("max-store", 1<<30, "JetStream disk budget per node, bytes")
	verbose := flag.Bool("v", false, "print the servers' log")
	processes := flag.Bool("processes", false, "run each node as its own process (this program with -node); monitoring on 8222-8224")
	secure := flag.String("secure", "", "secure the cluster as deploy/README.md does (auth.conf included, fleetwire hub-auth init): node files and fleetwire's keys in this directory")
	flag.Parse()
	o := options{confDir: *confDir, dir: *dir, client: *client, route: *route, leaf: *leaf, http: 8222, random: *random, maxStore: *maxStore, verbose: *verbose}
	if *secure != "" {
		f, err := localcluster.Secure(*confDir, *secure, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
		o.confDir, o.auth = *secure, &f
	}
	if *processes {
		self, err := os.Executable()
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
		o.program = self
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// node runs one node of a process-mode cluster until SIGTERM or Ctrl-C.
func node(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := localcluster.RunNode(ctx, args, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return 1
	}
	return 0
}

type options struct {
	confDir, dir              string
	client, route, leaf, http int
	random                    bool
	maxStore                  int64
	verbose                   bool
	program                   string // node program: process mode
	auth                      *callout.Files
}

func run(o options) error {
	dir, client, route, leaf, httpPort := o.dir, o.client, o.route, o.leaf, o.http
	if dir == "" {
		tmp, err := os.MkdirTemp("", "fleetwire-cluster-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	if o.random {
		client, route, leaf, httpPort = 0, 0, 0, 0
	}
	level := slog.LevelError + 4 // start-up route retries are noise; -v shows everything
	if o.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := localcluster.Start(sctx, localcluster.Config{
		Files: localcluster.ConfigFiles(o.confDir), Dir: dir,
		ClientPort: client, ClusterPort: route, LeafPort: leaf, MaxStore: o.maxStore, Logger: log,
		NodeProgram: o.program, HTTPPort: httpPort,
	})
	if err != nil {
		return err
	}
	defer c.Shutdown()
	fmt.Printf("3-node JetStream cluster (domain hub) up; stores in %s\n\n", dir)
	fmt.Printf("  fleetwire serve:  --hub.url %s --events.replicas 3\n", c.ClientURLs())
	for i, u := range c.LeafURLs() {
		fmt.Printf("  vehicles (%s): --hub.url %s\n", c.Nodes()[i].Name, u)
	}
	if o.program != "" {
		fmt.Println()
		for _, nd := range c.Nodes() {
			fmt.Printf("  %s: pid %d\n", nd.Name, nd.Pid())
		}
	}
	auth := ""
	if o.auth != nil {
		auth = fmt.Sprintf(" \\\n      --hub.auth --hub.nkey_file %s --hub.callout.issuer_file %s --hub.callout.system_key_file %s", o.auth.Service, o.auth.Issuer, o.auth.System)
	}
	fmt.Printf("\nfor example:\n  go run ./cloud/cmd/fleetwire serve --config deploy/cloud-cluster.yaml --hub.url %s --api.token_file %s/operator.token%s\n", c.ClientURLs(), dir, auth)
	if o.auth != nil {
		fmt.Printf("\nonly registered keys get in: for each vehicle\n  go run ./edge/cmd/fleetwire-edge keygen /tmp/fw/truck-042.nk\n  go run ./cloud/cmd/fleetwire vehicles register truck-042 --key U… --token $(cat %s/operator.token)\nand run it with --hub.key_file /tmp/fw/truck-042.nk\n", dir)
	}
	fmt.Println("\nCtrl-C stops the cluster.")
	<-ctx.Done()
	fmt.Println("stopping")
	return nil
}
