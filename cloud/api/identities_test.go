package api

import (
	"strings"
	"testing"

	"github.com/fleetwire/fleetwire/shared/identity"
)

func newPublicKey(t *testing.T) string {
	t.Helper()
	kp, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return identity.PublicKey(kp)
}

// TestVehicleKeysAndNATSCredentials: an admin registers, reads, replaces
// and revokes a vehicle's key, with clear errors for a malformed key and a
// key already used; a NATS credential comes with its seed only when the
// server made the key, and with the consumer and subjects its permissions
// allow.
func TestVehicleKeysAndNATSCredentials(t *testing.T) {
	e := newEnv(t)
	k1, k2 := newPublicKey(t), newPublicKey(t)
	e.must(200, "admin", "PUT", "/v1/vehicles/truck-1/key", map[string]any{"key": k1, "label": "gateway 42"})
	var got struct{ Key, Vehicle, Account, Label string }
	e.must(200, "viewer", "GET", "/v1/vehicles/truck-1/key", nil).json(t, &got)
	if got.Key != k1 || got.Vehicle != "truck-1" || got.Account != "acme" || got.Label != "gateway 42" {
		t.Fatalf("registered %+v", got)
	}
	for _, c := range []struct {
		name, path string
		body       any
		status     int
		says       string
	}{
		{"malformed key", "/v1/vehicles/truck-2/key", map[string]any{"key": "SUABC"}, 422, "fleetwire-edge keygen"},
		{"key of another vehicle", "/v1/vehicles/truck-2/key", map[string]any{"key": k1}, 409, "truck-1"},
		{"bad vehicle id", "/v1/vehicles/a.b/key", map[string]any{"key": k2}, 422, "may not contain"},
		{"unknown field", "/v1/vehicles/truck-2/key", map[string]any{"key": k2, "seed": "x"}, 400, "seed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("admin", "PUT", c.path, c.body)
			if r.status != c.status || !strings.Contains(string(r.body), c.says) {
				t.Fatalf("%d %s, want %d saying %q", r.status, r.body, c.status, c.says)
			}
		})
	}
	if r := e.do("viewer", "PUT", "/v1/vehicles/truck-1/key", map[string]any{"key": k2}); r.status != 403 {
		t.Fatalf("a viewer registered a key: %d", r.status)
	}
	e.must(200, "admin", "PUT", "/v1/vehicles/truck-1/key", map[string]any{"key": k2}) // a new gateway
	e.must(200, "viewer", "GET", "/v1/vehicles/truck-1/key", nil).json(t, &got)
	if got.Key != k2 {
		t.Fatalf("replaced key: %s", got.Key)
	}
	e.must(204, "admin", "DELETE", "/v1/vehicles/truck-1/key", nil)
	e.must(404, "viewer", "GET", "/v1/vehicles/truck-1/key", nil)

	var made NATSCredential
	e.must(201, "admin", "POST", "/v1/nats-credentials", map[string]any{"label": "erp"}).json(t, &made)
	if !strings.HasPrefix(made.Seed, "SU") || made.Key == "" || made.Consumer != "customer-acme" ||
		made.FilterSubject != "fleet.events.acme.>" || made.InboxPrefix != "fleet.cinbox.acme" || made.Stream != "EVENTS" {
		t.Fatalf("generated credential %+v", made)
	}
	own := newPublicKey(t)
	var brought NATSCredential
	e.must(201, "admin", "POST", "/v1/nats-credentials", map[string]any{"key": own}).json(t, &brought)
	if brought.Seed != "" || brought.Key != own {
		t.Fatalf("credential from the customer's key: %+v", brought)
	}
	var list struct{ Items []NATSCredential }
	e.must(200, "viewer", "GET", "/v1/nats-credentials", nil).json(t, &list)
	if len(list.Items) != 2 {
		t.Fatalf("listed %d credentials", len(list.Items))
	}
	for _, c := range list.Items {
		if c.Seed != "" {
			t.Fatal("a listed credential shows its seed")
		}
	}
	e.must(204, "admin", "DELETE", "/v1/nats-credentials/"+made.Key, nil)
	e.must(404, "admin", "DELETE", "/v1/nats-credentials/"+made.Key, nil)
}
