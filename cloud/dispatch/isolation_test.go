package dispatch_test

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
)

// TestSlowReceiverDoesNotSlowOthers: a receiver taking a second per
// request holds back only its own subscription.
func TestSlowReceiverDoesNotSlowOthers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := openHub(t, ctx)
	fast, err := receiver.Start("127.0.0.1:0", secret)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	slowRcv, err := receiver.Start("127.0.0.1:0", secret)
	if err != nil {
		t.Fatal(err)
	}
	defer slowRcv.Close()
	var slowServed atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(time.Second):
		case <-r.Context().Done():
		}
		slowRcv.ServeHTTP(w, r)
		slowServed.Add(1)
	})}
	go srv.Serve(ln)
	defer srv.Close()

	s1, s2 := sub(fast.URL()), sub("http://"+ln.Addr().String()+"/hook")
	s1.ID, s2.ID = "fast", "slow"
	var a attempts
	start := time.Now()
	startDispatcher(t, ctx, h.JS, devConfig(&a), s1, s2)
	waitConsumer(t, ctx, h.JS, "sub-fast")
	waitConsumer(t, ctx, h.JS, "sub-slow")
	publish(t, ctx, h.JS, []string{"v1"}, 0, 50)
	ds, err := fast.WaitFor(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	assertPerVehicleOrder(t, ds, []string{"v1"}, 50)
	// The slow one delivered at most one event per second meanwhile.
	if n := slowServed.Load(); n > int64(elapsed/time.Second)+1 {
		t.Fatalf("slow receiver served %d in %s: it is not slow?", n, elapsed)
	}
	if elapsed > 10*time.Second {
		t.Fatalf("the fast subscription took %s for 50 events next to a slow one", elapsed)
	}
	t.Logf("fast: 50 events in %s; slow meanwhile: %d", elapsed.Round(time.Millisecond), slowServed.Load())
}
