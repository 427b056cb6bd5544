// Package hub is the cloud's NATS side: it starts the embedded JetStream hub
// (or connects to an existing cluster) and creates the EVENTS stream that
// every vehicle's leaf node forwards into.
package hub
