package webhooks

import (
	"crypto/ed25519"
	"crypto/hmac"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a delivery's timestamp may lie from the
// receiver's clock, in either direction, unless Verifier.Tolerance says
// otherwise.
const DefaultTolerance = 5 * time.Minute

// DefaultMaxBody is the body limit of VerifyRequest when given none.
const DefaultMaxBody = 1 << 20

// maxSignatures bounds the signatures examined in one webhook-signature
// header, so that a hostile header cannot buy unbounded work. Senders use one
// or two (two while rotating secrets).
const maxSignatures = 16

// strictBase64 decodes signatures, rejecting non-canonical encodings.
var strictBase64 = base64.StdEncoding.Strict()

// Verifier checks the signatures of webhook deliveries against one or more
// keys, and rejects deliveries whose timestamp lies outside its tolerance.
//
// A Verifier is safe for concurrent use once its fields are set.
type Verifier struct {
	// Tolerance is how far a delivery's timestamp may lie from Now, in
	// either direction. Zero or negative means DefaultTolerance.
	Tolerance time.Duration

	// Now returns the current time. Nil means time.Now; tests set a fixed clock.
	Now func() time.Time

	secrets    []hmacKey
	publicKeys []ed25519.PublicKey
}

// NewVerifier returns a Verifier for the given keys, at least one. A delivery
// verifies if any of its signatures matches any of the keys. Each key is a
// symmetric secret, with or without its "whsec_" prefix, or an Ed25519 public
// key prefixed "whpk_" (for a raw ed25519.PublicKey, pass "whpk_" followed by
// its standard base64). Errors wrap ErrInvalidSecret.
func NewVerifier(secrets ...string) (*Verifier, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: a verifier needs at least one secret", ErrInvalidSecret)
	}
	v := &Verifier{}
	for i, secret := range secrets {
		if err := v.addKey(secret); err != nil {
			return nil, fmt.Errorf("%w (secret #%d)", err, i+1)
		}
	}
	return v, nil
}

func (v *Verifier) addKey(s string) error {
	switch {
	case strings.HasPrefix(s, publicKeyPrefix):
		key, err := parsePublicKey(s)
		if err != nil {
			return err
		}
		v.publicKeys = append(v.publicKeys, key)
		return nil
	case strings.HasPrefix(s, privateKeyPrefix):
		return fmt.Errorf("%w: a private key (whsk_) belongs to the sender; verify with its whpk_ public key", ErrInvalidSecret)
	}
	key, err := ParseSecret(s)
	if err != nil {
		return err
	}
	v.secrets = append(v.secrets, key)
	return nil
}

// Verify checks a delivery's headers and body. It returns nil if the
// timestamp is within tolerance and a signature matches, and otherwise an
// error wrapping ErrMissingHeaders, ErrInvalidTimestamp, ErrTimestampTooOld,
// ErrTimestampTooNew or ErrNoMatchingSignature. Only the first 16 signatures
// of a header are examined.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	d, err := v.readHeaders(h)
	if err != nil {
		return err
	}
	return v.verifySignatures(d, body)
}

// VerifyRequest reads the body of a webhook request, at most maxBody bytes
// (DefaultMaxBody if maxBody is not positive), and verifies the delivery as
// Verify does. It returns the body only if the delivery verifies; a longer
// body gives an error wrapping ErrBodyTooLarge. The headers are checked
// before the body is read, so stale or unsigned requests cost no read.
func (v *Verifier) VerifyRequest(r *http.Request, maxBody int64) ([]byte, error) {
	d, err := v.readHeaders(r.Header)
	if err != nil {
		return nil, err
	}
	body, err := readBody(r.Body, maxBody)
	if err != nil {
		return nil, err
	}
	if err := v.verifySignatures(d, body); err != nil {
		return nil, err
	}
	return body, nil
}

// delivery is what the headers of one delivery say.
type delivery struct {
	id, timestamp string
	signatures    []string
}

// readHeaders extracts the three headers and checks the timestamp.
func (v *Verifier) readHeaders(h http.Header) (delivery, error) {
	d := delivery{id: h.Get(HeaderID), timestamp: h.Get(HeaderTimestamp)}
	for _, value := range h.Values(HeaderSignature) {
		d.signatures = append(d.signatures, strings.Fields(value)...)
	}

	var missing []string
	if d.id == "" {
		missing = append(missing, HeaderID)
	}
	if d.timestamp == "" {
		missing = append(missing, HeaderTimestamp)
	}
	if len(d.signatures) == 0 {
		missing = append(missing, HeaderSignature)
	}
	if len(missing) > 0 {
		return delivery{}, fmt.Errorf("%w: %s", ErrMissingHeaders, strings.Join(missing, ", "))
	}
	return d, v.checkTimestamp(d.timestamp)
}

// checkTimestamp accepts a timestamp within the tolerance of now, both
// compared in whole seconds as they are sent.
func (v *Verifier) checkTimestamp(header string) error {
	secs, err := strconv.ParseInt(header, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: want whole seconds since the Unix epoch", ErrInvalidTimestamp)
	}
	sent := time.Unix(secs, 0)
	now := time.Unix(v.now().Unix(), 0)
	tolerance := v.tolerance()
	if age := now.Sub(sent); age > tolerance {
		return fmt.Errorf("%w: signed %s ago, tolerance is %s", ErrTimestampTooOld, age, tolerance)
	}
	if ahead := sent.Sub(now); ahead > tolerance {
		return fmt.Errorf("%w: signed %s ahead of now, tolerance is %s", ErrTimestampTooNew, ahead, tolerance)
	}
	return nil
}

// verifySignatures accepts the delivery if any of its signatures matches any
// key. Signatures of unknown versions or with invalid base64 are skipped, as
// the specification asks. Base64 must be canonical, so that only the exact
// signature text verifies. Comparisons of MACs take constant time.
func (v *Verifier) verifySignatures(d delivery, body []byte) error {
	content := signedContent(d.id, d.timestamp, body)
	macs := make([][]byte, len(v.secrets))
	for i, secret := range v.secrets {
		macs[i] = secret.mac(content)
	}

	signatures := d.signatures[:min(len(d.signatures), maxSignatures)]
	for _, versioned := range signatures {
		version, encoded, _ := strings.Cut(versioned, ",")
		sig, err := strictBase64.DecodeString(encoded)
		if err != nil {
			continue
		}
		switch version {
		case versionHMAC:
			for _, mac := range macs {
				if hmac.Equal(sig, mac) {
					return nil
				}
			}
		case versionEd25519:
			for _, key := range v.publicKeys {
				if ed25519.Verify(key, content, sig) {
					return nil
				}
			}
		}
	}
	return fmt.Errorf("%w: %d signature(s) checked against %d key(s)",
		ErrNoMatchingSignature, len(signatures), len(v.secrets)+len(v.publicKeys))
}

// readBody reads all of body, failing if it holds more than maxBody bytes.
func readBody(body io.Reader, maxBody int64) ([]byte, error) {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	if body == nil {
		return []byte{}, nil
	}
	limit := maxBody
	if limit < math.MaxInt64 {
		limit++ // one byte more tells a full body from a truncated one
	}
	b, err := io.ReadAll(io.LimitReader(body, limit))
	if err != nil {
		return nil, fmt.Errorf("webhooks: reading body: %w", err)
	}
	if int64(len(b)) > maxBody {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, maxBody)
	}
	return b, nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) tolerance() time.Duration {
	if v.Tolerance > 0 {
		return v.Tolerance
	}
	return DefaultTolerance
}
