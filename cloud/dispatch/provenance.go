package dispatch

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/nats-io/nats.go"
)

// Webhook headers carrying an event's provenance, in every payload shape.
const (
	// HeaderReceivedAt is when the hub stored the event (RFC 3339, ms, UTC).
	HeaderReceivedAt = "Fleetwire-Received-At"
	// HeaderBufferedOffline is "true" or "false": whether the event waited
	// on the vehicle because the hub was unreachable. Absent for events
	// from agents that predate it.
	HeaderBufferedOffline = event.HeaderBufferedOffline
)

// provenanceOf reads an EVENTS message's provenance from its headers (set
// by the edge forwarder) and its hub ingest time. Headers that do not parse
// are left out: anyone allowed to publish to the hub can write them.
func provenanceOf(h nats.Header, received time.Time) event.Provenance {
	p := event.Provenance{ReceivedAt: event.Time{Time: received}}
	if t, err := time.Parse(time.RFC3339Nano, h.Get(event.HeaderStoredAt)); err == nil {
		p.StoredAt = &event.Time{Time: t}
	}
	if b, err := strconv.ParseBool(h.Get(event.HeaderBufferedOffline)); err == nil {
		p.BufferedOffline = &b
	}
	if ms, err := strconv.ParseInt(h.Get(event.HeaderBufferedMs), 10, 64); err == nil && ms >= 0 && ms < math.MaxInt64/2 {
		s := float64(ms) / 1000
		p.BufferedS = &s
	}
	p.AgentVersion = limit(h.Get(event.HeaderAgentVersion))
	p.RuleVersion = limit(h.Get(event.HeaderRuleVersion))
	return p
}

// limit keeps a version string to a sane length.
func limit(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// provenanceHeaders are the webhook headers of p.
func provenanceHeaders(p event.Provenance, h http.Header) {
	h.Set(HeaderReceivedAt, p.ReceivedAt.UTC().Format(event.TimeLayout))
	if p.BufferedOffline != nil {
		h.Set(HeaderBufferedOffline, strconv.FormatBool(*p.BufferedOffline))
	}
}

// edgeSignatureHeaders passes the vehicle's signature of the event on to
// the receiver (identity.HeaderKey, identity.HeaderSignature), when the
// stored message has one: the ingest verifier checked it, and a receiver
// can check it again with identity.VerifyDelivered, end to end.
func edgeSignatureHeaders(stored nats.Header, h http.Header) {
	key, sig := stored.Get(identity.HeaderKey), stored.Get(identity.HeaderSignature)
	if key == "" || sig == "" || len(key) > 64 || len(sig) > 128 {
		return
	}
	h.Set(identity.HeaderKey, key)
	h.Set(identity.HeaderSignature, sig)
}

// withProvenance returns the envelope raw with a last member "provenance":
// p, without decoding or re-encoding the envelope: the new member goes
// before the closing brace (one copy). The stored bytes are not modified.
// Anything that is not a valid JSON object is returned unchanged, for
// payload.Render to reject. A "provenance" the envelope already had is
// overridden, as decoders keep the last of duplicate members (encoding/json,
// JavaScript's JSON.parse, and the form renderer do).
func withProvenance(raw []byte, p event.Provenance) []byte {
	end := len(bytes.TrimRight(raw, " \t\r\n"))
	start := len(raw) - len(bytes.TrimLeft(raw, " \t\r\n"))
	if end-start < 2 || raw[start] != '{' || raw[end-1] != '}' || !json.Valid(raw) {
		return raw
	}
	member, err := json.Marshal(p)
	if err != nil {
		return raw
	}
	// Is the object empty? Its last significant byte before '}' is '{'.
	inner := bytes.TrimRight(raw[start:end-1], " \t\r\n")
	empty := len(inner) == 1
	out := make([]byte, 0, end+len(member)+len(`,"provenance":}`))
	out = append(out, raw[:end-1]...)
	if !empty {
		out = append(out, ',')
	}
	out = append(out, `"provenance":`...)
	out = append(out, member...)
	return append(out, '}')
}
