// Package identities is the hub's registry of who may connect: each
// vehicle's public nkey (its leaf node authenticates with it and signs its
// events with it) and the keys of customers' own NATS clients. It lives in
// the IDENTITIES bucket; the server admits connections from it (see
// cloud/callout, for the embedded hub and a cluster alike) and the ingest
// verifier checks signatures
// against it. Private keys are never stored here.
package identities
