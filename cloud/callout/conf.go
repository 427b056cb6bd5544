package callout

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/nats-io/nkeys"
)

// ErrBadKey: a key of the wrong type or not a key at all.
var ErrBadKey = errors.New("callout: bad key")

// ClusterKeys are the public keys a cluster's authorization names.
type ClusterKeys struct {
	// Service is fleetwire serve's own user (hub.nkey_file): it connects
	// without the callout and answers it.
	Service string
	// System is fleetwire serve's system-account user
	// (hub.callout.system_key_file), used to disconnect revoked keys.
	System string
	// Issuer is the account key that signs the callout's answers
	// (hub.callout.issuer_file).
	Issuer string
	// Operators are further users admitted without the callout (the
	// operators' own tools, such as the nats CLI), with all permissions.
	Operators []string
}

// Validate checks every key's type.
func (k ClusterKeys) Validate() error {
	check := func(name, key string, ok func(string) bool, want string) error {
		if !ok(key) {
			return fmt.Errorf("%w: %s key %q is not a %s public nkey", ErrBadKey, name, key, want)
		}
		return nil
	}
	if err := check("service", k.Service, nkeys.IsValidPublicUserKey, "user (U…)"); err != nil {
		return err
	}
	if err := check("system", k.System, nkeys.IsValidPublicUserKey, "user (U…)"); err != nil {
		return err
	}
	if err := check("issuer", k.Issuer, nkeys.IsValidPublicAccountKey, "account (A…)"); err != nil {
		return err
	}
	for _, o := range k.Operators {
		if err := check("operator", o, nkeys.IsValidPublicUserKey, "user (U…)"); err != nil {
			return err
		}
	}
	return nil
}

// Conf is the nats-server configuration that every node of the cluster
// includes (deploy/nats/hub-common.conf: include ./auth.conf).
func (k ClusterKeys) Conf() (string, error) {
	if err := k.Validate(); err != nil {
		return "", err
	}
	users := []string{k.Service}
	users = append(users, k.Operators...)
	var b strings.Builder
	fmt.Fprintf(&b, `# nats-server authorization of the fleetwire hub, written by `+"`fleetwire hub-auth init`"+`.
# Every node includes it (deploy/nats/hub-common.conf). It holds public keys only.
#
# Vehicles' leaf nodes and customers' NATS clients are admitted by fleetwire serve itself, from
# its key registry (fleetwire vehicles register, fleetwire nats-credential create): each server
# asks it on %s (the authorization callout) and it answers with the key's permissions,
# the same as on its embedded hub. Only the users below are admitted by the servers directly.

accounts {
  # fleetwire serve's system user (hub.callout.system_key_file): it disconnects revoked keys.
  SYS: { users: [ { nkey: %s } ] }
}
system_account: SYS

authorization {
  # How long a connection waits for fleetwire's answer (default 2 s): the answer follows a
  # replicated write of the session, which takes longer on a busy cluster.
  timeout: 5
  users: [
`, Subject, k.System)
	fmt.Fprintf(&b, "    { nkey: %s }   # fleetwire serve (hub.nkey_file)\n", k.Service)
	for _, o := range k.Operators {
		fmt.Fprintf(&b, "    { nkey: %s }   # operator\n", o)
	}
	fmt.Fprintf(&b, `  ]
  auth_callout {
    # fleetwire serve signs its answers with this account key (hub.callout.issuer_file).
    issuer: %s
    # Admitted without the callout: the users above and the system user.
    auth_users: [ %s ]
    # Admitted vehicles and clients are placed in the global account, with the EVENTS stream.
    account: "$G"
  }
}
`, k.Issuer, strings.Join(append(users, k.System), ", "))
	return b.String(), nil
}

// LoadIssuer reads the issuer's account seed ("SA…") from path.
func LoadIssuer(path string) (nkeys.KeyPair, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("callout: issuer key: %w", err)
	}
	kp, err := nkeys.ParseDecoratedNKey(bytes.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("callout: issuer key %s: %w", path, err)
	}
	if pub, err := kp.PublicKey(); err != nil || !nkeys.IsValidPublicAccountKey(pub) {
		return nil, fmt.Errorf("callout: issuer key %s: not an account seed (SA…, written by fleetwire hub-auth init)", path)
	}
	return kp, nil
}

// Files are what InitDir writes: three seed files for fleetwire serve and
// the public auth.conf for the cluster's nodes.
type Files struct {
	Service string // hub.nkey_file
	System  string // hub.callout.system_key_file
	Issuer  string // hub.callout.issuer_file
	Conf    string // include it from every node's configuration
	Keys    ClusterKeys
}

// InitDir creates the keys in dir (mode 0600; keys already there are kept,
// so that running it again only rewrites auth.conf, for instance with other
// operators) and writes auth.conf.
func InitDir(dir string, operators []string) (Files, error) {
	f := Files{
		Service: filepath.Join(dir, "fleetwire-service.nk"), System: filepath.Join(dir, "fleetwire-system.nk"),
		Issuer: filepath.Join(dir, "callout-issuer.nk"), Conf: filepath.Join(dir, "auth.conf"),
	}
	for _, o := range operators {
		if !nkeys.IsValidPublicUserKey(o) {
			return f, fmt.Errorf("%w: operator key %q is not a user public nkey (U…)", ErrBadKey, o)
		}
	}
	service, _, err := identity.LoadOrCreateKey(f.Service)
	if err != nil {
		return f, err
	}
	system, _, err := identity.LoadOrCreateKey(f.System)
	if err != nil {
		return f, err
	}
	issuer, err := LoadIssuer(f.Issuer)
	if errors.Is(err, fs.ErrNotExist) {
		issuer, err = createIssuer(f.Issuer)
	}
	if err != nil {
		return f, err
	}
	f.Keys = ClusterKeys{Service: identity.PublicKey(service), System: identity.PublicKey(system), Issuer: identity.PublicKey(issuer), Operators: operators}
	conf, err := f.Keys.Conf()
	if err != nil {
		return f, err
	}
	if err := os.WriteFile(f.Conf, []byte(conf), 0o644); err != nil {
		return f, fmt.Errorf("callout: write %s: %w", f.Conf, err)
	}
	return f, nil
}

// createIssuer writes a new account seed to path (mode 0600, never over an
// existing file).
func createIssuer(path string) (nkeys.KeyPair, error) {
	kp, err := nkeys.CreateAccount()
	if err != nil {
		return nil, fmt.Errorf("callout: new issuer key: %w", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return nil, fmt.Errorf("callout: new issuer key: %w", err)
	}
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("callout: create issuer key file: %w", err)
	}
	_, werr := fh.Write(append(seed, '\n'))
	serr := fh.Sync()
	if err := errors.Join(werr, serr, fh.Close()); err != nil {
		return nil, fmt.Errorf("callout: write issuer key file %s: %w", path, err)
	}
	return kp, nil
}
