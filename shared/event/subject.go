package event

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ErrInvalid is returned (wrapped) for any event or subject token that breaks
// the contract.
var ErrInvalid = errors.New("invalid event")

// SubjectRoot is the first token of every hub event subject.
const SubjectRoot = "fleet.events"

// Subject returns fleet.events.<account>.<vehicle>.<type>. The type's dots are
// kept as further tokens would break per-token filters, so they are replaced
// by underscores: "trip.started" is published as "trip_started".
func Subject(account, vehicle string, t Type) string {
	return SubjectRoot + "." + account + "." + vehicle + "." + TypeToken(t)
}

// VehicleSubjects is the filter matching every event of one vehicle.
func VehicleSubjects(account, vehicle string) string {
	return SubjectRoot + "." + account + "." + vehicle + ".>"
}

// TypeToken is the subject token of an event type.
func TypeToken(t Type) string { return strings.ReplaceAll(string(t), ".", "_") }

// ValidToken checks that v can be one subject token: not empty, at most 64
// bytes, no '.', '*', '>' and no whitespace or control characters. what names
// the field in the error.
func ValidToken(what, v string) error {
	if v == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalid, what)
	}
	if len(v) > 64 {
		return fmt.Errorf("%w: %s %q is longer than 64 bytes", ErrInvalid, what, v)
	}
	for _, r := range v {
		if r == '.' || r == '*' || r == '>' || unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("%w: %s %q may not contain %q (allowed: letters, digits, '-', '_' and other printable characters except '.', '*', '>')", ErrInvalid, what, v, r)
		}
	}
	return nil
}
