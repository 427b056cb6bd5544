package callout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fleetwire/fleetwire/cloud/internal/ensure"
	"github.com/nats-io/nats.go/jetstream"
)

// Session is one admitted connection.
type Session struct {
	Server  string    `json:"server"` // ID of the server it is on
	CID     uint64    `json:"cid"`    // its connection ID there
	Expires time.Time `json:"expires"`
}

// Sessions remembers admitted connections by public key until they expire.
// Implementations are safe for concurrent use.
type Sessions interface {
	// Add records an admitted connection of key.
	Add(ctx context.Context, key string, s Session) error
	// Take returns the unexpired connections of key and forgets them.
	Take(ctx context.Context, key string) ([]Session, error)
}

// maxSessionsPerKey bounds what memory keeps of a key that reconnects
// often; the oldest are forgotten first (they expire anyway).
const maxSessionsPerKey = 16

// memorySessions keeps sessions in this process.
type memorySessions struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string][]Session
}

// NewMemorySessions keeps sessions in memory: Revoke then reaches only the
// connections this process admitted since it started.
func NewMemorySessions(now func() time.Time) Sessions {
	if now == nil {
		now = time.Now
	}
	return &memorySessions{now: now, m: map[string][]Session{}}
}

func (m *memorySessions) Add(_ context.Context, key string, s Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	live := m.m[key][:0]
	for _, o := range m.m[key] {
		if o.Expires.After(now) {
			live = append(live, o)
		}
	}
	live = append(live, s)
	if len(live) > maxSessionsPerKey {
		live = live[len(live)-maxSessionsPerKey:]
	}
	m.m[key] = live
	return nil
}

func (m *memorySessions) Take(_ context.Context, key string) ([]Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ss := m.m[key]
	delete(m.m, key)
	return ss, nil
}

// SessionsBucket is the KV bucket of KVSessions.
const SessionsBucket = "CALLOUT_SESSIONS"

// kvSessions keeps sessions in a KV bucket whose entries expire with the
// sessions: shared by every replica and kept across restarts.
type kvSessions struct {
	kv jetstream.KeyValue
}

// KVSessions opens (or creates) SessionsBucket with entries kept for ttl,
// the session TTL, on replicas replicas.
func KVSessions(ctx context.Context, js jetstream.JetStream, ttl time.Duration, replicas int) (Sessions, error) {
	kv, err := ensure.Retry(ctx, "create bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      SessionsBucket,
			Description: "fleetwire: connections admitted by the authorization callout, to disconnect them when their key is revoked",
			TTL:         ttl,
			Storage:     jetstream.FileStorage,
			Replicas:    max(replicas, 1),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("callout: bucket %s: %w", SessionsBucket, err)
	}
	return &kvSessions{kv: kv}, nil
}

// entry key: <public key>.<server ID>.<cid>, all valid subject tokens.
func sessionKey(key string, s Session) string {
	return key + "." + s.Server + "." + strconv.FormatUint(s.CID, 10)
}

func (k *kvSessions) Add(ctx context.Context, key string, s Session) error {
	b, _ := json.Marshal(s)
	if _, err := k.kv.Put(ctx, sessionKey(key, s), b); err != nil {
		return fmt.Errorf("callout: record session: %w", err)
	}
	return nil
}

func (k *kvSessions) Take(ctx context.Context, key string) ([]Session, error) {
	lister, err := k.kv.ListKeysFiltered(ctx, key+".>")
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("callout: list sessions: %w", err)
	}
	var out []Session
	var errs []error
	for name := range lister.Keys() {
		e, err := k.kv.Get(ctx, name)
		if err != nil {
			if !errors.Is(err, jetstream.ErrKeyNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		var s Session
		if err := json.Unmarshal(e.Value(), &s); err != nil || !strings.HasPrefix(name, key+".") {
			errs = append(errs, fmt.Errorf("callout: session %s: unreadable", name))
		} else {
			out = append(out, s)
		}
		if err := k.kv.Delete(ctx, name); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}
