package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/fleetwire/fleetwire/cloud/tokens"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go/jetstream"
)

// liveEvents streams the account's new events as Server-Sent Events: one
// "event: <type>" per event, its id the EVENTS stream sequence and its data
// the envelope. ?vehicle= and ?type= narrow it; a client reconnecting with
// Last-Event-ID resumes after that event (within the stream's retention).
// A comment line opens the stream and keeps it alive.
func (a *API) liveEvents(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	account, err := accountOf(r, tok, false)
	if err != nil {
		return err
	}
	acc, vehicle, typ := "*", "*", ">"
	if account != "" {
		acc = account
	}
	if v := r.URL.Query().Get("vehicle"); v != "" {
		if err := event.ValidToken("vehicle", v); err != nil {
			return invalidField("vehicle", err.Error())
		}
		vehicle = v
	}
	if t := r.URL.Query().Get("type"); t != "" {
		if err := event.ValidToken("type", event.TypeToken(event.Type(t))); err != nil {
			return invalidField("type", err.Error())
		}
		typ = event.TypeToken(event.Type(t))
	}
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{event.SubjectRoot + "." + acc + "." + vehicle + "." + typ},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	}
	if last := r.Header.Get("Last-Event-ID"); last != "" {
		seq, err := strconv.ParseUint(last, 10, 64)
		if err != nil {
			return badRequest("Last-Event-ID must be an id this feed sent", FieldError{"Last-Event-ID", "not a stream sequence"})
		}
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, seq+1
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	cons, err := a.cfg.Hub.Events.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("api: live feed: %w", err)
	}
	msgs := make(chan jetstream.Msg, 64)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case msgs <- m:
		case <-ctx.Done():
		}
	})
	if err != nil {
		return fmt.Errorf("api: live feed: %w", err)
	}
	defer cc.Stop()

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, ": fleetwire live events\n\n"); err != nil {
		return nil
	}
	if rc.Flush() != nil {
		return nil
	}
	tick := time.NewTicker(a.cfg.LiveHeartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return nil
			}
		case m := <-msgs:
			md, err := m.Metadata()
			if err != nil {
				continue
			}
			e, err := event.Unmarshal(m.Data())
			if err != nil {
				continue
			}
			var data bytes.Buffer
			if json.Compact(&data, m.Data()) != nil {
				continue
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", md.Sequence.Stream, e.Type, data.Bytes()); err != nil || rc.Flush() != nil {
				return nil
			}
		}
	}
}
