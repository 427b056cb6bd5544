package natsembed

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// ErrNoAuth is returned by SetUsers on a server started without Auth.
var ErrNoAuth = errors.New("natsembed: server was started without authentication")

// Connection kinds a user may be limited to.
const (
	// KindLeaf is a leaf-node connection (a vehicle's gateway).
	KindLeaf = "LEAFNODE"
	// KindClient is an ordinary client connection (a customer's program).
	KindClient = "STANDARD"
)

// Auth turns authentication on: every client and leaf connection must
// prove it holds the private key of one of Users. The server's own
// in-process clients (Connect) use a service key created at start, allowed
// everything; it never leaves the process.
type Auth struct {
	Users []User
}

// User is one nkey allowed to connect.
type User struct {
	// Nkey is the user's public key ("U…").
	Nkey string
	// Permissions restrict what the connection may publish and receive.
	Permissions identity.Permissions
	// Kind limits the connection type (KindLeaf, KindClient); "" allows any.
	Kind string
}

// Validate checks every key and that no key is listed twice.
func (a *Auth) Validate() error {
	seen := make(map[string]bool, len(a.Users))
	for i, u := range a.Users {
		if err := identity.ValidPublicKey(u.Nkey); err != nil {
			return fmt.Errorf("natsembed: auth user %d: %w", i, err)
		}
		if seen[u.Nkey] {
			return fmt.Errorf("natsembed: auth user %d: key %s is listed twice", i, u.Nkey)
		}
		seen[u.Nkey] = true
		if u.Kind != "" && u.Kind != KindLeaf && u.Kind != KindClient {
			return fmt.Errorf("natsembed: auth user %d: kind %q (want %q or %q)", i, u.Kind, KindLeaf, KindClient)
		}
	}
	return nil
}

// nkeyUsers is the server's form of users plus the service key.
func nkeyUsers(service string, users []User) []*server.NkeyUser {
	out := make([]*server.NkeyUser, 0, len(users)+1)
	out = append(out, &server.NkeyUser{Nkey: service})
	for _, u := range users {
		nu := &server.NkeyUser{
			Nkey: u.Nkey,
			Permissions: &server.Permissions{
				// An empty allow list must stay "nothing", not "everything".
				Publish:   &server.SubjectPermission{Allow: orNothing(u.Permissions.Publish)},
				Subscribe: &server.SubjectPermission{Allow: orNothing(u.Permissions.Subscribe)},
			},
		}
		if u.Kind != "" {
			nu.AllowedConnectionTypes = map[string]struct{}{u.Kind: {}}
		}
		out = append(out, nu)
	}
	return out
}

func orNothing(allow []string) []string {
	if len(allow) == 0 {
		// A subject no one uses: nats-server treats an empty list as allow-all.
		return []string{"_fleetwire_nothing_"}
	}
	return slices.Clone(allow)
}

// SetUsers replaces the users allowed to connect, without a restart.
// Client connections whose key is gone are closed by nats-server. Leaf
// connections are not re-checked by nats-server on a reload, and it does
// not say which key a leaf used, so when any key is removed or its
// permissions change, every leaf connection is closed: the ones still
// registered reconnect within their reconnect interval (about a second),
// the removed ones cannot. Adding keys disturbs no one.
func (s *Server) SetUsers(users []User) error {
	if s.service == nil {
		return ErrNoAuth
	}
	a := Auth{Users: users}
	if err := a.Validate(); err != nil {
		return err
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	next := s.opts.Clone()
	next.Nkeys = nkeyUsers(identity.PublicKey(s.service), users)
	revoked := removesOrNarrows(s.opts.Nkeys, next.Nkeys)
	if err := s.ns.ReloadOptions(next); err != nil {
		return fmt.Errorf("natsembed: %s: reload users: %w", s.cfg.Name, err)
	}
	s.opts = next
	if revoked {
		lz, err := s.ns.Leafz(nil)
		if err != nil {
			return fmt.Errorf("natsembed: %s: list leaf connections: %w", s.cfg.Name, err)
		}
		for _, l := range lz.Leafs {
			_ = s.ns.DisconnectClientByID(l.ID) // gone already: fine
		}
	}
	return nil
}

// removesOrNarrows reports whether a key of old is missing from next or
// has other permissions there.
func removesOrNarrows(old, next []*server.NkeyUser) bool {
	byKey := make(map[string]*server.NkeyUser, len(next))
	for _, u := range next {
		byKey[u.Nkey] = u
	}
	for _, u := range old {
		n, ok := byKey[u.Nkey]
		if !ok || !reflect.DeepEqual(u.Permissions, n.Permissions) || !maps.Equal(u.AllowedConnectionTypes, n.AllowedConnectionTypes) {
			return true
		}
	}
	return false
}

// serviceOption authenticates an in-process client with the service key.
func (s *Server) serviceOption() nats.Option {
	if s.service == nil {
		return func(*nats.Options) error { return nil }
	}
	kp := s.service
	return nats.Nkey(identity.PublicKey(kp), func(nonce []byte) ([]byte, error) { return kp.Sign(nonce) })
}

// newServiceKey creates the in-process service key.
func newServiceKey() (nkeys.KeyPair, error) { return identity.NewKey() }
