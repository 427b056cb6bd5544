// Package subscription is the webhook subscription model: who receives which
// events where, and the NATS subject filters that select them.
package subscription
