// Package hubcopy opens a vehicle's local copy (mirror or sources) of a hub
// KV bucket, the way the hub's permissions for vehicles expect it.
package hubcopy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/nats-io/nats.go/jetstream"
)

// External reaches the hub's JetStream API (domain hubDomain) and has the
// copy's deliveries sent to the vehicle's own subjects, which its hub
// permissions allow (identity.VehiclePermissions).
func External(hubDomain, account, vehicle string) *jetstream.ExternalStream {
	return &jetstream.ExternalStream{
		APIPrefix:     "$JS." + hubDomain + ".API",
		DeliverPrefix: identity.DeliverPrefix(account, vehicle),
	}
}

// Open creates or updates the local bucket. A copy made by an older agent
// whose origin settings cannot be updated in place (nats-server refuses to
// change a mirror) is deleted and made again: it is a cache of the hub, and
// the hub refills it when the link is up.
func Open(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig, log *slog.Logger) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
	var apiErr *jetstream.APIError
	if err == nil || !errors.As(err, &apiErr) || !changesOrigin(apiErr.ErrorCode) {
		return kv, err
	}
	log.Warn("local copy of a hub bucket has an older shape; making it again from the hub", "bucket", cfg.Bucket, "err", err)
	if err := js.DeleteKeyValue(ctx, cfg.Bucket); err != nil {
		return nil, fmt.Errorf("replace local %s: %w", cfg.Bucket, err)
	}
	return js.CreateKeyValue(ctx, cfg)
}

// changesOrigin: the server's codes for a mirror/source change refused.
func changesOrigin(code jetstream.ErrorCode) bool {
	switch code {
	case 10055, // JSStreamMirrorNotUpdatableErr
		10031, // JSMirrorWithSourcesErr
		10034: // JSMirrorWithSubjectsErr
		return true
	}
	return false
}
