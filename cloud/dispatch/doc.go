// Package dispatch delivers events to webhook subscriptions: one durable
// JetStream consumer per subscription, one event in flight, signed HTTP POSTs,
// acknowledged only after a 2xx so that order holds through every retry.
package dispatch
