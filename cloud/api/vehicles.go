package api

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetwire/fleetwire/cloud/tokens"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go/jetstream"
)

// VehicleView is what the hub knows of a vehicle, from its events in the
// EVENTS stream (within the stream's retention).
//
// The hub does not see a vehicle's leaf link (leaf nodes connect without a
// vehicle identity) nor its local backlog (kept on the vehicle): LinkState
// is derived from the arrival of the last event (vehicles send a heartbeat
// every minute by default), and edge backlogs are reported by the agents'
// own metrics, not here.
type VehicleView struct {
	ID           string `json:"id"`
	Account      string `json:"account"`
	Name         string `json:"name,omitempty"`
	Registration string `json:"registration,omitempty"`
	// Events is how many of its events the stream holds.
	Events uint64 `json:"events"`
	// LastSeq is the vehicle sequence of its last event.
	LastSeq uint64 `json:"lastSeq"`
	// LastEventType and LastEventAt (vehicle clock) describe the last event;
	// LastSeenAt is when the hub received it.
	LastEventType string          `json:"lastEventType"`
	LastEventAt   time.Time       `json:"lastEventAt"`
	LastSeenAt    time.Time       `json:"lastSeenAt"`
	LastPosition  *event.Location `json:"lastPosition,omitempty"`
	// LinkState is "recent" when an event arrived within RecentWithin,
	// else "silent".
	LinkState string `json:"linkState"`
}

// RecentWithin is how recent a vehicle's last event must be for
// LinkState "recent": three default heartbeat periods.
const RecentWithin = 3 * time.Minute

// listVehicles: ?limit= (default 100, at most 1000) &cursor=. One stream
// info request gives the account's subjects; each listed vehicle costs one
// or two last-message lookups.
func (a *API) listVehicles(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	account, err := accountOf(r, tok, true)
	if err != nil {
		return err
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return invalidField("limit", "a number from 1 to 1000")
		}
		limit = n
	}
	after := ""
	if c := r.URL.Query().Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		v, ok := strings.CutPrefix(string(b), "v1.")
		if err != nil || !ok {
			return invalidField("cursor", "not a cursor this API returned")
		}
		after = v
	}
	root := event.SubjectRoot + "." + account + "."
	info, err := a.cfg.Hub.Events.Info(r.Context(), jetstream.WithSubjectFilter(root+">"))
	if err != nil {
		return err
	}
	counts := map[string]uint64{}
	for subj, n := range info.State.Subjects {
		v, _, _ := strings.Cut(strings.TrimPrefix(subj, root), ".")
		counts[v] += n
	}
	ids := make([]string, 0, len(counts))
	for v := range counts {
		if v > after {
			ids = append(ids, v)
		}
	}
	slices.Sort(ids)
	next := ""
	if len(ids) > limit {
		ids = ids[:limit]
		next = base64.RawURLEncoding.EncodeToString([]byte("v1." + ids[limit-1]))
	}
	now := a.cfg.Now()
	items := make([]VehicleView, 0, len(ids))
	for _, id := range ids {
		v := VehicleView{ID: id, Account: account, Events: counts[id], LinkState: "silent"}
		msg, err := a.cfg.Hub.Events.GetLastMsgForSubject(r.Context(), event.VehicleSubjects(account, id))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // aged out meanwhile
		}
		if err != nil {
			return err
		}
		v.LastSeenAt = msg.Time.UTC()
		if now.Sub(msg.Time) <= RecentWithin {
			v.LinkState = "recent"
		}
		if e, err := event.Unmarshal(msg.Data); err == nil {
			v.Name, v.Registration = e.Vehicle.Name, e.Vehicle.Registration
			v.LastSeq, v.LastEventType, v.LastEventAt, v.LastPosition = e.Seq, string(e.Type), e.OccurredAt.UTC(), e.Location
		}
		if v.LastPosition == nil {
			pm, err := a.cfg.Hub.Events.GetLastMsgForSubject(r.Context(), event.Subject(account, id, event.TypePosition))
			if err == nil {
				if e, err := event.Unmarshal(pm.Data); err == nil {
					v.LastPosition = e.Location
				}
			}
		}
		items = append(items, v)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items, "next": next})
}
