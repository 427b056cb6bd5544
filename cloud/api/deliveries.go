package api

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/fleetwire/fleetwire/cloud/deliverylog"
	"github.com/fleetwire/fleetwire/cloud/tokens"
	"github.com/fleetwire/fleetwire/shared/event"
)

// DeliveryPage is one page of a subscription's delivery log, newest first.
type DeliveryPage struct {
	Items []deliverylog.Record `json:"items"`
	// Next is the cursor of the following (older) page; absent on the last.
	Next string `json:"next,omitempty"`
}

// cursors are opaque to clients: base64url of "d1.<stream sequence>".
func encodeCursor(seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("d1." + strconv.FormatUint(seq, 10)))
}

func decodeCursor(c string) (uint64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), "d1.")
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseUint(rest, 10, 64)
	return seq, err == nil && seq > 0
}

// listDeliveries: ?status=delivered|failed|discarded&vehicle=&limit=&cursor=
func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	s, err := a.getVisible(r, tok)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var query deliverylog.Query
	var errs []FieldError
	if v := q.Get("status"); v != "" {
		o, ok := deliverylog.ParseOutcome(v)
		if !ok {
			errs = append(errs, FieldError{"status", "want delivered, failed or discarded"})
		}
		query.Outcome = o
	}
	if v := q.Get("vehicle"); v != "" {
		if err := event.ValidToken("vehicle", v); err != nil {
			errs = append(errs, FieldError{"vehicle", err.Error()})
		}
		query.Vehicle = v
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > deliverylog.MaxLimit {
			errs = append(errs, FieldError{"limit", "a number from 1 to " + strconv.Itoa(deliverylog.MaxLimit)})
		}
		query.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		seq, ok := decodeCursor(v)
		if !ok {
			errs = append(errs, FieldError{"cursor", "not a cursor this API returned"})
		}
		query.Before = seq
	}
	if len(errs) > 0 {
		return invalid(fieldSummary(errs), errs...)
	}
	page, err := a.cfg.Deliveries.List(r.Context(), s.ID, query)
	if err != nil {
		return err
	}
	out := DeliveryPage{Items: make([]deliverylog.Record, len(page.Records))}
	for i, e := range page.Records {
		out.Items[i] = e.Record
	}
	if page.Next != 0 {
		out.Next = encodeCursor(page.Next)
	}
	return writeJSON(w, http.StatusOK, out)
}

// DeliveryDetail is every recorded attempt of one event.
type DeliveryDetail struct {
	EventID  string               `json:"eventId"`
	Attempts []deliverylog.Record `json:"attempts"`
}

// showDelivery: every attempt at one event, oldest first; ?vehicle= makes
// the search read only that vehicle's records.
func (a *API) showDelivery(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	s, err := a.getVisible(r, tok)
	if err != nil {
		return err
	}
	id, vehicle := r.PathValue("eventId"), r.URL.Query().Get("vehicle")
	if vehicle != "" {
		if err := event.ValidToken("vehicle", vehicle); err != nil {
			return invalidField("vehicle", err.Error())
		}
	}
	rs, err := a.cfg.Deliveries.ForEvent(r.Context(), s.ID, id, vehicle)
	if errors.Is(err, deliverylog.ErrInvalidEventID) {
		return invalidField("eventId", "an event id (ULID)")
	}
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		return notFound("deliveries of event " + id)
	}
	return writeJSON(w, http.StatusOK, DeliveryDetail{EventID: id, Attempts: rs})
}
