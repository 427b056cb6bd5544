package api

import (
	_ "embed"
	"net/http"

	"github.com/fleetwire/fleetwire/cloud/tokens"
)

// openAPIDoc is the OpenAPI 3 description of every route (kept in step with
// routes by TestOpenAPIMatchesRoutes).
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the OpenAPI document.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }

func (a *API) openAPI(w http.ResponseWriter, _ *http.Request, _ tokens.Token) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDoc)
	return err
}
