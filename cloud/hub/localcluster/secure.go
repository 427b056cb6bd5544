package localcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fleetwire/fleetwire/cloud/callout"
)

// Lines of deploy/nats/hub-common.conf that Secure turns on.
const (
	authLine = "# include ./auth.conf"
	tlsLine  = `# tls { cert_file: "/etc/nats/tls/hub.pem", key_file: "/etc/nats/tls/hub-key.pem" }`
)

// TLSFiles are a node certificate and its key (PEM).
type TLSFiles struct{ Cert, Key string }

// Secure copies the node files of src (deploy/nats) into dst, turns on
// their `include ./auth.conf` line and, with tls, their two tls lines (the
// client and leaf ports) pointed at tls, and runs `fleetwire hub-auth
// init` in dst: the steps deploy/README.md gives an operator. The cluster
// started from dst admits only fleetwire serve, configured with the
// returned files, and the keys it registers.
func Secure(src, dst string, tls *TLSFiles) (callout.Files, error) {
	entries, err := os.ReadDir(src)
	if err != nil {
		return callout.Files{}, fmt.Errorf("localcluster: %w", err)
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return callout.Files{}, fmt.Errorf("localcluster: %w", err)
	}
	common := false
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".conf") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return callout.Files{}, fmt.Errorf("localcluster: %w", err)
		}
		if e.Name() == "hub-common.conf" {
			common = true
			if b, err = secureCommon(string(b), tls); err != nil {
				return callout.Files{}, err
			}
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			return callout.Files{}, fmt.Errorf("localcluster: %w", err)
		}
	}
	if !common {
		return callout.Files{}, fmt.Errorf("localcluster: %s has no hub-common.conf", src)
	}
	return callout.InitDir(dst, nil)
}

func secureCommon(s string, tls *TLSFiles) ([]byte, error) {
	want := map[string]int{authLine: 1}
	if tls != nil {
		want[tlsLine] = 2
	}
	for line, n := range want {
		if got := strings.Count(s, line); got != n {
			return nil, fmt.Errorf("localcluster: hub-common.conf has %d %q lines to turn on, want %d", got, line, n)
		}
		s = strings.ReplaceAll(s, line, strings.TrimPrefix(line, "# "))
	}
	if tls != nil {
		s = strings.NewReplacer("/etc/nats/tls/hub.pem", tls.Cert, "/etc/nats/tls/hub-key.pem", tls.Key).Replace(s)
	}
	return []byte(s), nil
}
