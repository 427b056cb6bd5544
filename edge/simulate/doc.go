// Package simulate is the fleet simulator (fleetwire-edge simulate): N
// vehicles, each a real edge agent (edge/agent: vehicle state, the detector
// pipeline, an outbox with its forwarder, heartbeats) fed by a replay of a
// real drive, against a hub — enough of them on one machine to load the
// hub's ingest (10,000 on a 2-core box).
//
// # What is shared
//
// One leaf node per vehicle (a nats-server with its own JetStream domain and
// store, as on a gateway) costs about 28 MiB, so the vehicles are grouped:
// per_leaf vehicles (100 by default) share
//
//   - one embedded leaf nats-server linked to the hub (one leaf connection,
//     one JetStream domain, one store directory),
//   - one client connection to it, and
//   - the account's fence mirror on it (edge/fences, one Sync).
//
// Each vehicle keeps its own outbox stream on the shared leaf
// (OUTBOX-<vehicle>) with its own durable consumer and forwarder, so
// numbering, ordering, store-first and exactly-once forwarding are per
// vehicle exactly as on a real gateway, and the hub sees one publisher per
// vehicle with its own subject guard. Vehicles do not mirror the hub's
// detection settings (their thresholds are the detect.* keys), and they
// have no CAN bus. The drive's NMEA log is parsed and filtered once by the
// edge's own reader; each vehicle replays those fixes from its own offset
// into the drive (there and back again), shifted by up to ±0.02° in
// latitude and longitude, stamped from the time it starts and paced speed
// times faster than recorded.
//
// # Bounds
//
// A run drives for duration (or drive_time of device time per vehicle),
// then waits at most drain for every event recorded during the drive to
// reach the hub, optionally reads the hub's EVENTS stream back to check each
// vehicle's events are gap-free and in order (VerifyHub), and stops.
// Cancelling the context (Ctrl-C) stops it cleanly at any point.
package simulate
