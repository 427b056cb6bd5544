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
	fast := newReceiver(t, secret)
	slowRcv := newReceiver(t, secret)
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

// TestTransientStatusesRetriedAtOnce: 408, 409 and 425 get the immediate
// retries (like 429 and 5xx); another 4xx waits for the schedule.
func TestTransientStatusesRetriedAtOnce(t *testing.T) {
	cases := []struct {
		status    int
		immediate bool
	}{
		{http.StatusRequestTimeout, true},
		{http.StatusConflict, true},
		{http.StatusTooEarly, true},
		{http.StatusInternalServerError, true},
		{http.StatusUnprocessableEntity, false},
	}
	for _, c := range cases {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			h := openHub(t, ctx)
			rcv, err := receiver.Start("127.0.0.1:0", secret, receiver.WithStatus(func(n int) int {
				if n == 1 {
					return c.status
				}
				return 204
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer rcv.Close()
			var a attempts
			cfg := devConfig(&a)
			cfg.ImmediateRetries = 1
			cfg.RetrySchedule = []time.Duration{100 * time.Millisecond}
			startDispatcher(t, ctx, h.JS, cfg, sub(rcv.URL()))
			waitConsumer(t, ctx, h.JS, "sub-s1")
			publish(t, ctx, h.JS, []string{"v1"}, 0, 1)
			if _, err := rcv.WaitFor(ctx, 1); err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, "the delivery settled", func() bool { return len(a.successes()) == 1 })
			if got := a.failed() == 0; got != c.immediate {
				t.Fatalf("status %d: delivered within the first attempt = %v, want %v", c.status, got, c.immediate)
			}
		})
	}
}
