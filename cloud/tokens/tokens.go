// Package tokens keeps the API's bearer tokens in the hub's TOKENS
// key-value bucket, hashed.
//
// A token is "fwt_" followed by 32 random bytes (base64url): 256 bits of
// entropy. The bucket stores only SHA-256 of the token, keyed by that hash,
// so reading the bucket does not give anyone a usable token. A fast hash is
// enough here: slow password hashes (bcrypt, argon2) exist to make guessing
// low-entropy passwords expensive, and no one can enumerate 2^256 tokens;
// keying by the hash also makes a lookup one KV read.
package tokens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fleetwire/fleetwire/cloud/internal/ensure"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the hub's key-value bucket of token hashes.
const Bucket = "TOKENS"

// Prefix starts every token, so a leaked one is recognisable (secret scanners).
const Prefix = "fwt_"

// Role is what a token may do.
type Role string

const (
	// Operator: every account, the streams, tokens of any role.
	Operator Role = "operator"
	// Admin: its own account; writes subscriptions, geofences and tokens
	// (admin or viewer) of that account.
	Admin Role = "admin"
	// Viewer: its own account, read only.
	Viewer Role = "viewer"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == Operator || r == Admin || r == Viewer }

// AtLeast reports whether r includes the rights of min.
func (r Role) AtLeast(min Role) bool { return rank(r) >= rank(min) }

func rank(r Role) int {
	switch r {
	case Operator:
		return 3
	case Admin:
		return 2
	case Viewer:
		return 1
	}
	return 0
}

var (
	// ErrUnknown: no token has that value (or it expired).
	ErrUnknown = errors.New("tokens: unknown or expired token")
	// ErrNotFound: no token has that id.
	ErrNotFound = errors.New("tokens: token not found")
	// ErrInvalid: a token's account, role or name is invalid.
	ErrInvalid = errors.New("tokens: invalid token")
)

// Token is what the bucket holds about one token (never the token itself).
type Token struct {
	// ID is the first 12 hex digits of the hash: shown in lists, used to revoke.
	ID string `json:"id"`
	// Account the token belongs to; empty for an operator token (all accounts).
	Account   string    `json:"account,omitempty"`
	Role      Role      `json:"role"`
	Name      string    `json:"name,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// ExpiresAt is when it stops working (zero: never).
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// Store reads and writes the bucket.
type Store struct {
	kv  jetstream.KeyValue
	now func() time.Time
}

// Open creates or opens the bucket. replicas is 1, or 3 on a cluster.
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Store, error) {
	kv, err := ensure.Retry(ctx, "create bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      Bucket,
			Description: "fleetwire: API tokens, SHA-256 hashed",
			Storage:     jetstream.FileStorage,
			Replicas:    max(replicas, 1),
			History:     1,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("tokens: bucket %s: %w", Bucket, err)
	}
	return &Store{kv: kv, now: time.Now}, nil
}

// Hash is the bucket key of a token: hex SHA-256.
func Hash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Validate checks the account and role of a token about to be created.
func (t *Token) Validate() error {
	if !t.Role.Valid() {
		return fmt.Errorf("%w: role %q: want operator, admin or viewer", ErrInvalid, t.Role)
	}
	if t.Role == Operator && t.Account != "" {
		return fmt.Errorf("%w: an operator token has no account (it sees all)", ErrInvalid)
	}
	if t.Role != Operator {
		if err := event.ValidToken("account", t.Account); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	if len(t.Name) > 200 || strings.ContainsAny(t.Name, "\r\n") {
		return fmt.Errorf("%w: name must be one line of at most 200 bytes", ErrInvalid)
	}
	return nil
}

// Create makes a new token for t's account and role and returns the secret
// value (shown once: only its hash is kept) and the stored record.
func (s *Store) Create(ctx context.Context, t Token) (secret string, _ Token, _ error) {
	return s.createWith(ctx, t, nil)
}

// Authenticate returns the token record of a presented token.
func (s *Store) Authenticate(ctx context.Context, token string) (Token, error) {
	if !strings.HasPrefix(token, Prefix) || len(token) > 100 {
		return Token{}, ErrUnknown
	}
	e, err := s.kv.Get(ctx, Hash(token))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Token{}, ErrUnknown
	}
	if err != nil {
		return Token{}, fmt.Errorf("tokens: %w", err)
	}
	var t Token
	if err := json.Unmarshal(e.Value(), &t); err != nil {
		return Token{}, fmt.Errorf("tokens: stored token %s: %w", e.Key()[:12], err)
	}
	if !t.ExpiresAt.IsZero() && !s.now().Before(t.ExpiresAt) {
		return Token{}, ErrUnknown
	}
	return t, nil
}

// List returns the tokens of account (every token when account is "*"),
// ordered by creation time.
func (s *Store) List(ctx context.Context, account string) ([]Token, error) {
	all, err := s.all(ctx)
	if err != nil {
		return nil, err
	}
	var out []Token
	for _, t := range all {
		if account == "*" || t.tok.Account == account {
			out = append(out, t.tok)
		}
	}
	slices.SortFunc(out, func(a, b Token) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

type stored struct {
	key string
	tok Token
}

func (s *Store) all(ctx context.Context) ([]stored, error) {
	lister, err := s.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("tokens: list: %w", err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	var out []stored
	for _, k := range keys {
		e, err := s.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("tokens: list: %w", err)
		}
		var t Token
		if err := json.Unmarshal(e.Value(), &t); err != nil {
			continue // unreadable: never authenticates either
		}
		out = append(out, stored{k, t})
	}
	return out, nil
}

// Get returns the token with that id.
func (s *Store) Get(ctx context.Context, id string) (Token, error) {
	all, err := s.all(ctx)
	if err != nil {
		return Token{}, err
	}
	for _, t := range all {
		if t.tok.ID == id {
			return t.tok, nil
		}
	}
	return Token{}, fmt.Errorf("%w: %s", ErrNotFound, id)
}

// Delete revokes the token with that id.
func (s *Store) Delete(ctx context.Context, id string) error {
	all, err := s.all(ctx)
	if err != nil {
		return err
	}
	for _, t := range all {
		if t.tok.ID == id {
			if err := s.kv.Purge(ctx, t.key); err != nil {
				return fmt.Errorf("tokens: revoke %s: %w", id, err)
			}
			return nil
		}
	}
	return fmt.Errorf("%w: %s", ErrNotFound, id)
}

// Bootstrap creates an operator token and writes it to file (mode 0600)
// when the bucket holds no operator token yet, so a fresh install has a
// first token to create the others with. It reports whether it created one.
// The file is written before the token is stored: a crash in between leaves
// a file that does not work, never a token no one can read.
func (s *Store) Bootstrap(ctx context.Context, file string) (bool, error) {
	all, err := s.all(ctx)
	if err != nil {
		return false, err
	}
	for _, t := range all {
		if t.tok.Role == Operator {
			return false, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return false, fmt.Errorf("tokens: bootstrap: %w", err)
	}
	_, _, err = s.createWith(ctx, Token{Role: Operator, Name: "bootstrap"}, func(secret string) error {
		return writeFile(file, secret+"\n")
	})
	if err != nil {
		return false, err
	}
	return true, nil
}

// createWith is Create with a hook run after the secret is made and before
// it is stored.
func (s *Store) createWith(ctx context.Context, t Token, before func(secret string) error) (string, Token, error) {
	if err := t.Validate(); err != nil {
		return "", t, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", t, fmt.Errorf("tokens: %w", err)
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(b)
	if before != nil {
		if err := before(secret); err != nil {
			return "", t, err
		}
	}
	key := Hash(secret)
	t.ID = key[:12]
	t.CreatedAt = s.now().UTC().Truncate(time.Second)
	raw, err := json.Marshal(t)
	if err != nil {
		return "", t, fmt.Errorf("tokens: %w", err)
	}
	if _, err := s.kv.Create(ctx, key, raw); err != nil {
		return "", t, fmt.Errorf("tokens: create: %w", err)
	}
	return secret, t, nil
}

// writeFile replaces file with content, readable by the owner only.
func writeFile(file, content string) error {
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return fmt.Errorf("tokens: bootstrap: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil { // an existing tmp keeps its mode
		return fmt.Errorf("tokens: bootstrap: %w", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("tokens: bootstrap: %w", err)
	}
	return nil
}
