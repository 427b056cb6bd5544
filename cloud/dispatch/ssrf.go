package dispatch

import (
	"fmt"
	"net/netip"
	"syscall"
)

// The SSRF guard. A subscription URL is chosen by a customer; without a
// guard it could make the dispatcher POST into the hub's own network: its
// loopback services, the cloud metadata endpoint (169.254.169.254,
// fd00:ec2::254), a NATS monitoring port, a database on a private subnet.
//
// The check runs in net.Dialer.Control, that is on the address the socket is
// about to connect to, after name resolution. Every way of spelling a host —
// a DNS name resolving to 127.0.0.1, a name whose answer changes between two
// lookups (DNS rebinding), "0", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]"
// — ends up here as a plain IP address, so there is nothing to parse and no
// window between check and use. Redirects are not followed at all (see
// newSender), so a public receiver cannot bounce a delivery inward either.

// dialControl is the net.Dialer.Control of a sender that may not reach
// private addresses.
func dialControl(network, address string, _ syscall.RawConn) error {
	return checkDialAddress(network, address)
}

// checkDialAddress returns nil if a TCP connection to address ("ip:port", as
// net.Dialer hands it to Control) is allowed, and otherwise an error wrapping
// ErrForbiddenAddress that names the address and the reason.
func checkDialAddress(network, address string) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return fmt.Errorf("%w: %s over %q (only TCP)", ErrForbiddenAddress, address, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q (not an IP address and port)", ErrForbiddenAddress, address)
	}
	if reason, forbidden := forbiddenAddr(ap.Addr()); forbidden {
		return fmt.Errorf("%w: %s (%s)", ErrForbiddenAddress, ap.Addr(), reason)
	}
	return nil
}

// forbiddenAddr reports whether a receiver may not be reached at a, and why:
// the reason starts with one of "invalid", "unspecified", "loopback",
// "private", "link-local", "multicast", "broadcast", "this network",
// "shared address space (CGNAT)", "documentation", "benchmarking",
// "reserved" or "not global unicast".
//
// IPv6 addresses that carry an IPv4 address are judged by that address:
// IPv4-mapped (::ffff:a.b.c.d, also what a dual-stack socket dials for an
// IPv4 destination), IPv4-compatible (::a.b.c.d, deprecated), NAT64
// (64:ff9b::/96, which a NAT64 gateway translates to the embedded address),
// 6to4 (2002:aabb:ccdd::/48) and Teredo (2001::/32, whose client address is
// stored inverted). The local-use NAT64 prefix 64:ff9b:1::/48 leads into a
// private network by definition and is refused whatever it embeds.
//
// Documentation and benchmarking ranges are refused too: they are never
// routed on the Internet, so no real receiver lives there, but networks do
// use them internally (198.18.0.0/15 in particular), which is exactly what a
// subscription must not reach.
func forbiddenAddr(a netip.Addr) (reason string, forbidden bool) {
	if !a.IsValid() {
		return "invalid", true
	}
	a = a.WithZone("")
	if a.Is4In6() {
		if r, bad := forbiddenAddr(a.Unmap()); bad {
			return r + ", IPv4-mapped", true
		}
		return "", false
	}
	if a.Is4() {
		return forbidden4(a)
	}
	return forbidden6(a)
}

// prefixReason is one refused range.
type prefixReason struct {
	p      netip.Prefix
	reason string
}

// forbidden4Ranges lists the IPv4 special-purpose ranges (RFC 6890 and the
// IANA registry) that are not globally reachable, most specific first
// where they overlap.
var forbidden4Ranges = []prefixReason{
	{netip.MustParsePrefix("0.0.0.0/32"), "unspecified"},
	{netip.MustParsePrefix("0.0.0.0/8"), "this network"}, // Linux connects 0.x to the host itself
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (CGNAT)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved (IETF protocol assignments)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("192.88.99.0/24"), "reserved (6to4 relay anycast)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
}

func forbidden4(a netip.Addr) (string, bool) {
	for _, r := range forbidden4Ranges {
		if r.p.Contains(a) {
			return r.reason, true
		}
	}
	return "", false
}

// IPv6 prefixes that embed an IPv4 address.
var (
	v4Compatible = netip.MustParsePrefix("::/96")
	nat64        = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour    = netip.MustParsePrefix("2002::/16")
	teredo       = netip.MustParsePrefix("2001::/32")
)

// forbidden6Ranges lists the IPv6 ranges refused outright.
var forbidden6Ranges = []prefixReason{
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "private (local-use NAT64)"},
	{netip.MustParsePrefix("100::/64"), "reserved (discard-only)"},
	{netip.MustParsePrefix("2001:2::/48"), "benchmarking"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("3fff::/20"), "documentation"},
	{netip.MustParsePrefix("fc00::/7"), "private"}, // unique local, fd00:ec2::254 among them
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "private (site-local)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

func forbidden6(a netip.Addr) (string, bool) {
	for _, r := range forbidden6Ranges {
		if r.p.Contains(a) {
			return r.reason, true
		}
	}
	b := a.As16()
	var (
		v4  netip.Addr
		via string
	)
	switch {
	case v4Compatible.Contains(a):
		v4, via = netip.AddrFrom4([4]byte(b[12:16])), "IPv4-compatible"
		if r, bad := forbidden4(v4); bad {
			return r + ", " + via, true
		}
		// ::a.b.c.d is deprecated (RFC 4291) and no longer routed.
		return "reserved (deprecated IPv4-compatible)", true
	case nat64.Contains(a):
		v4, via = netip.AddrFrom4([4]byte(b[12:16])), "NAT64"
	case sixToFour.Contains(a):
		v4, via = netip.AddrFrom4([4]byte(b[2:6])), "6to4"
	case teredo.Contains(a):
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
		v4, via = netip.AddrFrom4(client), "Teredo"
	}
	if v4.IsValid() {
		if r, bad := forbidden4(v4); bad {
			return r + ", " + via + " of " + v4.String(), true
		}
	}
	if !a.IsGlobalUnicast() {
		return "not global unicast", true
	}
	return "", false
}
