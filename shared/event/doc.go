// Package event is the contract between the edge and the cloud: the versioned
// JSON envelope every fleetwire event travels in, the event-type catalogue and
// the NATS subjects events are published on.
package event
