// Package natsembed starts an embedded nats-server with JetStream, either as
// the cloud hub (leaf-node listener) or as a vehicle's leaf node, for the
// product and for tests.
package natsembed
