package webhooks_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/fleetwire/fleetwire/shared/webhooks"
)

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		secret, err := webhooks.NewSecret()
		if err != nil {
			t.Fatalf("NewSecret: %v", err)
		}
		if !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("NewSecret = %q, want the whsec_ prefix", secret)
		}
		key, err := webhooks.ParseSecret(secret)
		if err != nil {
			t.Fatalf("ParseSecret(NewSecret()) = %v", err)
		}
		if len(key) != 32 {
			t.Fatalf("NewSecret made a %d-byte key, want 32", len(key))
		}
		if seen[secret] {
			t.Fatalf("NewSecret repeated %q", secret)
		}
		seen[secret] = true
	}
}

func TestParseSecret(t *testing.T) {
	const b64 = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	want, _ := base64.StdEncoding.DecodeString(b64)

	for _, tc := range []struct {
		name, secret string
		ok           bool
	}{
		{"with prefix", "whsec_" + b64, true},
		{"without prefix", b64, true},
		{"empty", "", false},
		{"prefix only", "whsec_", false},
		{"url-safe base64", "whsec_" + strings.NewReplacer("+", "-", "/", "_").Replace("a+b/c+d/e+f/"), false},
		{"not base64", "whsec_not base64!", false},
		{"trailing newline, as read from a file", "whsec_" + b64 + "\n", true},
		{"trailing space", "whsec_" + b64 + " ", false},
		{"missing padding", "whsec_" + strings.TrimRight(base64.StdEncoding.EncodeToString([]byte("abcd")), "="), false},
		{"another kind of key", "whpk_" + b64, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := webhooks.ParseSecret(tc.secret)
			if !tc.ok {
				if !errors.Is(err, webhooks.ErrInvalidSecret) {
					t.Fatalf("ParseSecret = %v, want ErrInvalidSecret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSecret = %v, want nil", err)
			}
			if string(key) != string(want) {
				t.Errorf("ParseSecret = %x, want %x", key, want)
			}
		})
	}
}

// TestErrorsNeverShowKeys: an error about a key is logged somewhere; the key
// must not be in it, nor any long piece of it.
func TestErrorsNeverShowKeys(t *testing.T) {
	vecs := loadVectors(t)
	pub, priv := "whpk_"+vecs.asymmetric.PublicKey, "whsk_"+vecs.asymmetric.PrivateKey

	for _, tc := range []struct {
		name string
		make func(...string) error
		keys []string
	}{
		{"ParseSecret, invalid base64", parseSecret, []string{"whsec_TOPSECRET!TOPSECRET"}},
		{"ParseSecret, trailing space", parseSecret, []string{vecs.symmetric.Secret + " "}},
		{"NewSigner, no keys", newSigner, nil},
		{"NewSigner, invalid second secret", newSigner, []string{vecs.symmetric.Secret, "whsec_TOPSECRET!TOPSECRET"}},
		{"NewSigner, public key", newSigner, []string{pub}},
		{"NewSigner, short private key", newSigner, []string{priv[:len(priv)-8]}},
		{"NewSigner, private key with a foreign public half", newSigner, []string{"whsk_" + mismatchedPrivateKey(t, vecs.asymmetric)}},
		{"NewVerifier, no keys", newVerifier, nil},
		{"NewVerifier, private key", newVerifier, []string{priv}},
		{"NewVerifier, short public key", newVerifier, []string{"whpk_" + base64.StdEncoding.EncodeToString([]byte("TOPSECRETTOPSECRET"))}},
		{"NewVerifier, public key not base64", newVerifier, []string{"whpk_TOPSECRET!TOPSECRET"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.make(tc.keys...)
			if !errors.Is(err, webhooks.ErrInvalidSecret) {
				t.Fatalf("error = %v, want ErrInvalidSecret", err)
			}
			msg := err.Error()
			for _, key := range tc.keys {
				body := key[strings.IndexByte(key, '_')+1:]
				for i := 0; i+8 <= len(body); i++ {
					if strings.Contains(msg, body[i:i+8]) {
						t.Fatalf("error %q shows part of a key", msg)
					}
				}
			}
			if strings.Contains(msg, "TOPSECRET") {
				t.Fatalf("error %q shows a key", msg)
			}
		})
	}
}

func parseSecret(keys ...string) error {
	_, err := webhooks.ParseSecret(keys[0])
	return err
}

func newSigner(keys ...string) error {
	_, err := webhooks.NewSigner(keys...)
	return err
}

func newVerifier(keys ...string) error {
	_, err := webhooks.NewVerifier(keys...)
	return err
}

// mismatchedPrivateKey is the vector's seed followed by another public key.
func mismatchedPrivateKey(t *testing.T, vec vector) string {
	seed, err := base64.StdEncoding.DecodeString(vec.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(append(seed, make([]byte, 32)...))
}

func TestSignerAcceptsFullPrivateKey(t *testing.T) {
	vec := loadVectors(t).asymmetric
	seed, _ := base64.StdEncoding.DecodeString(vec.PrivateKey)
	pub, _ := base64.StdEncoding.DecodeString(vec.PublicKey)
	full := base64.StdEncoding.EncodeToString(append(seed, pub...))

	got := mustSigner(t, "whsk_"+full).Sign(vec.ID, vec.sentAt(), []byte(vec.Payload))
	if got != vec.Signature {
		t.Errorf("Sign with the 64-byte key = %q, want %q", got, vec.Signature)
	}
}
