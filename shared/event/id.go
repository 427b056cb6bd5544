package event

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

var (
	idMu      sync.Mutex
	idEntropy = ulid.Monotonic(rand.Reader, 0)
)

// NewID returns a new ULID: unique, and increasing within this process even
// for events created in the same millisecond.
func NewID(t time.Time) string {
	idMu.Lock()
	defer idMu.Unlock()
	id, err := ulid.New(ulid.Timestamp(t), idEntropy)
	if err != nil {
		// The monotonic entropy overflowed within one millisecond (2^80
		// ids): fall back to fresh random entropy, still unique.
		id = ulid.MustNew(ulid.Timestamp(t), rand.Reader)
	}
	return id.String()
}
