package api

import (
	"errors"
	"net/http"

	"github.com/fleetwire/fleetwire/cloud/identities"
	"github.com/fleetwire/fleetwire/cloud/tokens"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/fleetwire/fleetwire/shared/identity"
)

// identityScope is the registry (a 503 problem when the server runs
// without one) and the account the request acts on.
func (a *API) identityScope(r *http.Request, tok tokens.Token) (*identities.Store, string, error) {
	if a.cfg.Identities == nil {
		return nil, "", problem(http.StatusServiceUnavailable, "unavailable", "Service Unavailable", "this server has no identity registry")
	}
	account, err := accountOf(r, tok, true)
	return a.cfg.Identities, account, err
}

// identityProblem maps registry errors to problems.
func identityProblem(err error, field string) error {
	switch {
	case errors.Is(err, identities.ErrInvalid):
		return invalidField(field, err.Error())
	case errors.Is(err, identities.ErrKeyInUse):
		return problem(http.StatusConflict, "conflict", "Conflict", err.Error())
	case errors.Is(err, identities.ErrNotFound):
		return notFound(err.Error())
	}
	return err
}

// putVehicleKey: PUT /v1/vehicles/{id}/key registers (or replaces) the
// vehicle's public nkey, printed by "fleetwire-edge keygen". With hub.auth
// the vehicle can connect from then on, and its events must carry its
// signature.
func (a *API) putVehicleKey(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	store, account, err := a.identityScope(r, tok)
	if err != nil {
		return err
	}
	vehicle := r.PathValue("id")
	if err := event.ValidToken("vehicle", vehicle); err != nil {
		return invalidField("id", err.Error())
	}
	var in struct {
		Key   string `json:"key"`
		Label string `json:"label"`
	}
	if err := decode(w, r, a.cfg.MaxBody, &in, false); err != nil {
		return err
	}
	id, err := store.Put(r.Context(), identities.Identity{Kind: identities.Vehicle, Account: account, Vehicle: vehicle, Key: in.Key, Label: in.Label})
	if err != nil {
		return identityProblem(err, "key")
	}
	return writeJSON(w, http.StatusOK, id)
}

// getVehicleKey: GET /v1/vehicles/{id}/key.
func (a *API) getVehicleKey(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	store, account, err := a.identityScope(r, tok)
	if err != nil {
		return err
	}
	id, err := store.Vehicle(r.Context(), account, r.PathValue("id"))
	if err != nil {
		return identityProblem(err, "id")
	}
	return writeJSON(w, http.StatusOK, id)
}

// deleteVehicleKey: DELETE /v1/vehicles/{id}/key revokes the vehicle: its
// link is cut and it cannot reconnect; its stored events stay on it.
func (a *API) deleteVehicleKey(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	store, account, err := a.identityScope(r, tok)
	if err != nil {
		return err
	}
	id, err := store.Vehicle(r.Context(), account, r.PathValue("id"))
	if err != nil {
		return identityProblem(err, "id")
	}
	if err := store.Remove(r.Context(), id); err != nil {
		return identityProblem(err, "id")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// NATSCredential is a customer credential as created: the seed is shown
// once (when the server generated the key) and never stored.
type NATSCredential struct {
	identities.Identity
	// Seed is the private key ("SU…"), only when the server generated it.
	Seed string `json:"seed,omitempty"`
	// Stream, Consumer, FilterSubject and InboxPrefix are what the
	// customer's client must use: its permissions allow exactly these.
	Stream        string `json:"stream"`
	Consumer      string `json:"consumer"`
	FilterSubject string `json:"filterSubject"`
	InboxPrefix   string `json:"inboxPrefix"`
}

func (a *API) credentialOf(id identities.Identity) NATSCredential {
	return NATSCredential{
		Identity:      id,
		Stream:        a.cfg.Hub.EventsName(),
		Consumer:      identity.CustomerConsumer(id.Account),
		FilterSubject: event.SubjectRoot + "." + id.Account + ".>",
		InboxPrefix:   identity.CustomerInboxPrefix(id.Account),
	}
}

// createNATSCredential: POST /v1/nats-credentials issues a read-only NATS
// credential for the account's events. With {"key": "U…"} the customer
// keeps its private key; without, the server makes a key pair and returns
// the seed once.
func (a *API) createNATSCredential(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	store, account, err := a.identityScope(r, tok)
	if err != nil {
		return err
	}
	var in struct {
		Key   string `json:"key"`
		Label string `json:"label"`
	}
	if err := decode(w, r, a.cfg.MaxBody, &in, true); err != nil {
		return err
	}
	seed := ""
	if in.Key == "" {
		kp, err := identity.NewKey()
		if err != nil {
			return err
		}
		s, err := kp.Seed()
		if err != nil {
			return err
		}
		seed, in.Key = string(s), identity.PublicKey(kp)
	}
	id, err := store.Put(r.Context(), identities.Identity{Kind: identities.Customer, Account: account, Key: in.Key, Label: in.Label})
	if err != nil {
		return identityProblem(err, "key")
	}
	c := a.credentialOf(id)
	c.Seed = seed
	return writeJSON(w, http.StatusCreated, c)
}

// listNATSCredentials: GET /v1/nats-credentials (public keys only).
func (a *API) listNATSCredentials(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	store, account, err := a.identityScope(r, tok)
	if err != nil {
		return err
	}
	all, err := store.List(r.Context(), account)
	if err != nil {
		return err
	}
	out := []NATSCredential{}
	for _, id := range all {
		if id.Kind == identities.Customer {
			out = append(out, a.credentialOf(id))
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

// deleteNATSCredential: DELETE /v1/nats-credentials/{key} revokes it.
func (a *API) deleteNATSCredential(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	store, account, err := a.identityScope(r, tok)
	if err != nil {
		return err
	}
	all, err := store.List(r.Context(), account)
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	for _, id := range all {
		if id.Kind == identities.Customer && id.Key == key {
			if err := store.Remove(r.Context(), id); err != nil {
				return identityProblem(err, "key")
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
	}
	return notFound("NATS credential " + key)
}
