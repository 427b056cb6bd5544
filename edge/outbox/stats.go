package outbox

import "sync/atomic"

// Stats are the outbox's counters since Open.
type Stats struct {
	// Appended events stored locally.
	Appended uint64
	// Forwarded events stored on the hub by this process.
	Forwarded uint64
	// AlreadyOnHub events found on the hub when an outcome was unknown, and
	// therefore not sent again.
	AlreadyOnHub uint64
	// Retries of failed or unknown-outcome forwards.
	Retries uint64
	// AppendRetries are local store attempts repeated by Append after a
	// transient failure (a timeout, no responders).
	AppendRetries uint64
	// Discarded events dropped by the local limits before being forwarded
	// (PolicyDropOldest), including, during an outage, those found missing
	// from the store behind the event waiting to be forwarded.
	Discarded uint64
	// Rejected events refused because the store was full (PolicyRejectNew).
	Rejected uint64
	// LastSeq is the last event sequence assigned; ForwardedSeq the last one
	// known to be on the hub. Backlog is their difference.
	LastSeq, ForwardedSeq uint64
}

// Backlog is how many events wait on the vehicle.
func (s Stats) Backlog() uint64 {
	if s.LastSeq < s.ForwardedSeq {
		return 0
	}
	return s.LastSeq - s.ForwardedSeq
}

type counters struct {
	appended, forwarded, alreadyOnHub, retries, appendRetries, discarded, rejected atomic.Uint64
	lastSeq, forwardedSeq                                                          atomic.Uint64
	// discardedPending estimates the discards of an ongoing outage (see
	// Outbox.estimateDiscards); the forwarder moves it into discarded.
	discardedPending atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Appended:      c.appended.Load(),
		Forwarded:     c.forwarded.Load(),
		AlreadyOnHub:  c.alreadyOnHub.Load(),
		Retries:       c.retries.Load(),
		AppendRetries: c.appendRetries.Load(),
		Discarded:     c.discarded.Load() + c.discardedPending.Load(),
		Rejected:      c.rejected.Load(),
		LastSeq:       c.lastSeq.Load(),
		ForwardedSeq:  c.forwardedSeq.Load(),
	}
}
