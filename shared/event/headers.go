package event

// NATS headers carried by event messages, on the edge outbox and on the hub.
const (
	// HeaderMsgID is the JetStream de-duplication header; its value is the event id.
	HeaderMsgID = "Nats-Msg-Id"
	// HeaderSeq carries the event's per-vehicle sequence number in decimal, so
	// that the forwarder can resolve unknown publish outcomes without decoding bodies.
	HeaderSeq = "Fleetwire-Seq"
)
