package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// VehicleOptions select one vehicle's events from a seq on.
type VehicleOptions struct {
	Account, Vehicle string
	// FromSeq is the first vehicle seq wanted (0: 1).
	FromSeq uint64
	// Limit is the most events returned (default DefaultLimit, at most
	// MaxLimit).
	Limit int
}

// VehiclePage is one vehicle's events with seq ≥ FromSeq, in seq order.
type VehiclePage struct {
	Items []Item
	// Next is the FromSeq of the next page.
	Next uint64
	// More is true when the vehicle has stored events after the page.
	More bool
	// OldestSeq and LastSeq are the vehicle's oldest and last stored seqs.
	OldestSeq, LastSeq uint64
	// Probes counts the direct gets spent finding the start.
	Probes int
}

// Vehicle returns the vehicle's events from o.FromSeq. It finds where
// they start by binary search over stream sequences (see the package
// documentation), then reads forward. ErrNoEvents when the vehicle has no
// stored event; an ExpiredError (ErrSeqExpired) when its oldest stored
// event comes after FromSeq.
func (r *Reader) Vehicle(ctx context.Context, o VehicleOptions) (VehiclePage, error) {
	if err := event.ValidToken("account", o.Account); err != nil {
		return VehiclePage{}, fmt.Errorf("feed: %w", err)
	}
	if err := event.ValidToken("vehicle", o.Vehicle); err != nil {
		return VehiclePage{}, fmt.Errorf("feed: %w", err)
	}
	subj := event.VehicleSubjects(o.Account, o.Vehicle)
	from := max(o.FromSeq, 1)
	limit := clampLimit(o.Limit)
	p := VehiclePage{Next: from, Items: []Item{}}
	// next is the vehicle's first event at or after stream sequence seq.
	next := func(seq uint64) (*jetstream.RawStreamMsg, uint64, error) {
		p.Probes++
		m, err := r.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subj))
		if err != nil {
			return nil, 0, err
		}
		return m, vehicleSeq(m.Header, m.Data), nil
	}
	first, firstSeq, err := next(1)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return VehiclePage{}, fmt.Errorf("%w: %s/%s", ErrNoEvents, o.Account, o.Vehicle)
	}
	if err != nil {
		return VehiclePage{}, fmt.Errorf("feed: vehicle %s: %w", o.Vehicle, err)
	}
	p.Probes++
	last, err := r.stream.GetLastMsgForSubject(ctx, subj)
	if err != nil {
		return VehiclePage{}, fmt.Errorf("feed: vehicle %s: %w", o.Vehicle, err)
	}
	p.OldestSeq, p.LastSeq = firstSeq, vehicleSeq(last.Header, last.Data)
	if firstSeq > from {
		return VehiclePage{}, &ExpiredError{Oldest: Cursor(first.Sequence - 1), OldestSeq: firstSeq, OldestTime: first.Time, err: ErrSeqExpired}
	}
	if p.LastSeq < from {
		return p, nil // nothing yet
	}
	// The first stream sequence whose vehicle event has seq ≥ from lies in
	// [first, last]; cand always holds one with seq ≥ from.
	cand := last.Sequence
	if firstSeq == from {
		cand = first.Sequence
	}
	lo, hi := first.Sequence+1, cand-1
	for lo <= hi {
		mid := lo + (hi-lo)/2
		m, seq, err := next(mid) // exists: cand > mid is one
		if err != nil {
			return VehiclePage{}, fmt.Errorf("feed: vehicle %s: %w", o.Vehicle, err)
		}
		if seq >= from {
			// None of its events lies in [mid, m): the first is m or before mid.
			cand, hi = m.Sequence, mid-1
			if seq == from {
				break // seqs are unique and increasing: this is the first
			}
		} else {
			lo = m.Sequence + 1
		}
	}
	cons, closeCons, err := r.consumer(ctx, jetstream.ConsumerConfig{
		AckPolicy: jetstream.AckNonePolicy, MemoryStorage: true, InactiveThreshold: 30 * time.Second,
		FilterSubject: subj, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: cand,
		Description: "fleetwire vehicle events read",
	})
	if err != nil {
		return VehiclePage{}, err
	}
	defer closeCons()
	items, _, caughtUp, err := r.scan(ctx, cons, Options{Limit: limit, MaxScan: limit})
	if err != nil {
		return VehiclePage{}, err
	}
	for _, it := range items {
		if it.Seq >= from { // always, as seqs grow with the stream
			p.Items = append(p.Items, it)
		}
	}
	if n := len(p.Items); n > 0 {
		p.Next = p.Items[n-1].Seq + 1
		p.LastSeq = max(p.LastSeq, p.Items[n-1].Seq)
	}
	p.More = !caughtUp
	return p, nil
}

// vehicleSeq reads the Fleetwire-Seq header, else the envelope's seq.
func vehicleSeq(h nats.Header, data []byte) uint64 {
	if v, err := strconv.ParseUint(h.Get(event.HeaderSeq), 10, 64); err == nil {
		return v
	}
	var env struct {
		Seq uint64 `json:"seq"`
	}
	_ = json.Unmarshal(data, &env)
	return env.Seq
}
