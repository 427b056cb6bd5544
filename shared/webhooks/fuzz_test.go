package webhooks_test

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetwire/fleetwire/shared/webhooks"
)

// FuzzVerify feeds arbitrary headers and bodies to a verifier holding both
// vector keys. Verify must never panic, must fail only with one of its
// sentinels, and must accept only what the keys really signed; and whatever a
// Signer signs, a Verifier with the same keys must accept.
func FuzzVerify(f *testing.F) {
	vecs := loadVectors(f)
	sym, asym := vecs.symmetric, vecs.asymmetric
	ts := strconv.FormatInt(sym.Timestamp, 10)
	for _, sig := range []string{
		sym.Signature,
		asym.Signature,
		vecs.wrong,
		vecs.wrong + " " + sym.Signature,
		sym.Signature + " " + asym.Signature,
		"v1,", "v1a,", ",", "v1,====", " ",
	} {
		f.Add(sym.ID, ts, sig, []byte(sym.Payload))
	}
	f.Add(sym.ID, "", sym.Signature, []byte(sym.Payload))
	f.Add("", ts, sym.Signature, []byte{})
	f.Add(sym.ID, "-9223372036854775808", sym.Signature, []byte(sym.Payload))
	f.Add(sym.ID, "+1614265330", sym.Signature, []byte(sym.Payload))

	keys := []string{sym.Secret, "whpk_" + asym.PublicKey}
	verifier := verifierAt(f, sym.sentAt(), keys...)
	signer := mustSigner(f, sym.Secret, "whsk_"+asym.PrivateKey)
	sentinels := []error{
		webhooks.ErrMissingHeaders,
		webhooks.ErrInvalidTimestamp,
		webhooks.ErrTimestampTooOld,
		webhooks.ErrTimestampTooNew,
		webhooks.ErrNoMatchingSignature,
	}

	f.Fuzz(func(t *testing.T, id, timestamp, signature string, body []byte) {
		h := http.Header{}
		h.Set(webhooks.HeaderID, id)
		h.Set(webhooks.HeaderTimestamp, timestamp)
		h.Set(webhooks.HeaderSignature, signature)

		err := verifier.Verify(h, body)
		if err != nil && !slices.ContainsFunc(sentinels, func(s error) bool { return errors.Is(err, s) }) {
			t.Fatalf("Verify = %v, which wraps none of the sentinels", err)
		}
		if err == nil {
			// Only a signature the keys really made can have verified.
			secs, _ := strconv.ParseInt(timestamp, 10, 64)
			if timestamp == strconv.FormatInt(secs, 10) {
				genuine := strings.Fields(signer.Sign(id, sym.sentAt(), body))
				if !slices.ContainsFunc(strings.Fields(signature), func(s string) bool { return slices.Contains(genuine, s) }) {
					t.Fatalf("Verify accepted %q, which holds no genuine signature of the delivery", signature)
				}
			}
		}

		if id == "" {
			return
		}
		signed := http.Header{}
		signer.SetHeaders(signed, id, sym.sentAt(), body)
		if err := verifier.Verify(signed, body); err != nil {
			t.Fatalf("Verify(signed by the signer) = %v, want nil", err)
		}
	})
}
