// Package deliverylog records every webhook delivery attempt in a JetStream
// stream: what operators inspect, and what lets a restarted dispatcher know
// which events a receiver already has.
package deliverylog
