// Package receiver is a webhook receiver on loopback that verifies Standard
// Webhooks signatures and records what it got: the demo's receiver and the
// tests' witness of what a real consumer would see.
package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/webhooks"
)

// Delivery is one accepted webhook.
type Delivery struct {
	ID       string      // webhook-id
	Event    event.Event // decoded when the body is JSON
	Body     []byte
	Received time.Time
	Header   http.Header
}

// Receiver accepts signed webhooks on a loopback port.
type Receiver struct {
	verifier *webhooks.Verifier
	srv      *http.Server
	ln       net.Listener

	mu         sync.Mutex
	faults     func(n int) Fault // what to do with the n-th request (from 1)
	requests   int
	deliveries []Delivery
	rejected   int
	notify     chan struct{}
	onDelivery func(Delivery)
}

// Option configures a Receiver.
type Option func(*Receiver)

// Fault is how the receiver misbehaves on one request. The zero Fault
// accepts it.
type Fault struct {
	// Status to answer (0: 204, a delivery is recorded only for 2xx).
	Status int
	// RetryAfter header value, if any.
	RetryAfter string
	// Delay before answering; a sender whose timeout is shorter gives up.
	// A delayed request is then answered 503 and not recorded, as the
	// sender never saw it succeed.
	Delay time.Duration
	// Reset closes the connection without an answer.
	Reset bool
}

// WithStatus makes the receiver answer status(n) to the n-th request instead
// of 204 (for example 500 for the first ten).
func WithStatus(status func(n int) int) Option {
	return WithFaults(func(n int) Fault { return Fault{Status: status(n)} })
}

// WithFaults makes the receiver misbehave on the n-th request as f(n) says.
func WithFaults(f func(n int) Fault) Option { return func(r *Receiver) { r.faults = f } }

// WithOnDelivery calls f for every accepted delivery.
func WithOnDelivery(f func(Delivery)) Option { return func(r *Receiver) { r.onDelivery = f } }

// Start listens on addr (e.g. "127.0.0.1:0") and verifies with secret.
func Start(addr, secret string, opts ...Option) (*Receiver, error) {
	v, err := webhooks.NewVerifier(secret)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	r := &Receiver{verifier: v, ln: ln, notify: make(chan struct{})}
	for _, o := range opts {
		o(r)
	}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(ln) }() // ends with Close
	return r, nil
}

// URL is the receiver's base URL.
func (r *Receiver) URL() string { return "http://" + r.ln.Addr().String() + "/hook" }

// SetStatus replaces the status function (nil: always 204).
func (r *Receiver) SetStatus(status func(n int) int) {
	r.mu.Lock()
	r.faults = nil
	if status != nil {
		r.faults = func(n int) Fault { return Fault{Status: status(n)} }
	}
	r.mu.Unlock()
}

// ServeHTTP verifies and records a delivery.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := r.verifier.VerifyRequest(req, 1<<20)
	r.mu.Lock()
	r.requests++
	n, faults := r.requests, r.faults
	r.mu.Unlock()
	if err != nil {
		r.mu.Lock()
		r.rejected++
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var f Fault
	if faults != nil {
		f = faults(n)
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-req.Context().Done():
		}
		t.Stop()
		http.Error(w, "receiver was too slow on purpose", http.StatusServiceUnavailable)
		return
	}
	if f.Reset {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Status != 0 && (f.Status < 200 || f.Status > 299) {
		http.Error(w, "receiver told to fail", f.Status)
		return
	}
	if req.Context().Err() != nil {
		return // the sender gave up: it will send the event again
	}
	var e event.Event
	if ct := req.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
		if err := json.Unmarshal(body, &e); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	d := Delivery{ID: req.Header.Get(webhooks.HeaderID), Event: e, Body: body, Received: time.Now(), Header: req.Header.Clone()}
	r.mu.Lock()
	r.deliveries = append(r.deliveries, d)
	close(r.notify)
	r.notify = make(chan struct{})
	cb := r.onDelivery
	r.mu.Unlock()
	if cb != nil {
		cb(d)
	}
	w.WriteHeader(http.StatusNoContent)
}

// Deliveries returns a copy of the accepted deliveries in arrival order.
func (r *Receiver) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.deliveries...)
}

// Rejected counts requests whose signature did not verify.
func (r *Receiver) Rejected() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rejected
}

// ErrTimeout is returned by WaitFor when ctx ends first.
var ErrTimeout = errors.New("receiver: not enough deliveries")

// WaitFor waits until at least n deliveries were accepted.
func (r *Receiver) WaitFor(ctx context.Context, n int) ([]Delivery, error) {
	for {
		r.mu.Lock()
		got, ch := len(r.deliveries), r.notify
		r.mu.Unlock()
		if got >= n {
			return r.Deliveries(), nil
		}
		select {
		case <-ctx.Done():
			return r.Deliveries(), fmt.Errorf("%w: %d of %d: %w", ErrTimeout, got, n, ctx.Err())
		case <-ch:
		}
	}
}

// Close stops the receiver.
func (r *Receiver) Close() error { return r.srv.Close() }
