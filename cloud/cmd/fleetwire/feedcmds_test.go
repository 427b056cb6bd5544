package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetwire/fleetwire/cloud/api"
	"github.com/fleetwire/fleetwire/cloud/apiclient"
	"github.com/fleetwire/fleetwire/cloud/server"
	"github.com/fleetwire/fleetwire/cloud/tokens"
	"github.com/fleetwire/fleetwire/shared/cli"
	"github.com/fleetwire/fleetwire/shared/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// runServer runs fleetwire serve in this process (embedded hub, API on a
// free loopback port, loopback receivers allowed) until the test ends.
func runServer(t *testing.T, ctx context.Context) (*server.Server, server.Config) {
	t.Helper()
	cfg := server.Default()
	cfg.Hub.StoreDir = filepath.Join(t.TempDir(), "hub")
	cfg.Hub.LeafListen = ""
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Dispatch.AllowHTTP, cfg.Dispatch.AllowPrivate = true, true
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(sctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatal(err)
	}
	return s, cfg
}

// startServer is runServer with an admin token of acme.
func startServer(t *testing.T, ctx context.Context) (*server.Server, string, string) {
	t.Helper()
	s, cfg := runServer(t, ctx)
	apiURL := "http://" + s.APIAddr()
	tok, err := apiclient.New(apiURL, readToken(t, filepath.Join(cfg.Hub.StoreDir, "operator.token"))).CreateToken(ctx, "acme", tokens.Admin, "feed test")
	if err != nil {
		t.Fatal(err)
	}
	return s, apiURL, tok.Value
}

func readToken(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// runCmd runs an API command; it returns stdout, stderr (with the error)
// and the exit code.
func runCmd(ctx context.Context, args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	err := apiCommands[args[0]](ctx, args[1:], &out, &errOut)
	if err != nil {
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), cli.Code(err)
}

// storeEvents publishes events of acme's truck-1, seqs from..to, every
// third a heartbeat, the others positions.
func storeEvents(t *testing.T, ctx context.Context, js jetstream.JetStream, from, to uint64) {
	t.Helper()
	if err := tryStoreEvents(ctx, js, from, to); err != nil {
		t.Fatal(err)
	}
}

func tryStoreEvents(ctx context.Context, js jetstream.JetStream, from, to uint64) error {
	for seq := from; seq <= to; seq++ {
		typ := event.TypePosition
		if seq%3 == 0 {
			typ = event.TypeHeartbeat
		}
		ev := event.Event{ID: event.NewID(time.Now()), Type: typ, SchemaVersion: event.SchemaVersion,
			OccurredAt: event.Time{Time: time.Now()}, Account: "acme", Vehicle: event.Vehicle{ID: "truck-1"}, Seq: seq}
		b, _ := ev.Marshal()
		m := &nats.Msg{Subject: ev.Subject(), Data: b, Header: nats.Header{event.HeaderSeq: []string{strconv.FormatUint(seq, 10)}}}
		if _, err := js.PublishMsg(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// jsonLines decodes feed items, one per line.
func jsonLines(t *testing.T, out string) []api.FeedItem {
	t.Helper()
	var items []api.FeedItem
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var it api.FeedItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("not a JSON line %q: %v", sc.Text(), err)
		}
		items = append(items, it)
	}
	return items
}

// cursorOf finds the cursor the command printed on stderr.
func cursorOf(t *testing.T, stderr string) string {
	t.Helper()
	_, rest, ok := strings.Cut(stderr, "cursor: ")
	if !ok {
		t.Fatalf("no cursor on stderr: %q", stderr)
	}
	return strings.Fields(rest)[0]
}

// TestFeedCLI: feed export, feed tail (following, resuming from its
// cursor) and vehicles events against a real fleetwire serve.
func TestFeedCLI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, apiURL, token := startServer(t, ctx)
	js := s.Hub().JS
	with := func(args ...string) []string { return append(args, "--api", apiURL, "--token", token) }
	want := func(code int, args ...string) (string, string) {
		t.Helper()
		out, errOut, got := runCmd(ctx, with(args...)...)
		if got != code {
			t.Fatalf("fleetwire %s: exit %d, want %d:\n%s%s", strings.Join(args, " "), got, code, out, errOut)
		}
		return out, errOut
	}

	start := time.Now().Add(-time.Second)
	storeEvents(t, ctx, js, 1, 25)

	// export: every event since, in order, then the cursor.
	out, errOut := want(0, "feed", "export", "--since", start.Format(time.RFC3339Nano), "--limit", "4")
	items := jsonLines(t, out)
	if len(items) != 25 || items[0].Seq != 1 || items[24].Seq != 25 || !strings.Contains(errOut, "exported 25 events") {
		t.Fatalf("export: %d items\n%s", len(items), errOut)
	}
	exportCursor := cursorOf(t, errOut)
	out, _ = want(0, "feed", "export", "--since", "1h", "--events", "heartbeat")
	if items := jsonLines(t, out); len(items) != 8 || items[0].Type != "heartbeat" {
		t.Fatalf("export of heartbeats: %d items", len(items))
	}
	out, _ = want(0, "feed", "export", "--since", "1h", "--until", items[9].ReceivedAt.Format(time.RFC3339Nano))
	if n := len(jsonLines(t, out)); n != 10 {
		t.Fatalf("export --until the 10th event: %d items", n)
	}
	want(2, "feed", "export")                            // no start
	want(2, "feed", "export", "--since", "last tuesday") // bad time
	want(2, "feed", "tail", "--cursor", "nope", "--max", "1")
	want(2, "feed", "frobnicate")
	if _, _, code := runCmd(ctx, "feed", "tail", "--api", apiURL); code != 4 {
		t.Fatalf("tail without a token: exit %d", code)
	}

	// tail: follows from the export's cursor, wakes on new events, stops
	// after --max and prints where to resume.
	stored := make(chan error, 1)
	go func() {
		// Published while tail waits (or before it asks: either way it
		// must print exactly these, in order).
		stored <- tryStoreEvents(ctx, js, 26, 28)
	}()
	out, errOut = want(0, "feed", "tail", "--cursor", exportCursor, "--max", "2", "--json", "--wait", "10s")
	if err := <-stored; err != nil {
		t.Fatal(err)
	}
	items = jsonLines(t, out)
	if len(items) != 2 || items[0].Seq != 26 || items[1].Seq != 27 {
		t.Fatalf("tail: %+v", items)
	}
	out, _ = want(0, "feed", "tail", "--cursor", cursorOf(t, errOut), "--max", "1")
	if !strings.Contains(out, "RECEIVED") || !strings.Contains(out, "truck-1") || !strings.Contains(out, " 28 ") || strings.Count(out, "\n") != 2 {
		t.Fatalf("tail table, resumed:\n%s", out)
	}
	// Interrupted: exit 0, the cursor printed.
	ictx, icancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, errOut, code := runCmd(ictx, with("feed", "tail", "--since", "1m", "--events", "trip.started", "--wait", "5s")...)
	icancel()
	if code != 0 || !strings.Contains(errOut, "cursor: ") {
		t.Fatalf("interrupted tail: exit %d, %q", code, errOut)
	}

	// vehicles events: the gap fetch, with a subscription's filter.
	out, _ = want(0, "vehicles", "events", "truck-1", "--from-seq", "2", "--limit", "3")
	for _, s := range []string{"SEQ", "position", "heartbeat", "stored seqs 1–28", "more: --from-seq 5"} {
		if !strings.Contains(out, s) {
			t.Fatalf("vehicles events lacks %q:\n%s", s, out)
		}
	}
	if _, err := apiclient.New(apiURL, token).CreateSubscription(ctx, apiclient.SubscriptionInput{ID: "pos", URL: "http://127.0.0.1:1/hook", Events: []string{"position"}}); err != nil {
		t.Fatal(err)
	}
	out, _ = want(0, "vehicles", "events", "truck-1", "--from-seq", "2", "--limit", "3", "--subscription", "pos", "--json")
	var ve api.VehicleEvents
	if err := json.Unmarshal([]byte(out), &ve); err != nil {
		t.Fatal(err)
	}
	if len(ve.Items) != 2 || len(ve.Skipped) != 1 || ve.Skipped[0] != (api.Skipped{Seq: 3, Type: "heartbeat", Reason: "type"}) {
		t.Fatalf("vehicles events --subscription: %+v", ve)
	}
	out, _ = want(0, "vehicles", "events", "truck-1", "--from-seq", "3", "--limit", "1", "--subscription", "pos")
	if !strings.Contains(out, "skipped by pos: type") {
		t.Fatalf("skipped row:\n%s", out)
	}
	want(3, "vehicles", "events", "truck-9")
	want(3, "vehicles", "events", "truck-1", "--subscription", "nope")
	want(2, "vehicles", "events", "truck-1", "--from-seq", "0")
	want(2, "vehicles", "events") // no vehicle
}
