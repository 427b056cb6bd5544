package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzRender: Render never panics; whatever is not a JSON object is
// ErrNotEnvelope in every combination; and for a JSON object every body
// agrees with encoding/json's reading of it (checkRender).
//
//	go test -run '^$' -fuzz FuzzRender ./cloud/payload/
func FuzzRender(f *testing.F) {
	for _, env := range realEnvelopes(f) {
		f.Add(env)
	}
	for _, s := range []string{
		`{}`, ` {"a" : [ 1, {"b":null} ] } `, `{"a":1,"a":{"b":2}}`, `{"\u0061":"\ud83d\ude9a\ud800x"}`,
		"{\"s\":\"a\xffb\"}", `{"n":[1e-7,-2.5E+30,0e0,-0,1e401,0.0e+1000]}`, `{"":{"":[[]]}}`, `{"a[b]":"c=d&e"}`,
		`{"vehicle":{"id":{"x":[1]}},"location":{"lat":"n","lon":null},"id":true}`,
		`[]`, `null`, `"x"`, `{`, `{"a":}`, `{}{}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		object := json.Valid(in) && bytes.HasPrefix(bytes.TrimLeft(in, " \t\r\n"), []byte("{"))
		if !object {
			for _, fm := range []Format{FormatJSON, FormatForm} {
				for _, s := range []Shape{ShapeFull, ShapeMinimal} {
					if body, _, err := Render(in, fm, s); !errors.Is(err, ErrNotEnvelope) || body != nil {
						t.Fatalf("Render(%q, %s, %s) = %q, %v; want ErrNotEnvelope", in, fm, s, body, err)
					}
				}
			}
			return
		}
		checkRender(t, in)
	})
}
