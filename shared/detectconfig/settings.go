package detectconfig

import (
	"errors"
	"fmt"
	"github.com/fleetwire/fleetwire/shared/event"
	"strings"

	"github.com/fleetwire/fleetwire/shared/config"
)

// Bucket is the hub's key-value bucket of detection overrides; vehicles
// mirror their own keys of it under the same name.
const Bucket = "SETTINGS"

// section is the last key token: what part of the configuration a
// document overrides.
const section = "detect"

// AccountKey is the bucket key of an account's overrides:
// <account>.detect.
func AccountKey(account string) string { return event.KeyToken(account) + "." + section }

// VehicleKey is the bucket key of one vehicle's overrides:
// <account>.<vehicle>.detect. A vehicle's overrides apply on top of its
// account's.
func VehicleKey(account, vehicle string) string {
	return event.KeyToken(account) + "." + event.KeyToken(vehicle) + "." + section
}

// ParseKey returns the account and vehicle (empty for an account's
// overrides) of a bucket key; ok is false for a key of another form.
func ParseKey(key string) (account, vehicle string, ok bool) {
	parts := strings.Split(key, ".")
	switch {
	case len(parts) == 2 && parts[1] == section:
		return event.FromKeyToken(parts[0]), "", true
	case len(parts) == 3 && parts[2] == section:
		return event.FromKeyToken(parts[0]), event.FromKeyToken(parts[1]), true
	}
	return "", "", false
}

// Apply reads doc, a YAML document with the keys of the `detect:` section
// ("speeding: {threshold_kph: 90}"), over *c and validates the result. Keys
// doc leaves out keep their value in *c; an empty document changes
// nothing. source names doc in errors ("SETTINGS acme.detect"). An unknown
// key or a bad value is an error naming the key (a *config.FieldError, or
// one wrapping config.ErrUnknownKey), and leaves *c unchanged.
func (c *Config) Apply(doc []byte, source string) error {
	if doc == nil {
		doc = []byte{}
	}
	err := config.Load(c, config.Options{YAML: doc, YAMLSource: source})
	var fe *config.FieldError
	if errors.As(err, &fe) && fe.Source == "" {
		fe.Source = source // a Validate error: say which document broke it
	}
	return err
}

// Check validates doc as the cloud stores it: applied over the built-in
// defaults, with unknown keys and bad values refused naming the key. The
// vehicle applies it over its own local configuration and checks the
// result again.
func Check(doc []byte, source string) error {
	c := Default()
	if err := c.Apply(doc, source); err != nil {
		return fmt.Errorf("detectconfig: %w", err)
	}
	return nil
}
