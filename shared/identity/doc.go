// Package identity is who a vehicle (or a customer's NATS client) is to the
// hub, and what it may do there.
//
// A vehicle holds one NATS nkey: an ed25519 key pair whose seed never leaves
// the gateway. The hub knows only the public key ("U…"), registered by an
// operator. The same key does two jobs:
//
//   - it authenticates the vehicle's leaf-node connection (nats-server's
//     nonce challenge), and that connection's permissions (VehiclePermissions)
//     let it publish only its own ingest subject and read only its account's
//     geofences and its own settings;
//   - it signs every event the vehicle produces (SignEvent); the cloud
//     verifies the signature before the event enters the EVENTS stream, and
//     passes the signature on, so a consumer can check end to end that the
//     vehicle, not the platform, produced the event (VerifyEvent).
//
// Why nkeys and not decentralised JWT accounts: fleetwire is itself the
// registry of vehicles, the hub is usually embedded, and one account holds
// the streams; nkeys need no operator/account hierarchy or resolver, and the
// registry (a KV bucket) is the single place a vehicle is added or revoked.
// The hub admits keys through nats-server's authorization callout, answered
// from the registry (cloud/callout).
package identity
