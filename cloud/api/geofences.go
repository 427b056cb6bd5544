package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/fleetwire/fleetwire/cloud/fencestore"
	"github.com/fleetwire/fleetwire/cloud/tokens"
	"github.com/fleetwire/fleetwire/shared/geofence"
)

// readGeoJSON reads a GeoJSON body of bounded size.
func (a *API) readGeoJSON(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/geo+json" && mt != "application/json") {
			return nil, problem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type", "send application/geo+json, not "+ct)
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxGeoJSON))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge(a.cfg.MaxGeoJSON)
	}
	if err != nil {
		return nil, badRequest("reading the body: " + err.Error())
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, badRequest("the request needs a GeoJSON body")
	}
	return b, nil
}

// fenceProblem lists each fence at fault.
func fenceProblem(err error) error {
	var errs []FieldError
	var fe *geofence.FenceError
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			if errors.As(e, &fe) {
				errs = append(errs, FieldError{Field: fmt.Sprintf("features[%d]", fe.Index), Detail: fe.Error()})
			}
		}
	}
	switch {
	case errors.Is(err, fencestore.ErrOtherAccount):
		return invalid(err.Error(), FieldError{Field: "properties.account", Detail: err.Error()})
	case errors.Is(err, geofence.ErrInvalid):
		if len(errs) == 0 {
			errs = []FieldError{{Field: "body", Detail: err.Error()}}
		}
		return invalid(strings.TrimPrefix(err.Error(), "fencestore: "), errs...)
	}
	return err
}

// listGeofences: the account's fences as one FeatureCollection.
func (a *API) listGeofences(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	account, err := accountOf(r, tok, true)
	if err != nil {
		return err
	}
	ids, err := a.cfg.Fences.List(r.Context(), account)
	if err != nil {
		return err
	}
	slices.Sort(ids)
	features := []json.RawMessage{}
	for _, id := range ids {
		f, err := a.cfg.Fences.Get(r.Context(), account, id)
		if errors.Is(err, fencestore.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return err
		}
		features = append(features, f)
	}
	w.Header().Set("Content-Type", "application/geo+json")
	return writeGeo(w, http.StatusOK, map[string]any{"type": "FeatureCollection", "features": features})
}

func writeGeo(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/geo+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// importGeofences: POST a FeatureCollection; every fence in it is created
// or replaced (others stay). Nothing is stored unless all are valid.
func (a *API) importGeofences(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	account, err := accountOf(r, tok, true)
	if err != nil {
		return err
	}
	b, err := a.readGeoJSON(w, r)
	if err != nil {
		return err
	}
	ids, err := a.cfg.Fences.Import(r.Context(), b, geofence.LoadOptions{Account: account, Source: "request"})
	if err != nil {
		return fenceProblem(err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"account": account, "imported": ids})
}

func (a *API) getGeofence(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	account, err := accountOf(r, tok, true)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	f, err := a.cfg.Fences.Get(r.Context(), account, id)
	if errors.Is(err, fencestore.ErrNotFound) {
		return notFound("geofence " + id)
	}
	if err != nil {
		return err
	}
	return writeGeo(w, http.StatusOK, json.RawMessage(f))
}

// putGeofence creates or replaces one fence from a GeoJSON Feature; its id
// is the path's (a different "id" property is refused).
func (a *API) putGeofence(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	account, err := accountOf(r, tok, true)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	b, err := a.readGeoJSON(w, r)
	if err != nil {
		return err
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(b, &f); err != nil {
		return badRequest("malformed JSON: " + err.Error())
	}
	var typ string
	_ = json.Unmarshal(f["type"], &typ)
	if typ != "Feature" {
		return invalidField("type", "PUT takes one GeoJSON Feature (POST /v1/geofences imports a FeatureCollection)")
	}
	props := map[string]any{}
	if p, ok := f["properties"]; ok && string(p) != "null" {
		if err := json.Unmarshal(p, &props); err != nil {
			return invalidField("properties", "must be an object")
		}
	}
	if v, ok := props["id"]; ok {
		if s, _ := v.(string); s != id {
			return invalidField("properties.id", "must be the id in the path, "+id)
		}
	}
	props["id"] = id
	delete(f, "id")
	f["properties"], _ = json.Marshal(props)
	b, _ = json.Marshal(f)
	if _, err := a.cfg.Fences.Import(r.Context(), b, geofence.LoadOptions{Account: account, Source: "request"}); err != nil {
		return fenceProblem(err)
	}
	stored, err := a.cfg.Fences.Get(r.Context(), account, id)
	if err != nil {
		return err
	}
	return writeGeo(w, http.StatusOK, json.RawMessage(stored))
}

func (a *API) deleteGeofence(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	account, err := accountOf(r, tok, true)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := a.cfg.Fences.Get(r.Context(), account, id); errors.Is(err, fencestore.ErrNotFound) {
		return notFound("geofence " + id)
	} else if err != nil {
		return err
	}
	if err := a.cfg.Fences.Delete(r.Context(), account, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
