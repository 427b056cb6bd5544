package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/fleetwire/fleetwire/cloud/settingsstore"
	"github.com/fleetwire/fleetwire/shared/config"
	"github.com/fleetwire/fleetwire/shared/detectconfig"
	"github.com/fleetwire/fleetwire/shared/event"
)

// DetectSettings is a YAML file of detection overrides — the keys of the
// edge agent's `detect:` section — for an account, or for one of its
// vehicles. A vehicle's overrides apply over its account's, which apply
// over the vehicle's local configuration.
type DetectSettings struct {
	Account string `koanf:"account" doc:"account the overrides apply to"`
	Vehicle string `koanf:"vehicle" doc:"vehicle of the account they apply to; empty: every vehicle of the account"`
	File    string `koanf:"file" doc:"YAML file with keys of the edge's detect section, e.g. speeding: {threshold_kph: 90}"`
}

// validateDetectSettings checks the list under key (detect_settings): names
// are subject tokens, files are named, and no account or vehicle comes
// twice. The files themselves are read and checked at import.
func validateDetectSettings(key string, list []DetectSettings) error {
	seen := map[string]bool{}
	for i, d := range list {
		if err := event.ValidToken("account", d.Account); err != nil {
			return config.Invalid(fmt.Sprintf("%s[%d].account", key, i), d.Account, "an account id (subject token)")
		}
		if d.Vehicle != "" {
			if err := event.ValidToken("vehicle", d.Vehicle); err != nil {
				return config.Invalid(fmt.Sprintf("%s[%d].vehicle", key, i), d.Vehicle, "a vehicle id (subject token), or empty for the whole account")
			}
		}
		if d.File == "" {
			return config.Invalid(fmt.Sprintf("%s[%d].file", key, i), d.File, "a YAML file of detect keys")
		}
		name := settingsstore.Name(d.Account, d.Vehicle)
		if seen[name] {
			return config.Invalid(fmt.Sprintf("%s[%d]", key, i), name, "one entry per account and per vehicle")
		}
		seen[name] = true
	}
	return nil
}

// importDetectSettings reads every file of list, checks each with the
// vehicles' own validation, and only then stores them, so that one bad file
// stores nothing; the error names the entry, the file and the key at fault.
// Overrides stored earlier and no longer listed stay in the bucket.
func importDetectSettings(ctx context.Context, store *settingsstore.Store, list []DetectSettings, log *slog.Logger) error {
	const key = "detect_settings"
	if err := validateDetectSettings(key, list); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	docs := make([][]byte, len(list))
	for i, d := range list {
		b, err := os.ReadFile(d.File)
		if err != nil {
			return fmt.Errorf("server: %s[%d]: %w", key, i, err)
		}
		if err := detectconfig.Check(b, d.File); err != nil {
			return fmt.Errorf("server: %s[%d] (%s): %w", key, i, settingsstore.Name(d.Account, d.Vehicle), err)
		}
		docs[i] = b
	}
	for i, d := range list {
		if err := store.Put(ctx, d.Account, d.Vehicle, docs[i]); err != nil {
			return fmt.Errorf("server: %s[%d] %s: %w", key, i, d.File, err)
		}
		log.Info("detection settings imported", "account", d.Account, "vehicle", d.Vehicle, "file", d.File)
	}
	return nil
}

// importSettings opens the SETTINGS bucket and imports list, the configured
// detect_settings, into it; vehicles mirror their account's and their own
// overrides from there. Run calls it after importFences:
//
//	if err := s.importSettings(ctx, s.cfg.Settings); err != nil {
//		return err
//	}
func (s *Server) importSettings(ctx context.Context, list []DetectSettings) error {
	store, err := settingsstore.Open(ctx, s.hub.JS, s.cfg.Events.Replicas)
	if err != nil {
		return err
	}
	return importDetectSettings(ctx, store, list, s.log)
}
