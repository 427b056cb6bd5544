package outbox

import "errors"

var (
	// ErrFull is returned by Append when the local store is full and the
	// policy is PolicyRejectNew: the event was not stored.
	ErrFull = errors.New("outbox: local store full")
	// ErrUnavailable is returned by Append when the local store did not
	// answer within Config.AppendAttempts attempts: a transient condition
	// (CPU starvation, the leaf node restarting). The event may or may not
	// have been stored; Append the same event again (same ID) to find out:
	// it is then stored once. Appending another event instead first reads
	// the store's last sequence, so numbering stays gap-free either way.
	ErrUnavailable = errors.New("outbox: local store not answering")
	// ErrInvalidConfig wraps every configuration problem.
	ErrInvalidConfig = errors.New("outbox: invalid config")
)
