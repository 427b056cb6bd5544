package deliverylog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fleetwire/fleetwire/cloud/internal/ensure"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// SubjectRoot is the first tokens of delivery-log subjects:
// fleet.deliveries.<subscription>.<vehicle>.<outcome>.
const SubjectRoot = "fleet.deliveries"

// Outcome of an attempt, the last subject token.
type Outcome string

const (
	// Delivered: the receiver answered 2xx.
	Delivered Outcome = "ok"
	// Failed: anything else; the event will be tried again.
	Failed Outcome = "fail"
	// Discarded: the event was never delivered and never will be, because
	// the subscription was deactivated (410 Gone, or failing beyond the
	// maximum age) or the event cannot be rendered.
	Discarded Outcome = "discard"
)

// headerStreamSeq carries the EVENTS stream sequence of the delivered event.
const headerStreamSeq = "Fleetwire-Event-Stream-Seq"

// Record is one delivery attempt, or one discarded event.
type Record struct {
	Subscription string `json:"subscription"`
	// Epoch is the subscription's queue epoch (see subscription.Epoch):
	// a replay delivers again what an earlier epoch delivered.
	Epoch     uint64    `json:"epoch,omitempty"`
	EventID   string    `json:"eventId"`
	EventType string    `json:"eventType"`
	Vehicle   string    `json:"vehicle"`
	Seq       uint64    `json:"seq"`       // the event's per-vehicle sequence
	StreamSeq uint64    `json:"streamSeq"` // its EVENTS stream sequence
	Attempt   int       `json:"attempt"`
	Time      time.Time `json:"time"`
	URL       string    `json:"url,omitempty"`
	Outcome   Outcome   `json:"outcome"`
	// StatusCode is the receiver's status, 0 when none was received.
	StatusCode int     `json:"statusCode,omitempty"`
	LatencyMs  float64 `json:"latencyMs"`
	Error      string  `json:"error,omitempty"`
	// NextAttempt is when a failed event will be tried again.
	NextAttempt time.Time `json:"nextAttempt,omitzero"`
	// Response is the first KiB of the receiver's answer.
	Response string `json:"response,omitempty"`
	// Request is the delivered body, for inspection.
	Request string `json:"request,omitempty"`
	// ContentType of Request.
	ContentType string `json:"contentType,omitempty"`
}

// Config shapes the delivery-log stream.
type Config struct {
	Stream   string        // default "DELIVERIES"
	MaxAge   time.Duration // default 7 days
	Replicas int           // default 1
}

// Log writes and reads delivery records.
type Log struct {
	js     jetstream.JetStream
	stream jetstream.Stream
}

// Open creates or updates the delivery-log stream.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Log, error) {
	if cfg.Stream == "" {
		cfg.Stream = "DELIVERIES"
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 7 * 24 * time.Hour
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	st, err := ensure.Retry(ctx, "create stream", func(ctx context.Context) (jetstream.Stream, error) {
		return js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:        cfg.Stream,
			Description: "fleetwire: every webhook delivery attempt",
			Subjects:    []string{SubjectRoot + ".>"},
			Storage:     jetstream.FileStorage,
			MaxAge:      cfg.MaxAge,
			Replicas:    cfg.Replicas,
			AllowDirect: true,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("deliverylog: stream %s: %w", cfg.Stream, err)
	}
	return &Log{js: js, stream: st}, nil
}

// Subject is where the records of one subscription, vehicle and outcome
// go. Any argument may be "*" to match all.
func Subject(subscription, vehicle string, o Outcome) string {
	return SubjectRoot + "." + subscription + "." + vehicle + "." + string(o)
}

// Append stores r and waits until the hub has it.
func (l *Log) Append(ctx context.Context, r Record) error {
	wait, err := l.AppendAsync(r)
	if err != nil {
		return err
	}
	return wait(ctx)
}

// AppendAsync sends r and returns at once; wait reports whether the hub
// stored it. It lets a caller overlap the record with other round trips.
func (l *Log) AppendAsync(r Record) (wait func(context.Context) error, err error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("deliverylog: %w", err)
	}
	msg := &nats.Msg{
		Subject: Subject(r.Subscription, r.Vehicle, r.Outcome),
		Header:  nats.Header{headerStreamSeq: []string{strconv.FormatUint(r.StreamSeq, 10)}},
		Data:    body,
	}
	fut, err := l.js.PublishMsgAsync(msg)
	if err != nil {
		return nil, fmt.Errorf("deliverylog: record %s/%s: %w", r.Subscription, r.EventID, err)
	}
	return func(ctx context.Context) error {
		select {
		case <-fut.Ok():
			return nil
		case err := <-fut.Err():
			return fmt.Errorf("deliverylog: record %s/%s: %w", r.Subscription, r.EventID, err)
		case <-ctx.Done():
			return fmt.Errorf("deliverylog: record %s/%s: %w", r.Subscription, r.EventID, ctx.Err())
		}
	}, nil
}

// Last returns the subscription's latest record for the vehicle and
// outcome; found is false when there is none.
func (l *Log) Last(ctx context.Context, subscription, vehicle string, o Outcome) (r Record, found bool, err error) {
	raw, err := l.stream.GetLastMsgForSubject(ctx, Subject(subscription, vehicle, o))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("deliverylog: last %s record of %s/%s: %w", o, subscription, vehicle, err)
	}
	if err := json.Unmarshal(raw.Data, &r); err != nil {
		return r, false, fmt.Errorf("deliverylog: last %s record of %s/%s: %w", o, subscription, vehicle, err)
	}
	return r, true, nil
}

// Stats summarises a subscription's records within the log's retention.
type Stats struct {
	Delivered int `json:"delivered"`
	Failed    int `json:"failedAttempts"`
	Discarded int `json:"discarded"`
	// LastSuccess and LastFailure are the latest of each, nil when none.
	LastSuccess *Record `json:"lastSuccess,omitempty"`
	LastFailure *Record `json:"lastFailure,omitempty"`
}

// Stats counts the subscription's records by outcome and returns the
// latest success and failure.
func (l *Log) Stats(ctx context.Context, subscription string) (Stats, error) {
	var st Stats
	info, err := l.stream.Info(ctx, jetstream.WithSubjectFilter(Subject(subscription, "*", "*")))
	if err != nil {
		return st, fmt.Errorf("deliverylog: stats of %s: %w", subscription, err)
	}
	for subj, n := range info.State.Subjects {
		switch Outcome(subj[strings.LastIndexByte(subj, '.')+1:]) {
		case Delivered:
			st.Delivered += int(n)
		case Failed:
			st.Failed += int(n)
		case Discarded:
			st.Discarded += int(n)
		}
	}
	for _, o := range []Outcome{Delivered, Failed} {
		r, found, err := l.Last(ctx, subscription, "*", o)
		if err != nil {
			return st, err
		}
		if found {
			if o == Delivered {
				st.LastSuccess = &r
			} else {
				st.LastFailure = &r
			}
		}
	}
	return st, nil
}
