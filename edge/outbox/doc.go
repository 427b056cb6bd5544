// Package outbox is the vehicle's store-and-forward: events are written to a
// local JetStream stream first (numbered gap-free per vehicle), then forwarded
// to the hub's EVENTS stream exactly once and in order, however long the link is down.
//
// # Why this mechanism
//
// The hub cannot source 10,000 leaf streams (one source and one remote
// consumer per vehicle), and Nats-Msg-Id de-duplication only covers a window
// of minutes. So each vehicle pushes: a durable local consumer (one message
// in flight) hands the forwarder the oldest unforwarded event; the forwarder
// publishes it to the hub with two guards, Nats-Msg-Id (the event id) and
// Nats-Expected-Last-Subject-Sequence over the vehicle's own subjects, and
// acknowledges locally only after the hub's PubAck. When an outcome is
// unknown (timeout, link cut, hub restart) or the guard rejects the publish,
// the forwarder reads the vehicle's last event on the hub and compares its
// Fleetwire-Seq header with its own: an event already stored is skipped, one
// missing is sent again. That check does not depend on any time window, so
// no outage is too long, and the hub needs no per-vehicle configuration.
package outbox
