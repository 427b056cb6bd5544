// Package subscription is the webhook subscription model (who receives which
// events where, in what format and order), its store in a JetStream
// key-value bucket, vehicle groups, and the NATS subject filters that select
// a subscription's events.
package subscription
