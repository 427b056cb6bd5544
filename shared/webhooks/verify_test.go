package webhooks_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/shared/webhooks"
)

func TestVerifyRejects(t *testing.T) {
	vec := loadVectors(t).symmetric
	sent := vec.sentAt()
	otherSecret, err := webhooks.NewSecret()
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		now    time.Time                        // the receiver's clock
		secret string                           // the receiver's secret
		edit   func(h http.Header, body []byte) // what happened on the way
		want   error
	}{
		{name: "as sent", want: nil},
		{name: "received 5m late", now: sent.Add(5 * time.Minute), want: nil},
		{name: "received 5m early", now: sent.Add(-5 * time.Minute), want: nil},
		{name: "sub-second clock on the edge", now: sent.Add(5*time.Minute + 999*time.Millisecond), want: nil},
		{name: "replayed 5m1s later", now: sent.Add(5*time.Minute + time.Second), want: webhooks.ErrTimestampTooOld},
		{name: "replayed a day later", now: sent.Add(24 * time.Hour), want: webhooks.ErrTimestampTooOld},
		{name: "sender clock 5m1s ahead", now: sent.Add(-5*time.Minute - time.Second), want: webhooks.ErrTimestampTooNew},
		{
			name: "malformed timestamp",
			edit: func(h http.Header, _ []byte) { h.Set(webhooks.HeaderTimestamp, "1614265330.5") },
			want: webhooks.ErrInvalidTimestamp,
		},
		{
			name: "timestamp in milliseconds",
			edit: func(h http.Header, _ []byte) { h.Set(webhooks.HeaderTimestamp, "1614265330000") },
			want: webhooks.ErrTimestampTooNew,
		},
		{
			name: "timestamp too big for int64",
			edit: func(h http.Header, _ []byte) { h.Set(webhooks.HeaderTimestamp, "99999999999999999999") },
			want: webhooks.ErrInvalidTimestamp,
		},
		{
			name: "timestamp moved by a second",
			edit: func(h http.Header, _ []byte) { h.Set(webhooks.HeaderTimestamp, "1614265331") },
			want: webhooks.ErrNoMatchingSignature,
		},
		{
			name: "missing webhook-id",
			edit: func(h http.Header, _ []byte) { h.Del(webhooks.HeaderID) },
			want: webhooks.ErrMissingHeaders,
		},
		{
			name: "missing webhook-timestamp",
			edit: func(h http.Header, _ []byte) { h.Del(webhooks.HeaderTimestamp) },
			want: webhooks.ErrMissingHeaders,
		},
		{
			name: "missing webhook-signature",
			edit: func(h http.Header, _ []byte) { h.Del(webhooks.HeaderSignature) },
			want: webhooks.ErrMissingHeaders,
		},
		{
			name: "blank webhook-signature",
			edit: func(h http.Header, _ []byte) { h.Set(webhooks.HeaderSignature, "   ") },
			want: webhooks.ErrMissingHeaders,
		},
		{
			name: "no headers at all",
			edit: func(h http.Header, _ []byte) { clear(h) },
			want: webhooks.ErrMissingHeaders,
		},
		{
			name: "tampered body",
			edit: func(_ http.Header, body []byte) { body[len(body)-2]++ },
			want: webhooks.ErrNoMatchingSignature,
		},
		{
			name: "tampered id",
			edit: func(h http.Header, _ []byte) { h.Set(webhooks.HeaderID, vec.ID+"x") },
			want: webhooks.ErrNoMatchingSignature,
		},
		{
			name: "signature truncated",
			edit: func(h http.Header, _ []byte) { h.Set(webhooks.HeaderSignature, vec.Signature[:20]) },
			want: webhooks.ErrNoMatchingSignature,
		},
		{name: "wrong secret", secret: otherSecret, want: webhooks.ErrNoMatchingSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now, secret := tc.now, tc.secret
			if now.IsZero() {
				now = sent
			}
			if secret == "" {
				secret = vec.Secret
			}
			h, body := vec.headers(vec.Signature), []byte(vec.Payload)
			if tc.edit != nil {
				tc.edit(h, body)
			}
			err := verifierAt(t, now, secret).Verify(h, body)
			if !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyReportsWhichHeadersAreMissing(t *testing.T) {
	vec := loadVectors(t).symmetric
	h := vec.headers(vec.Signature)
	h.Del(webhooks.HeaderID)
	h.Del(webhooks.HeaderSignature)

	err := verifierAt(t, vec.sentAt(), vec.Secret).Verify(h, []byte(vec.Payload))
	if got, want := err.Error(), "webhooks: missing required headers: webhook-id, webhook-signature"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestVerifierTolerance(t *testing.T) {
	vec := loadVectors(t).symmetric
	h, body := vec.headers(vec.Signature), []byte(vec.Payload)

	for _, tc := range []struct {
		name      string
		tolerance time.Duration
		late      time.Duration
		want      error
	}{
		{"default allows 5m", 0, 5 * time.Minute, nil},
		{"default rejects 6m", 0, 6 * time.Minute, webhooks.ErrTimestampTooOld},
		{"negative means default", -time.Second, 5 * time.Minute, nil},
		{"30s rejects 31s late", 30 * time.Second, 31 * time.Second, webhooks.ErrTimestampTooOld},
		{"30s rejects 31s early", 30 * time.Second, -31 * time.Second, webhooks.ErrTimestampTooNew},
		{"1h allows 59m late", time.Hour, 59 * time.Minute, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := verifierAt(t, vec.sentAt().Add(tc.late), vec.Secret)
			v.Tolerance = tc.tolerance
			if err := v.Verify(h, body); !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifierUsesRealClockByDefault(t *testing.T) {
	secret, _ := webhooks.NewSecret()
	v, err := webhooks.NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	signer := mustSigner(t, secret)
	body := []byte(`{}`)

	fresh := http.Header{}
	signer.SetHeaders(fresh, "msg_1", time.Now(), body)
	if err := v.Verify(fresh, body); err != nil {
		t.Errorf("Verify(signed now) = %v, want nil", err)
	}
	stale := http.Header{}
	signer.SetHeaders(stale, "msg_1", time.Now().Add(-time.Hour), body)
	if err := v.Verify(stale, body); !errors.Is(err, webhooks.ErrTimestampTooOld) {
		t.Errorf("Verify(signed an hour ago) = %v, want ErrTimestampTooOld", err)
	}
}

func TestRotation(t *testing.T) {
	oldSecret, _ := webhooks.NewSecret()
	newSecret, _ := webhooks.NewSecret()
	retired, _ := webhooks.NewSecret()
	now := time.Unix(1700000000, 0)
	body := []byte(`{"type":"position"}`)

	h := http.Header{}
	mustSigner(t, oldSecret, newSecret).SetHeaders(h, "msg_rotating", now, body)
	if n := len(strings.Fields(h.Get(webhooks.HeaderSignature))); n != 2 {
		t.Fatalf("signer with two secrets sent %d signatures, want 2", n)
	}

	for _, tc := range []struct {
		name     string
		receiver []string
		want     error
	}{
		{"receiver holds only the old secret", []string{oldSecret}, nil},
		{"receiver holds only the new secret", []string{newSecret}, nil},
		{"receiver holds both", []string{newSecret, oldSecret}, nil},
		{"receiver holds a retired secret", []string{retired}, webhooks.ErrNoMatchingSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := verifierAt(t, now, tc.receiver...).Verify(h, body)
			if !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSignKeepsKeyOrder(t *testing.T) {
	vecs := loadVectors(t)
	sym, asym := vecs.symmetric, vecs.asymmetric
	signer := mustSigner(t, "whsk_"+asym.PrivateKey, sym.Secret)

	got := signer.Sign(sym.ID, sym.sentAt(), []byte(sym.Payload))
	if want := asym.Signature + " " + sym.Signature; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

func TestSetHeaders(t *testing.T) {
	vec := loadVectors(t).symmetric
	h := http.Header{}
	// Sub-second precision is dropped: the header carries whole seconds.
	mustSigner(t, vec.Secret).SetHeaders(h, vec.ID, vec.sentAt().Add(400*time.Millisecond), []byte(vec.Payload))

	for name, want := range map[string]string{
		"Webhook-Id":        vec.ID,
		"webhook-timestamp": "1614265330",
		"WEBHOOK-SIGNATURE": vec.Signature,
	} {
		if got := h.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
}

func TestVerifyRequest(t *testing.T) {
	vec := loadVectors(t).symmetric
	v := verifierAt(t, vec.sentAt(), vec.Secret)
	payload := []byte(vec.Payload)

	for _, tc := range []struct {
		name    string
		maxBody int64
		headers http.Header
		body    io.Reader
		want    error
	}{
		{"valid", 1 << 10, vec.headers(vec.Signature), bytes.NewReader(payload), nil},
		{"body exactly at the limit", int64(len(payload)), vec.headers(vec.Signature), bytes.NewReader(payload), nil},
		{"default limit", 0, vec.headers(vec.Signature), bytes.NewReader(payload), nil},
		{"body over the limit", int64(len(payload)) - 1, vec.headers(vec.Signature), bytes.NewReader(payload), webhooks.ErrBodyTooLarge},
		{"body over the default limit", 0, vec.headers(vec.Signature), strings.NewReader(strings.Repeat("x", webhooks.DefaultMaxBody+1)), webhooks.ErrBodyTooLarge},
		{"forged", 1 << 10, vec.headers(loadVectors(t).wrong), bytes.NewReader(payload), webhooks.ErrNoMatchingSignature},
		{"unsigned, body never read", 1 << 10, http.Header{}, unreadable{t}, webhooks.ErrMissingHeaders},
		{"stale, body never read", 1 << 10, staleHeaders(vec), unreadable{t}, webhooks.ErrTimestampTooOld},
		{"body read fails", 1 << 10, vec.headers(vec.Signature), io.MultiReader(strings.NewReader("{"), failingReader{}), errRead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/webhooks", tc.body)
			r.Header = tc.headers
			got, err := v.VerifyRequest(r, tc.maxBody)
			if !errors.Is(err, tc.want) {
				t.Fatalf("VerifyRequest = %v, want %v", err, tc.want)
			}
			switch {
			case err == nil && !bytes.Equal(got, payload):
				t.Errorf("VerifyRequest returned body %q, want %q", got, payload)
			case err != nil && got != nil:
				t.Errorf("VerifyRequest returned a body with error %v; unverified bodies must not leak", err)
			}
		})
	}
}

func TestVerifyRequestWithoutBody(t *testing.T) {
	secret, _ := webhooks.NewSecret()
	now := time.Unix(1700000000, 0)
	r := httptest.NewRequest(http.MethodPost, "/webhooks", nil)
	r.Body = nil // as in a client-side request with no body
	mustSigner(t, secret).SetHeaders(r.Header, "msg_empty", now, nil)

	body, err := verifierAt(t, now, secret).VerifyRequest(r, 0)
	if err != nil || len(body) != 0 {
		t.Errorf("VerifyRequest = %q, %v; want empty body, nil", body, err)
	}
}

func staleHeaders(vec vector) http.Header {
	h := vec.headers(vec.Signature)
	h.Set(webhooks.HeaderTimestamp, "1000000000")
	return h
}

// unreadable fails the test if the body is read.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("body was read although the headers already reject the request")
	return 0, io.EOF
}

var errRead = errors.New("connection reset")

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errRead }
