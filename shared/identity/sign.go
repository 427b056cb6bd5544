package identity

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/nats-io/nkeys"
)

// Headers that carry a vehicle's signature on an event message (edge
// outbox, hub EVENTS stream) and on webhook deliveries.
const (
	// HeaderKey is the public nkey ("U…") of the vehicle that signed.
	HeaderKey = "Fleetwire-Edge-Key"
	// HeaderSignature is the ed25519 signature of the event's bytes (the
	// envelope exactly as the vehicle produced it), unpadded base64url.
	HeaderSignature = "Fleetwire-Edge-Signature"
)

// Sentinel errors of VerifyEvent; callers count rejections by them.
var (
	// ErrUnsigned: the message carries no signature.
	ErrUnsigned = errors.New("event is not signed")
	// ErrBadSignature: the signature does not match the bytes and key.
	ErrBadSignature = errors.New("event signature does not verify")
	// ErrWrongKey: signed, but not with the key registered for the vehicle.
	ErrWrongKey = errors.New("event signed with another key than the vehicle's")
)

// SignEvent signs an event's bytes; the result goes in HeaderSignature.
func SignEvent(kp nkeys.KeyPair, body []byte) (string, error) {
	sig, err := kp.Sign(body)
	if err != nil {
		return "", fmt.Errorf("identity: sign: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sig), nil
}

// VerifyEvent checks that sig (HeaderSignature) is keyID's (HeaderKey)
// signature of body. When want is not empty, keyID must be it (the key
// registered for the vehicle named by the subject): a valid signature by
// another vehicle's key is ErrWrongKey.
func VerifyEvent(want, keyID, sig string, body []byte) error {
	if sig == "" || keyID == "" {
		return ErrUnsigned
	}
	if want != "" && keyID != want {
		return fmt.Errorf("%w: signed by %s, vehicle's key is %s", ErrWrongKey, shorten(keyID), shorten(want))
	}
	pub, err := nkeys.FromPublicKey(keyID)
	if err != nil || keyID[0] != 'U' {
		return fmt.Errorf("%w: %w", ErrBadSignature, ValidPublicKey(keyID))
	}
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w: signature is not unpadded base64url", ErrBadSignature)
	}
	if err := pub.Verify(body, raw); err != nil {
		return ErrBadSignature
	}
	return nil
}

// provenanceMember is how the cloud appends provenance to a delivered
// envelope: always as the last member.
var provenanceMember = []byte(`,"provenance":`)

// VerifyDelivered verifies a webhook body of the json format and full
// payload shape (or a feed item) against the HeaderKey and HeaderSignature
// headers that came with it. The cloud appends a "provenance" member to the
// envelope the vehicle signed; VerifyDelivered removes that last member
// before checking, so what is verified is exactly what the vehicle
// produced. Other payload shapes (form, minimal) are re-encodings and
// cannot be verified; fetch the event from the feed for those.
func VerifyDelivered(keyID, sig string, body []byte) error {
	body = bytes.TrimRight(body, " \t\r\n")
	if err := VerifyEvent("", keyID, sig, body); err == nil {
		return nil
	}
	i := bytes.LastIndex(body, provenanceMember)
	if i < 0 {
		return VerifyEvent("", keyID, sig, body)
	}
	original := append(bytes.Clone(body[:i]), '}')
	return VerifyEvent("", keyID, sig, original)
}
