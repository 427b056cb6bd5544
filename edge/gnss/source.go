package gnss

import "context"

// A Source produces position fixes: a receiver on a serial port, a log file
// being replayed, a test.
//
// Run reads from the source and calls emit once for each fix, already
// filtered (see Filter) and in order: each emitted fix is later than the one
// before. Run calls emit from the goroutine that called Run, never
// concurrently. It returns
//
//   - nil when the source ends (end of file, unless the source loops),
//   - ctx.Err() when ctx is cancelled, promptly, including while it waits
//     between fixes,
//   - the error emit returned, wrapped, when emit fails (the fix is then
//     counted as not emitted), or
//   - another error when the source cannot be read.
//
// Input that is not usable (garbage, bad checksums, sentence types that are
// not decoded, fixes the filter drops) is counted and skipped, not returned
// as an error. A Source runs once at a time: a second concurrent Run returns
// ErrRunning.
type Source interface {
	Run(ctx context.Context, emit func(Fix) error) error
}
