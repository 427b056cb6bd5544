package api

import (
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes: every registered route is in the document with
// its method, and every documented operation is a route the mux serves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Info    map[string]any `json:"info"`
		Paths   map[string]map[string]struct {
			OperationID string                     `json:"operationId"`
			Responses   map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
		Components map[string]map[string]json.RawMessage `json:"components"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Info["title"] == nil || doc.Info["version"] == nil {
		t.Fatalf("not an OpenAPI 3 document: openapi %q, info %v", doc.OpenAPI, doc.Info)
	}
	a := &API{}
	routes := map[string]bool{}
	for _, rt := range a.routes() {
		routes[strings.ToLower(rt.Method)+" "+rt.Pattern] = true
	}
	documented := map[string]bool{}
	ids := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			key := method + " " + path
			documented[key] = true
			if !routes[key] {
				t.Errorf("documented %s is not a route", key)
			}
			if op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s: operationId %q missing or repeated", key, op.OperationID)
			}
			ids[op.OperationID] = true
			if len(op.Responses) == 0 {
				t.Errorf("%s has no responses", key)
			}
		}
	}
	for key := range routes {
		if !documented[key] {
			t.Errorf("route %s is missing from openapi.json", key)
		}
	}
	// Every $ref points at a component.
	for _, m := range regexp.MustCompile(`"\$ref":\s*"#/components/(\w+)/(\w+)"`).FindAllStringSubmatch(string(openAPIDoc), -1) {
		if _, ok := doc.Components[m[1]][m[2]]; !ok {
			t.Errorf("$ref to missing component %s/%s", m[1], m[2])
		}
	}
	if n := strings.Count(string(openAPIDoc), `"$ref"`); n < 50 {
		t.Errorf("only %d refs: the pattern above may not match", n)
	}

	// The mux serves each documented path (parameters filled in) with the
	// route of that pattern.
	mux := newEnv(t).srv.Config.Handler.(*API).mux
	for key := range documented {
		method, path, _ := strings.Cut(key, " ")
		concrete := regexp.MustCompile(`\{\w+\}`).ReplaceAllString(path, "x1")
		r := httptest.NewRequest(strings.ToUpper(method), concrete, nil)
		if _, pattern := mux.Handler(r); pattern != strings.ToUpper(method)+" "+path {
			t.Errorf("%s %s is served by %q", strings.ToUpper(method), concrete, pattern)
		}
	}
	for _, c := range []string{"schemas", "responses", "parameters", "securitySchemes"} {
		if len(doc.Components[c]) == 0 {
			t.Errorf("no components.%s", c)
		}
	}
}
