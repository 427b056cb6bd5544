package detectconfig

import (
	"errors"
	"fmt"
	"strconv"
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
func AccountKey(account string) string { return escape(account) + "." + section }

// VehicleKey is the bucket key of one vehicle's overrides:
// <account>.<vehicle>.detect. A vehicle's overrides apply on top of its
// account's.
func VehicleKey(account, vehicle string) string {
	return escape(account) + "." + escape(vehicle) + "." + section
}

// ParseKey returns the account and vehicle (empty for an account's
// overrides) of a bucket key; ok is false for a key of another form.
func ParseKey(key string) (account, vehicle string, ok bool) {
	parts := strings.Split(key, ".")
	switch {
	case len(parts) == 2 && parts[1] == section:
		return unescape(parts[0]), "", true
	case len(parts) == 3 && parts[2] == section:
		return unescape(parts[0]), unescape(parts[1]), true
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

// escape makes a name a single key token: letters, digits, '-' and '_'
// stay, every other byte becomes =XX (hex), which unescape reverses (the
// same scheme the fence store uses for fence ids).
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "=%02X", c)
	}
	return b.String()
}

func unescape(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		if k[i] == '=' && i+2 < len(k) {
			if c, err := strconv.ParseUint(k[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(c))
				i += 2
				continue
			}
		}
		b.WriteByte(k[i])
	}
	return b.String()
}
