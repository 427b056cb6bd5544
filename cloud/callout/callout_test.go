package callout_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/callout"
	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// cluster is one nats-server configured as deploy/ configures a cluster
// node for the callout: it includes the auth.conf that ClusterKeys.Conf
// writes.
type cluster struct {
	ns                    *server.Server
	service, system, oper nkeys.KeyPair
	issuer                nkeys.KeyPair
}

func mustKey(t testing.TB, create func() (nkeys.KeyPair, error)) nkeys.KeyPair {
	t.Helper()
	kp, err := create()
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func pub(t testing.TB, kp nkeys.KeyPair) string {
	t.Helper()
	p, err := kp.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func startServer(t testing.TB) *cluster {
	t.Helper()
	c := &cluster{
		service: mustKey(t, nkeys.CreateUser), system: mustKey(t, nkeys.CreateUser), oper: mustKey(t, nkeys.CreateUser),
		issuer: mustKey(t, nkeys.CreateAccount),
	}
	conf, err := callout.ClusterKeys{Service: pub(t, c.service), System: pub(t, c.system), Issuer: pub(t, c.issuer), Operators: []string{pub(t, c.oper)}}.Conf()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "auth.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	main := "listen: 127.0.0.1:-1\nserver_name: hub-1\njetstream { store_dir: \"" + filepath.Join(dir, "js") + "\" }\ninclude ./auth.conf\n"
	if err := os.WriteFile(filepath.Join(dir, "hub.conf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(filepath.Join(dir, "hub.conf"))
	if err != nil {
		t.Fatalf("the generated auth.conf does not load: %v\n%s", err, conf)
	}
	opts.NoSigs, opts.NoLog = true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	c.ns = ns
	return c
}

func connect(t testing.TB, url string, kp nkeys.KeyPair, opts ...nats.Option) (*nats.Conn, error) {
	t.Helper()
	if kp != nil {
		opts = append(opts, nats.Nkey(pub(t, kp), kp.Sign))
	}
	opts = append(opts, nats.MaxReconnects(0), nats.Timeout(5*time.Second))
	nc, err := nats.Connect(url, opts...)
	if err == nil {
		t.Cleanup(nc.Close)
	}
	return nc, err
}

// registry is a map behind a lock, as the server's registry snapshot is.
type registry struct {
	mu    sync.Mutex
	users map[string]callout.User
}

func (r *registry) set(u callout.User) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.users[u.Nkey] = u
}

func (r *registry) remove(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.users, key)
}

func (r *registry) lookup(key string) (callout.User, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u, ok := r.users[key]
	return u, ok
}

func startAuthorizer(t testing.TB, ctx context.Context, c *cluster, reg *registry, withSystem bool) *callout.Authorizer {
	t.Helper()
	nc, err := connect(t, c.ns.ClientURL(), c.service)
	if err != nil {
		t.Fatalf("fleetwire's service user cannot connect: %v", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// As fleetwire serve runs it: sessions in the hub's KV bucket.
	sessions, err := callout.KVSessions(ctx, js, time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := callout.Config{NC: nc, Issuer: c.issuer, Users: reg.lookup, Sessions: sessions}
	if withSystem {
		sys, err := connect(t, c.ns.ClientURL(), c.system)
		if err != nil {
			t.Fatalf("system user cannot connect: %v", err)
		}
		cfg.Disconnect = callout.SystemDisconnect(sys)
	}
	a, err := callout.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop, err := a.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return a
}

func TestCallout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := startServer(t)
	reg := &registry{users: map[string]callout.User{}}
	a := startAuthorizer(t, ctx, c, reg, true)

	customer := mustKey(t, nkeys.CreateUser)
	reg.set(callout.User{Nkey: pub(t, customer), Kind: callout.KindClient, Permissions: identity.CustomerPermissions("EVENTS", "acme")})
	vehicle := mustKey(t, nkeys.CreateUser)
	reg.set(callout.User{Nkey: pub(t, vehicle), Kind: callout.KindLeaf, Permissions: identity.VehiclePermissions("hub", "EVENTS", "acme", "v1")})
	stranger := mustKey(t, nkeys.CreateUser)

	url := c.ns.ClientURL()
	refused := []struct {
		name string
		kp   nkeys.KeyPair
		opts []nats.Option
	}{
		{"no credentials", nil, nil},
		{"user and password", nil, []nats.Option{nats.UserInfo("admin", "admin")}},
		{"unregistered key", stranger, nil},
		{"a vehicle's key on a client connection", vehicle, nil},
		{"a registered key with another key's signature", nil, []nats.Option{nats.Nkey(pub(t, customer), stranger.Sign)}},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			_, err := connect(t, url, tc.kp, tc.opts...)
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
				t.Fatalf("connected or wrong error: %v", err)
			}
		})
	}
	st := a.Stats()
	if st.Refused[callout.ReasonNoKey] != 2 || st.Refused[callout.ReasonUnregistered] != 1 || st.Refused[callout.ReasonBadSignature] != 1 {
		t.Fatalf("refusals counted %v, want no_key 2, unregistered 1, bad_signature 1", st.Refused)
	}

	t.Run("operator is not asked about", func(t *testing.T) {
		nc, err := connect(t, url, c.oper)
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.Publish("anything.at.all", nil); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("customer gets its permissions", func(t *testing.T) {
		errs := make(chan error, 4)
		nc, err := connect(t, url, customer, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
		if err != nil {
			t.Fatalf("registered customer refused: %v", err)
		}
		if err := nc.Publish("fleet.events.acme.v1.position", []byte("{}")); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errs:
			if !errors.Is(err, nats.ErrPermissionViolation) {
				t.Fatalf("got %v, want a permissions violation", err)
			}
		case <-ctx.Done():
			t.Fatal("publishing to events was not refused")
		}
		// Its own inbox is allowed.
		if _, err := nc.SubscribeSync(identity.CustomerInboxPrefix("acme") + ".x"); err != nil {
			t.Fatal(err)
		}
		if err := nc.FlushTimeout(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errs:
			t.Fatalf("own inbox refused: %v", err)
		default:
		}
	})

	t.Run("revoked customer is disconnected and cannot come back", func(t *testing.T) {
		closed := make(chan struct{})
		nc, err := connect(t, url, customer, nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
		if err != nil {
			t.Fatal(err)
		}
		_ = nc
		reg.remove(pub(t, customer))
		n, err := a.Revoke(ctx, pub(t, customer))
		if err != nil {
			t.Fatal(err)
		}
		if n < 1 {
			t.Fatalf("%d connections disconnected, want at least 1", n)
		}
		select {
		case <-closed:
		case <-ctx.Done():
			t.Fatal("revoked connection still open")
		}
		if _, err := connect(t, url, customer); err == nil {
			t.Fatal("revoked key connected again")
		}
	})
}

func TestRevokeWithoutSystem(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := startServer(t)
	reg := &registry{users: map[string]callout.User{}}
	a := startAuthorizer(t, ctx, c, reg, false)
	k := mustKey(t, nkeys.CreateUser)
	reg.set(callout.User{Nkey: pub(t, k), Kind: callout.KindClient, Permissions: identity.CustomerPermissions("EVENTS", "acme")})
	if _, err := connect(t, c.ns.ClientURL(), k); err != nil {
		t.Fatal(err)
	}
	reg.remove(pub(t, k))
	if _, err := a.Revoke(ctx, pub(t, k)); !errors.Is(err, callout.ErrCannotDisconnect) {
		t.Fatalf("Revoke without a system connection: %v, want ErrCannotDisconnect", err)
	}
}

func TestConfValidates(t *testing.T) {
	u, acc := pub(t, mustKey(t, nkeys.CreateUser)), pub(t, mustKey(t, nkeys.CreateAccount))
	for _, tc := range []struct {
		name string
		keys callout.ClusterKeys
	}{
		{"issuer is a user key", callout.ClusterKeys{Service: u, System: u, Issuer: u}},
		{"service is an account key", callout.ClusterKeys{Service: acc, System: u, Issuer: acc}},
		{"empty system", callout.ClusterKeys{Service: u, Issuer: acc}},
		{"bad operator", callout.ClusterKeys{Service: u, System: u, Issuer: acc, Operators: []string{"Uxyz"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.keys.Conf(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
