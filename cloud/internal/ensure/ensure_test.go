package ensure_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/hub/localcluster"
	"github.com/fleetwire/fleetwire/cloud/internal/ensure"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestConcurrentCreatesOnCluster: several replicas creating the same R3
// buckets at once on the 3-node cluster of deploy/nats, each from its own
// connection, all end up with the buckets.
func TestConcurrentCreatesOnCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cl, err := localcluster.Start(ctx, localcluster.Config{
		Files: localcluster.ConfigFiles(filepath.Join("..", "..", "..", "deploy", "nats")), Dir: t.TempDir(), MaxStore: 1 << 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Shutdown()
	const replicas = 3
	var wg sync.WaitGroup
	var attempts, timeouts atomic.Int32
	errs := make(chan error, replicas*4)
	for r := range replicas {
		nc, err := nats.Connect(cl.Nodes()[r].ClientURL("127.0.0.1"))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		for _, bucket := range []string{"LEASE", "SUBS", "TOKENS", "FENCES"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := ensure.Retry(ctx, "bucket "+bucket, func(ctx context.Context) (jetstream.KeyValue, error) {
					attempts.Add(1)
					kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, TTL: 10 * time.Second, Replicas: 3, Storage: jetstream.FileStorage})
					if err != nil {
						timeouts.Add(1)
					}
					return kv, err
				})
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Unanswered creates happen (the reason for Retry); say how many.
	t.Logf("%d creates of 4 buckets by %d replicas: %d attempts, %d failed and retried", replicas*4, replicas, attempts.Load(), timeouts.Load())
}

// TestRetryStopsOnOtherErrors: a refusal is returned at once, not retried.
func TestRetryStopsOnOtherErrors(t *testing.T) {
	refused := errors.New("refused")
	calls := 0
	_, err := ensure.Retry(context.Background(), "op", func(context.Context) (int, error) { calls++; return 0, refused })
	if !errors.Is(err, refused) || calls != 1 {
		t.Fatalf("err %v after %d calls, want the refusal after 1", err, calls)
	}
	calls = 0
	v, err := ensure.Retry(context.Background(), "op", func(context.Context) (int, error) {
		if calls++; calls < 3 {
			return 0, context.DeadlineExceeded
		}
		return 7, nil
	})
	if err != nil || v != 7 || calls != 3 {
		t.Fatalf("got %d, %v after %d calls; want 7 after 3", v, err, calls)
	}
}
