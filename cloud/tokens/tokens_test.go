package tokens_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/cloud/tokens"
)

func openStore(t *testing.T, ctx context.Context) *tokens.Store {
	t.Helper()
	h, err := hub.Open(ctx, hub.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	st, err := tokens.Open(ctx, h.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestCreateAuthenticateRevoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st := openStore(t, ctx)
	secret, tok, err := st.Create(ctx, tokens.Token{Account: "acme", Role: tokens.Admin, Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, tokens.Prefix) || len(secret) < 40 {
		t.Fatalf("token %q", secret)
	}
	if tok.ID != tokens.Hash(secret)[:12] {
		t.Fatalf("id %s is not the hash prefix", tok.ID)
	}
	got, err := st.Authenticate(ctx, secret)
	if err != nil || got.Account != "acme" || got.Role != tokens.Admin {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "fwt_nope", secret + "x", strings.TrimPrefix(secret, tokens.Prefix)} {
		if _, err := st.Authenticate(ctx, bad); !errors.Is(err, tokens.ErrUnknown) {
			t.Errorf("Authenticate(%q) = %v, want ErrUnknown", bad, err)
		}
	}
	list, err := st.List(ctx, "acme")
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
	if other, _ := st.List(ctx, "other"); len(other) != 0 {
		t.Fatalf("other account sees %v", other)
	}
	if err := st.Delete(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(ctx, secret); !errors.Is(err, tokens.ErrUnknown) {
		t.Fatalf("revoked token still works: %v", err)
	}
	if err := st.Delete(ctx, tok.ID); !errors.Is(err, tokens.ErrNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st := openStore(t, ctx)
	for _, tok := range []tokens.Token{
		{Account: "acme", Role: "root"},
		{Account: "", Role: tokens.Admin},
		{Account: "a.b", Role: tokens.Viewer},
		{Account: "acme", Role: tokens.Operator},
		{Account: "acme", Role: tokens.Viewer, Name: "two\nlines"},
	} {
		if _, _, err := st.Create(ctx, tok); !errors.Is(err, tokens.ErrInvalid) {
			t.Errorf("Create(%+v) = %v, want ErrInvalid", tok, err)
		}
	}
}

func TestBootstrapOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st := openStore(t, ctx)
	file := filepath.Join(t.TempDir(), "sub", "operator.token")
	created, err := st.Bootstrap(ctx, file)
	if err != nil || !created {
		t.Fatalf("Bootstrap = %v, %v", created, err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(file)
	tok, err := st.Authenticate(ctx, strings.TrimSpace(string(b)))
	if err != nil || tok.Role != tokens.Operator {
		t.Fatalf("bootstrap token: %+v, %v", tok, err)
	}
	if created, err := st.Bootstrap(ctx, file); err != nil || created {
		t.Fatalf("second Bootstrap = %v, %v; want no new token", created, err)
	}
	b2, _ := os.ReadFile(file)
	if string(b2) != string(b) {
		t.Fatal("second Bootstrap rewrote the file")
	}
}
