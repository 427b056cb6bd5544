package event

// Provenance says where an event came from and how it travelled. It is not
// part of the envelope the vehicle stores and forwards (those bytes reach
// the hub unchanged): the dispatcher builds it from the hub message's
// headers and its ingest time and appends it to the delivered JSON body as
// the member "provenance" (in the form format: provenance[receivedAt]…).
// The minimal payload shape leaves it out; the Fleetwire-Received-At and
// Fleetwire-Buffered-Offline webhook headers carry its essentials in every
// shape.
//
// Fields other than ReceivedAt are absent when the event came from an agent
// that predates them.
type Provenance struct {
	// ReceivedAt is when the hub stored the event (hub clock).
	ReceivedAt Time `json:"receivedAt"`
	// StoredAt is when the vehicle stored it in its outbox (vehicle clock).
	StoredAt *Time `json:"storedAt,omitempty"`
	// BufferedOffline is true when the event waited on the vehicle because
	// the hub could not be reached: it was stored while the vehicle's leaf
	// node had no link to the hub, or the forwarder failed to reach the hub
	// (a publish or a position check that timed out, found no responder or
	// lost its connection) at some time after the event was stored and
	// before it was forwarded. An event stored after the link came back
	// that only queued behind the backlog is not buffered offline.
	BufferedOffline *bool `json:"bufferedOffline,omitempty"`
	// BufferedS is how long the event waited on the vehicle, in seconds
	// (millisecond precision), measured on the vehicle's clock from StoredAt
	// to the forward that reached the hub, so clock skew between the vehicle
	// and the hub does not distort it.
	BufferedS *float64 `json:"bufferedS,omitempty"`
	// AgentVersion is the edge agent's version when it stored the event.
	AgentVersion string `json:"agentVersion,omitempty"`
	// RuleVersion is the version of the detector rules that produced it.
	RuleVersion string `json:"ruleVersion,omitempty"`
}
