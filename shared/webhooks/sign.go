package webhooks

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a Standard Webhooks delivery. http.Header canonicalises
// them (Webhook-Id and so on); HTTP header names are case-insensitive.
const (
	// HeaderID carries the message id, the same on every retry of a delivery.
	HeaderID = "webhook-id"
	// HeaderTimestamp carries the signing time in seconds since the Unix epoch.
	HeaderTimestamp = "webhook-timestamp"
	// HeaderSignature carries one or more space-separated signatures, each
	// "v1," (HMAC-SHA256) or "v1a," (Ed25519) followed by base64.
	HeaderSignature = "webhook-signature"
)

// Signature version tags.
const (
	versionHMAC    = "v1"
	versionEd25519 = "v1a"
)

// Signer signs webhook deliveries with one or more keys. Giving it several
// is how secrets are rotated: every delivery carries a signature for each, so
// receivers holding either the old or the new secret accept it.
//
// A Signer is safe for concurrent use.
type Signer struct {
	keys []signingKey
}

// signingKey is one key of a Signer.
type signingKey interface {
	// sign returns a versioned signature ("v1,…" or "v1a,…") of content.
	sign(content []byte) string
}

// NewSigner returns a Signer for the given secrets, at least one. Each is a
// symmetric secret, with or without its "whsec_" prefix (see NewSecret), or
// an Ed25519 private key prefixed "whsk_". Errors wrap ErrInvalidSecret.
func NewSigner(secrets ...string) (*Signer, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: a signer needs at least one secret", ErrInvalidSecret)
	}
	s := &Signer{keys: make([]signingKey, 0, len(secrets))}
	for i, secret := range secrets {
		key, err := parseSigningKey(secret)
		if err != nil {
			return nil, fmt.Errorf("%w (secret #%d)", err, i+1)
		}
		s.keys = append(s.keys, key)
	}
	return s, nil
}

func parseSigningKey(s string) (signingKey, error) {
	switch {
	case strings.HasPrefix(s, privateKeyPrefix):
		key, err := parsePrivateKey(s)
		if err != nil {
			return nil, err
		}
		return ed25519Key(key), nil
	case strings.HasPrefix(s, publicKeyPrefix):
		return nil, fmt.Errorf("%w: a public key (whpk_) cannot sign", ErrInvalidSecret)
	}
	key, err := ParseSecret(s)
	if err != nil {
		return nil, err
	}
	return hmacKey(key), nil
}

// Sign returns the webhook-signature header value for a delivery: one
// signature per key, in the order the keys were given, separated by spaces.
// The timestamp is signed in whole seconds.
func (s *Signer) Sign(id string, ts time.Time, body []byte) string {
	content := signedContent(id, formatTimestamp(ts), body)
	sigs := make([]string, len(s.keys))
	for i, key := range s.keys {
		sigs[i] = key.sign(content)
	}
	return strings.Join(sigs, " ")
}

// SetHeaders sets the webhook-id, webhook-timestamp and webhook-signature
// headers of a delivery of body.
func (s *Signer) SetHeaders(h http.Header, id string, ts time.Time, body []byte) {
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, formatTimestamp(ts))
	h.Set(HeaderSignature, s.Sign(id, ts, body))
}

// hmacKey is a symmetric secret; it signs "v1,".
type hmacKey []byte

func (k hmacKey) sign(content []byte) string {
	return versionHMAC + "," + base64.StdEncoding.EncodeToString(k.mac(content))
}

func (k hmacKey) mac(content []byte) []byte {
	mac := hmac.New(sha256.New, k)
	mac.Write(content)
	return mac.Sum(nil)
}

// ed25519Key is an asymmetric private key; it signs "v1a,".
type ed25519Key ed25519.PrivateKey

func (k ed25519Key) sign(content []byte) string {
	sig := ed25519.Sign(ed25519.PrivateKey(k), content)
	return versionEd25519 + "," + base64.StdEncoding.EncodeToString(sig)
}

// signedContent is what every signature covers: id, timestamp and body,
// joined by dots. The timestamp is the header's text, exactly as sent.
func signedContent(id, timestamp string, body []byte) []byte {
	content := make([]byte, 0, len(id)+1+len(timestamp)+1+len(body))
	content = append(content, id...)
	content = append(content, '.')
	content = append(content, timestamp...)
	content = append(content, '.')
	return append(content, body...)
}

func formatTimestamp(ts time.Time) string {
	return strconv.FormatInt(ts.Unix(), 10)
}
