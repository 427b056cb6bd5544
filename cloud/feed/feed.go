package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Limits of a read.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
	// MaxWait bounds a long poll.
	MaxWait = 30 * time.Second
)

var (
	// ErrBadCursor: the cursor is not one this package encoded.
	ErrBadCursor = errors.New("feed: not a cursor this feed returned")
	// ErrCursorExpired: events after the cursor were removed by the
	// stream's retention (see ExpiredError for the oldest point).
	ErrCursorExpired = errors.New("feed: the cursor is older than the oldest stored event")
	// ErrCursorAhead: the cursor is beyond the stream's last event (a
	// cursor of another hub, or of a stream that was recreated).
	ErrCursorAhead = errors.New("feed: the cursor is beyond the last stored event")
	// ErrNoEvents: the vehicle has no event in the stream.
	ErrNoEvents = errors.New("feed: no stored event of this vehicle")
	// ErrSeqExpired: the vehicle's events from the asked seq are no longer
	// all stored (see ExpiredError).
	ErrSeqExpired = errors.New("feed: the vehicle's events from that seq are no longer stored")
)

// ExpiredError says what is the oldest point still available. It wraps
// ErrCursorExpired (Read) or ErrSeqExpired (Vehicle).
type ExpiredError struct {
	// Oldest is the cursor that reads from the oldest stored event.
	Oldest Cursor
	// OldestSeq is the vehicle's oldest stored seq (Vehicle only).
	OldestSeq uint64
	// OldestTime is when the hub received the oldest stored event.
	OldestTime time.Time
	err        error
}

func (e *ExpiredError) Error() string {
	if e.OldestSeq > 0 {
		return fmt.Sprintf("%v: the oldest is seq %d, received %s", e.err, e.OldestSeq, e.OldestTime.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("%v: the oldest is received %s (cursor %s)", e.err, e.OldestTime.UTC().Format(time.RFC3339), e.Oldest)
}

func (e *ExpiredError) Unwrap() error { return e.err }

// Item is one stored event.
type Item struct {
	// StreamSeq is its EVENTS stream sequence.
	StreamSeq uint64 `json:"streamSeq"`
	// ReceivedAt is when the hub stored it.
	ReceivedAt time.Time `json:"receivedAt"`
	Vehicle    string    `json:"vehicle"`
	Type       string    `json:"type"`
	// Seq is the vehicle's sequence (header Fleetwire-Seq).
	Seq uint64 `json:"seq"`
	// Event is the envelope as stored.
	Event json.RawMessage `json:"event"`
	// Cursor reads the events after this one.
	Cursor string `json:"cursor"`
	// Subject is its EVENTS subject.
	Subject string `json:"-"`
}

// Page is the result of a Read.
type Page struct {
	Items []Item
	// Next is where the next read starts: after the last event examined,
	// or after the end of the stream as it was when the read caught up.
	Next Cursor
	// More is true when events were known to follow: read again at once.
	More bool
}

// Options of a Read.
type Options struct {
	// Subjects filter the stream (at least one).
	Subjects []string
	// After is the cursor to read after.
	After Cursor
	// Oldest starts at the oldest stored event (After is ignored).
	Oldest bool
	// Since, when set, starts at the first event the hub received at or
	// after it (After and Oldest are ignored).
	Since time.Time
	// Limit is the most items returned (default DefaultLimit, at most
	// MaxLimit).
	Limit int
	// Wait, when positive, waits up to that long (at most MaxWait) for a
	// first item when none is available.
	Wait time.Duration
	// Match, when set, keeps only the messages it accepts.
	Match func(subject string, data []byte) bool
	// MaxScan bounds the messages examined by one read (default 10×Limit,
	// at least 1000); a read that reaches it returns what it has, More set.
	MaxScan int
}

// Reader reads one stream (EVENTS).
type Reader struct {
	stream jetstream.Stream
	log    *slog.Logger
}

// NewReader reads stream; log may be nil.
func NewReader(stream jetstream.Stream, log *slog.Logger) *Reader {
	if log == nil {
		log = slog.Default()
	}
	return &Reader{stream: stream, log: log}
}

// Read returns the events after o's start that match, in stream order.
func (r *Reader) Read(ctx context.Context, o Options) (Page, error) {
	if len(o.Subjects) == 0 {
		return Page{}, errors.New("feed: Options.Subjects is empty")
	}
	o.Limit = clampLimit(o.Limit)
	o.Wait = min(max(o.Wait, 0), MaxWait)
	if o.MaxScan <= 0 {
		o.MaxScan = max(10*o.Limit, 1000)
	}
	info, err := r.stream.Info(ctx)
	if err != nil {
		return Page{}, fmt.Errorf("feed: stream info: %w", err)
	}
	st := info.State
	cfg := jetstream.ConsumerConfig{
		AckPolicy:         jetstream.AckNonePolicy,
		MemoryStorage:     true,
		InactiveThreshold: o.Wait + 30*time.Second,
		FilterSubjects:    o.Subjects,
		Description:       "fleetwire pull feed read",
	}
	start := uint64(0) // the cursor of the read's start
	switch {
	case !o.Since.IsZero():
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &o.Since
	case o.Oldest:
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	default:
		if uint64(o.After) > st.LastSeq {
			return Page{}, fmt.Errorf("%w: cursor at %d, the stream ends at %d", ErrCursorAhead, o.After, st.LastSeq)
		}
		if uint64(o.After)+1 < st.FirstSeq {
			return Page{}, &ExpiredError{Oldest: Cursor(st.FirstSeq - 1), OldestTime: st.FirstTime, err: ErrCursorExpired}
		}
		start = uint64(o.After)
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start+1
	}
	cons, closeCons, err := r.consumer(ctx, cfg)
	if err != nil {
		return Page{}, err
	}
	defer closeCons()

	items, last, caughtUp, err := r.scan(ctx, cons, o)
	if err != nil {
		return Page{}, err
	}
	p := Page{Items: items, Next: Cursor(max(start, last)), More: !caughtUp}
	if caughtUp {
		p.Next = Cursor(max(start, last, st.LastSeq))
	}
	return p, nil
}

// scan fetches from cons until the page is full, the scan bound is
// reached, or nothing is pending (then waits up to o.Wait for a first
// item). last is the stream sequence of the last message examined;
// caughtUp tells nothing was pending after it.
func (r *Reader) scan(ctx context.Context, cons jetstream.Consumer, o Options) (items []Item, last uint64, caughtUp bool, err error) {
	items = []Item{}
	caughtUp = cons.CachedInfo().NumPending == 0
	scanned := 0
	var deadline time.Time
	if o.Wait > 0 {
		deadline = time.Now().Add(o.Wait)
	}
	examine := func(m jetstream.Msg) error {
		md, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("feed: message metadata: %w", err)
		}
		last, caughtUp = md.Sequence.Stream, md.NumPending == 0
		scanned++
		if o.Match != nil && !o.Match(m.Subject(), m.Data()) {
			return nil
		}
		items = append(items, itemOf(m.Subject(), m.Headers(), m.Data(), md.Sequence.Stream, md.Timestamp))
		return nil
	}
	for len(items) < o.Limit && scanned < o.MaxScan {
		if !caughtUp {
			batch, err := cons.FetchNoWait(min(o.Limit-len(items), o.MaxScan-scanned))
			if err != nil {
				return nil, 0, false, fmt.Errorf("feed: fetch: %w", err)
			}
			n := 0
			for m := range batch.Messages() {
				n++
				if err := examine(m); err != nil {
					return nil, 0, false, err
				}
			}
			if err := batch.Error(); err != nil {
				return nil, 0, false, fmt.Errorf("feed: fetch: %w", err)
			}
			if n == 0 {
				caughtUp = true
			}
			continue
		}
		if len(items) > 0 || deadline.IsZero() || time.Until(deadline) < 10*time.Millisecond {
			break
		}
		// Long poll: one pull request waits on the server (which lets
		// it expire a little early: the loop asks again for the rest).
		wctx, cancel := context.WithDeadline(ctx, deadline)
		m, err := cons.Next(jetstream.FetchContext(wctx))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, 0, false, ctx.Err()
			}
			if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoMessages) {
				continue
			}
			return nil, 0, false, fmt.Errorf("feed: wait: %w", err)
		}
		if err := examine(m); err != nil {
			return nil, 0, false, err
		}
	}
	return items, last, caughtUp, nil
}

// consumer creates an ephemeral consumer; closeCons deletes it.
func (r *Reader) consumer(ctx context.Context, cfg jetstream.ConsumerConfig) (jetstream.Consumer, func(), error) {
	cons, err := r.stream.CreateConsumer(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("feed: consumer: %w", err)
	}
	return cons, func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := r.stream.DeleteConsumer(dctx, cons.CachedInfo().Name); err != nil {
			// Its inactivity threshold removes it anyway.
			r.log.Debug("feed: delete consumer", "err", err)
		}
	}, nil
}

func clampLimit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return min(n, MaxLimit)
}

// itemOf builds an Item; the vehicle seq comes from the Fleetwire-Seq
// header, else from the envelope.
func itemOf(subject string, h nats.Header, data []byte, seq uint64, at time.Time) Item {
	var env struct {
		Type    string `json:"type"`
		Seq     uint64 `json:"seq"`
		Vehicle struct {
			ID string `json:"id"`
		} `json:"vehicle"`
	}
	it := Item{StreamSeq: seq, ReceivedAt: at.UTC(), Subject: subject, Event: data, Cursor: Cursor(seq).String()}
	if err := json.Unmarshal(data, &env); err != nil && !json.Valid(data) {
		// Not an envelope (a foreign publisher): keep the page valid JSON.
		it.Event, _ = json.Marshal(string(data))
	}
	it.Vehicle, it.Type, it.Seq = env.Vehicle.ID, env.Type, env.Seq
	if v, err := strconv.ParseUint(h.Get(event.HeaderSeq), 10, 64); err == nil {
		it.Seq = v
	}
	return it
}
