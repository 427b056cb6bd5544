package webhooks_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/shared/webhooks"
)

// vectorsPath holds the published Standard Webhooks test vectors.
const vectorsPath = "../../testdata/webhooks/standard-webhooks-vectors.json"

// vector is one signed delivery of the vectors file.
type vector struct {
	Name          string `json:"name"`
	Secret        string `json:"secret"`
	SecretLen     int    `json:"secret_decoded_length_bytes"`
	PrivateKey    string `json:"secret_key_base64"`
	PublicKey     string `json:"public_key_base64"`
	ID            string `json:"webhook_id"`
	Timestamp     int64  `json:"webhook_timestamp"`
	Payload       string `json:"payload"`
	SignedContent string `json:"signed_content"`
	Signature     string `json:"webhook_signature"`
}

// vectors are the deliveries of the vectors file, by role.
type vectors struct {
	symmetric  vector // signed with an HMAC secret
	asymmetric vector // signed with an Ed25519 key
	wrong      string // a v1 signature that matches neither
}

func loadVectors(tb testing.TB) vectors {
	tb.Helper()
	data, err := os.ReadFile(vectorsPath)
	if err != nil {
		tb.Fatalf("reading test vectors: %v", err)
	}
	var file struct {
		Vectors  []vector `json:"vectors"`
		Negative []vector `json:"negative_examples"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		tb.Fatalf("parsing %s: %v", vectorsPath, err)
	}
	byName := map[string]vector{}
	for _, v := range append(file.Vectors, file.Negative...) {
		byName[v.Name] = v
	}
	get := func(name string) vector {
		v, ok := byName[name]
		if !ok {
			tb.Fatalf("%s has no vector %q", vectorsPath, name)
		}
		return v
	}
	return vectors{
		symmetric:  get("symmetric-hmac-sha256"),
		asymmetric: get("asymmetric-ed25519"),
		wrong:      get("wrong-v1-signature").Signature,
	}
}

// sentAt is the signing time of a vector.
func (v vector) sentAt() time.Time { return time.Unix(v.Timestamp, 0) }

// headers are the headers of a delivery of v carrying signature.
func (v vector) headers(signature string) http.Header {
	h := http.Header{}
	h.Set(webhooks.HeaderID, v.ID)
	h.Set(webhooks.HeaderTimestamp, strconv.FormatInt(v.Timestamp, 10))
	h.Set(webhooks.HeaderSignature, signature)
	return h
}

// verifierAt returns a verifier for keys whose clock reads now.
func verifierAt(tb testing.TB, now time.Time, keys ...string) *webhooks.Verifier {
	tb.Helper()
	v, err := webhooks.NewVerifier(keys...)
	if err != nil {
		tb.Fatalf("NewVerifier: %v", err)
	}
	v.Now = func() time.Time { return now }
	return v
}

func mustSigner(tb testing.TB, keys ...string) *webhooks.Signer {
	tb.Helper()
	s, err := webhooks.NewSigner(keys...)
	if err != nil {
		tb.Fatalf("NewSigner: %v", err)
	}
	return s
}

func TestSymmetricVector(t *testing.T) {
	vec := loadVectors(t).symmetric

	key, err := webhooks.ParseSecret(vec.Secret)
	if err != nil {
		t.Fatalf("ParseSecret: %v", err)
	}
	if len(key) != vec.SecretLen {
		t.Errorf("ParseSecret gave a %d-byte key, want %d", len(key), vec.SecretLen)
	}

	got := mustSigner(t, vec.Secret).Sign(vec.ID, vec.sentAt(), []byte(vec.Payload))
	if got != vec.Signature {
		t.Errorf("Sign = %q, want the published %q", got, vec.Signature)
	}

	v := verifierAt(t, vec.sentAt(), vec.Secret)
	if err := v.Verify(vec.headers(vec.Signature), []byte(vec.Payload)); err != nil {
		t.Errorf("Verify(published signature) = %v, want nil", err)
	}
}

func TestEd25519Vector(t *testing.T) {
	vec := loadVectors(t).asymmetric

	got := mustSigner(t, "whsk_"+vec.PrivateKey).Sign(vec.ID, vec.sentAt(), []byte(vec.Payload))
	if got != vec.Signature {
		t.Errorf("Sign = %q, want the published %q", got, vec.Signature)
	}

	v := verifierAt(t, vec.sentAt(), "whpk_"+vec.PublicKey)
	if err := v.Verify(vec.headers(vec.Signature), []byte(vec.Payload)); err != nil {
		t.Errorf("Verify(published signature) = %v, want nil", err)
	}
	tampered := []byte(vec.Payload + " ")
	if err := v.Verify(vec.headers(vec.Signature), tampered); !errors.Is(err, webhooks.ErrNoMatchingSignature) {
		t.Errorf("Verify(tampered body) = %v, want ErrNoMatchingSignature", err)
	}
}

func TestNegativeVector(t *testing.T) {
	vecs := loadVectors(t)
	hmacKey, publicKey := vecs.symmetric.Secret, "whpk_"+vecs.asymmetric.PublicKey
	for _, tc := range []struct {
		name string
		vec  vector
		keys []string
	}{
		{"hmac key", vecs.symmetric, []string{hmacKey}},
		{"ed25519 key", vecs.asymmetric, []string{publicKey}},
		{"both keys", vecs.symmetric, []string{hmacKey, publicKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := verifierAt(t, tc.vec.sentAt(), tc.keys...)
			err := v.Verify(tc.vec.headers(vecs.wrong), []byte(tc.vec.Payload))
			if !errors.Is(err, webhooks.ErrNoMatchingSignature) {
				t.Errorf("Verify(wrong signature) = %v, want ErrNoMatchingSignature", err)
			}
		})
	}
}

func TestMultiSignatureHeader(t *testing.T) {
	vecs := loadVectors(t)
	sym, asym, wrong := vecs.symmetric, vecs.asymmetric, vecs.wrong
	both := []string{sym.Secret, "whpk_" + asym.PublicKey}
	if sym.SignedContent != asym.SignedContent {
		t.Fatal("the vectors sign different content; headers mixing their signatures cannot verify")
	}

	for _, tc := range []struct {
		name   string
		header string
		keys   []string
		want   error
	}{
		{"wrong then valid", wrong + " " + sym.Signature, both[:1], nil},
		{"valid then wrong", sym.Signature + " " + wrong, both[:1], nil},
		{"runs of spaces", "  " + wrong + "   " + sym.Signature + " ", both[:1], nil},
		{"wrong twice", wrong + " " + wrong, both[:1], webhooks.ErrNoMatchingSignature},
		{"ed25519 after wrong hmac", wrong + " " + asym.Signature, both, nil},
		{"hmac and ed25519, hmac key only", asym.Signature + " " + sym.Signature, both[:1], nil},
		{"hmac and ed25519, public key only", sym.Signature + " " + asym.Signature, both[1:], nil},
		{"ed25519 signature, hmac key only", asym.Signature, both[:1], webhooks.ErrNoMatchingSignature},
		{"unknown version skipped", "v2,abc= " + sym.Signature, both[:1], nil},
		{"unknown version only", "v2," + sym.Signature[3:], both[:1], webhooks.ErrNoMatchingSignature},
		{"no version tag", sym.Signature[3:], both[:1], webhooks.ErrNoMatchingSignature},
		{"invalid base64 skipped", "v1,%%%% " + sym.Signature, both[:1], nil},
		{"valid as 16th signature", strings.Repeat(wrong+" ", 15) + sym.Signature, both[:1], nil},
		{"valid as 17th signature is not examined", strings.Repeat(wrong+" ", 16) + sym.Signature, both[:1], webhooks.ErrNoMatchingSignature},
		{"non-canonical base64 of the right MAC", strings.Replace(sym.Signature, "1OE=", "1OF=", 1), both[:1], webhooks.ErrNoMatchingSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := verifierAt(t, sym.sentAt(), tc.keys...)
			err := v.Verify(sym.headers(tc.header), []byte(sym.Payload))
			if !errors.Is(err, tc.want) {
				t.Errorf("Verify(%q) = %v, want %v", tc.header, err, tc.want)
			}
		})
	}
}
