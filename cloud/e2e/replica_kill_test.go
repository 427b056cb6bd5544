package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/dispatch"
	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// replica is one fleetwire serve process of several against a cluster.
type replica struct {
	*process
	name string
	api  string // host:port of its API (readyz)
}

func (r *replica) pid() int { return r.cmd.Process.Pid }

// launchReplica runs the fleetwire binary as `serve --config` with the
// configuration yaml (api.listen is added); waitReady waits for it. It is
// killed at cleanup.
func launchReplica(t *testing.T, bin, name, yaml string) *replica {
	t.Helper()
	r := &replica{name: name, api: freeAddr(t)}
	dir := t.TempDir()
	config := filepath.Join(dir, "cloud.yaml")
	yaml += fmt.Sprintf("api:\n  listen: %q\n  token_file: %q\n", r.api, filepath.Join(dir, "operator.token"))
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	r.process = &process{cmd: exec.Command(bin, "serve", "--config", config), out: &lockedBuffer{}}
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	// An unknown FLEETWIRE_ variable (the tests' own) would stop it.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FLEETWIRE_") {
			r.cmd.Env = append(r.cmd.Env, kv)
		}
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.kill)
	return r
}

// waitReady waits until the replica's /readyz answers 200: connected to
// the hub, EVENTS reachable.
func (r *replica) waitReady(t *testing.T, ctx context.Context) {
	t.Helper()
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		req, _ := http.NewRequestWithContext(rctx, http.MethodGet, "http://"+r.api+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		if err == nil && resp.StatusCode == http.StatusOK {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("fleetwire serve %s never ready (%v):\n%s", r.name, err, r.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// leaseBucket waits until the dispatcher of r created the lease bucket.
func leaseBucket(t *testing.T, ctx context.Context, js jetstream.JetStream, r *replica) jetstream.KeyValue {
	t.Helper()
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		kv, err := js.KeyValue(rctx, dispatch.LeaseBucket)
		cancel()
		if err == nil {
			return kv
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no %s bucket: %v\n%s", dispatch.LeaseBucket, err, r.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// leaseHolder waits until the dispatch lease names one of rs and returns
// it, and when the entry was written: when it took the lease, unless a
// renewal (every TTL/6, 1.7 s) came before this 20 ms poll saw it. The
// lease's value is "host/pid/nonce" of the replica holding it.
func leaseHolder(t *testing.T, ctx context.Context, kv jetstream.KeyValue, rs ...*replica) (*replica, time.Time) {
	t.Helper()
	var last any
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		e, err := kv.Get(rctx, "leader") // dispatch's lease key
		cancel()
		last = err
		if err == nil {
			last = string(e.Value())
			if f := strings.Split(string(e.Value()), "/"); len(f) >= 3 {
				pid, _ := strconv.Atoi(f[len(f)-2])
				for _, r := range rs {
					if r.pid() == pid {
						return r, e.Created()
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the dispatch lease names none of the replicas still running: %v", last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// firstDeliveryAfter waits for a delivery received after t0.
func firstDeliveryAfter(t *testing.T, ctx context.Context, rcv *receiver.Receiver, t0 time.Time) receiver.Delivery {
	t.Helper()
	for {
		for _, d := range rcv.Deliveries() {
			if d.Received.After(t0) {
				return d
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no delivery after %s", t0.Format("15:04:05.000"))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestDispatcherReplicaKilled runs two fleetwire serve processes (the real
// binary) against the 3-node cluster of deploy/nats, each node its own
// process, while three real agents drive through leaf links spread over
// the nodes. The replica holding the dispatch lease is killed with SIGKILL
// in the middle of deliveries; the other takes the lease once it expires
// and delivers the rest. What the receiver sees: every event, in
// per-vehicle order, signed; only the one event whose 2xx raced the kill
// may come a second time, with the same webhook-id; and a pause of about
// the lease's TTL (dispatch.lease_ttl).
func TestDispatcherReplicaKilled(t *testing.T) {
	program, bin := buildNodeProgram(t), buildFleetwire(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	logf := func(format string, args ...any) { // with the time since the start
		t.Logf("%4.1fs: "+format, append([]any{time.Since(start).Seconds()}, args...)...)
	}
	cl := startProcessCluster(t, ctx, program)

	rcv, secret := startReceiver(t)
	yaml := fmt.Sprintf(`hub:
  url: %q
events:
  replicas: 3
dispatch:
  allow_http: true
  allow_private: true
  retry_schedule: [100ms]
  timeout: 10s
  lease_ttl: 4s
subscriptions:
  - {id: all, account: acme, url: %q, secret: %q}
`, cl.ClientURLs(), rcv.URL(), secret)
	// Both at once, as systemd starts them on two hosts: they create the
	// same R3 streams and buckets concurrently (cloud/internal/ensure), one
	// takes the lease, the other stands by.
	ra, rb := launchReplica(t, bin, "a", yaml), launchReplica(t, bin, "b", yaml)
	ra.waitReady(t, ctx)
	rb.waitReady(t, ctx)
	nc, err := nats.Connect(cl.ClientURLs(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	lease := leaseBucket(t, ctx, js, ra)
	outputs := func() string {
		return fmt.Sprintf("replica a (pid %d):\n%s\nreplica b (pid %d):\n%s", ra.pid(), ra.out.String(), rb.pid(), rb.out.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(outputs())
		}
	})

	holder, _ := leaseHolder(t, ctx, lease, ra, rb)
	other := ra
	if holder == ra {
		other = rb
	}
	waitConsumerLeader(t, ctx, js, "sub-all")
	logf("cluster up; replica %s (pid %d) holds the dispatch lease, %s (pid %d) stands by", holder.name, holder.pid(), other.name, other.pid())

	// The vehicles' leaf links go through the balancer to the nodes'
	// leaf ports (startVehicle needs only the leaf address of a cloud).
	b := startBalancer(t, cl.LeafAddrs())
	hubSide := &cloud{t: t, leaf: b.ln.Addr().String()}
	const perVehicle = 300
	vs, done := driveRoutes(t, ctx, hubSide, perVehicle, 10*time.Millisecond)

	if _, err := rcv.WaitFor(ctx, 250); err != nil {
		t.Fatalf("deliveries did not start: %v", err)
	}
	n := len(rcv.Deliveries())
	holder.kill()
	killed := time.Now()
	logf("killed replica %s (pid %d), the dispatch lease holder, after %d deliveries", holder.name, holder.pid(), n)

	_, moved := leaseHolder(t, ctx, lease, other) // waits until the lease names the other
	resumed := firstDeliveryAfter(t, ctx, rcv, moved).Received
	logf("replica %s (pid %d) took the lease %s after the kill; deliveries resumed %s after the kill",
		other.name, other.pid(), moved.Sub(killed).Round(time.Millisecond), resumed.Sub(killed).Round(time.Millisecond))

	want, first := awaitDelivered(t, ctx, done, vs, perVehicle, rcv, js)
	ds := rcv.Deliveries()
	dups := len(ds) - len(first)
	after := 0
	for _, d := range first {
		if d.Received.After(killed) {
			after++
		}
	}
	logf("%d events from %d vehicles delivered, %d of them by replica %s after the kill; %d delivered again with the same webhook-id",
		want, len(vs), after, other.name, dups)
	if dups > 1 {
		t.Fatalf("%d events delivered twice after one replica was killed, want at most 1 (the one in flight)", dups)
	}
	// A repeat can only be the event in flight at the kill: the last one
	// delivered before the other replica took over.
	var inFlight string
	seen := map[string]bool{}
	for _, d := range ds {
		if d.Received.Before(moved) {
			inFlight = d.ID
		}
		if seen[d.ID] {
			if d.ID != inFlight {
				t.Fatalf("event %s (%s seq %d) delivered again, but it was not the one in flight at the kill (%s)", d.ID, d.Event.Vehicle.ID, d.Event.Seq, inFlight)
			}
			logf("event %s (%s seq %d), in flight at the kill, delivered again by replica %s", d.ID, d.Event.Vehicle.ID, d.Event.Seq, other.name)
		}
		seen[d.ID] = true
	}
	if after == 0 {
		t.Fatal("nothing was left to deliver after the kill: not a takeover mid-delivery")
	}
	checkDeliveries(t, first, vs...)
	if n := rcv.Rejected(); n != 0 {
		t.Fatalf("receiver rejected %d signatures", n)
	}
	// The takeover waits for the dead replica's lease to expire
	// (dispatch.lease_ttl, 4 s here; renewed every sixth of it) and a tick
	// of the other: not sooner than half of it, or two could deliver.
	if pause := resumed.Sub(killed); pause < 2*time.Second || pause > 12*time.Second {
		t.Fatalf("deliveries paused %s after the kill, want 2-12s (lease TTL 4s; a holder whose renewals stall stops after half of it)", pause)
	}
}
