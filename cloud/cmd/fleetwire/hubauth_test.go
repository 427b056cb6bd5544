package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetwire/fleetwire/shared/cli"
	"github.com/nats-io/nats-server/v2/server"
)

// TestHubAuthInit: the command writes private seeds (0600) and an auth.conf
// nats-server loads; run again it keeps the keys and takes operators; a bad
// operator key is a usage error that writes nothing new.
func TestHubAuthInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hub-auth")
	var out, errOut bytes.Buffer
	if err := hubAuth(context.Background(), []string{"init", "--dir", dir}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"fleetwire-service.nk", "fleetwire-system.nk", "callout-issuer.nk"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v, want 0600", f, fi.Mode().Perm())
		}
		if !strings.Contains(out.String(), filepath.Join(dir, f)) {
			t.Fatalf("the settings printed do not name %s:\n%s", f, out.String())
		}
	}
	first, err := os.ReadFile(filepath.Join(dir, "auth.conf"))
	if err != nil {
		t.Fatal(err)
	}
	node := filepath.Join(dir, "node.conf")
	if err := os.WriteFile(node, []byte("listen: 127.0.0.1:-1\ninclude ./auth.conf\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(node)
	if err != nil {
		t.Fatalf("nats-server does not load auth.conf: %v", err)
	}
	if opts.AuthCallout == nil || len(opts.AuthCallout.AuthUsers) != 2 || opts.SystemAccount != "SYS" {
		t.Fatalf("auth.conf: callout %+v, system account %q", opts.AuthCallout, opts.SystemAccount)
	}

	const operator = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"
	if err := hubAuth(context.Background(), []string{"init", "--dir", dir, "--operator", operator}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(filepath.Join(dir, "auth.conf"))
	if err != nil {
		t.Fatal(err)
	}
	issuer := func(conf []byte) string {
		for _, l := range strings.Split(string(conf), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "issuer:") {
				return l
			}
		}
		return ""
	}
	if issuer(first) == "" || issuer(first) != issuer(second) || !strings.Contains(string(second), operator) {
		t.Fatalf("second run: issuer %q → %q, operator listed %v", issuer(first), issuer(second), strings.Contains(string(second), operator))
	}

	err = hubAuth(context.Background(), []string{"init", "--dir", dir, "--operator", "Unot-a-key"}, &out, &errOut)
	if cli.Code(err) != 2 || !strings.Contains(err.Error(), "operator") {
		t.Fatalf("bad operator key: %v (exit %d), want a usage error naming it", err, cli.Code(err))
	}
	if err := hubAuth(context.Background(), []string{"init"}, &out, &errOut); cli.Code(err) != 2 {
		t.Fatalf("no --dir: %v, want a usage error", err)
	}
}
