package fencestore

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

func TestEscapeRoundTrip(t *testing.T) {
	for _, id := range []string{"lez_munich", "München", "file.geojson#3", "a b=c", ""} {
		k := event.KeyToken(id)
		for _, c := range k {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=') {
				t.Fatalf("event.KeyToken(%q) = %q has %q, not a key character", id, k, c)
			}
		}
		if got := event.FromKeyToken(k); got != id {
			t.Fatalf("event.FromKeyToken(event.KeyToken(%q)) = %q", id, got)
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

func TestImportRefusesOtherAccount(t *testing.T) {
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
	circle := func(id, account string) string {
		acc := ""
		if account != "" {
			acc = `,"account":"` + account + `"`
		}
		return `{"type":"Feature","properties":{"id":"` + id + `","radius":100` + acc + `},"geometry":{"type":"Point","coordinates":[12.1,49.0]}}`
	}
	doc := `{"type":"FeatureCollection","features":[` + circle("a", "") + `,` + circle("b", "acme") + `]}`
	ids, err := s.Import(ctx, []byte(doc), geofence.LoadOptions{Account: "acme"})
	if err != nil || !slices.Equal(ids, []string{"a", "b"}) {
		t.Fatalf("Import = %v, %v", ids, err)
	}
	doc = `{"type":"FeatureCollection","features":[` + circle("c", "") + `,` + circle("d", "other") + `]}`
	if _, err := s.Import(ctx, []byte(doc), geofence.LoadOptions{Account: "acme"}); !errors.Is(err, ErrOtherAccount) {
		t.Fatalf("feature of another account: %v", err)
	}
	if _, err := s.Get(ctx, "acme", "c"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("refused import stored c: %v", err)
	}
	if ids, _ := s.List(ctx, "other"); len(ids) != 0 {
		t.Fatalf("other account got %v", ids)
	}
}
