package api

import (
	"net/http"
	"time"

	"github.com/fleetwire/fleetwire/cloud/tokens"
	"github.com/nats-io/nats.go/jetstream"
)

// StreamView is the state of one JetStream stream.
type StreamView struct {
	Name      string    `json:"name"`
	Subjects  []string  `json:"subjects"`
	Messages  uint64    `json:"messages"`
	Bytes     uint64    `json:"bytes"`
	FirstSeq  uint64    `json:"firstSeq"`
	FirstTime time.Time `json:"firstTime,omitzero"`
	LastSeq   uint64    `json:"lastSeq"`
	LastTime  time.Time `json:"lastTime,omitzero"`
	Consumers int       `json:"consumers"`
	MaxAge    string    `json:"maxAge"`
	MaxBytes  int64     `json:"maxBytes"`
}

func streamView(info *jetstream.StreamInfo) StreamView {
	st := info.State
	v := StreamView{Name: info.Config.Name, Subjects: info.Config.Subjects, Messages: st.Msgs, Bytes: st.Bytes,
		FirstSeq: st.FirstSeq, LastSeq: st.LastSeq, Consumers: st.Consumers,
		MaxAge: info.Config.MaxAge.String(), MaxBytes: info.Config.MaxBytes}
	if st.Msgs > 0 {
		v.FirstTime, v.LastTime = st.FirstTime.UTC(), st.LastTime.UTC()
	}
	return v
}

// listStreams: the EVENTS and DELIVERIES streams (operators only).
func (a *API) listStreams(w http.ResponseWriter, r *http.Request, _ tokens.Token) error {
	ev, err := a.cfg.Hub.Events.Info(r.Context())
	if err != nil {
		return err
	}
	dl, err := a.cfg.Deliveries.StreamInfo(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": []StreamView{streamView(ev), streamView(dl)}})
}
