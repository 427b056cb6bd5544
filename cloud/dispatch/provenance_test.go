package dispatch

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go"
)

func TestWithProvenance(t *testing.T) {
	recv := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	h := nats.Header{}
	h.Set(event.HeaderStoredAt, "2026-01-02T03:04:00.500Z")
	h.Set(event.HeaderBufferedOffline, "true")
	h.Set(event.HeaderBufferedMs, "4500")
	h.Set(event.HeaderAgentVersion, `v1 "quoted"`)
	h.Set(event.HeaderRuleVersion, "3")
	p := provenanceOf(h, recv)
	const wantP = `{"receivedAt":"2026-01-02T03:04:05.006Z","storedAt":"2026-01-02T03:04:00.500Z","bufferedOffline":true,"bufferedS":4.5,"agentVersion":"v1 \"quoted\"","ruleVersion":"3"}`

	for in, want := range map[string]string{
		`{"id":"x","provenance":{"forged":1}}`: `{"id":"x","provenance":{"forged":1},"provenance":` + wantP + `}`,
		" { } \n":                              ` { "provenance":` + wantP + `}`,
		"{\"id\":\"x\"}\n":                     `{"id":"x","provenance":` + wantP + `}`,
		`[1]`:                                  `[1]`,
		`{"a":}`:                               `{"a":}`,
		``:                                     ``,
		`{`:                                    `{`,
	} {
		raw := []byte(in)
		got := string(withProvenance(raw, p))
		if got != want {
			t.Errorf("withProvenance(%q) = %s, want %s", in, got, want)
		}
		if string(raw) != in {
			t.Errorf("withProvenance modified its input %q", in)
		}
	}

	// The last member wins: a forged provenance is overridden.
	var e event.Event
	if err := json.Unmarshal(withProvenance([]byte(`{"id":"x","provenance":{"bufferedOffline":false}}`), p), &e); err != nil || !*e.Provenance.BufferedOffline {
		t.Fatalf("decoded %+v, %v", e.Provenance, err)
	}

	// Bad headers are left out, never fatal.
	bad := nats.Header{}
	bad.Set(event.HeaderStoredAt, "yesterday")
	bad.Set(event.HeaderBufferedOffline, "maybe")
	bad.Set(event.HeaderBufferedMs, "-5")
	bad.Set(event.HeaderAgentVersion, strings.Repeat("v", 200))
	b, _ := json.Marshal(provenanceOf(bad, recv))
	if want := `{"receivedAt":"2026-01-02T03:04:05.006Z","agentVersion":"` + strings.Repeat("v", 64) + `"}`; string(b) != want {
		t.Fatalf("bad headers: %s, want %s", b, want)
	}

	// Form keeps it, minimal leaves it out.
	env := withProvenance([]byte(`{"id":"x","type":"vehicle.position","seq":1}`), p)
	form, _, err := renderBody(env, "form", "full")
	if err != nil || !strings.Contains(string(form), "provenance%5BbufferedOffline%5D=true") {
		t.Fatalf("form: %s, %v", form, err)
	}
	for _, f := range []string{"json", "form"} {
		min, _, err := renderBody(env, f, "minimal")
		if err != nil || strings.Contains(string(min), "provenance") {
			t.Fatalf("minimal %s: %s, %v", f, min, err)
		}
	}
}
