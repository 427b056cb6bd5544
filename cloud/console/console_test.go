package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func TestHandler(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		path, status, ctype, body string
	}{
		{"/console/", "200", "text/html", `<script type="module" src="js/app.js">`},
		{"/console/js/app.js", "200", "text/javascript", "import"},
		{"/console/console.css", "200", "text/css", ":root"},
		{"/console/catalogue.json", "200", "application/json", `"position"`},
		{"/console/js/", "404", "", ""},
		{"/console/nope.js", "404", "", ""},
		{"/console/../go.mod", "404", "", ""},
		{"/console", "301", "", ""},
	} {
		res := get(t, h, "GET", tc.path)
		body, _ := io.ReadAll(res.Body)
		if got := res.Status[:3]; got != tc.status {
			t.Errorf("GET %s: %s, want %s", tc.path, res.Status, tc.status)
			continue
		}
		if tc.ctype != "" && !strings.HasPrefix(res.Header.Get("Content-Type"), tc.ctype) {
			t.Errorf("GET %s: Content-Type %q, want %s", tc.path, res.Header.Get("Content-Type"), tc.ctype)
		}
		if !strings.Contains(string(body), tc.body) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.body)
		}
		if tc.status == "200" {
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("GET %s: CSP %q", tc.path, csp)
			}
			if res.Header.Get("Cache-Control") != "no-cache" {
				t.Errorf("GET %s: Cache-Control %q", tc.path, res.Header.Get("Cache-Control"))
			}
		}
	}
	if res := get(t, h, "POST", "/console/"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s", res.Status)
	}
	res := get(t, RedirectRoot(), "GET", "/")
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/console/" {
		t.Errorf("GET /: %s to %q", res.Status, res.Header.Get("Location"))
	}
}
