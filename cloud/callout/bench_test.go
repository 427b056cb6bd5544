package callout_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/callout"
	"github.com/fleetwire/fleetwire/shared/identity"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// BenchmarkAdmit measures admissions per second through a real server and
// the Authorizer: b.N client connections, each authenticated by the
// callout, opened from 16 goroutines (a fleet reconnecting after a hub
// restart), against a baseline of the same connections admitted by the
// server's own nkey list (no callout). Reported: admissions/s of each.
//
//	go test -run '^$' -bench Admit -benchtime 2000x -count 2 ./cloud/callout
func BenchmarkAdmit(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := startServer(b)
	reg := &registry{users: map[string]callout.User{}}
	startAuthorizer(b, ctx, c, reg, false)
	keys := make([]nkeys.KeyPair, 64)
	for i := range keys {
		keys[i] = mustKey(b, nkeys.CreateUser)
		reg.set(callout.User{Nkey: pub(b, keys[i]), Kind: callout.KindClient, Permissions: identity.CustomerPermissions("EVENTS", "acme")})
	}
	url := c.ns.ClientURL()
	run := func(b *testing.B, kp func(i int) nkeys.KeyPair) {
		var wg sync.WaitGroup
		next := make(chan int)
		start := time.Now()
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					k := kp(i)
					p, _ := k.PublicKey()
					nc, err := nats.Connect(url, nats.Nkey(p, k.Sign), nats.MaxReconnects(0))
					if err != nil {
						b.Error(err)
						return
					}
					nc.Close()
				}
			}()
		}
		for i := range b.N {
			next <- i
		}
		close(next)
		wg.Wait()
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "admissions/s")
	}
	b.Run("callout", func(b *testing.B) { run(b, func(i int) nkeys.KeyPair { return keys[i%len(keys)] }) })
	b.Run("config-user", func(b *testing.B) { run(b, func(int) nkeys.KeyPair { return c.oper }) })
}
