// Package dispatch delivers events to webhook subscriptions. It follows the
// subscription store and runs one worker per active subscription, each with
// its own durable JetStream consumer. A worker holds each event until the
// receiver answers 2xx: one at a time in subscription ordering, one per
// vehicle in vehicle ordering, retrying on the schedule; a 410 or an event
// failing past the maximum age deactivates the subscription and records
// what it discards. Every attempt goes to the delivery log, which also tells
// a restarted worker what was delivered. Several dispatcher replicas may
// run; a lease picks the one that delivers.
package dispatch
