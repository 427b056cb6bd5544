package localcluster_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/hub/localcluster"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const deployDir = "../../../deploy/nats"

// TestDeployConfigsMatchEmbeddedHub: the production node files set what
// the embedded hub sets (shared/natsembed, cloud/hub) and what vehicles
// expect: JetStream domain "hub", isolated leaf interest, 5 s pings, a
// 3-node cluster listing every node.
func TestDeployConfigsMatchEmbeddedHub(t *testing.T) {
	names := map[string]bool{}
	for _, f := range localcluster.ConfigFiles(deployDir) {
		o, err := server.ProcessConfigFile(f)
		if err != nil {
			t.Fatal(err)
		}
		names[o.ServerName] = true
		checks := []struct {
			what string
			ok   bool
		}{
			{"jetstream enabled", o.JetStream},
			{`jetstream domain "hub"`, o.JetStreamDomain == "hub"},
			{"store_dir set", o.StoreDir != ""},
			{"max_memory_store and max_file_store set", o.JetStreamMaxMemory > 0 && o.JetStreamMaxStore > 0},
			{"leaf-node listener", o.LeafNode.Port != 0},
			{"isolate_leafnode_interest", o.LeafNode.IsolateLeafnodeInterest},
			{"ping_interval 5s, ping_max 2", o.PingInterval == 5*time.Second && o.MaxPingsOut == 2},
			{"cluster name", o.Cluster.Name != "" && o.Cluster.Port != 0},
			{"routes to the three nodes", len(o.Routes) == 3},
		}
		for _, c := range checks {
			if !c.ok {
				t.Errorf("%s: %s", f, c.what)
			}
		}
	}
	if len(names) != 3 {
		t.Fatalf("server names %v: want three distinct", names)
	}
}

// TestClusterStopRestart starts the deploy/nats cluster on loopback in this
// process, stores messages in an R3 stream, stops its leader and a
// follower in turn and restarts them from their stores: every message is
// still there.
func TestClusterStopRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second) // two elections and catch-ups under -race
	defer cancel()
	c, err := localcluster.Start(ctx, localcluster.Config{Files: localcluster.ConfigFiles(deployDir), Dir: t.TempDir(), MaxStore: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown()
	if err := c.Kill(c.Nodes()[0]); err == nil {
		t.Fatal("Kill of a node in this process: no error")
	}
	downAndUp(t, ctx, c, func(nd *localcluster.Node) { c.Stop(nd) })
}

// TestClusterKillRestart is TestClusterStopRestart with every node its own
// process (scripts/cluster -node) and SIGKILL instead of a clean stop.
func TestClusterKillRestart(t *testing.T) {
	program := buildNodeProgram(t) // a cold build may take a minute: not the cluster's time
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := localcluster.Start(ctx, localcluster.Config{Files: localcluster.ConfigFiles(deployDir), Dir: t.TempDir(), MaxStore: 1 << 30, NodeProgram: program})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	for _, nd := range c.Nodes() {
		if nd.Pid() == 0 || !nd.Running() {
			t.Fatalf("%s: not a running process (pid %d)", nd.Name, nd.Pid())
		}
	}
	if _, err := c.MetaLeader(ctx); err != nil {
		t.Fatal(err)
	}
	downAndUp(t, ctx, c, func(nd *localcluster.Node) {
		pid := nd.Pid()
		if err := c.Kill(nd); err != nil {
			t.Fatal(err)
		}
		if nd.Running() || nd.Pid() != 0 {
			t.Fatalf("%s still running after Kill", nd.Name)
		}
		// The process is gone: signal 0 finds no such process.
		if p, err := os.FindProcess(pid); err == nil && p.Signal(syscall.Signal(0)) == nil {
			t.Fatalf("%s: process %d still exists after Kill", nd.Name, pid)
		}
	})
}

// buildNodeProgram builds scripts/cluster (without the race detector: the
// nodes are not what the tests examine).
func buildNodeProgram(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cluster")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/fleetwire/fleetwire/scripts/cluster").CombinedOutput()
	if err != nil {
		t.Fatalf("go build scripts/cluster: %v\n%s", err, out)
	}
	return bin
}

// downAndUp stores messages in an R3 stream, takes its leader down and
// brings it back, then a follower: all 300 messages are there, on three
// replicas.
func downAndUp(t *testing.T, ctx context.Context, c *localcluster.Cluster, down func(*localcluster.Node)) {
	t.Helper()
	nc, err := nats.Connect(c.ClientURLs(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	publish := func(from, to int) {
		for i := from; i < to; i++ {
			for {
				pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
				_, err := js.Publish(pctx, "t.x", []byte(fmt.Sprint(i)), jetstream.WithMsgID(fmt.Sprint(i)))
				pcancel()
				if err == nil {
					break
				}
				if ctx.Err() != nil {
					t.Fatalf("publish %d: %v", i, err)
				}
			}
		}
	}
	leader := func() *localcluster.Node {
		var name string
		if err := waitFor(ctx, func() bool {
			rctx, rcancel := context.WithTimeout(ctx, time.Second)
			defer rcancel()
			info, err := st.Info(rctx)
			if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
				return false
			}
			name = info.Cluster.Leader
			return c.Node(name).Running()
		}); err != nil {
			t.Fatal("no stream leader")
		}
		return c.Node(name)
	}
	publish(0, 100)
	l := leader()
	down(l)
	publish(100, 200)
	if err := c.Restart(ctx, l); err != nil {
		t.Fatal(err)
	}
	var follower *localcluster.Node
	for _, nd := range c.Nodes() {
		if nd != leader() {
			follower = nd
		}
	}
	down(follower)
	publish(200, 300)
	if err := c.Restart(ctx, follower); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(ctx, func() bool {
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		defer rcancel()
		info, err := st.Info(rctx)
		if err != nil || info.State.Msgs != 300 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
			return false
		}
		for _, r := range info.Cluster.Replicas {
			if !r.Current {
				return false
			}
		}
		return true
	}); err != nil {
		t.Fatal("stream did not hold 300 messages on 3 current replicas")
	}
}

func waitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
