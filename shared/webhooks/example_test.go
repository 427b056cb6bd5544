package webhooks_test

import (
	"bytes"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/fleetwire/fleetwire/shared/webhooks"
)

// A receiver checks every delivery before acting on it. The secret is the one
// fleetwire showed when the endpoint was registered.
func ExampleVerifier_VerifyRequest() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

	verifier, err := webhooks.NewVerifier(secret)
	if err != nil {
		log.Fatal(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := verifier.VerifyRequest(r, 1<<20)
		if err != nil {
			http.Error(w, "invalid webhook", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "accepted %s", body)
	})

	// A delivery signed by fleetwire is accepted...
	signer, err := webhooks.NewSigner(secret)
	if err != nil {
		log.Fatal(err)
	}
	body := []byte(`{"type":"heartbeat"}`)
	req := httptest.NewRequest(http.MethodPost, "/hooks/fleetwire", bytes.NewReader(body))
	signer.SetHeaders(req.Header, "01JC8Z3N5S6V0Q8Y4W2T7R1K9D", time.Now(), body)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())

	// ...and the same headers on an altered body are not.
	forged := httptest.NewRequest(http.MethodPost, "/hooks/fleetwire", bytes.NewReader([]byte(`{"type":"position"}`)))
	forged.Header = req.Header
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, forged)
	fmt.Println(rec.Code, rec.Body.String())

	// Output:
	// 200 accepted {"type":"heartbeat"}
	// 401 invalid webhook
}
