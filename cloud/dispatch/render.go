package dispatch

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/fleetwire/fleetwire/cloud/payload"
)

// ErrPayloadTooLarge: the event is bigger than Config.MaxPayload; it is
// recorded as discarded instead of being retried forever.
var ErrPayloadTooLarge = errors.New("dispatch: event too large to deliver")

// renderBody renders the stored envelope in the subscription's format.
func renderBody(raw []byte, format, shape string) ([]byte, string, error) {
	body, ct, err := payload.Render(raw, payload.Format(format), payload.Shape(shape))
	if err != nil {
		return nil, "", fmt.Errorf("dispatch: render %s/%s: %w", format, shape, err)
	}
	return body, ct, nil
}

func unmarshalEnvelope(b []byte, env *envelope) error {
	if err := json.Unmarshal(b, env); err != nil {
		return err
	}
	if env.ID == "" {
		return errors.New("no id")
	}
	return nil
}
