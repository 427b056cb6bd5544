package identity

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nkeys"
)

// ErrBadKey is returned (wrapped) for a public key or seed that is not a
// NATS user nkey.
var ErrBadKey = errors.New("not a NATS user nkey")

// ValidPublicKey checks that k is a user public nkey ("U" followed by 55
// base32 characters).
func ValidPublicKey(k string) error {
	if !nkeys.IsValidPublicUserKey(k) {
		return fmt.Errorf("%w: public key %q (want U… as printed by fleetwire-edge keygen)", ErrBadKey, shorten(k))
	}
	return nil
}

// NewKey creates a user key pair.
func NewKey() (nkeys.KeyPair, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("identity: new key: %w", err)
	}
	return kp, nil
}

// LoadOrCreateKey reads the seed in path, or creates a new key there (mode
// 0600, directory 0700) when the file does not exist. created reports which.
// A file that exists but is not a user seed is an error: it is never
// overwritten, since its public key may be registered on the hub.
func LoadOrCreateKey(path string) (kp nkeys.KeyPair, created bool, err error) {
	kp, err = LoadKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return kp, false, err
	}
	kp, err = NewKey()
	if err != nil {
		return nil, false, err
	}
	seed, err := kp.Seed()
	if err != nil {
		return nil, false, fmt.Errorf("identity: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("identity: key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("identity: create key file: %w", err)
	}
	_, werr := f.Write(append(seed, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return nil, false, fmt.Errorf("identity: write key file %s: %w", path, err)
	}
	return kp, true, nil
}

// LoadKey reads a user seed ("SU…") from path; the file may also be a NATS
// .creds-style decorated file.
func LoadKey(path string) (nkeys.KeyPair, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity: key file: %w", err)
	}
	raw = bytes.TrimSpace(raw)
	kp, err := nkeys.FromSeed(raw)
	if err != nil {
		kp, err = nkeys.ParseDecoratedNKey(raw)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: key file %s: %w: %w", path, ErrBadKey, err)
	}
	if pub, err := kp.PublicKey(); err != nil || !strings.HasPrefix(pub, "U") {
		return nil, fmt.Errorf("identity: key file %s: %w: it holds a %q key", path, ErrBadKey, shorten(pub))
	}
	return kp, nil
}

// PublicKey is kp's public key; for a key from LoadKey/NewKey it cannot fail.
func PublicKey(kp nkeys.KeyPair) string {
	pub, _ := kp.PublicKey()
	return pub
}

func shorten(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}
