// Package callout admits vehicles and customer NATS clients to an external
// NATS cluster from fleetwire's key registry, as the embedded hub does with
// its nkey users. The cluster is configured with nats-server's
// authorization callout (see deploy/nats/auth.conf, written by
// `fleetwire hub-auth init`): for every connection that is not one of its
// own users, a server sends a signed request on $SYS.REQ.USER.AUTH;
// the Authorizer checks the nonce signature of the connection's nkey,
// looks the key up, and answers with a user JWT that carries the key's
// permissions (shared/identity), signed by the issuer account key the
// cluster trusts. A refusal names its reason, which the server logs.
//
// The embedded hub (shared/natsembed with Auth) is configured the same way,
// so both admit exactly the same connections.
//
// Revocation: the servers do not re-check a connection once admitted. The
// Authorizer remembers which connections it admitted for each key and, when
// a key is revoked, has them disconnected (Config.Disconnect) — only those:
// the other vehicles stay linked. Every admission also expires after
// Config.SessionTTL, after which the connection must authenticate again.
package callout

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Subject is where servers send authorization requests.
const Subject = server.AuthCalloutSubject

// Reasons a connection is refused, as counted in Stats and sent to the
// server (which logs them).
var (
	// ErrNoKey: the connection presented no nkey (user/password, token or
	// nothing at all).
	ErrNoKey = errors.New("no nkey presented: connect with a key registered in fleetwire (fleetwire-edge hub.key_file, or a customer credential)")
	// ErrBadSignature: the nonce signature does not verify with the key.
	ErrBadSignature = errors.New("nonce signature does not verify with the presented key")
	// ErrUnregistered: the key is not in the registry (never registered,
	// or revoked).
	ErrUnregistered = errors.New("key is not registered in fleetwire")
	// ErrBadRequest: the request is not a server-signed authorization
	// request.
	ErrBadRequest = errors.New("callout: malformed authorization request")
)

// Refusal reasons, the label values of Stats.Refused.
const (
	ReasonNoKey        = "no_key"
	ReasonBadSignature = "bad_signature"
	ReasonUnregistered = "unregistered"
)

// Connection kinds a user may be limited to (nats-server's names).
const (
	// KindLeaf is a leaf-node connection (a vehicle's gateway).
	KindLeaf = jwt.ConnectionTypeLeafnode
	// KindClient is an ordinary client connection (a customer's program).
	KindClient = jwt.ConnectionTypeStandard
)

// User is what a registered key is admitted as.
type User struct {
	// Nkey is the user's public key ("U…").
	Nkey string
	// Permissions restrict what the connection may publish and receive.
	Permissions identity.Permissions
	// Kind limits the connection type (KindLeaf, KindClient); "" allows any.
	Kind string
}

// Lookup returns the user registered for a public key.
type Lookup func(key string) (User, bool)

// Disconnect closes connection cid on the server whose ID is serverID; ok
// reports whether it was still there.
type Disconnect func(ctx context.Context, serverID string, cid uint64) (ok bool, err error)

// DefaultSessionTTL is how long an admission lasts unless configured.
const DefaultSessionTTL = 24 * time.Hour

// Config of an Authorizer.
type Config struct {
	// NC is connected to the cluster as one of auth_callout's auth_users.
	// Required.
	NC *nats.Conn
	// Issuer is the account key whose public key is auth_callout's issuer;
	// it signs the answers and the user JWTs. Required.
	Issuer nkeys.KeyPair
	// Users looks a key up in the registry. Required.
	Users Lookup
	// Account is where admitted connections are placed (default "$G", the
	// global account, where the EVENTS stream lives on a cluster without
	// accounts).
	Account string
	// SessionTTL bounds how long an admitted connection lasts before it
	// must authenticate again, and so how long a revoked key could stay
	// connected if it cannot be disconnected (default 24h).
	SessionTTL time.Duration
	// Disconnect, when set, lets Revoke close a revoked key's connections
	// at once: SystemDisconnect on a cluster, natsembed.Server.Disconnect
	// on the embedded hub.
	Disconnect Disconnect
	// Sessions remembers the admitted connections until they expire, for
	// Revoke (default: in memory, so only this Authorizer's; KVSessions
	// shares them between replicas and across restarts).
	Sessions Sessions
	// Queue is the queue group shared by fleetwire serve replicas.
	Queue string
	// Workers answer requests in parallel (default 4 × GOMAXPROCS: part of
	// the work is waiting for Sessions).
	Workers int
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.Account == "" {
		c.Account = server.DEFAULT_GLOBAL_ACCOUNT
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.Queue == "" {
		c.Queue = "fleetwire-callout"
	}
	if c.Workers <= 0 {
		c.Workers = 4 * runtime.GOMAXPROCS(0)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sessions == nil {
		c.Sessions = NewMemorySessions(c.Now)
	}
}

// Validate reports a missing or wrong dependency.
func (c *Config) Validate() error {
	if c.NC == nil || c.Issuer == nil || c.Users == nil {
		return errors.New("callout: NC, Issuer and Users are required")
	}
	pub, err := c.Issuer.PublicKey()
	if err != nil || !nkeys.IsValidPublicAccountKey(pub) {
		return errors.New("callout: Issuer must be an account key (seed SA…, public A…)")
	}
	return nil
}

// Authorizer answers authorization requests.
type Authorizer struct {
	cfg    Config
	issuer string

	mu       sync.Mutex
	admitted uint64
	refused  map[string]uint64
	lastLog  map[string]time.Time // last refusal logged, by reason
	kicked   uint64
}

// New returns an Authorizer; Start subscribes it.
func New(cfg Config) (*Authorizer, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pub, _ := cfg.Issuer.PublicKey()
	return &Authorizer{cfg: cfg, issuer: pub, refused: map[string]uint64{}, lastLog: map[string]time.Time{}}, nil
}

// Start subscribes to Subject and returns once the servers know of the
// subscription; stop unsubscribes and waits for the requests in hand.
// Requests are answered by Config.Workers goroutines: signing dominates,
// and a fleet reconnecting at once after a hub restart must be admitted
// within the servers' auth timeout.
func (a *Authorizer) Start(ctx context.Context) (stop func(), err error) {
	reqs := make(chan *nats.Msg, 4096)
	var wg sync.WaitGroup
	for range a.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range reqs {
				a.handle(m)
			}
		}()
	}
	closeWorkers := func() { close(reqs); wg.Wait() }
	sub, err := a.cfg.NC.QueueSubscribe(Subject, a.cfg.Queue, func(m *nats.Msg) { reqs <- m })
	if err != nil {
		closeWorkers()
		return nil, fmt.Errorf("callout: subscribe %s: %w", Subject, err)
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second) // FlushWithContext needs a deadline
	defer cancel()
	if err := a.cfg.NC.FlushWithContext(fctx); err != nil {
		_ = sub.Unsubscribe()
		closeWorkers()
		return nil, fmt.Errorf("callout: subscribe %s: %w", Subject, err)
	}
	return func() {
		_ = sub.Unsubscribe() // no callback runs after it returns
		closeWorkers()
	}, nil
}

// handle answers one request. A request that cannot be decoded gets no
// answer (the server then times the connection out): without its user key
// and server ID no answer could be accepted anyway.
func (a *Authorizer) handle(m *nats.Msg) {
	req, err := jwt.DecodeAuthorizationRequestClaims(string(m.Data))
	if err != nil || req.UserNkey == "" || req.Server.ID == "" {
		a.cfg.Logger.Warn("callout: ignoring a request that is not a server-signed authorization request", "err", errors.Join(ErrBadRequest, err))
		return
	}
	resp := jwt.NewAuthorizationResponseClaims(req.UserNkey)
	resp.Audience = req.Server.ID
	key := req.ConnectOptions.Nkey
	log := a.cfg.Logger.With("key", key, "kind", req.ClientInformation.Kind, "host", req.ClientInformation.Host, "server", req.Server.Name)
	user, err := a.authorize(&req.AuthorizationRequest)
	if err == nil {
		resp.Jwt, err = a.userJWT(req, user)
	}
	if err == nil {
		err = a.record(log, key, req)
	}
	if err != nil {
		resp.Error = err.Error()
		if a.count(err) {
			log.Warn("callout: connection refused (logged at most once a second per reason)", "err", err)
		}
	}
	token, serr := resp.Encode(a.cfg.Issuer)
	if serr != nil {
		log.Error("callout: cannot sign the answer", "err", serr)
		return
	}
	// Counted before the answer, as refusals are: whoever sees the
	// connection up sees it counted.
	admitted := err == nil
	a.mu.Lock()
	if admitted {
		a.admitted++
	}
	a.mu.Unlock()
	if err := m.Respond([]byte(token)); err != nil {
		log.Warn("callout: cannot answer", "err", err)
		if admitted {
			a.mu.Lock()
			a.admitted--
			a.mu.Unlock()
		}
		return
	}
	if admitted {
		log.Debug("callout: connection admitted")
	}
}

// record remembers an admitted connection for Revoke before the answer
// goes out, so a connection that is up can always be found. It then looks
// the key up again: a key revoked while it was being recorded is refused
// rather than admitted unseen by that revocation. A session that cannot be
// recorded does not refuse the connection; it only bounds how long a
// revocation takes (the session's expiry).
func (a *Authorizer) record(log *slog.Logger, key string, req *jwt.AuthorizationRequestClaims) error {
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := a.cfg.Sessions.Add(sctx, key, Session{Server: req.Server.ID, CID: req.ClientInformation.ID, Expires: a.cfg.Now().Add(a.cfg.SessionTTL)}); err != nil {
		log.Warn("callout: admitted connection not recorded: if its key is revoked it stays connected until its session expires", "err", err)
		return nil
	}
	if _, ok := a.cfg.Users(key); !ok {
		return ErrUnregistered
	}
	return nil
}

// authorize checks the connection's proof of its key and finds the key.
func (a *Authorizer) authorize(req *jwt.AuthorizationRequest) (User, error) {
	co := req.ConnectOptions
	if co.Nkey == "" {
		return User{}, ErrNoKey
	}
	pub, err := nkeys.FromPublicKey(co.Nkey)
	if err != nil || !nkeys.IsValidPublicUserKey(co.Nkey) {
		return User{}, fmt.Errorf("%w: %q is not a user nkey", ErrBadSignature, co.Nkey)
	}
	sig, err := base64.RawURLEncoding.DecodeString(co.SignedNonce)
	if err != nil {
		sig, err = base64.StdEncoding.DecodeString(co.SignedNonce)
	}
	if err != nil || req.ClientInformation.Nonce == "" || pub.Verify([]byte(req.ClientInformation.Nonce), sig) != nil {
		return User{}, ErrBadSignature
	}
	u, ok := a.cfg.Users(co.Nkey)
	if !ok {
		return User{}, ErrUnregistered
	}
	return u, nil
}

// userJWT is the admitted connection's user: its permissions exactly as the
// embedded hub gives them, its connection type, and the session's expiry.
func (a *Authorizer) userJWT(req *jwt.AuthorizationRequestClaims, u User) (string, error) {
	uc := jwt.NewUserClaims(req.UserNkey)
	uc.Audience = a.cfg.Account
	uc.Name = u.Nkey
	uc.Expires = a.cfg.Now().Add(a.cfg.SessionTTL).Unix()
	uc.Pub.Allow.Add(allowOnly(u.Permissions.Publish)...)
	uc.Sub.Allow.Add(allowOnly(u.Permissions.Subscribe)...)
	if u.Kind != "" {
		uc.AllowedConnectionTypes.Add(u.Kind)
	}
	token, err := uc.Encode(a.cfg.Issuer)
	if err != nil {
		return "", fmt.Errorf("callout: sign user: %w", err)
	}
	return token, nil
}

// allowOnly keeps an empty allow list meaning "nothing": nats-server reads
// an empty list as "everything".
func allowOnly(subjects []string) []string {
	if len(subjects) == 0 {
		return []string{"_fleetwire_nothing_"}
	}
	return slices.Clone(subjects)
}

// count counts a refusal and reports whether to log it: at most once a
// second per reason, since a refused gateway retries every second.
func (a *Authorizer) count(err error) (logIt bool) {
	reason := ReasonUnregistered
	switch {
	case errors.Is(err, ErrNoKey):
		reason = ReasonNoKey
	case errors.Is(err, ErrBadSignature):
		reason = ReasonBadSignature
	case errors.Is(err, ErrUnregistered):
	default:
		reason = "error"
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refused[reason]++
	if now := time.Now(); now.Sub(a.lastLog[reason]) >= time.Second {
		a.lastLog[reason] = now
		return true
	}
	return false
}

// Revoke disconnects the connections admitted for keys, by this Authorizer
// or, with shared Sessions, by any (the keys must already be gone from the
// registry, or they would be admitted again). Without Config.Disconnect it
// only forgets them and reports ErrCannotDisconnect: they stay connected
// until their session expires. It returns how many connections their
// servers disconnected.
func (a *Authorizer) Revoke(ctx context.Context, keys ...string) (int, error) {
	var todo []Session
	var errs []error
	for _, k := range keys {
		ss, err := a.cfg.Sessions.Take(ctx, k)
		if err != nil {
			errs = append(errs, err)
		}
		todo = append(todo, ss...)
	}
	if len(todo) == 0 {
		return 0, errors.Join(errs...)
	}
	if a.cfg.Disconnect == nil {
		return 0, errors.Join(append(errs, ErrCannotDisconnect)...)
	}
	kicked := 0
	for _, s := range todo {
		if !s.Expires.After(a.cfg.Now()) {
			continue
		}
		ok, err := a.cfg.Disconnect(ctx, s.Server, s.CID)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			kicked++
		}
	}
	a.mu.Lock()
	a.kicked += uint64(kicked)
	a.mu.Unlock()
	return kicked, errors.Join(errs...)
}

// ErrCannotDisconnect: Revoke has no way to close connections.
var ErrCannotDisconnect = errors.New("callout: no way to disconnect (hub.callout.system_key_file): revoked connections stay until their session expires")

// SystemDisconnect closes connections through nc, a connection of the
// cluster's system account ($SYS.REQ.SERVER.<id>.KICK). A connection
// already gone (the vehicle reconnected with another ID) is not an error.
func SystemDisconnect(nc *nats.Conn) Disconnect {
	return func(ctx context.Context, serverID string, cid uint64) (bool, error) {
		body, _ := json.Marshal(server.KickClientReq{CID: cid})
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		m, err := nc.RequestWithContext(rctx, "$SYS.REQ.SERVER."+serverID+".KICK", body)
		if err != nil {
			return false, fmt.Errorf("callout: disconnect cid %d on server %s: %w", cid, serverID, err)
		}
		var r struct {
			Error *struct {
				Description string `json:"description"`
			} `json:"error"`
		}
		if err := json.Unmarshal(m.Data, &r); err != nil {
			return false, fmt.Errorf("callout: disconnect cid %d on server %s: %w", cid, serverID, err)
		}
		return r.Error == nil, nil
	}
}

// Stats are the Authorizer's counters since start.
type Stats struct {
	Admitted uint64
	Refused  map[string]uint64 // by reason
	// Disconnected counts connections closed on revocation.
	Disconnected uint64
}

// Stats returns a copy of the counters.
func (a *Authorizer) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := make(map[string]uint64, len(a.refused))
	for k, n := range a.refused {
		r[k] = n
	}
	return Stats{Admitted: a.admitted, Refused: r, Disconnected: a.kicked}
}
