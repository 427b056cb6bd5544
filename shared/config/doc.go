// Package config loads the configuration of fleetwire's binaries into a struct the caller owns,
// layering defaults, a YAML file, FLEETWIRE_* environment variables and flags, later winning.
package config
