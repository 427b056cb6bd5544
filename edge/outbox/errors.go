package outbox

import "errors"

var (
	// ErrFull is returned by Append when the local store is full and the
	// policy is PolicyRejectNew: the event was not stored.
	ErrFull = errors.New("outbox: local store full")
	// ErrInvalidConfig wraps every configuration problem.
	ErrInvalidConfig = errors.New("outbox: invalid config")
)
