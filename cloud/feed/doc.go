// Package feed reads the hub's EVENTS stream for pull clients: pages of
// an account's events after a cursor, in stream order, filtered by
// subjects (and a match function for what subjects cannot express), with
// an optional long poll; and one vehicle's events from a vehicle sequence
// on, for receivers that saw a gap.
//
// # Reading a page
//
// Each Read takes the stream's state (one info request), creates an
// ephemeral, in-memory, no-ack pull consumer filtered to the subjects and
// starting after the cursor, fetches without waiting until the page is
// full or nothing is pending, and deletes the consumer. The server does
// the subject filtering; Options.Match sees only messages of those
// subjects. With Options.Wait and nothing to return, one pull request
// with that expiry waits on the server for the next matching message: no
// polling loop, and the request's context ends it when the client leaves.
//
// The next cursor is the last examined message, or, when the reader
// caught up, the stream's last sequence read before the consumer was
// created (nothing after the cursor up to there matched), so an idle
// filter does not rescan the same stretch at every poll.
//
// # Finding a vehicle's sequence
//
// A vehicle's events are stored in its seq order (the edge forwarder
// publishes with an expected-last-subject-sequence guard over the
// vehicle's subjects), so stream sequence and vehicle seq grow together
// within fleet.events.<account>.<vehicle>.>. Vehicle binary-searches the
// stream sequence with direct gets ("next message of this subject at or
// after sequence s"): about log2(stream length) requests — 24 for 16M
// events — whatever the vehicle's share of the stream, never a scan from
// the beginning. It then reads forward with a consumer filtered to the
// vehicle's subjects.
package feed
