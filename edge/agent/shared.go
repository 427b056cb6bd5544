package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetwire/fleetwire/edge/detect"
	"github.com/fleetwire/fleetwire/edge/fences"
	"github.com/fleetwire/fleetwire/edge/outbox"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/nats-io/nats.go"
)

// Shared is what agents running in one process can share when one leaf node
// per vehicle does not fit (the fleet simulator, edge/simulate): a running
// leaf node linked to the hub, a client connection to it, and the account's
// fences mirrored once into its store.
//
// Each agent on a Shared keeps its own outbox — a stream of its own on the
// shared leaf (SharedStream), with its own durable consumer and forwarder,
// so numbering, order and exactly-once forwarding are per vehicle as on a
// real gateway — and its own state, detectors and heartbeat. It neither
// starts nor stops the leaf node nor closes the connection, and does not run
// the fence mirror (the owner runs Fences.Run). It does not mirror the hub's
// detection settings: its thresholds are cfg.Detect.
type Shared struct {
	Leaf   *natsembed.Server
	Conn   *nats.Conn // a client of Leaf
	Fences *fences.Sync
}

// WithShared runs the agent on a shared leaf node instead of starting its
// own (cfg.Hub.URL and cfg.Store.Dir are then not used).
func WithShared(s Shared) Option { return func(a *Agent) { a.shared = &s } }

// SharedStream is the outbox stream of vehicle on a shared leaf node.
func SharedStream(vehicle string) string { return "OUTBOX-" + vehicle }

// outboxConfig is the outbox of cfg's vehicle in stream ("": the default).
func (a *Agent) outboxConfig(stream string) outbox.Config {
	return outbox.Config{
		Account: a.cfg.Vehicle.Account, Vehicle: a.cfg.Vehicle.ID, Stream: stream,
		MaxBytes: a.cfg.Store.MaxBytes, MaxAge: a.cfg.Store.MaxAge, Policy: outbox.Policy(a.cfg.Store.Policy),
		HubDomain: a.cfg.Hub.Domain, Signer: a.key, Logger: a.log,
		AgentVersion: Version, RuleVersion: detect.RuleVersion,
		LinkUp: func() bool { return a.leaf != nil && a.leaf.LeafConnected() },
	}
}

func (a *Agent) openShared(ctx context.Context) error {
	s := a.shared
	if s.Leaf == nil || s.Conn == nil || s.Fences == nil {
		return errors.New("agent: a shared leaf node needs its server, a connection and the fence mirror")
	}
	a.leaf, a.nc, a.fences = s.Leaf, s.Conn, s.Fences
	var err error
	if a.box, err = outbox.Open(ctx, a.nc, a.outboxConfig(SharedStream(a.cfg.Vehicle.ID))); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	return nil
}
