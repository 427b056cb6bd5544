// Package runguard keeps a source from being run twice at once: the
// sources of the edge read one stream with state (counts, a filter, a
// position in a file) that two concurrent runs would corrupt.
package runguard

import (
	"fmt"
	"sync/atomic"
)

// A Guard admits one run at a time. The zero Guard is ready to use, and
// a Guard is safe for concurrent use.
type Guard struct {
	running atomic.Bool
}

// Start marks a run as started; call Stop when it ends. If a run is going
// on, Start returns an error wrapping errRunning, the caller's own
// sentinel, that names source.
func (g *Guard) Start(errRunning error, source string) error {
	if !g.running.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: %s", errRunning, source)
	}
	return nil
}

// Stop marks the run that Start started as ended.
func (g *Guard) Stop() { g.running.Store(false) }
