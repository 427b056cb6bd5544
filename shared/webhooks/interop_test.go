package webhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/shared/webhooks"
)

// interopDir holds the Node.js side of the interoperability test.
var interopDir = filepath.Join("..", "..", "scripts", "interop", "webhooks")

// jsRequest is one request to verify.mjs: it verifies when Signature is set,
// and signs otherwise.
type jsRequest struct {
	Secret    string `json:"secret"`
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Body      string `json:"body"`
	Signature string `json:"signature,omitempty"`
}

// jsAnswer is verify.mjs's answer to one request.
type jsAnswer struct {
	OK        bool   `json:"ok"`
	Error     string `json:"error"`
	Signature string `json:"signature"`
}

// TestInteropStandardWebhooksNPM checks this package against an independent
// implementation, the npm package standardwebhooks: what Go signs, JS must
// accept (and sign identically); what JS signs, Go must accept.
func TestInteropStandardWebhooksNPM(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("skipping interoperability test: node is not on PATH (install Node.js to cross-check against npm standardwebhooks)")
	}
	if _, err := os.Stat(filepath.Join(interopDir, "node_modules", "standardwebhooks")); err != nil {
		t.Skipf("skipping interoperability test: %s/node_modules is missing; run `npm ci` in scripts/interop/webhooks", interopDir)
	}

	oldSecret, _ := webhooks.NewSecret()
	newSecret, _ := webhooks.NewSecret()
	now := time.Now() // the JS library checks timestamps against the real clock
	bodies := []string{
		`{"type":"heartbeat","data":{"uptimeS":86400,"hasFix":true}}`,
		`{"driver":"Zoë Łukasiewicz","note":"ünïcödé ✓ 🚚"}`,
		"",
		strings.Repeat(`{"type":"position"},`, 5000),
	}

	t.Run("go signs, js verifies", func(t *testing.T) {
		signer := mustSigner(t, oldSecret, newSecret)
		type check struct {
			what string
			req  jsRequest
			want bool
		}
		var checks []check
		for i, body := range bodies {
			id := "msg_go_" + strconv.Itoa(i)
			sig := signer.Sign(id, now, []byte(body))
			delivery := func(secret, id, body string) jsRequest {
				return jsRequest{Secret: secret, ID: id, Timestamp: now.Unix(), Body: body, Signature: sig}
			}
			checks = append(checks,
				check{"old secret", delivery(oldSecret, id, body), true},
				check{"new secret, unprefixed", delivery(strings.TrimPrefix(newSecret, "whsec_"), id, body), true},
				// Controls that prove the JS side can say no.
				check{"tampered body", delivery(oldSecret, id, body+" "), false},
				check{"tampered id", delivery(oldSecret, id+"x", body), false},
			)
		}
		reqs := make([]jsRequest, len(checks))
		for i, c := range checks {
			reqs[i] = c.req
		}
		for i, ans := range runJS(t, node, reqs) {
			if c := checks[i]; ans.OK != c.want {
				t.Errorf("JS verified %s, %s with a %d-byte body: ok=%v (%s), want ok=%v",
					c.req.ID, c.what, len(c.req.Body), ans.OK, ans.Error, c.want)
			}
		}
	})

	t.Run("js signs, go verifies", func(t *testing.T) {
		var reqs []jsRequest
		for i, body := range bodies {
			reqs = append(reqs, jsRequest{Secret: newSecret, ID: "msg_js_" + strconv.Itoa(i), Timestamp: now.Unix(), Body: body})
		}
		verifier := verifierAt(t, now, newSecret)
		bystander := verifierAt(t, now, oldSecret)
		goSigner := mustSigner(t, newSecret)
		for i, ans := range runJS(t, node, reqs) {
			req := reqs[i]
			if !ans.OK {
				t.Fatalf("JS could not sign %s: %s", req.ID, ans.Error)
			}
			h := http.Header{}
			h.Set(webhooks.HeaderID, req.ID)
			h.Set(webhooks.HeaderTimestamp, strconv.FormatInt(req.Timestamp, 10))
			h.Set(webhooks.HeaderSignature, ans.Signature)
			if err := verifier.Verify(h, []byte(req.Body)); err != nil {
				t.Errorf("Go rejected JS's signature of %s: %v", req.ID, err)
			}
			if err := bystander.Verify(h, []byte(req.Body)); !errors.Is(err, webhooks.ErrNoMatchingSignature) {
				t.Errorf("Go with another secret verified JS's signature of %s: %v, want ErrNoMatchingSignature", req.ID, err)
			}
			if goSig := goSigner.Sign(req.ID, now, []byte(req.Body)); goSig != ans.Signature {
				t.Errorf("signatures of %s differ: Go %q, JS %q", req.ID, goSig, ans.Signature)
			}
		}
	})

	t.Run("js signs the published vector", func(t *testing.T) {
		vec := loadVectors(t).symmetric
		ans := runJS(t, node, []jsRequest{{Secret: vec.Secret, ID: vec.ID, Timestamp: vec.Timestamp, Body: vec.Payload}})[0]
		if ans.Signature != vec.Signature {
			t.Errorf("JS signed the vector as %q (%s), want %q", ans.Signature, ans.Error, vec.Signature)
		}
	})
}

// runJS sends reqs to verify.mjs and returns its answers, one per request.
func runJS(t *testing.T, node string, reqs []jsRequest) []jsAnswer {
	t.Helper()
	var stdin bytes.Buffer
	enc := json.NewEncoder(&stdin)
	for _, r := range reqs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "verify.mjs")
	cmd.Dir = interopDir
	cmd.Stdin = &stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node verify.mjs: %v\n%s", err, stderr.Bytes())
	}

	var answers []jsAnswer
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var a jsAnswer
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("reading verify.mjs's answers: %v\n%s", err, out)
		}
		answers = append(answers, a)
	}
	if len(answers) != len(reqs) {
		t.Fatalf("verify.mjs answered %d of %d requests\n%s", len(answers), len(reqs), out)
	}
	return answers
}
