package api

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// openAPIInteropDir holds the Node.js OpenAPI validator (see validate.mjs).
var openAPIInteropDir = filepath.Join("..", "..", "scripts", "interop", "openapi")

// TestOpenAPIValidatesWithNPM checks the served OpenAPI document with an
// independent validator, the npm package @seriousme/openapi-schema-validator
// (the official OpenAPI JSON Schema of the declared version, local $refs, and
// for 3.1 each Schema Object against the JSON Schema 2020-12 meta-schema).
// Broken copies of the document are controls that prove the validator can
// say no.
func TestOpenAPIValidatesWithNPM(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("skipping OpenAPI validation: node is not on PATH (install Node.js to validate openapi.json with npm @seriousme/openapi-schema-validator)")
	}
	if _, err := os.Stat(filepath.Join(openAPIInteropDir, "node_modules", "@seriousme", "openapi-schema-validator")); err != nil {
		t.Skipf("skipping OpenAPI validation: %s/node_modules is missing; run `npm ci` in scripts/interop/openapi", openAPIInteropDir)
	}

	e := newEnv(t)
	r := e.must(200, "", "GET", "/v1/openapi.json", nil)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET /v1/openapi.json: Content-Type %q, want application/json", ct)
	}
	if ans := validateOpenAPI(t, node, r.body); !ans.OK {
		t.Errorf("the served OpenAPI document is invalid:\n%s", strings.Join(ans.Errors, "\n"))
	}

	// Controls: each breaks the document in one way the validator must see.
	controls := []struct {
		name   string
		mutate func(doc map[string]any)
		want   string // in one of the errors
	}{
		{"info without title", func(doc map[string]any) {
			delete(doc["info"].(map[string]any), "title")
		}, "title"},
		{"dangling $ref", func(doc map[string]any) {
			get := doc["paths"].(map[string]any)["/v1/openapi.json"].(map[string]any)["get"].(map[string]any)
			get["responses"].(map[string]any)["200"] = map[string]any{"$ref": "#/components/responses/NoSuchResponse"}
		}, "NoSuchResponse"},
		{"invalid Schema Object", func(doc map[string]any) {
			doc["components"].(map[string]any)["schemas"].(map[string]any)["BrokenControl"] = map[string]any{"type": "text"}
		}, "BrokenControl"},
	}
	for _, c := range controls {
		t.Run("control/"+c.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(r.body, &doc); err != nil {
				t.Fatal(err)
			}
			c.mutate(doc)
			broken, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			ans := validateOpenAPI(t, node, broken)
			if ans.OK {
				t.Fatalf("the validator accepted a document with %s", c.name)
			}
			if !strings.Contains(strings.Join(ans.Errors, "\n"), c.want) {
				t.Errorf("the validator rejected a document with %s, but no error mentions %q:\n%s", c.name, c.want, strings.Join(ans.Errors, "\n"))
			}
		})
	}
}

// openAPIAnswer is validate.mjs's answer.
type openAPIAnswer struct {
	OK     bool     `json:"ok"`
	Errors []string `json:"errors"`
}

// validateOpenAPI writes doc to a temporary file and has validate.mjs check it.
func validateOpenAPI(t *testing.T, node string, doc []byte) openAPIAnswer {
	t.Helper()
	file := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "validate.mjs", file)
	cmd.Dir = openAPIInteropDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node validate.mjs: %v\n%s%s", err, out, stderr.Bytes())
	}
	var ans openAPIAnswer
	if err := json.Unmarshal(out, &ans); err != nil {
		t.Fatalf("reading validate.mjs's answer: %v\n%s", err, out)
	}
	if !ans.OK && len(ans.Errors) == 0 {
		t.Fatalf("validate.mjs answered not ok without errors: %s", out)
	}
	return ans
}
