// Package server is the cloud process (fleetwire serve): it opens the hub,
// runs the dispatcher for the configured subscriptions and serves the HTTP
// API, and stops them in order.
package server
