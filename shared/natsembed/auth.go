package natsembed

import (
	"errors"
	"fmt"
	"time"

	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// ErrNoAuth is returned by the authentication methods of a server started
// without Config.Auth.
var ErrNoAuth = errors.New("natsembed: server was started without authentication")

// auth is the server side of Config.Auth: a service key for the server's
// own in-process clients, and the issuer account key that the answers to
// the authorization callout must be signed with. Both are created at start
// and never leave the process.
type auth struct {
	service nkeys.KeyPair
	issuer  nkeys.KeyPair
}

func newAuth() (*auth, error) {
	service, err := identity.NewKey()
	if err != nil {
		return nil, err
	}
	issuer, err := nkeys.CreateAccount()
	if err != nil {
		return nil, fmt.Errorf("natsembed: callout issuer key: %w", err)
	}
	return &auth{service: service, issuer: issuer}, nil
}

// apply admits the service key directly and sends every other client or
// leaf connection to the authorization callout ($SYS.REQ.USER.AUTH in the
// global account), whose answers must be signed by the issuer.
func (a *auth) apply(opts *server.Options) {
	service := identity.PublicKey(a.service)
	issuer, _ := a.issuer.PublicKey()
	opts.Nkeys = []*server.NkeyUser{{Nkey: service}}
	opts.AuthCallout = &server.AuthCallout{Issuer: issuer, AuthUsers: []string{service}, Account: server.DEFAULT_GLOBAL_ACCOUNT}
	// How long a connection waits for the callout's answer (default 2 s):
	// the answer follows a replicated write of the session, which takes
	// longer on a busy hub.
	opts.AuthTimeout = calloutTimeout.Seconds()
}

// calloutTimeout is how long the server waits for fleetwire's answer to a
// connection's authorization callout.
const calloutTimeout = 5 * time.Second

// CalloutIssuer is the key that signs the answers to this server's
// authorization callout (cloud/callout), or ErrNoAuth.
func (s *Server) CalloutIssuer() (nkeys.KeyPair, error) {
	if s.auth == nil {
		return nil, ErrNoAuth
	}
	return s.auth.issuer, nil
}

// Disconnect closes connection cid if serverID is this server; ok reports
// whether there was such a connection.
func (s *Server) Disconnect(serverID string, cid uint64) (ok bool, err error) {
	if serverID != s.ns.ID() {
		return false, fmt.Errorf("natsembed: %s: server %s is not this one", s.cfg.Name, serverID)
	}
	if err := s.ns.DisconnectClientByID(cid); err != nil {
		return false, nil // gone already
	}
	return true, nil
}

// serviceOption authenticates an in-process client with the service key.
func (s *Server) serviceOption() nats.Option {
	if s.auth == nil {
		return func(*nats.Options) error { return nil }
	}
	kp := s.auth.service
	return nats.Nkey(identity.PublicKey(kp), func(nonce []byte) ([]byte, error) { return kp.Sign(nonce) })
}

// LeafLink is one leaf connection to this server.
type LeafLink struct {
	// Name is the remote leaf server's name; ID the connection's ID here.
	Name string
	ID   uint64
}

// Leafz lists the leaf connections to this server.
func (s *Server) Leafz() ([]LeafLink, error) {
	lz, err := s.ns.Leafz(nil)
	if err != nil {
		return nil, fmt.Errorf("natsembed: %s: leafz: %w", s.cfg.Name, err)
	}
	out := make([]LeafLink, 0, len(lz.Leafs))
	for _, l := range lz.Leafs {
		out = append(out, LeafLink{Name: l.Name, ID: l.ID})
	}
	return out, nil
}
