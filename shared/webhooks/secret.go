package webhooks

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// Key prefixes defined by Standard Webhooks. Each is followed by the standard
// base64 encoding of the key.
const (
	secretPrefix     = "whsec_" // symmetric HMAC-SHA256 secret
	privateKeyPrefix = "whsk_"  // Ed25519 private key (seed or full key)
	publicKeyPrefix  = "whpk_"  // Ed25519 public key
)

// secretSize is the number of random bytes in a secret made by NewSecret.
const secretSize = 32

// NewSecret returns a fresh symmetric signing secret: "whsec_" followed by the
// standard base64 encoding of 32 random bytes.
func NewSecret() (string, error) {
	key := make([]byte, secretSize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("webhooks: generating secret: %w", err)
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// ParseSecret returns the HMAC key of a symmetric secret, given with or
// without its "whsec_" prefix. Line breaks are ignored, so a secret read from
// a file with its final newline parses. Errors wrap ErrInvalidSecret.
func ParseSecret(s string) ([]byte, error) {
	return decodeKey("secret", strings.TrimPrefix(s, secretPrefix))
}

// parsePrivateKey returns the Ed25519 private key of a "whsk_" key, whose
// base64 holds either the 32-byte seed or the 64-byte private key.
func parsePrivateKey(s string) (ed25519.PrivateKey, error) {
	raw, err := decodeKey("private key", strings.TrimPrefix(s, privateKeyPrefix))
	if err != nil {
		return nil, err
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ed25519.PrivateKeySize:
		key := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
		if !bytes.Equal(key, raw) {
			return nil, fmt.Errorf("%w: private key's public half does not match its seed", ErrInvalidSecret)
		}
		return key, nil
	}
	return nil, fmt.Errorf("%w: private key is %d bytes, want %d (seed) or %d",
		ErrInvalidSecret, len(raw), ed25519.SeedSize, ed25519.PrivateKeySize)
}

// parsePublicKey returns the Ed25519 public key of a "whpk_" key.
func parsePublicKey(s string) (ed25519.PublicKey, error) {
	raw, err := decodeKey("public key", strings.TrimPrefix(s, publicKeyPrefix))
	if err != nil {
		return nil, err
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: public key is %d bytes, want %d",
			ErrInvalidSecret, len(raw), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// decodeKey decodes the base64 of a key whose prefix has been removed. Its
// errors name the kind of key and never quote the input.
func decodeKey(kind, b64 string) ([]byte, error) {
	if b64 == "" {
		return nil, fmt.Errorf("%w: %s is empty", ErrInvalidSecret, kind)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not standard base64 after its prefix", ErrInvalidSecret, kind)
	}
	return key, nil
}
