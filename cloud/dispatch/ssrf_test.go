package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/shared/webhooks"
)

func TestForbiddenAddr(t *testing.T) {
	// want is a word the reason must contain; "" means allowed.
	cases := []struct {
		addr, want string
	}{
		// IPv4, allowed
		{"1.1.1.1", ""},
		{"8.8.8.8", ""},
		{"93.184.215.14", ""},
		{"100.63.255.255", ""}, // just below CGNAT
		{"100.128.0.0", ""},    // just above CGNAT
		{"172.15.255.255", ""}, // just below 172.16/12
		{"172.32.0.0", ""},     // just above
		{"192.0.1.1", ""},
		{"192.169.0.1", ""},
		{"198.20.0.1", ""}, // just above benchmarking
		{"223.255.255.254", ""},
		// IPv4, refused
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "this network"},
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"10.0.0.1", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"100.64.0.1", "CGNAT"},
		{"100.100.100.200", "CGNAT"}, // Alibaba Cloud metadata
		{"100.127.255.255", "CGNAT"},
		{"169.254.169.254", "link-local"}, // AWS/GCP/Azure metadata
		{"169.254.0.1", "link-local"},
		{"192.0.0.170", "reserved"},
		{"192.0.2.10", "documentation"},
		{"198.51.100.7", "documentation"},
		{"203.0.113.200", "documentation"},
		{"198.18.0.1", "benchmarking"},
		{"198.19.255.255", "benchmarking"},
		{"192.88.99.1", "reserved"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.255", "broadcast"},
		// IPv6, allowed
		{"2606:4700:4700::1111", ""},
		{"2a00:1450:4001:82a::200e", ""},
		{"64:ff9b::808:808", ""},                     // NAT64 of 8.8.8.8
		{"2002:808:808::1", ""},                      // 6to4 of 8.8.8.8
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", ""}, // Teredo, client 8.8.8.8
		// IPv6, refused
		{"::", "unspecified"},
		{"::1", "loopback"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"fc00::1", "private"},
		{"fd00:ec2::254", "private"}, // AWS metadata over IPv6
		{"fec0::1", "private"},
		{"ff02::1", "multicast"},
		{"ff05::1:3", "multicast"},
		{"2001:db8::1", "documentation"},
		{"3fff::1", "documentation"},
		{"2001:2::1", "benchmarking"},
		{"100::1", "reserved"},
		{"64:ff9b:1::a00:1", "private"}, // local-use NAT64
		// IPv4 inside IPv6
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:7f00:1", "loopback"},
		{"::ffff:10.1.2.3", "private"},
		{"::ffff:169.254.169.254", "link-local"},
		{"::ffff:0.0.0.0", "unspecified"},
		{"::ffff:8.8.8.8", ""},
		{"::127.0.0.1", "loopback"},
		{"::8.8.8.8", "reserved"}, // IPv4-compatible is deprecated whatever it holds
		{"64:ff9b::127.0.0.1", "loopback"},
		{"64:ff9b::a9fe:a9fe", "link-local"},
		{"64:ff9b::192.168.0.1", "private"},
		{"2002:7f00:1::", "loopback"},
		{"2002:a00:1::1", "private"},
		{"2002:a9fe:a9fe::1", "link-local"},
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"}, // Teredo, client 127.0.0.1 inverted
	}
	for _, c := range cases {
		a, err := netip.ParseAddr(c.addr)
		if err != nil {
			t.Fatalf("%s: %v", c.addr, err)
		}
		reason, forbidden := forbiddenAddr(a)
		switch {
		case c.want == "" && forbidden:
			t.Errorf("%s: refused (%s), want allowed", c.addr, reason)
		case c.want != "" && !forbidden:
			t.Errorf("%s: allowed, want refused as %s", c.addr, c.want)
		case c.want != "" && !strings.Contains(reason, c.want):
			t.Errorf("%s: reason %q, want it to say %q", c.addr, reason, c.want)
		}
	}
	if reason, forbidden := forbiddenAddr(netip.Addr{}); !forbidden || reason != "invalid" {
		t.Errorf("zero Addr: %q %v", reason, forbidden)
	}
}

func TestForbiddenDialAddress(t *testing.T) {
	cases := []struct {
		network, address, want string
	}{
		{"tcp", "8.8.8.8:443", ""},
		{"tcp6", "[2606:4700:4700::1111]:443", ""},
		{"tcp4", "127.0.0.1:80", "(loopback)"},
		{"tcp6", "[::ffff:127.0.0.1]:80", "loopback, IPv4-mapped"},
		{"tcp6", "[fe80::1%lo]:80", "link-local"},
		{"tcp", "169.254.169.254:80", "169.254.169.254 (link-local)"},
		{"udp", "8.8.8.8:53", "only TCP"},
		{"tcp", "localhost:80", "not an IP address"},
		{"tcp", "", "not an IP address"},
	}
	for _, c := range cases {
		err := checkDialAddress(c.network, c.address)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s %s: %v, want allowed", c.network, c.address, err)
			}
			continue
		}
		if !errors.Is(err, ErrForbiddenAddress) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: %v, want ErrForbiddenAddress saying %q", c.network, c.address, err, c.want)
		}
	}
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// loopbackReceivers starts an HTTP server answering 204 on 127.0.0.1 and,
// when the host has IPv6 loopback, on [::1] at the same port. Both count
// into the returned counter. v6 is false when [::1] could not be bound.
func loopbackReceivers(t *testing.T, h http.Handler) (port int, conns *atomic.Int64, v6 bool) {
	t.Helper()
	conns = new(atomic.Int64)
	start := func(l net.Listener) {
		s := httptest.NewUnstartedServer(h)
		s.Listener.Close()
		s.Listener = countingListener{Listener: l, n: conns}
		s.Start()
		t.Cleanup(s.Close)
	}
	l4, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port = l4.Addr().(*net.TCPAddr).Port
	start(l4)
	if l6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port))); err == nil {
		start(l6)
		v6 = true
	} else {
		t.Logf("no IPv6 loopback listener on port %d: %v", port, err)
	}
	return port, conns, v6
}

func testSigner(t *testing.T) *webhooks.Signer {
	t.Helper()
	secret, err := webhooks.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := webhooks.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// TestHostileURLsNeverConnect sends through a real sender, as the dispatcher
// builds it with AllowPrivate off, to every way of spelling the loopback
// receiver, and asserts that the receiver never saw a connection. Some
// spellings are already refused by Go's URL parser or resolver (decimal,
// octal and hex forms are no IPv4 literals to it, and "0" is looked up as a
// name); what matters is that none of them connects, and that a refusal by
// the guard says why.
func TestHostileURLsNeverConnect(t *testing.T) {
	port, conns, v6 := loopbackReceivers(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	p := strconv.Itoa(port)
	s := newSender(Config{Timeout: 3 * time.Second, ImmediateRetries: -1, AllowPrivate: false})
	signer := testSigner(t)

	cases := []struct {
		name, url string
		// reason the guard must give if the request got as far as dialing.
		reason string
		needV6 bool
	}{
		{"v4 loopback", "http://127.0.0.1:" + p + "/hook", "loopback", false},
		{"v4 loopback elsewhere in 127/8", "http://127.0.0.2:" + p + "/hook", "loopback", false},
		{"localhost", "http://localhost:" + p + "/hook", "loopback", false},
		{"localhost trailing dot", "http://localhost.:" + p + "/hook", "loopback", false},
		{"v6 loopback", "http://[::1]:" + p + "/hook", "loopback", true},
		{"v4-mapped v6 loopback", "http://[::ffff:127.0.0.1]:" + p + "/hook", "loopback", false},
		{"v4-mapped v6 loopback hex", "http://[::ffff:7f00:1]:" + p + "/hook", "loopback", false},
		{"decimal", "http://2130706433:" + p + "/hook", "loopback", false},
		{"octal", "http://0177.0.0.1:" + p + "/hook", "loopback", false},
		{"hex", "http://0x7f.1:" + p + "/hook", "loopback", false},
		{"hex dotted", "http://0x7f.0x0.0x0.0x1:" + p + "/hook", "loopback", false},
		{"short form", "http://127.1:" + p + "/hook", "loopback", false},
		{"zero", "http://0:" + p + "/hook", "unspecified", false},
		{"unspecified", "http://0.0.0.0:" + p + "/hook", "unspecified", false},
		{"v6 unspecified", "http://[::]:" + p + "/hook", "unspecified", true},
		{"userinfo trick", "http://example.com@127.0.0.1:" + p + "/hook", "loopback", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.needV6 && !v6 {
				t.Skip("skipped: this host has no IPv6 loopback to listen on")
			}
			before := conns.Load()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r := s.send(ctx, c.url, signer, "msg_ssrf", []byte(`{"id":"x"}`), "application/json", nil)
			if r.err == nil {
				t.Fatalf("delivered (status %d), want a failed delivery", r.status)
			}
			if got := conns.Load() - before; got != 0 {
				t.Fatalf("receiver accepted %d connection(s); error: %v", got, r.err)
			}
			if errors.Is(r.err, ErrForbiddenAddress) {
				if !strings.Contains(r.err.Error(), c.reason) {
					t.Errorf("error %q does not say %q", r.err, c.reason)
				}
				return
			}
			// Not refused by the guard: it must have failed before dialing
			// anything (the URL or the name did not resolve).
			var dns *net.DNSError
			if !errors.As(r.err, &dns) && !strings.Contains(r.err.Error(), "invalid") {
				t.Errorf("failed for another reason than the guard or name resolution: %v", r.err)
			}
			t.Logf("refused before dialing: %v", r.err)
		})
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("receiver accepted %d connection(s) in total", n)
	}
}

// TestHostileRedirectNotFollowed: a receiver answering 302 towards an
// internal address is a failed delivery, and the target is never contacted.
// AllowPrivate is on because the first hop itself is on loopback.
func TestHostileRedirectNotFollowed(t *testing.T) {
	targetPort, targetConns, _ := loopbackReceivers(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	targets := []string{
		fmt.Sprintf("http://127.0.0.1:%d/internal", targetPort),
		fmt.Sprintf("http://localhost:%d/internal", targetPort),
		"http://169.254.169.254/latest/meta-data/",
	}
	s := newSender(Config{Timeout: 3 * time.Second, ImmediateRetries: 2, AllowPrivate: true})
	signer := testSigner(t)
	for _, code := range []int{http.StatusFound, http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, target := range targets {
			t.Run(fmt.Sprintf("%d to %s", code, target), func(t *testing.T) {
				var hits atomic.Int64
				hop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					hits.Add(1)
					http.Redirect(w, r, target, code)
				}))
				defer hop.Close()
				r := s.send(context.Background(), hop.URL+"/hook", signer, "msg_redirect", []byte(`{"id":"x"}`), "application/json", nil)
				if r.err == nil || !errors.Is(r.err, ErrStatus) || r.status != code {
					t.Fatalf("status %d, err %v; want a failed delivery with status %d", r.status, r.err, code)
				}
				if n := hits.Load(); n != 1 {
					t.Errorf("first hop hit %d times, want once (a 3xx is not retried)", n)
				}
				if n := targetConns.Load(); n != 0 {
					t.Fatalf("redirect target accepted %d connection(s)", n)
				}
			})
		}
	}
}

// TestSSRFAllowPrivateKeepsLoopback: with AllowPrivate on (development, the
// demo) the same sender reaches a loopback receiver.
func TestSSRFAllowPrivateKeepsLoopback(t *testing.T) {
	port, conns, _ := loopbackReceivers(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	s := newSender(Config{Timeout: 3 * time.Second, ImmediateRetries: -1, AllowPrivate: true})
	r := s.send(context.Background(), fmt.Sprintf("http://127.0.0.1:%d/hook", port), testSigner(t), "msg_ok", []byte(`{}`), "application/json", nil)
	if r.err != nil || r.status != http.StatusNoContent {
		t.Fatalf("status %d, err %v; want 204", r.status, r.err)
	}
	if conns.Load() != 1 {
		t.Fatalf("%d connections, want 1", conns.Load())
	}
}
