// Package agent wires the edge together and owns its lifecycle: the
// vehicle's embedded leaf node, the GNSS source, the detectors and the outbox.
package agent
