package settingsstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/hub"
	"github.com/fleetwire/fleetwire/shared/config"
)

func openStore(t *testing.T, ctx context.Context) *Store {
	t.Helper()
	h, err := hub.Open(ctx, hub.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	s, err := Open(ctx, h.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPutGetDelete(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := openStore(t, ctx)
	account := []byte("speeding:\n  threshold_kph: 90\n")
	vehicle := []byte("speeding:\n  threshold_kph: 80\n")
	if err := s.Put(ctx, "acme", "", account); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "acme", "truck-7", vehicle); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		vehicle string
		want    []byte
	}{{"", account}, {"truck-7", vehicle}} {
		got, err := s.Get(ctx, "acme", c.vehicle)
		if err != nil || string(got) != string(c.want) {
			t.Fatalf("get acme/%s = %q, %v; want %q", c.vehicle, got, err, c.want)
		}
	}
	if _, err := s.Get(ctx, "acme", "truck-8"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a vehicle without settings: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "acme", "truck-7"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "acme", "truck-7"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v, want ErrNotFound", err)
	}
	if got, err := s.Get(ctx, "acme", ""); err != nil || string(got) != string(account) {
		t.Fatalf("deleting the vehicle's settings touched the account's: %q, %v", got, err)
	}
}

// TestPutRefusesInvalid: the hub stores only documents the vehicles can
// use, and says which key is wrong.
func TestPutRefusesInvalid(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := openStore(t, ctx)
	good := []byte("speeding: {threshold_kph: 100}\n")
	if err := s.Put(ctx, "acme", "truck-7", good); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, account, vehicle, doc string
		want                        []string // in the message
		unknownKey                  bool
	}{
		{"negative threshold", "acme", "truck-7", "speeding:\n  threshold_kph: -10\n",
			[]string{"acme/truck-7", "speeding.threshold_kph", "-10", "allowed"}, false},
		{"typo", "acme", "truck-7", "speeding:\n  threshold_kpj: 90\n",
			[]string{"acme/truck-7", "speeding.threshold_kpj", `did you mean "speeding.threshold_kph"`}, true},
		{"bad duration", "acme", "", "trip:\n  end_after: forever\n",
			[]string{"detection settings acme:", "trip.end_after", "forever"}, false},
		{"related keys", "acme", "truck-7", "motion:\n  moving_kph: 1\n",
			[]string{"motion.moving_kph", "motion.stopped_kph"}, false},
		{"bad account", "ac.me", "", "speeding: {threshold_kph: 90}\n", []string{"account", "ac.me"}, false},
		{"bad vehicle", "acme", "truck 7", "speeding: {threshold_kph: 90}\n", []string{"vehicle", "truck 7"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Put(ctx, c.account, c.vehicle, []byte(c.doc))
			if err == nil {
				t.Fatalf("stored %q", c.doc)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if c.unknownKey && !errors.Is(err, config.ErrUnknownKey) {
				t.Errorf("error %v does not wrap config.ErrUnknownKey", err)
			}
		})
	}
	if got, err := s.Get(ctx, "acme", "truck-7"); err != nil || string(got) != string(good) {
		t.Fatalf("refused documents replaced the stored one: %q, %v", got, err)
	}
	if _, err := s.Get(ctx, "acme", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a refused account document was stored: %v", err)
	}
}
