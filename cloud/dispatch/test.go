package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/fleetwire/fleetwire/cloud/subscription"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/webhooks"
)

// ErrUnknownType: SendTest was asked for a type not in the catalogue.
var ErrUnknownType = errors.New("dispatch: unknown event type")

// HeaderTest marks a test delivery (value "true"), which receivers may
// ignore: it is not in any vehicle's sequence.
const HeaderTest = "Fleetwire-Test"

// SendTest sends sub one sample event of type t now, as the vendors'
// "send a test" button does: signed, rendered and authenticated like real
// deliveries, outside the queue (order and sequence are not affected) and
// not retried. The attempt is returned, not recorded in the delivery log.
func (d *Dispatcher) SendTest(ctx context.Context, sub subscription.Subscription, t event.Type) (Attempt, error) {
	var info *event.TypeInfo
	for _, ti := range event.Catalogue() {
		if ti.Type == t {
			info = &ti
			break
		}
	}
	if info == nil {
		return Attempt{}, fmt.Errorf("%w: %q", ErrUnknownType, t)
	}
	if err := sub.Validate(d.cfg.AllowHTTP); err != nil {
		return Attempt{}, err
	}
	now := time.Now()
	sample := info.Data
	if info.Example != nil {
		sample = info.Example // the correction types need their content
	}
	data, err := json.Marshal(sample)
	if err != nil {
		return Attempt{}, fmt.Errorf("dispatch: sample %s: %w", t, err)
	}
	vehicle := "test-vehicle"
	if len(sub.Vehicles) > 0 {
		vehicle = sub.Vehicles[0]
	}
	e := event.Event{
		ID: event.NewID(now), Type: t, SchemaVersion: event.SchemaVersion, OccurredAt: event.Time{Time: now},
		Account: sub.Account, Vehicle: event.Vehicle{ID: vehicle, Name: "Test vehicle"}, Seq: 0,
		Location: &event.Location{Lat: 49.0134, Lon: 12.1016, FixQuality: 1}, Data: data,
	}
	if event.IsCorrection(t) {
		e.Corrects = event.ExampleCorrects
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return Attempt{}, fmt.Errorf("dispatch: sample %s: %w", t, err)
	}
	body, contentType, err := renderBody(raw, sub.Format, sub.Payload)
	if err != nil {
		return Attempt{}, err
	}
	signer, err := webhooks.NewSigner(sub.Secrets(now)...)
	if err != nil {
		return Attempt{}, fmt.Errorf("dispatch: subscription %s: %w", sub.ID, err)
	}
	extra := http.Header{HeaderTest: []string{"true"}}
	if a := sub.Auth; a.Header != "" {
		extra.Set(a.Header, a.Value)
	}
	start := time.Now()
	res := d.sender.send(ctx, sub.URL, signer, e.ID, body, contentType, extra)
	return Attempt{
		Subscription: sub.ID, EventID: e.ID, EventType: string(t), Vehicle: vehicle, Number: 1,
		StatusCode: res.status, Err: res.err, Latency: time.Since(start), Body: body, Response: res.body,
	}, nil
}
