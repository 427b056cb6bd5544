// Command cluster runs the hub as a local 3-node JetStream cluster of
// embedded nats-servers, configured by deploy/nats (only ports and stores
// move to loopback), prints the URLs to give fleetwire serve and the edge
// agents, and stops on Ctrl-C.
//
//	go run ./scripts/cluster                       # ports 4222-4224, 6222-6224, 7422-7424; store in a temp dir
//	go run ./scripts/cluster -dir /tmp/fw-cluster  # keep the stores (restart from them)
//	go run ./scripts/cluster -random-ports
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

	"github.com/fleetwire/fleetwire/cloud/hub/localcluster"
)

func main() {
	confDir := flag.String("config", "deploy/nats", "directory of hub-1.conf, hub-2.conf, hub-3.conf")
	dir := flag.String("dir", "", "store directory (default: a temporary directory removed at exit)")
	client := flag.Int("client-port", 4222, "first node's client port (node i: +i)")
	route := flag.Int("cluster-port", 6222, "first node's cluster (route) port")
	leaf := flag.Int("leaf-port", 7422, "first node's leaf-node port")
	random := flag.Bool("random-ports", false, "pick free ports instead")
	maxStore := flag.Int64("max-store", 1<<30, "JetStream disk budget per node, bytes")
	verbose := flag.Bool("v", false, "print the servers' log")
	flag.Parse()
	if err := run(*confDir, *dir, *client, *route, *leaf, *random, *maxStore, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(confDir, dir string, client, route, leaf int, random bool, maxStore int64, verbose bool) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "fleetwire-cluster-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	if random {
		client, route, leaf = 0, 0, 0
	}
	level := slog.LevelError + 4 // start-up route retries are noise; -v shows everything
	if verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := localcluster.Start(sctx, localcluster.Config{
		Files: localcluster.ConfigFiles(confDir), Dir: dir,
		ClientPort: client, ClusterPort: route, LeafPort: leaf, MaxStore: maxStore, Logger: log,
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
	fmt.Printf("\nfor example:\n  go run ./cloud/cmd/fleetwire serve --config deploy/cloud-cluster.yaml --hub.url %s --api.token_file %s/operator.token\n", c.ClientURLs(), dir)
	fmt.Println("\nCtrl-C stops the cluster.")
	<-ctx.Done()
	fmt.Println("stopping")
	return nil
}
