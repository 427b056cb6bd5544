package fencestore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fleetwire/fleetwire/shared/geofence"
)

// ImportFile validates every feature of a GeoJSON file and stores each as
// one fence of opts.Account, with its id, name, tags, speed limit and dwell
// written into its properties so vehicles need no options to read it. An
// invalid file stores nothing and the error names each fence at fault.
func (s *Store) ImportFile(ctx context.Context, path string, opts geofence.LoadOptions) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("fencestore: %w", err)
	}
	if opts.Source == "" {
		opts.Source = filepath.Base(path)
	}
	ids, err := s.Import(ctx, b, opts)
	return len(ids), err
}

// ErrOtherAccount: a feature names an account other than the one imported
// into.
var ErrOtherAccount = errors.New("fencestore: feature belongs to another account")

// Import validates every feature of a GeoJSON FeatureCollection (or one
// Feature) and stores each as a fence of opts.Account, as ImportFile does,
// returning their ids. A feature whose "account" property names another
// account is refused (ErrOtherAccount). Nothing is stored unless every
// feature is valid.
func (s *Store) Import(ctx context.Context, geojson []byte, opts geofence.LoadOptions) ([]string, error) {
	features, err := normalize(geojson, opts)
	if err != nil {
		return nil, err
	}
	for _, f := range features {
		if opts.Account != "" && f.account != opts.Account {
			return nil, fmt.Errorf("%w: fence %q names account %q, not %q", ErrOtherAccount, f.id, f.account, opts.Account)
		}
	}
	ids := make([]string, 0, len(features))
	for _, f := range features {
		if err := s.Put(ctx, f.account, f.id, f.json); err != nil {
			return ids, err
		}
		ids = append(ids, f.id)
	}
	return ids, nil
}

type normalized struct {
	id, account string
	json        []byte
}

// normalize splits a FeatureCollection into features, validates each with
// the same loader the vehicles use, and writes the fence's resolved
// properties into it.
func normalize(b []byte, opts geofence.LoadOptions) ([]normalized, error) {
	fences, err := geofence.Load(bytes.NewReader(b), opts)
	if err != nil {
		return nil, fmt.Errorf("fencestore: %s: %w", opts.Source, err)
	}
	var doc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("fencestore: %s: %w", opts.Source, err)
	}
	if doc.Type == "Feature" {
		doc.Features = []json.RawMessage{b}
	}
	if len(doc.Features) != len(fences) {
		return nil, fmt.Errorf("fencestore: %s: %d features gave %d fences", opts.Source, len(doc.Features), len(fences))
	}
	out := make([]normalized, 0, len(fences))
	for i, raw := range doc.Features {
		var f map[string]json.RawMessage
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("fencestore: %s feature %d: %w", opts.Source, i, err)
		}
		props := map[string]any{}
		if p, ok := f["properties"]; ok && string(p) != "null" {
			if err := json.Unmarshal(p, &props); err != nil {
				return nil, fmt.Errorf("fencestore: %s feature %d properties: %w", opts.Source, i, err)
			}
		}
		fence := fences[i]
		props["id"], props["name"], props["account"], props["tags"] = fence.ID, fence.Name, fence.Account, fence.Tags
		if fence.SpeedLimitKph > 0 {
			props["speedLimitKph"] = fence.SpeedLimitKph
		}
		if fence.DwellAfter > 0 {
			props["dwellSeconds"] = fence.DwellAfter.Seconds()
		}
		pj, err := json.Marshal(props)
		if err != nil {
			return nil, fmt.Errorf("fencestore: %s feature %d: %w", opts.Source, i, err)
		}
		f["properties"] = pj
		j, err := json.Marshal(f)
		if err != nil {
			return nil, fmt.Errorf("fencestore: %s feature %d: %w", opts.Source, i, err)
		}
		out = append(out, normalized{id: fence.ID, account: fence.Account, json: j})
	}
	return out, nil
}
