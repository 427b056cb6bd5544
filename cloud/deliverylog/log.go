package deliverylog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// SubjectRoot is the first tokens of delivery-log subjects:
// fleet.deliveries.<subscription>.<outcome>.
const SubjectRoot = "fleet.deliveries"

// Outcome of an attempt, the last subject token.
type Outcome string

const (
	// Delivered: the receiver answered 2xx.
	Delivered Outcome = "ok"
	// Failed: anything else; the event will be tried again.
	Failed Outcome = "fail"
)

// headerStreamSeq carries the EVENTS stream sequence of the delivered event.
const headerStreamSeq = "Fleetwire-Event-Stream-Seq"

// Record is one delivery attempt.
type Record struct {
	Subscription string    `json:"subscription"`
	EventID      string    `json:"eventId"`
	EventType    string    `json:"eventType"`
	Vehicle      string    `json:"vehicle"`
	Seq          uint64    `json:"seq"`       // the event's per-vehicle sequence
	StreamSeq    uint64    `json:"streamSeq"` // its EVENTS stream sequence
	Attempt      int       `json:"attempt"`
	Time         time.Time `json:"time"`
	URL          string    `json:"url"`
	Outcome      Outcome   `json:"outcome"`
	StatusCode   int       `json:"statusCode,omitempty"`
	LatencyMs    float64   `json:"latencyMs"`
	Error        string    `json:"error,omitempty"`
	// Response is the first KiB of the receiver's answer.
	Response string `json:"response,omitempty"`
	// Request is the delivered body, for inspection.
	Request json.RawMessage `json:"request,omitempty"`
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
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "fleetwire: every webhook delivery attempt",
		Subjects:    []string{SubjectRoot + ".>"},
		Storage:     jetstream.FileStorage,
		MaxAge:      cfg.MaxAge,
		Replicas:    cfg.Replicas,
		AllowDirect: true,
	})
	if err != nil {
		return nil, fmt.Errorf("deliverylog: stream %s: %w", cfg.Stream, err)
	}
	return &Log{js: js, stream: st}, nil
}

// Subject is where the records of one subscription and outcome go.
func Subject(subscription string, o Outcome) string {
	return SubjectRoot + "." + subscription + "." + string(o)
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
		Subject: Subject(r.Subscription, r.Outcome),
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

// LastDelivered returns the EVENTS stream sequence of the last event the
// subscription delivered, 0 when none is recorded.
func (l *Log) LastDelivered(ctx context.Context, subscription string) (uint64, error) {
	raw, err := l.stream.GetLastMsgForSubject(ctx, Subject(subscription, Delivered))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("deliverylog: last delivery of %s: %w", subscription, err)
	}
	seq, err := strconv.ParseUint(raw.Header.Get(headerStreamSeq), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("deliverylog: last delivery of %s: bad %s header: %w", subscription, headerStreamSeq, err)
	}
	return seq, nil
}
