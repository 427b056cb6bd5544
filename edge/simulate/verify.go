package simulate

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Verification is what VerifyHub found.
type Verification struct {
	Vehicles int           // vehicles with events on the hub
	Events   int           // events read
	Took     time.Duration // time to read and check them
	// Problems lists the first gaps, duplicates, reorderings and missing
	// events found (at most maxProblems); none means every vehicle's
	// events are on the hub once each, gap-free and in order.
	Problems []string
}

// OK reports whether no problem was found.
func (v Verification) OK() bool { return len(v.Problems) == 0 }

const maxProblems = 20

// VerifyHub reads every event of account in the hub's stream, in stream
// order, through nc (a client of the hub, or of a leaf node linked to it:
// the hub's JetStream is reached by its domain), and checks that each
// vehicle's Fleetwire-Seq values go up by exactly one from event to event
// from 1 (no gap, no duplicate, no reordering) and reach at least
// want[vehicle]: nothing recorded up to it is missing (events recorded since,
// such as a heartbeat still in flight, may or may not be there yet).
func VerifyHub(ctx context.Context, nc *nats.Conn, domain, stream, account string, want map[string]uint64) (Verification, error) {
	start := time.Now()
	var v Verification
	js, err := jetstream.NewWithDomain(nc, domain)
	if err != nil {
		return v, fmt.Errorf("simulate: verify: %w", err)
	}
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return v, fmt.Errorf("simulate: verify: stream %s: %w", stream, err)
	}
	filter := event.SubjectRoot + "." + account + ".>"
	// Not the per-subject counts: with 10,000 vehicles that listing is
	// tens of thousands of subjects and does not come back in time.
	info := st.CachedInfo()
	last := map[string]uint64{}
	problem := func(format string, args ...any) {
		if len(v.Problems) < maxProblems {
			v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
		}
	}
	if info.State.Msgs > 0 {
		cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
		if err != nil {
			return v, fmt.Errorf("simulate: verify: %w", err)
		}
		it, err := cons.Messages(jetstream.PullMaxMessages(2048))
		if err != nil {
			return v, fmt.Errorf("simulate: verify: %w", err)
		}
		defer it.Stop()
		for {
			m, err := it.Next()
			if err != nil {
				return v, fmt.Errorf("simulate: verify: after %d events: %w", v.Events, err)
			}
			meta, err := m.Metadata()
			if err != nil {
				return v, fmt.Errorf("simulate: verify: %w", err)
			}
			v.Events++
			veh := vehicleOf(m.Subject())
			seq, err := strconv.ParseUint(m.Headers().Get(event.HeaderSeq), 10, 64)
			switch prev, seen := last[veh]; {
			case err != nil:
				problem("%s: stream seq %d has no valid %s header", veh, meta.Sequence.Stream, event.HeaderSeq)
			case !seen && seq != 1:
				problem("%s: first event on the hub has seq %d, want 1 (stream seq %d)", veh, seq, meta.Sequence.Stream)
			case seen && seq == prev:
				problem("%s: seq %d twice (stream seq %d)", veh, seq, meta.Sequence.Stream)
			case seen && seq < prev:
				problem("%s: seq %d after %d (out of order, stream seq %d)", veh, seq, prev, meta.Sequence.Stream)
			case seen && seq > prev+1:
				problem("%s: seq %d after %d (%d missing, stream seq %d)", veh, seq, prev, seq-prev-1, meta.Sequence.Stream)
			}
			if err == nil {
				last[veh] = max(last[veh], seq)
			}
			if meta.NumPending == 0 || meta.Sequence.Stream >= info.State.LastSeq {
				break
			}
			if ctx.Err() != nil {
				return v, ctx.Err()
			}
		}
	}
	v.Vehicles = len(last)
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if got := last[id]; got < want[id] {
			problem("%s: last seq on the hub %d, want at least %d", id, got, want[id])
		}
	}
	v.Took = time.Since(start)
	return v, nil
}

// vehicleOf is the vehicle token of fleet.events.<account>.<vehicle>.<type>.
func vehicleOf(subject string) string {
	t := strings.SplitN(subject, ".", 5)
	if len(t) < 5 {
		return subject
	}
	return t[3]
}
