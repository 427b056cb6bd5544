package agent

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/nats-io/nkeys"
)

// leafTLS is the TLS configuration of the link to the hub, nil without TLS.
func (h HubConfig) leafTLS() (*tls.Config, error) {
	if !h.TLS && h.CAFile == "" {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if h.CAFile != "" {
		pem, err := os.ReadFile(h.CAFile)
		if err != nil {
			return nil, fmt.Errorf("agent: hub.ca_file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("agent: hub.ca_file %s: no PEM certificate in it", h.CAFile)
		}
	}
	return c, nil
}

// loadKey reads (or creates) the vehicle's key; nil when hub.key_file is
// empty. A new key's public half is logged: the operator registers it.
func (a *Agent) loadKey() (nkeys.KeyPair, string, error) {
	if a.cfg.Hub.KeyFile == "" {
		return nil, "", nil
	}
	kp, created, err := identity.LoadOrCreateKey(a.cfg.Hub.KeyFile)
	if err != nil {
		return nil, "", fmt.Errorf("agent: hub.key_file: %w", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return nil, "", fmt.Errorf("agent: hub.key_file: %w", err)
	}
	pub := identity.PublicKey(kp)
	if created {
		a.log.Warn("new vehicle key created; register it on the hub before this vehicle can connect to a hub with hub.auth",
			"key_file", a.cfg.Hub.KeyFile, "public_key", pub,
			"register", "fleetwire vehicles register "+a.cfg.Vehicle.ID+" --account "+a.cfg.Vehicle.Account+" --key "+pub)
	} else {
		a.log.Info("vehicle key loaded", "public_key", pub)
	}
	return kp, string(seed), nil
}

// LinkUp reports whether the vehicle's leaf node is linked to the hub now.
func (a *Agent) LinkUp() bool { return a.leaf != nil && a.leaf.LeafConnected() }
