package deliverylog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"
)

// Entry is a record with its position in the log.
type Entry struct {
	// Seq is the record's DELIVERIES stream sequence (what cursors are
	// made of).
	Seq uint64 `json:"-"`
	Record
}

// Query selects a page of records for List.
type Query struct {
	// Outcome keeps one outcome ("": all).
	Outcome Outcome
	// Vehicle keeps one vehicle's records ("": all).
	Vehicle string
	// Limit is the page size (default 50, at most MaxLimit).
	Limit int
	// Before keeps records older than this stream sequence (0: from the
	// newest): the previous page's Page.Next.
	Before uint64
}

// MaxLimit is the largest page List returns.
const MaxLimit = 500

// Page is one page of records, newest first.
type Page struct {
	Records []Entry
	// Next is the Before of the following (older) page; 0 when there is
	// none.
	Next uint64
}

// List returns the subscription's records matching q, newest first. It reads
// backwards in windows that double while matches are sparse, so a page costs
// about as many reads as it has records, however long the log.
func (l *Log) List(ctx context.Context, subscription string, q Query) (Page, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, MaxLimit)
	vehicle, outcome := q.Vehicle, q.Outcome
	if vehicle == "" {
		vehicle = "*"
	}
	if outcome == "" {
		outcome = "*"
	}
	filter := Subject(subscription, vehicle, outcome)
	info, err := l.stream.Info(ctx)
	if err != nil {
		return Page{}, fmt.Errorf("deliverylog: list %s: %w", subscription, err)
	}
	first, last := info.State.FirstSeq, info.State.LastSeq
	upper := last + 1
	if q.Before != 0 && q.Before < upper {
		upper = q.Before
	}
	var found []Entry // ascending
	window := uint64(4 * q.Limit)
	for upper > first && len(found) < q.Limit+1 && info.State.Msgs > 0 {
		lo := first
		if upper > window && upper-window > first {
			lo = upper - window
		}
		var chunk []Entry
		err := l.scan(ctx, filter, jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: lo}, func(e Entry) bool {
			if e.Seq >= upper {
				return false
			}
			chunk = append(chunk, e)
			return true
		})
		if err != nil {
			return Page{}, fmt.Errorf("deliverylog: list %s: %w", subscription, err)
		}
		found = append(chunk, found...)
		upper = lo
		window *= 2
	}
	var p Page
	if len(found) > q.Limit {
		found = found[len(found)-q.Limit:]
		p.Next = found[0].Seq
	}
	slices.Reverse(found)
	p.Records = found
	return p, nil
}

// ErrInvalidEventID: ForEvent was given something that is not a ULID.
var ErrInvalidEventID = errors.New("deliverylog: event id is not a ULID")

// LookBack is how long before an event's id time ForEvent starts looking:
// the id is made by the vehicle's clock, which may be ahead of the hub's.
const LookBack = time.Hour

// ForEvent returns every record of the subscription about the event, oldest
// first (every attempt, of every epoch). The search starts at the time in
// the event's ULID less LookBack and reads the subscription's records after
// it (only the vehicle's when vehicle is set, much less to read).
func (l *Log) ForEvent(ctx context.Context, subscription, eventID, vehicle string) ([]Record, error) {
	id, err := ulid.ParseStrict(eventID)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrInvalidEventID, eventID)
	}
	if vehicle == "" {
		vehicle = "*"
	}
	start := ulid.Time(id.Time()).Add(-LookBack)
	var out []Record
	err = l.scan(ctx, Subject(subscription, vehicle, "*"), jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start}, func(e Entry) bool {
		if e.EventID == eventID {
			out = append(out, e.Record)
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("deliverylog: records of %s/%s: %w", subscription, eventID, err)
	}
	return out, nil
}

// scan reads the records matching filter from where cfg starts until fn
// returns false or none are left, through an ephemeral consumer that is
// deleted afterwards. Records that do not decode are skipped.
func (l *Log) scan(ctx context.Context, filter string, cfg jetstream.ConsumerConfig, fn func(Entry) bool) error {
	cfg.FilterSubject = filter
	cfg.AckPolicy = jetstream.AckNonePolicy
	cfg.MemoryStorage = true
	cfg.InactiveThreshold = time.Minute
	cons, err := l.stream.CreateConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = l.stream.DeleteConsumer(dctx, cons.CachedInfo().Name)
	}()
	remaining := cons.CachedInfo().NumPending
	for remaining > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch, err := cons.FetchNoWait(int(min(remaining, 256)))
		if err != nil {
			return err
		}
		n := 0
		for m := range batch.Messages() {
			n++
			remaining--
			md, err := m.Metadata()
			if err != nil {
				continue
			}
			var e Entry
			if json.Unmarshal(m.Data(), &e.Record) != nil {
				continue
			}
			e.Seq = md.Sequence.Stream
			if !fn(e) {
				return nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return err
		}
		if n == 0 {
			return nil // the rest expired meanwhile
		}
	}
	return nil
}

// ParseOutcome reads an outcome as the API names it: ok/delivered,
// fail/failed, discard/discarded.
func ParseOutcome(s string) (Outcome, bool) {
	switch strings.ToLower(s) {
	case "ok", "delivered", "success":
		return Delivered, true
	case "fail", "failed", "failure":
		return Failed, true
	case "discard", "discarded":
		return Discarded, true
	}
	return "", false
}

// StreamInfo is the state of the delivery-log stream.
func (l *Log) StreamInfo(ctx context.Context) (*jetstream.StreamInfo, error) {
	info, err := l.stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("deliverylog: %w", err)
	}
	return info, nil
}
