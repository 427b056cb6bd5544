// Package tcpproxy is a loopback TCP proxy whose link can be cut or
// black-holed on demand, to test what happens when a vehicle's mobile link
// fails between its leaf node and the hub.
package tcpproxy

import (
	"context"

	"fmt"
	"net"
	"sync"
)

// Proxy forwards connections from its listener to a target address.
type Proxy struct {
	target string
	ln     net.Listener

	mu      sync.Mutex
	up      bool          // false after Cut: connections are refused
	paused  bool          // true after Pause: bytes are held, connections stay open
	replies bool          // true after PauseReplies: bytes from the target are held
	resumed chan struct{} // closed when a pause ends
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

// Start listens on 127.0.0.1 (a free port) and forwards to target.
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("tcpproxy: %w", err)
	}
	p := &Proxy{target: target, ln: ln, up: true, conns: map[net.Conn]struct{}{}, resumed: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every proxied connection and refuses new ones (they are
// accepted and closed at once) until Restore: a link that fails loudly.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = false
	if p.paused || p.replies { // wake held copies so they notice the cut
		p.paused, p.replies = false, false
		close(p.resumed)
		p.resumed = make(chan struct{})
	}
	for c := range p.conns {
		_ = c.Close()
	}
}

// Pause black-holes the link: connections stay open but no byte passes in
// either direction until Restore, like a mobile link that silently dies.
func (p *Proxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = true
}

// PauseReplies holds the bytes coming back from the target, in every
// connection, until Restore, while those towards it still pass: requests
// arrive and are acted on, their answers are lost for now (an unknown
// outcome for the client).
func (p *Proxy) PauseReplies() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.replies = true
}

// Restore ends a Cut, a Pause or PauseReplies.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = true
	if p.paused || p.replies {
		p.paused, p.replies = false, false
		close(p.resumed)
		p.resumed = make(chan struct{})
	}
}

// gate blocks while the proxy is paused (for bytes from the target, also
// while replies are paused); it reports false once the proxy is cut.
func (p *Proxy) gate(fromTarget bool) bool {
	for {
		p.mu.Lock()
		up, paused, resumed := p.up, p.paused || (fromTarget && p.replies), p.resumed
		p.mu.Unlock()
		if !up {
			return false
		}
		if !paused {
			return true
		}
		<-resumed
	}
}

// Close stops the proxy and all its connections.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.Cut()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		up := p.up
		if up {
			p.conns[c] = struct{}{}
		}
		p.mu.Unlock()
		if !up {
			_ = c.Close()
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *Proxy) serve(c net.Conn) {
	defer p.wg.Done()
	defer p.forget(c)
	var d net.Dialer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t, err := d.DialContext(ctx, "tcp", p.target)
	if err != nil {
		return
	}
	p.mu.Lock()
	if !p.up {
		p.mu.Unlock()
		_ = t.Close()
		return
	}
	p.conns[t] = struct{}{}
	p.mu.Unlock()
	defer p.forget(t)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn, fromTarget bool) {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if !p.gate(fromTarget) {
					return
				}
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go pipe(t, c, false)
	go pipe(c, t, true)
	<-done // either side closed: close both, wait for the other copy
	_ = c.Close()
	_ = t.Close()
	<-done
}

func (p *Proxy) forget(c net.Conn) {
	_ = c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}
