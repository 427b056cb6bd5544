package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/fleetwire/fleetwire/shared/identity"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/internal/receiver"
	"github.com/fleetwire/fleetwire/shared/cli"
	"github.com/fleetwire/fleetwire/shared/event"
)

const cliSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// TestCLIAgainstServer runs the API commands against a real fleetwire
// serve in this process: tables, --json and exit codes.
func TestCLIAgainstServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, cfg := runServer(t, ctx)
	rcv, err := receiver.Start("127.0.0.1:0", cliSecret)
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	tokenFile := filepath.Join(cfg.Hub.StoreDir, "operator.token")
	if fi, err := os.Stat(tokenFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("operator token file: %v, %v", fi, err)
	}
	apiURL := "http://" + s.APIAddr()

	run := func(args ...string) (string, int) {
		t.Helper()
		var out, errOut bytes.Buffer
		f := apiCommands[args[0]]
		err := f(ctx, append([]string{}, append(args[1:], "--api", apiURL)...), &out, &errOut)
		if err != nil {
			errOut.WriteString(err.Error())
		}
		return out.String() + errOut.String(), cli.Code(err)
	}
	want := func(code int, args ...string) string {
		t.Helper()
		out, got := run(args...)
		if got != code {
			t.Fatalf("fleetwire %s: exit %d, want %d:\n%s", strings.Join(args, " "), got, code, out)
		}
		return out
	}

	// The operator token (from its file) creates an admin of acme.
	out := want(0, "token", "create", "--account", "acme", "--role", "admin", "--token-file", tokenFile, "--json")
	var tok struct{ Token, Account, Role string }
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.Account != "acme" || tok.Role != "admin" {
		t.Fatalf("token create --json: %q, %v", out, err)
	}
	admin := []string{"--token", tok.Token}
	with := func(args ...string) []string { return append(args, admin...) }

	want(4, "subscription", "list")                        // no token
	want(4, "subscription", "list", "--token", "fwt_nope") // unknown token
	want(4, append([]string{"streams"}, admin...)...)      // admins do not see streams
	want(2, "subscription", "frobnicate")
	want(2, with("subscription", "show")...) // missing ID

	out = want(0, with("subscription", "create", "--id", "board", "--url", rcv.URL(), "--secret", cliSecret, "--events", "position,ignition.on")...)
	for _, s := range []string{"ID", "STATE", "board", "active", "position,ignition.on", "secret (shown once)", cliSecret} {
		if !strings.Contains(out, s) {
			t.Fatalf("create table lacks %q:\n%s", s, out)
		}
	}
	want(2, with("subscription", "create", "--url", "ftp://x")...)
	want(2, with("subscription", "create", "--id", "board", "--url", rcv.URL())...) // taken
	out = want(0, with("subscription", "list")...)
	if !strings.Contains(out, "board") || strings.Contains(out, "whsec_") {
		t.Fatalf("list:\n%s", out)
	}
	out = want(0, with("subscription", "show", "board", "--json")...)
	var v struct{ ID, State, Secret string }
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.ID != "board" || v.Secret != "" {
		t.Fatalf("show --json: %q, %v", out, err)
	}
	want(3, with("subscription", "show", "nope")...)

	out = want(0, with("subscription", "test", "board", "--type", "ignition.on")...)
	if !strings.Contains(out, "ignition.on") || !strings.Contains(out, "true") {
		t.Fatalf("test:\n%s", out)
	}
	want(2, with("subscription", "test", "board", "--type", "teleported")...)

	// Vehicle keys and NATS credentials.
	kp, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	pub := identity.PublicKey(kp)
	out = want(0, with("vehicles", "register", "truck-7", "--key", pub, "--label", "gw-42")...)
	for _, s := range []string{"truck-7", "acme", pub, "gw-42"} {
		if !strings.Contains(out, s) {
			t.Fatalf("vehicles register lacks %q:\n%s", s, out)
		}
	}
	want(2, with("vehicles", "register", "truck-8", "--key", "not-a-key")...)
	want(2, with("vehicles", "register", "truck-8", "--key", pub)...) // another vehicle's key: 409, a usage error
	if out = want(0, with("vehicles", "key", "truck-7", "--json")...); !strings.Contains(out, pub) {
		t.Fatalf("vehicles key:\n%s", out)
	}
	want(0, with("vehicles", "revoke", "truck-7")...)
	want(3, with("vehicles", "key", "truck-7")...)
	out = want(0, with("nats-credential", "create", "--label", "erp")...)
	for _, s := range []string{"seed:", "SU", "customer-acme", "fleet.events.acme.>", "fleet.cinbox.acme"} {
		if !strings.Contains(out, s) {
			t.Fatalf("nats-credential create lacks %q:\n%s", s, out)
		}
	}
	seedLine := out[strings.Index(out, "seed:"):]
	seed := strings.Fields(seedLine)[1]
	if out = want(0, with("nats-credential", "list")...); !strings.Contains(out, "erp") || strings.Contains(out, seed) {
		t.Fatalf("nats-credential list (no seeds):\n%q", out)
	}

	// A real event, delivered, then in the delivery log.
	h := s.Hub()
	for {
		if _, err := h.JS.Consumer(ctx, "EVENTS", "sub-board"); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("no consumer")
		case <-time.After(10 * time.Millisecond):
		}
	}
	ev := event.Event{ID: event.NewID(time.Now()), Type: event.TypePosition, SchemaVersion: event.SchemaVersion,
		OccurredAt: event.Time{Time: time.Now()}, Account: "acme", Vehicle: event.Vehicle{ID: "truck-1"}, Seq: 1, Location: &event.Location{Lat: 49, Lon: 12}}
	b, _ := ev.Marshal()
	if _, err := h.JS.Publish(ctx, ev.Subject(), b); err != nil {
		t.Fatal(err)
	}
	if _, err := rcv.WaitFor(ctx, 2); err != nil { // the test event and this one
		t.Fatal(err)
	}
	for {
		out, _ = run(with("deliveries", "list", "board")...)
		if strings.Contains(out, ev.ID) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("delivery never listed:\n%s", out)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if !strings.Contains(out, "✔ ok") || !strings.Contains(out, "truck-1") {
		t.Fatalf("deliveries list:\n%s", out)
	}
	out = want(0, with("deliveries", "list", "board", "--status", "failed", "--json")...)
	if !strings.Contains(out, `"items": []`) {
		t.Fatalf("failed deliveries --json:\n%s", out)
	}
	out = want(0, with("deliveries", "show", "board", ev.ID)...)
	if !strings.Contains(out, "attempt 1") || !strings.Contains(out, "request:") {
		t.Fatalf("deliveries show:\n%s", out)
	}
	want(2, with("deliveries", "list", "board", "--status", "meh")...)
	want(3, with("deliveries", "show", "board", event.NewID(time.Now()))...)

	want(0, with("subscription", "pause", "board")...)
	out = want(0, with("subscription", "resume", "board")...)
	if !strings.Contains(out, "active") {
		t.Fatalf("resume:\n%s", out)
	}
	want(0, with("subscription", "replay", "board", "--since", "1ms")...)
	want(2, with("subscription", "replay", "board", "--since", "2999-01-01T00:00:00Z")...)
	out = want(0, with("subscription", "rotate-secret", "board", "--overlap", "1h")...)
	if !strings.Contains(out, "secret (shown once)") {
		t.Fatalf("rotate:\n%s", out)
	}

	// Geofences.
	file := filepath.Join(t.TempDir(), "fences.geojson")
	if err := os.WriteFile(file, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"depot","name":"Depot","radius":100,"tags":["depot"]},"geometry":{"type":"Point","coordinates":[12.1,49.0]}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	want(0, with("geofence", "import", file)...)
	out = want(0, with("geofence", "list")...)
	if !strings.Contains(out, "depot") || !strings.Contains(out, "Point") {
		t.Fatalf("geofence list:\n%s", out)
	}
	bad := filepath.Join(t.TempDir(), "bad.geojson")
	_ = os.WriteFile(bad, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[12.1,49.0]}}]}`), 0o600)
	want(2, with("geofence", "import", bad)...)
	want(0, with("geofence", "delete", "depot")...)
	want(3, with("geofence", "delete", "depot")...)

	out = want(0, with("vehicles")...)
	if !strings.Contains(out, "truck-1") || !strings.Contains(out, "recent") {
		t.Fatalf("vehicles:\n%s", out)
	}
	out = want(0, "streams", "--token-file", tokenFile)
	if !strings.Contains(out, "EVENTS") || !strings.Contains(out, "DELIVERIES") {
		t.Fatalf("streams:\n%s", out)
	}
	want(0, with("subscription", "delete", "board")...)
	want(3, with("subscription", "delete", "board")...)
	if rcv.Rejected() != 0 {
		t.Fatal("the receiver rejected a signature")
	}
}
