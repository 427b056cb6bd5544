package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/callout"
	"github.com/fleetwire/fleetwire/cloud/hub/localcluster"
	"github.com/fleetwire/fleetwire/cloud/identities"
	"github.com/fleetwire/fleetwire/cloud/server"
	"github.com/fleetwire/fleetwire/edge/agent"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/fleetwire/fleetwire/shared/testcert"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// securedClusterFiles secures a copy of deploy/nats in dir with test
// certificates (localcluster.Secure: auth.conf included, TLS on the client
// and leaf ports, `fleetwire hub-auth init`).
func securedClusterFiles(t *testing.T, dir string) (callout.Files, testcert.Files) {
	t.Helper()
	certs, err := testcert.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files, err := localcluster.Secure(filepath.Join(deployDir, "nats"), dir, &localcluster.TLSFiles{Cert: certs.Cert, Key: certs.Key})
	if err != nil {
		t.Fatal(err)
	}
	return files, certs
}

// TestExternalClusterAuth runs fleetwire serve against the 3-node cluster
// of deploy/nats secured as deploy/README.md says (`fleetwire hub-auth
// init`, auth.conf included by every node, TLS on the client and leaf
// ports): fleetwire serve connects with
// its own nkey and admits vehicles and customer clients from its key
// registry through the servers' authorization callout. Registered vehicles
// deliver everything, signed and in order; a leaf with no key or an
// unknown key never links; a leaf with v1's key cannot publish as v2; a
// customer client gets only its credential's permissions; a revoked
// vehicle is disconnected at once, keeps its events and delivers them when
// registered again. Nothing but fleetwire's own users and the registry's
// keys gets in, and no seed is logged.
func TestExternalClusterAuth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	confDir := filepath.Join(dir, "nats")
	files, certs := securedClusterFiles(t, confDir)
	cl, err := localcluster.Start(ctx, localcluster.Config{
		Files: localcluster.ConfigFiles(confDir), Dir: filepath.Join(dir, "stores"), MaxStore: 1 << 30, Logger: clusterLog(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Shutdown)

	// Without fleetwire's key the cluster admits no one, not even to ask;
	// a client that does not trust its certificate does not get that far.
	if nc, err := nats.Connect(cl.ClientURLs(), nats.MaxReconnects(0), nats.RootCAs(certs.CA)); err == nil {
		nc.Close()
		t.Fatal("the secured cluster admitted a connection without credentials")
	}
	if nc, err := nats.Connect(cl.ClientURLs(), nats.MaxReconnects(0), nats.Nkey(pubOf(t, files.Service))); err == nil || !strings.Contains(err.Error(), "certificate") {
		if nc != nil {
			nc.Close()
		}
		t.Fatalf("connection without the CA: %v, want a certificate error", err)
	}

	keys, keyFiles := map[string]nkeys.KeyPair{}, map[string]string{}
	var registered []server.VehicleKey
	for _, id := range []string{"v1", "v2"} {
		keyFiles[id] = filepath.Join(dir, id+".nk")
		kp, _, err := identity.LoadOrCreateKey(keyFiles[id])
		if err != nil {
			t.Fatal(err)
		}
		keys[id] = kp
		registered = append(registered, server.VehicleKey{Account: "acme", Vehicle: id, Key: identity.PublicKey(kp)})
	}
	logs := &lockedBuffer{}
	c := startClusterCloudOn(t, ctx, cl, func(cfg *server.Config) {
		cfg.Hub.Auth = true
		cfg.Hub.NkeyFile = files.Service
		cfg.Hub.CAFile = certs.CA
		cfg.Hub.Callout = server.CalloutConfig{IssuerFile: files.Issuer, SystemKeyFile: files.System}
		cfg.VehicleKeys = registered
	}, server.WithLogger(debugLogger(logs)))
	vehicleWith := func(id string) *vehicle {
		return startVehicleWith(t, ctx, c, id, func(cfg *agent.Config) { cfg.Hub.KeyFile, cfg.Hub.CAFile = keyFiles[id], certs.CA }, agent.WithLogger(debugLogger(logs)))
	}
	v1, v2 := vehicleWith("v1"), vehicleWith("v2")
	fixes := loadFixes(t, "munich-gps.nmea", 40)
	v1.drive(ctx, fixes[:10])
	v2.drive(ctx, fixes[:10])
	assertDelivered(t, ctx, c, v1, v2)
	for _, d := range c.rcv.Deliveries() {
		if err := identity.VerifyDelivered(d.Header.Get(identity.HeaderKey), d.Header.Get(identity.HeaderSignature), d.Body); err != nil {
			t.Fatalf("delivery %s: the vehicle's signature does not verify: %v", d.ID, err)
		}
	}
	metricsURL := "http://" + c.srv.APIAddr() + "/metrics"

	t.Run("leaves without a registered key never link", func(t *testing.T) {
		stranger, err := identity.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ name, seed, reason string }{
			{"no key", "", callout.ReasonNoKey},
			{"unregistered key", seed(t, stranger), callout.ReasonUnregistered},
		} {
			l := startLeaf(t, ctx, c, "x-"+strings.ReplaceAll(tc.name, " ", "-"), tc.seed, certs.CA)
			// The refusal is counted once a server asked fleetwire.
			want := `fleetwire_callout_refused_total{reason="` + tc.reason + `"}`
			waitUntil(t, ctx, tc.name+" refused", func() bool { return strings.Contains(scrape(t, ctx, metricsURL), want) })
			if l.LeafConnected() {
				t.Fatalf("%s: linked up", tc.name)
			}
		}
	})

	t.Run("a leaf with v1's key cannot publish as v2", func(t *testing.T) {
		l := startLeaf(t, ctx, c, "rogue", seed(t, keys["v1"]), certs.CA)
		if err := l.WaitLeafConnected(ctx); err != nil {
			t.Fatal(err)
		}
		nc, err := l.Connect("rogue", nats.CustomInboxPrefix(identity.InboxPrefix("acme", "v1")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		if resp := answered(t, ctx, nc, "reading v1's own last event", nats.NewMsg("$JS.hub.API.DIRECT.GET.EVENTS."+event.VehicleSubjects("acme", "v1"))); resp.Header.Get("Nats-Subject") == "" {
			t.Fatalf("reading v1's own last event: %q %v", resp.Data, resp.Header)
		}
		denied(t, ctx, nc, "publishing as v2 (signed by v2's key, stolen)", signedEvent(t, keys["v2"], "acme", "v2", 11))
		denied(t, ctx, nc, "publishing to EVENTS directly", func() *nats.Msg {
			m := signedEvent(t, keys["v1"], "acme", "v1", 11)
			m.Subject = event.Subject("acme", "v1", event.TypeHeartbeat)
			return m
		}())
	})

	t.Run("a customer client gets only its credential", func(t *testing.T) {
		ckp, err := identity.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		ids, err := identities.Open(ctx, c.srv.Hub().JS, 3)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ids.Put(ctx, identities.Identity{Kind: identities.Customer, Account: "acme", Key: identity.PublicKey(ckp)}); err != nil {
			t.Fatal(err)
		}
		asyncErrs := make(chan error, 8)
		// The registry reaches fleetwire serve through its watch: the first
		// attempts may come before it.
		var nc *nats.Conn
		waitUntil(t, ctx, "the customer admitted", func() bool {
			nc, err = nats.Connect(cl.ClientURLs(), nats.Nkey(identity.PublicKey(ckp), ckp.Sign), nats.MaxReconnects(0), nats.RootCAs(certs.CA),
				nats.CustomInboxPrefix(identity.CustomerInboxPrefix("acme")),
				nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { asyncErrs <- err }))
			return err == nil
		})
		t.Cleanup(nc.Close)
		if err := nc.Publish(identity.IngestSubject("acme", "v1", event.TypeHeartbeat), []byte("{}")); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-asyncErrs:
			if !strings.Contains(err.Error(), "Permissions Violation") {
				t.Fatalf("publishing: %v", err)
			}
		case <-ctx.Done():
			t.Fatal("the customer published as a vehicle")
		}
	})

	t.Run("revoked, disconnected, then registered again", func(t *testing.T) {
		ids, err := identities.Open(ctx, c.srv.Hub().JS, 3)
		if err != nil {
			t.Fatal(err)
		}
		if err := ids.Delete(ctx, "acme", identity.PublicKey(keys["v2"])); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, ctx, "v2's link cut", func() bool { return !v2.ag.LinkUp() })
		// The server closes the link before it answers the kick, so the
		// count may follow the cut by a moment.
		disconnected := func(m string) bool {
			return strings.Contains(m, "fleetwire_callout_disconnected_total") && !strings.Contains(m, "fleetwire_callout_disconnected_total 0\n")
		}
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		for m := scrape(t, ctx, metricsURL); !disconnected(m); m = scrape(t, ctx, metricsURL) {
			select {
			case <-wctx.Done():
				t.Fatalf("revocation did not disconnect through the cluster:\n%s", grep(m, "fleetwire_callout"))
			case <-time.After(50 * time.Millisecond):
			}
		}
		wcancel()
		before := len(v2.storedEvents())
		v2.drive(ctx, fixes[10:20])
		v1.drive(ctx, fixes[10:20])
		if _, err := c.rcv.WaitFor(ctx, len(v1.storedEvents())+before); err != nil {
			t.Fatal(err)
		}
		if st := v2.ag.Stats(); st.Backlog() == 0 || v2.ag.LinkUp() {
			t.Fatalf("revoked v2: link up %v, backlog %d; want cut off with its events kept", v2.ag.LinkUp(), st.Backlog())
		}
		if _, err := ids.Put(ctx, identities.Identity{Kind: identities.Vehicle, Account: "acme", Vehicle: "v2", Key: identity.PublicKey(keys["v2"])}); err != nil {
			t.Fatal(err)
		}
		assertDelivered(t, ctx, c, v1, v2)
	})

	// No seed in any log: fleetwire's three, the vehicles'.
	all := logs.String()
	for name, path := range map[string]string{"service": files.Service, "system": files.System, "issuer": files.Issuer, "v1": keyFiles["v1"], "v2": keyFiles["v2"]} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(all, strings.TrimSpace(string(b))) {
			t.Errorf("the %s seed appears in the logs", name)
		}
	}
	if !strings.Contains(all, "connection refused") {
		t.Fatalf("the log capture is not working (%d bytes)", len(all))
	}
}

// startLeaf is a bare leaf server linking to the cloud with seed ("" none)
// over TLS, trusting the PEM CA in caFile.
func startLeaf(t *testing.T, ctx context.Context, c *cloud, name, seed, caFile string) *natsembed.Server {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	l, err := natsembed.Start(ctx, natsembed.Config{Name: name, Domain: name, StoreDir: t.TempDir(),
		LeafRemotes: []string{"nats-leaf://" + c.leaf}, LeafReconnect: 50 * time.Millisecond, LeafSeed: seed,
		LeafTLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Shutdown(context.Background()) })
	return l
}

// pubOf signs with nothing useful: it presents the public key of the seed
// in file, for a connection that must be refused before any signature.
func pubOf(t *testing.T, file string) (string, nats.SignatureHandler) {
	t.Helper()
	kp, err := identity.LoadKey(file)
	if err != nil {
		t.Fatal(err)
	}
	return identity.PublicKey(kp), kp.Sign
}

// debugLogger logs everything, at debug level, into w.
func debugLogger(w *lockedBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
