package fencestore

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/hub"
)

func TestEscapeRoundTrip(t *testing.T) {
	for _, id := range []string{"lez_munich", "München", "file.geojson#3", "a b=c", ""} {
		k := escape(id)
		for _, c := range k {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=') {
				t.Fatalf("escape(%q) = %q has %q, not a key character", id, k, c)
			}
		}
		if got := unescape(k); got != id {
			t.Fatalf("unescape(escape(%q)) = %q", id, got)
		}
	}
}

func TestPutGetListDelete(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := hub.Open(ctx, hub.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	s, err := Open(ctx, h.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	f := []byte(`{"type":"Feature","properties":{"id":"depot"},"geometry":{"type":"Point","coordinates":[12.1,49.0]}}`)
	if err := s.Put(ctx, "acme", "depot", f); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "acme", "Zone #2", f); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "other", "depot", f); err != nil {
		t.Fatal(err)
	}
	ids, err := s.List(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"Zone #2", "depot"}) {
		t.Fatalf("acme fences %v", ids)
	}
	if err := s.Delete(ctx, "acme", "depot"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "acme", "depot"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v, want ErrNotFound", err)
	}
}
