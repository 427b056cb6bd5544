package webhooks

import "errors"

// Errors returned by this package. They are sentinels: test for them with
// errors.Is, since the errors returned wrap them with details. No message ever
// contains a secret or key.
var (
	// ErrInvalidSecret reports a secret or key that cannot be used: a wrong
	// prefix, invalid base64 or the wrong length for its kind.
	ErrInvalidSecret = errors.New("webhooks: invalid secret")

	// ErrMissingHeaders reports a delivery without one of the webhook-id,
	// webhook-timestamp and webhook-signature headers.
	ErrMissingHeaders = errors.New("webhooks: missing required headers")

	// ErrInvalidTimestamp reports a webhook-timestamp that is not a whole
	// number of seconds since the Unix epoch.
	ErrInvalidTimestamp = errors.New("webhooks: invalid webhook-timestamp")

	// ErrTimestampTooOld reports a delivery signed longer ago than the
	// verifier's tolerance: a replay, or a clock running late.
	ErrTimestampTooOld = errors.New("webhooks: timestamp too old")

	// ErrTimestampTooNew reports a delivery dated further in the future than
	// the verifier's tolerance: a clock running early.
	ErrTimestampTooNew = errors.New("webhooks: timestamp too new")

	// ErrNoMatchingSignature reports that no signature in the
	// webhook-signature header matches any key of the verifier: a forged or
	// altered delivery, or a secret that is not (or no longer) the sender's.
	ErrNoMatchingSignature = errors.New("webhooks: no matching signature")

	// ErrBodyTooLarge reports a request body longer than VerifyRequest allows.
	ErrBodyTooLarge = errors.New("webhooks: body too large")
)
