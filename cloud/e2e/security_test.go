package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"github.com/fleetwire/fleetwire/shared/geofence"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/identities"
	"github.com/fleetwire/fleetwire/cloud/server"
	"github.com/fleetwire/fleetwire/edge/agent"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/fleetwire/fleetwire/shared/natsembed"
	"github.com/fleetwire/fleetwire/shared/testcert"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// secureFleet is a cloud with hub.auth and TLS, and the keys of its
// vehicles: acme/v1, acme/v2 and globex/w1.
type secureFleet struct {
	c     *cloud
	logs  *lockedBuffer // everything the cloud and the vehicles logged
	certs testcert.Files
	keys  map[string]nkeys.KeyPair // by vehicle id
	files map[string]string        // key file by vehicle id
}

var fleetAccounts = map[string]string{"v1": "acme", "v2": "acme", "w1": "globex"}

func startSecureFleet(t *testing.T, ctx context.Context) *secureFleet {
	t.Helper()
	dir := t.TempDir()
	certs, err := testcert.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := &secureFleet{certs: certs, keys: map[string]nkeys.KeyPair{}, files: map[string]string{}, logs: &lockedBuffer{}}
	var registered []server.VehicleKey
	for id, account := range fleetAccounts {
		f.files[id] = filepath.Join(dir, id+".nk")
		kp, created, err := identity.LoadOrCreateKey(f.files[id])
		if err != nil || !created {
			t.Fatalf("key of %s: created %v, %v", id, created, err)
		}
		f.keys[id] = kp
		registered = append(registered, server.VehicleKey{Account: account, Vehicle: id, Key: identity.PublicKey(kp)})
	}
	f.c = startCloudWith(t, ctx, func(cfg *server.Config) {
		cfg.Hub.Auth = true
		cfg.Hub.TLS = server.TLSConfig{CertFile: certs.Cert, KeyFile: certs.Key}
		cfg.Hub.Listen = freeAddr(t)
		cfg.API.Listen = freeAddr(t)
		cfg.API.TokenFile = filepath.Join(dir, "operator.token")
		cfg.VehicleKeys = registered
		cfg.Geofences = []server.GeofenceImport{
			{Account: "acme", File: "../../testdata/geofences/munich/umweltzone_muenchen.geojson", Tags: []string{"low-emission-zone"}},
			{Account: "globex", File: "../../testdata/geofences/cologne/umweltzone.geojson", Tags: []string{"low-emission-zone"}},
		}
	}, server.WithLogger(f.logger()))
	return f
}

// vehicle starts the agent of id with its key file and the test CA.
func (f *secureFleet) vehicle(t *testing.T, ctx context.Context, id string) *vehicle {
	t.Helper()
	return startVehicleWith(t, ctx, f.c, id, func(cfg *agent.Config) {
		cfg.Vehicle.Account = fleetAccounts[id]
		cfg.Hub.KeyFile = f.files[id]
		cfg.Hub.CAFile = f.certs.CA
	}, agent.WithLogger(f.logger()))
}

func (f *secureFleet) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// leaf starts a bare leaf node with seed ("" for none) linking to the hub
// over TLS (or not), and a client on it with the inbox of vehicle id. With
// linked, it returns once the link is up.
func (f *secureFleet) leaf(t *testing.T, ctx context.Context, name, seed string, withTLS bool, id string, linked bool) (*natsembed.Server, *nats.Conn) {
	t.Helper()
	var tc *tls.Config
	if withTLS {
		tc = f.tlsConfig(t)
	}
	l, err := natsembed.Start(ctx, natsembed.Config{Name: name, Domain: name, StoreDir: t.TempDir(),
		LeafRemotes: []string{"nats-leaf://" + f.c.leaf}, LeafReconnect: 50 * time.Millisecond, LeafSeed: seed, LeafTLS: tc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Shutdown(context.Background()) })
	if linked {
		if err := l.WaitLeafConnected(ctx); err != nil {
			t.Fatal(err)
		}
	}
	nc, err := l.Connect(name, nats.CustomInboxPrefix(identity.InboxPrefix(fleetAccounts[id], id)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return l, nc
}

func (f *secureFleet) tlsConfig(t *testing.T) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(f.certs.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

func seed(t *testing.T, kp nkeys.KeyPair) string {
	t.Helper()
	s, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	return string(s)
}

// signedEvent is an event of vehicle (account/id) signed with kp.
func signedEvent(t *testing.T, kp nkeys.KeyPair, account, id string, seq uint64) *nats.Msg {
	t.Helper()
	e := event.Event{ID: event.NewID(time.Now()), Type: event.TypeHeartbeat, SchemaVersion: event.SchemaVersion,
		OccurredAt: event.Time{Time: time.Now()}, Account: account, Vehicle: event.Vehicle{ID: id}, Seq: seq}
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := identity.SignEvent(kp, b)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(identity.IngestSubject(account, id, event.TypeHeartbeat))
	m.Header.Set(identity.HeaderKey, identity.PublicKey(kp))
	m.Header.Set(identity.HeaderSignature, sig)
	m.Data = b
	return m
}

// denied asserts that a request from nc gets no answer: the hub drops
// what a connection's permissions do not allow. Call it after answered has
// shown that nc's requests do reach the hub, or silence proves nothing.
func denied(t *testing.T, ctx context.Context, nc *nats.Conn, what string, m *nats.Msg) {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	resp, err := nc.RequestMsgWithContext(rctx, m)
	if err == nil {
		t.Fatalf("%s: answered %q %v, want no answer (denied)", what, resp.Data, resp.Header)
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("%s: %v", what, err)
	}
}

// answered asserts that a request from nc gets an answer within 5 s,
// asking again while the hub's interest has not yet crossed a new link (no
// responders, or a 503 from a server that cannot reach JetStream yet).
func answered(t *testing.T, ctx context.Context, nc *nats.Conn, what string, m *nats.Msg) *nats.Msg {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		resp, err := nc.RequestMsgWithContext(rctx, m)
		if err == nil && !strings.Contains(string(resp.Data), `"code":503`) {
			return resp
		}
		if err != nil && !errors.Is(err, nats.ErrNoResponders) {
			t.Fatalf("%s: %v", what, err)
		}
		select {
		case <-rctx.Done():
			t.Fatalf("%s: %v", what, rctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestSecureFleet runs the fleet as in production: hub.auth, TLS on the
// leaf and client listeners, each vehicle with its own key. Real agents'
// events arrive signed by their vehicle (checked end to end on the webhook
// body). A leaf holding v1's key cannot publish as v2, cannot publish to
// EVENTS directly, cannot read another account's events or fences, and
// receives none of the other vehicles' traffic; events it signs with the
// wrong key or modifies are refused and counted in /metrics. Leaves with
// no key, an unknown key or no TLS never link up. A revoked vehicle is cut
// off and keeps its events, which arrive when it is registered again. A
// customer's NATS credential reads its account's events through its own
// consumer and nothing else. No secret appears in any log.
func TestSecureFleet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	f := startSecureFleet(t, ctx)
	v1, v2 := f.vehicle(t, ctx, "v1"), f.vehicle(t, ctx, "v2")
	w1 := f.vehicle(t, ctx, "w1")
	fixes := loadFixes(t, "munich-gps.nmea", 30)
	v1.drive(ctx, fixes[:10])
	v2.drive(ctx, fixes[:10])
	w1.drive(ctx, fixes[:10])
	assertDelivered(t, ctx, f.c, v1, v2)
	for _, d := range f.c.rcv.Deliveries() {
		id := d.Event.Vehicle.ID
		if got := d.Header.Get(identity.HeaderKey); got != identity.PublicKey(f.keys[id]) {
			t.Fatalf("delivery of %s carries key %q, want the vehicle's", id, got)
		}
		if err := identity.VerifyDelivered(d.Header.Get(identity.HeaderKey), d.Header.Get(identity.HeaderSignature), d.Body); err != nil {
			t.Fatalf("delivery %s of %s: the vehicle's signature does not verify on the webhook body: %v", d.ID, id, err)
		}
	}
	// Under their permissions, the vehicles copied their own account's
	// fences (and only those: the counts differ).
	for _, c := range []struct {
		v    *vehicle
		want int
	}{{v1, countFences(t, "munich/umweltzone_muenchen.geojson")}, {w1, countFences(t, "cologne/umweltzone.geojson")}} {
		waitUntil(t, ctx, c.v.id+"'s fences", func() bool { return fenceGauge(t, c.v) == c.want })
	}
	js := f.c.srv.Hub().JS
	waitStored := func(account, id string, n int) {
		t.Helper()
		for {
			info, err := f.c.srv.Hub().Events.Info(ctx, jetstream.WithSubjectFilter(event.VehicleSubjects(account, id)))
			if err == nil && len(info.State.Subjects) > 0 {
				total := 0
				for _, c := range info.State.Subjects {
					total += int(c)
				}
				if total >= n {
					return
				}
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s/%s: fewer than %d events on the hub", account, id, n)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	waitStored("globex", "w1", len(w1.storedEvents()))

	t.Run("a leaf with v1's key", func(t *testing.T) {
		_, nc := f.leaf(t, ctx, "rogue", seed(t, f.keys["v1"]), true, "v1", true)
		// Everything the rogue might receive, to check it receives nothing.
		var leaked []string
		spy := make(chan *nats.Msg, 1024)
		for _, subj := range []string{event.SubjectRoot + ".>", identity.IngestRoot + ".>", identity.DeliverRoot + ".>", identity.InboxRoot + ".acme.v2.>", "$JS.>"} {
			if _, err := nc.ChanSubscribe(subj, spy); err != nil {
				t.Fatal(err)
			}
		}
		sentinel, err := nc.SubscribeSync(identity.InboxPrefix("acme", "v1") + ".sentinel")
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		// More traffic from the other vehicles, then a sentinel on the
		// rogue's own inbox: anything leaked would have come before it.
		v2.drive(ctx, fixes[10:15])
		w1.drive(ctx, fixes[10:15])
		if _, err := f.c.rcv.WaitFor(ctx, len(v1.storedEvents())+len(v2.storedEvents())); err != nil {
			t.Fatal(err)
		}
		waitStored("globex", "w1", len(w1.storedEvents()))
		// Controls: the spy does receive what v1 may receive, and not the
		// same thing addressed to v2.
		hubNC := f.c.srv.Hub().NC
		// The rogue's interest reaches the hub asynchronously: repeat until
		// the sentinel arrives.
		for got := false; !got; {
			for _, subj := range []string{identity.DeliverPrefix("acme", "v1") + ".control", identity.DeliverPrefix("acme", "v2") + ".control", identity.InboxPrefix("acme", "v1") + ".sentinel"} {
				if err := hubNC.Publish(subj, nil); err != nil {
					t.Fatal(err)
				}
			}
			wctx, wcancel := context.WithTimeout(ctx, 200*time.Millisecond)
			_, err := sentinel.NextMsgWithContext(wctx)
			wcancel()
			if ctx.Err() != nil {
				t.Fatalf("the sentinel never reached the rogue leaf: %v", err)
			}
			got = err == nil
		}
		// It gets v1's own traffic (it holds v1's key: the hub cannot tell
		// them apart) and its account's fences, nothing of anyone else.
		control := false
		for len(spy) > 0 {
			m := <-spy
			control = control || m.Subject == identity.DeliverPrefix("acme", "v1")+".control"
			if othersTraffic(m) {
				leaked = append(leaked, m.Subject)
			}
		}
		if !control {
			t.Fatal("the spy missed the control message sent to v1's own subjects")
		}
		if len(leaked) > 0 {
			t.Fatalf("the rogue leaf received %d messages of other vehicles or accounts: %v", len(leaked), leaked[:min(5, len(leaked))])
		}

		denied(t, ctx, nc, "publishing as v2 (signed by v1)", signedEvent(t, f.keys["v1"], "acme", "v2", 11))
		denied(t, ctx, nc, "publishing as v2 (signed by v2's key, stolen)", signedEvent(t, f.keys["v2"], "acme", "v2", 11))
		direct := signedEvent(t, f.keys["v1"], "acme", "v1", 11)
		direct.Subject = event.Subject("acme", "v1", event.TypeHeartbeat)
		denied(t, ctx, nc, "publishing to EVENTS directly", direct)
		denied(t, ctx, nc, "stream info", nats.NewMsg("$JS.hub.API.STREAM.INFO.EVENTS"))
		denied(t, ctx, nc, "reading another account's last event", nats.NewMsg("$JS.hub.API.DIRECT.GET.EVENTS."+event.VehicleSubjects("globex", "w1")))
		denied(t, ctx, nc, "reading another vehicle's last event", nats.NewMsg("$JS.hub.API.DIRECT.GET.EVENTS."+event.VehicleSubjects("acme", "v2")))
		other := nats.NewMsg("$JS.hub.API.CONSUMER.CREATE.KV_FENCES.steal.$KV.FENCES.globex.>")
		other.Data = []byte(`{"stream_name":"KV_FENCES","config":{"name":"steal","filter_subject":"$KV.FENCES.globex.>","deliver_subject":"fleet.deliver.acme.v1.steal","ack_policy":"none"}}`)
		denied(t, ctx, nc, "copying another account's geofences", other)

		// The rogue may read its own last event: the permissions are not
		// simply "nothing".
		if resp := answered(t, ctx, nc, "reading its own last event", nats.NewMsg("$JS.hub.API.DIRECT.GET.EVENTS."+event.VehicleSubjects("acme", "v1"))); resp.Header.Get("Nats-Subject") == "" {
			t.Fatalf("reading its own last event: %q %v", resp.Data, resp.Header)
		}

		// Refused by the ingest verifier: counted, never stored.
		wrongKey := signedEvent(t, f.keys["w1"], "acme", "v1", 11)
		tampered := signedEvent(t, f.keys["v1"], "acme", "v1", 11)
		tampered.Data = []byte(strings.Replace(string(tampered.Data), `"seq":11`, `"seq":12`, 1))
		for name, m := range map[string]*nats.Msg{"signed with another vehicle's key": wrongKey, "modified after signing": tampered} {
			rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
			resp, err := nc.RequestMsgWithContext(rctx, m)
			rcancel()
			if err != nil || !strings.Contains(string(resp.Data), `"err_code":10403`) {
				t.Fatalf("%s: %v %q, want the verifier's refusal", name, err, respData(resp))
			}
		}
		metrics := scrape(t, ctx, "http://"+f.c.srv.APIAddr()+"/metrics")
		for _, want := range []string{`fleetwire_ingest_rejected_total{reason="wrong_key"} 1`, `fleetwire_ingest_rejected_total{reason="bad_signature"} 1`} {
			if !strings.Contains(metrics, want) {
				t.Fatalf("/metrics lacks %s:\n%s", want, grep(metrics, "fleetwire_ingest"))
			}
		}

	})

	t.Run("leaves that never link up", func(t *testing.T) {
		stranger, err := identity.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name    string
			seed    string
			withTLS bool
		}{
			{"no key", "", true},
			{"unregistered key", seed(t, stranger), true},
			{"registered key without TLS", seed(t, f.keys["v1"]), false},
		}
		for _, c := range cases {
			l, _ := f.leaf(t, ctx, "x-"+strings.ReplaceAll(c.name, " ", "-"), c.seed, c.withTLS, "v1", false)
			short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
			err := l.WaitLeafConnected(short)
			cancel()
			if err == nil {
				t.Fatalf("%s: linked up", c.name)
			}
		}
	})

	t.Run("a customer's NATS credential", func(t *testing.T) {
		ids, err := identities.Open(ctx, js, 1)
		if err != nil {
			t.Fatal(err)
		}
		kp, err := identity.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ids.Put(ctx, identities.Identity{Kind: identities.Customer, Account: "acme", Key: identity.PublicKey(kp)}); err != nil {
			t.Fatal(err)
		}
		url := "tls://" + f.c.cfg.Hub.Listen
		asyncErrs := make(chan error, 16)
		connect := func(kp nkeys.KeyPair) (*nats.Conn, error) {
			opts := []nats.Option{nats.Secure(f.tlsConfig(t)), nats.CustomInboxPrefix(identity.CustomerInboxPrefix("acme")),
				nats.MaxReconnects(0), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { asyncErrs <- err })}
			if kp != nil {
				opts = append(opts, nats.Nkey(identity.PublicKey(kp), kp.Sign))
			}
			return nats.Connect(url, opts...)
		}
		// The registry reaches the server's users asynchronously.
		var nc *nats.Conn
		waitUntil(t, ctx, "the customer key admitted", func() bool {
			nc, err = connect(kp)
			return err == nil
		})
		defer nc.Close()
		cjs, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		cons, err := cjs.CreateOrUpdateConsumer(ctx, "EVENTS", jetstream.ConsumerConfig{Durable: identity.CustomerConsumer("acme"),
			FilterSubject: event.SubjectRoot + ".acme.>", AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			t.Fatalf("the customer's own consumer: %v", err)
		}
		want := len(v1.storedEvents()) + len(v2.storedEvents())
		batch, err := cons.Fetch(want, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			if !strings.HasPrefix(m.Subject(), event.SubjectRoot+".acme.") {
				t.Fatalf("the customer read %s", m.Subject())
			}
			if err := m.Ack(); err != nil {
				t.Fatal(err)
			}
			got++
		}
		if got < len(v1.storedEvents()) {
			t.Fatalf("the customer read %d of acme's events, want at least %d", got, len(v1.storedEvents()))
		}
		short := func() context.Context {
			c, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			t.Cleanup(cancel)
			return c
		}
		if _, err := cjs.CreateOrUpdateConsumer(short(), "EVENTS", jetstream.ConsumerConfig{Durable: identity.CustomerConsumer("acme"),
			FilterSubject: event.SubjectRoot + ".globex.>"}); err == nil {
			t.Fatal("the customer created a consumer on another account's events")
		}
		if _, err := cjs.CreateOrUpdateConsumer(short(), "EVENTS", jetstream.ConsumerConfig{Durable: identity.CustomerConsumer("globex"),
			FilterSubject: event.SubjectRoot + ".acme.>"}); err == nil {
			t.Fatal("the customer created a consumer under another name")
		}
		if _, err := cjs.Consumer(short(), "EVENTS", "sub-all"); err == nil {
			t.Fatal("the customer read the dispatcher's consumer")
		}
		if _, err := cjs.Stream(short(), "EVENTS"); err == nil {
			t.Fatal("the customer read the stream's info")
		}
		if err := nc.Publish(identity.IngestSubject("acme", "v1", event.TypeHeartbeat), []byte("{}")); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-asyncErrs:
			if !strings.Contains(err.Error(), "Permissions Violation") {
				t.Fatalf("publishing: %v", err)
			}
		case <-ctx.Done():
			t.Fatal("publishing as a vehicle was not refused")
		}
		// Without a key, or with a vehicle's (leaf-only) key, no connection.
		for name, k := range map[string]nkeys.KeyPair{"no key": nil, "a vehicle's key": f.keys["v1"]} {
			if c, err := connect(k); err == nil {
				c.Close()
				t.Fatalf("%s: connected", name)
			}
		}
	})

	t.Run("revoked, then registered again", func(t *testing.T) {
		ids, err := identities.Open(ctx, js, 1)
		if err != nil {
			t.Fatal(err)
		}
		hubLinks := func() map[string]uint64 { // leaf server → its connection's ID on the hub
			lz, err := f.c.srv.Hub().Server.Leafz()
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]uint64{}
			for _, l := range lz {
				m[l.Name] = l.ID
			}
			return m
		}
		linked := hubLinks()
		if err := ids.Delete(ctx, "acme", identity.PublicKey(f.keys["v2"])); err != nil {
			t.Fatal(err)
		}
		// Once the link is cut, v2's events wait on the vehicle.
		waitUntil(t, ctx, "v2's link cut", func() bool { return !v2.ag.LinkUp() })
		// Only v2's: every other vehicle keeps the very same link.
		after := hubLinks()
		if len(after) != len(linked)-1 {
			t.Fatalf("leaf links %v before revoking v2, %v after", linked, after)
		}
		for name, id := range after {
			if linked[name] != id {
				t.Fatalf("revoking v2 disturbed leaf %s (connection %d → %d)", name, linked[name], id)
			}
		}
		before := len(v2.storedEvents())
		v2.drive(ctx, fixes[15:25])
		v1.drive(ctx, fixes[10:20])
		if _, err := f.c.rcv.WaitFor(ctx, len(v1.storedEvents())+before); err != nil {
			t.Fatal(err)
		}
		if st := v2.ag.Stats(); st.Backlog() == 0 || v2.ag.LinkUp() {
			t.Fatalf("revoked v2: link up %v, backlog %d; want cut off with its events kept", v2.ag.LinkUp(), st.Backlog())
		}
		if _, err := ids.Put(ctx, identities.Identity{Kind: identities.Vehicle, Account: "acme", Vehicle: "v2", Key: identity.PublicKey(f.keys["v2"])}); err != nil {
			t.Fatal(err)
		}
		assertDelivered(t, ctx, f.c, v1, v2)
	})

	// No secret was ever logged (at debug level): the webhook secret, the
	// operator token, the vehicles' seeds. Public keys are logged.
	token, err := os.ReadFile(f.c.cfg.API.TokenFile)
	if err != nil {
		t.Fatal(err)
	}
	logs := f.logs.String()
	secrets := map[string]string{"webhook secret": f.c.secret, "operator token": strings.TrimSpace(string(token))}
	for id, kp := range f.keys {
		secrets[id+"'s seed"] = seed(t, kp)
	}
	for name, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
	if !strings.Contains(logs, identity.PublicKey(f.keys["v1"])) || len(logs) < 10000 {
		t.Fatalf("the log capture is not working (%d bytes)", len(logs))
	}

}

// othersTraffic: m is about another vehicle than v1 or another account.
func othersTraffic(m *nats.Msg) bool {
	s := m.Subject
	return strings.Contains(s, ".v2.") || strings.Contains(s, "globex") || strings.Contains(s, ".w1.") ||
		bytes.Contains(m.Data, []byte(`"globex"`)) || bytes.Contains(m.Data, []byte(`"id":"v2"`)) || bytes.Contains(m.Data, []byte(`"id":"w1"`))
}

// fenceGauge reads fleetwire_edge_fences from the agent's metrics.
func fenceGauge(t *testing.T, v *vehicle) int {
	t.Helper()
	rec := httptest.NewRecorder()
	v.ag.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if n, ok := strings.CutPrefix(line, "fleetwire_edge_fences "); ok {
			f, _ := strconv.ParseFloat(n, 64)
			return int(f)
		}
	}
	return -1
}

// countFences is the number of fences in a GeoJSON file of testdata.
func countFences(t *testing.T, file string) int {
	t.Helper()
	fences, err := geofence.LoadFile("../../testdata/geofences/"+file, geofence.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(fences)
}

func respData(m *nats.Msg) string {
	if m == nil {
		return ""
	}
	return string(m.Data)
}

func scrape(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func grep(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// waitUntil polls cond until it holds or ctx ends.
func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
