package can

import "context"

// A Source produces CAN frames: a candump log being replayed, a live
// SocketCAN interface.
//
// Run reads frames and calls emit once per frame, in order, from the
// goroutine that called Run. It returns nil when the source ends (end of a
// log), ctx.Err() promptly when ctx is cancelled, the error emit returned
// (wrapped), or an error when the source cannot be read. Lines or frames
// that cannot be decoded are counted and skipped, never returned as errors.
type Source interface {
	Run(ctx context.Context, emit func(Frame) error) error
}

// A Sender transmits frames (OBD-II requests, ISO-TP flow control). Only
// live interfaces have one; a replayed log is receive-only.
type Sender interface {
	Send(ctx context.Context, f Frame) error
}
