package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

var (
	// ErrInvalid is wrapped by every *FieldError: a key has a value it cannot take.
	ErrInvalid = errors.New("invalid value")
	// ErrUnknownKey is wrapped by the errors for keys in the configuration
	// file, and environment variables with the prefix, that name no key.
	ErrUnknownKey = errors.New("unknown key")
)

// mask stands for the value of a secret wherever values are shown.
const mask = "***"

// FieldError reports a bad value for a configuration key: one that does not
// parse as the key's type, or that Validate rejects. It wraps ErrInvalid, and
// Err when there is one.
type FieldError struct {
	Key     string // the key, e.g. "edge.position.interval" or "subscriptions[1].url"
	Value   any    // the bad value; "***" for a secret; nil for none
	Allowed string // what the key takes, e.g. `a positive duration such as "10s"`
	Err     error  // the cause, if there is more to say than ErrInvalid
	Source  string // where Value came from: the file, variable or --flag; empty from Validate
}

// Invalid returns the error for value, a value key cannot take: allowed says
// what it can take. It is for the Validate methods of configuration structs:
//
//	if c.Interval <= 0 {
//		return config.Invalid("edge.position.interval", c.Interval, `a positive duration such as "10s"`)
//	}
func Invalid(key string, value any, allowed string) *FieldError {
	return &FieldError{Key: key, Value: value, Allowed: allowed}
}

// Error returns, for example,
//
//	config: edge.position.interval = "-5s": invalid value (allowed: a positive duration such as "10s")
//	config: FLEETWIRE_HUB_PORT: hub.port = "abc": invalid syntax (allowed: an integer from 0 to 65535)
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.Source != "" {
		b.WriteString(e.Source + ": ")
	}
	b.WriteString(e.Key)
	if e.Value != nil {
		b.WriteString(" = " + showValue(e.Value))
	}
	b.WriteString(": " + e.reason())
	return b.String()
}

// reason says what is wrong with the value and what is allowed instead.
func (e *FieldError) reason() string {
	reason := ErrInvalid.Error()
	if e.Err != nil {
		reason = e.Err.Error()
	}
	if e.Allowed != "" {
		reason += " (allowed: " + e.Allowed + ")"
	}
	return reason
}

// Unwrap returns ErrInvalid and the cause, if any.
func (e *FieldError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalid}
	}
	return []error{ErrInvalid, e.Err}
}

// showValue formats a value for an error message: text quoted, as it would
// be written in the configuration file.
func showValue(v any) string {
	switch v := v.(type) {
	case string:
		if v == mask {
			return v
		}
		return strconv.Quote(v)
	case time.Duration:
		return strconv.Quote(v.String())
	case fmt.Stringer:
		return strconv.Quote(v.String())
	}
	return fmt.Sprint(v)
}

// unknownKey returns the error for key, found in source but not among the
// known keys.
func unknownKey(source, key string, known []string) error {
	hint := ""
	if near := closest(key, known); near != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", near)
	}
	return fmt.Errorf("config: %s: %w %q%s", source, ErrUnknownKey, key, hint)
}

// closest returns the candidate nearest to name, ignoring case, if it is near
// enough to be a typo; otherwise "".
func closest(name string, candidates []string) string {
	best, bestDist := "", max(2, len(name)/5)+1
	for _, c := range candidates {
		if d := distance(strings.ToLower(name), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// distance returns the Levenshtein distance between a and b: the number of
// bytes to insert, delete or replace to turn one into the other.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := range len(a) {
		cur := make([]int, len(b)+1)
		cur[0] = i + 1
		for j := range len(b) {
			cost := 1
			if a[i] == b[j] {
				cost = 0
			}
			cur[j+1] = min(prev[j+1]+1, cur[j]+1, prev[j]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
