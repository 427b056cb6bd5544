package event

// NATS headers carried by event messages, on the edge outbox and on the hub.
const (
	// HeaderMsgID is the JetStream de-duplication header; its value is the event id.
	HeaderMsgID = "Nats-Msg-Id"
	// HeaderSeq carries the event's per-vehicle sequence number in decimal, so
	// that the forwarder can resolve unknown publish outcomes without decoding bodies.
	HeaderSeq = "Fleetwire-Seq"

	// Provenance headers. They travel beside the envelope, never in it, so
	// that the bytes the vehicle produced (and will sign) stay unchanged; the
	// dispatcher turns them into the delivered body's "provenance" member
	// (see Provenance).

	// HeaderAgentVersion is the version of the edge agent that stored the
	// event (set at Append, on the outbox and on the hub).
	HeaderAgentVersion = "Fleetwire-Agent-Version"
	// HeaderRuleVersion is the version of the detector rules that produced
	// the event (set at Append, on the outbox and on the hub).
	HeaderRuleVersion = "Fleetwire-Rule-Version"
	// HeaderStoredOffline is "true" on an outbox message stored while the
	// vehicle's leaf node had no link to the hub (outbox only).
	HeaderStoredOffline = "Fleetwire-Stored-Offline"
	// HeaderStoredAt is when the vehicle stored the event in its outbox (the
	// outbox message's timestamp, vehicle clock, TimeLayout); hub only.
	HeaderStoredAt = "Fleetwire-Stored-At"
	// HeaderBufferedMs is how long, in whole milliseconds measured on the
	// vehicle's clock, the event waited in the outbox before the forward
	// attempt that carried it; hub only.
	HeaderBufferedMs = "Fleetwire-Buffered-Ms"
	// HeaderBufferedOffline is "true" when the event waited on the vehicle
	// because the hub could not be reached, else "false"; hub only (the
	// dispatcher sends it to receivers too). See Provenance.BufferedOffline.
	HeaderBufferedOffline = "Fleetwire-Buffered-Offline"
)
