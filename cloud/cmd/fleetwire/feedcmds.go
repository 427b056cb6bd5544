package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/fleetwire/fleetwire/cloud/api"
	"github.com/fleetwire/fleetwire/cloud/apiclient"
	"github.com/fleetwire/fleetwire/shared/cli"
)

// feedFlags are the pull feed's filter and start flags.
type feedFlags struct {
	q             apiclient.FeedQuery
	since, until  string
	events        []string
	vehicles      []string
	vehicleGroups []string
	geofenceTags  []string
}

func addFeedFlags(c *apiCmd, f *feedFlags, limit int) {
	c.fs.StringVar(&f.q.Account, "account", "", "account (operator tokens)")
	c.fs.StringVar(&f.q.Cursor, "cursor", "", "resume after this cursor (printed at the end of a previous run)")
	c.fs.StringVar(&f.since, "since", "", "start at this RFC 3339 time, or a duration ago such as 2h")
	c.fs.IntVar(&f.q.Limit, "limit", limit, "page size (at most 1000)")
	c.fs.StringSliceVar(&f.events, "events", nil, "event types, comma-separated (default all)")
	c.fs.StringSliceVar(&f.vehicles, "vehicles", nil, "vehicle ids (default all)")
	c.fs.StringSliceVar(&f.vehicleGroups, "vehicle-groups", nil, "vehicle groups whose vehicles are added")
	c.fs.StringSliceVar(&f.geofenceTags, "geofence-tags", nil, "only events about fences with one of these tags")
}

// resolve completes the query after parsing.
func (f *feedFlags) resolve(now time.Time) error {
	f.q.Events, f.q.Vehicles, f.q.VehicleGroups, f.q.GeofenceTags = f.events, f.vehicles, f.vehicleGroups, f.geofenceTags
	var err error
	if f.since != "" {
		if f.q.Cursor != "" {
			return cli.UsageError{Msg: "give --cursor or --since, not both"}
		}
		if f.q.Since, err = timeOrAgo(f.since, now); err != nil {
			return cli.UsageError{Msg: "--since: " + err.Error()}
		}
	}
	return nil
}

// timeOrAgo reads an RFC 3339 time or a duration before now.
func timeOrAgo(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration", s)
	}
	return t, nil
}

// feedCmd: fleetwire feed tail | export.
func feedCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return subcommand("feed", args, map[string]func([]string) error{
		"tail": func(args []string) error {
			c := newAPICmd("feed tail", stdout, stderr)
			var f feedFlags
			addFeedFlags(c, &f, 100)
			wait := c.fs.Duration("wait", 30*time.Second, "long poll per request (at most 30s)")
			maxEvents := c.fs.Int("max", 0, "stop after this many events (0: follow until interrupted)")
			_, cl, err := c.parse(args)
			if err != nil {
				return err
			}
			if err := f.resolve(time.Now()); err != nil {
				return err
			}
			f.q.Wait = *wait
			return tail(ctx, c, cl, f.q, *maxEvents, stderr)
		},
		"export": func(args []string) error {
			c := newAPICmd("feed export", stdout, stderr)
			var f feedFlags
			addFeedFlags(c, &f, 1000)
			until := c.fs.String("until", "", "stop at events received after this RFC 3339 time (or duration ago)")
			_, cl, err := c.parse(args)
			if err != nil {
				return err
			}
			if f.since == "" && f.q.Cursor == "" {
				return cli.UsageError{Msg: "feed export: --since (or --cursor) is required"}
			}
			now := time.Now()
			if err := f.resolve(now); err != nil {
				return err
			}
			var end time.Time
			if *until != "" {
				if end, err = timeOrAgo(*until, now); err != nil {
					return cli.UsageError{Msg: "--until: " + err.Error()}
				}
			}
			return export(ctx, c, cl, f.q, end, stderr)
		},
	})
}

// tail follows the feed, printing each event, until ctx ends or max
// events were printed; it prints the cursor to resume from to stderr.
func tail(ctx context.Context, c *apiCmd, cl *apiclient.Client, q apiclient.FeedQuery, maxEvents int, stderr io.Writer) error {
	n := 0
	if !c.json {
		fmt.Fprintf(c.stdout, "%-24s  %-16s  %8s  %-22s  %9s  %s\n", "RECEIVED", "VEHICLE", "SEQ", "TYPE", "STREAM", "ID")
	}
	defer func() { fmt.Fprintf(stderr, "cursor: %s (resume with --cursor %s)\n", dash(q.Cursor), dash(q.Cursor)) }()
	for maxEvents == 0 || n < maxEvents {
		page, err := cl.Feed(ctx, q)
		if err != nil {
			if ctx.Err() != nil {
				return nil // interrupted: the cursor is printed
			}
			return classify(err)
		}
		for _, it := range page.Items {
			if err := printItem(c, it); err != nil {
				return err
			}
			q.Cursor, q.Since = it.Cursor, time.Time{}
			if n++; maxEvents > 0 && n >= maxEvents {
				return nil
			}
		}
		q.Cursor, q.Since = page.Next, time.Time{}
	}
	return nil
}

// export writes the feed's events as JSON lines until it caught up (or
// reached until), then prints the cursor to resume from to stderr.
func export(ctx context.Context, c *apiCmd, cl *apiclient.Client, q apiclient.FeedQuery, until time.Time, stderr io.Writer) error {
	n := 0
	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false)
	for {
		page, err := cl.Feed(ctx, q)
		if err != nil {
			fmt.Fprintf(stderr, "exported %d events; cursor: %s\n", n, dash(q.Cursor))
			return classify(err)
		}
		for _, it := range page.Items {
			if !until.IsZero() && it.ReceivedAt.After(until) {
				fmt.Fprintf(stderr, "exported %d events; cursor: %s\n", n, dash(q.Cursor))
				return nil
			}
			if err := enc.Encode(it); err != nil {
				return codedError{exitFailure, fmt.Errorf("feed export: %w", err)}
			}
			n++
			q.Cursor, q.Since = it.Cursor, time.Time{}
		}
		q.Cursor, q.Since = page.Next, time.Time{}
		if !page.More {
			fmt.Fprintf(stderr, "exported %d events; cursor: %s\n", n, q.Cursor)
			return nil
		}
	}
}

// printItem prints one event as a JSON line or a table row.
func printItem(c *apiCmd, it api.FeedItem) error {
	if c.json {
		b, err := json.Marshal(it)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.stdout, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintf(c.stdout, "%-24s  %-16s  %8d  %-22s  %9d  %s\n", it.ReceivedAt.UTC().Format("2006-01-02T15:04:05.000Z"), it.Vehicle, it.Seq, it.Type, it.StreamSeq, eventID(it.Event))
	return err
}

func eventID(raw []byte) string {
	var e struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &e)
	return dash(e.ID)
}

// vehicleEventsCmd: fleetwire vehicles events ID --from-seq N [--subscription S].
func vehicleEventsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newAPICmd("vehicles events", stdout, stderr)
	var q apiclient.VehicleEventsQuery
	c.fs.StringVar(&q.Account, "account", "", "account (operator tokens)")
	c.fs.Uint64Var(&q.FromSeq, "from-seq", 1, "first vehicle seq")
	c.fs.IntVar(&q.Limit, "limit", 100, "most events (at most 1000)")
	c.fs.StringVar(&q.Subscription, "subscription", "", "apply this subscription's filter: list the seqs it does not deliver")
	pos, cl, err := c.parse(args, "VEHICLE")
	if err != nil {
		return err
	}
	if q.FromSeq == 0 {
		return cli.UsageError{Msg: "vehicles events: --from-seq starts at 1"}
	}
	out, err := cl.VehicleEvents(ctx, pos[0], q)
	if err != nil {
		var e *apiclient.Error
		if errors.As(err, &e) && e.Problem.OldestSeq > 0 {
			err = fmt.Errorf("%w (oldest stored seq: %d)", err, e.Problem.OldestSeq)
		}
		return classify(err)
	}
	return c.print(out, "SEQ\tTYPE\tRECEIVED\tSTREAM\tEVENT", func(w io.Writer) {
		items, skipped := out.Items, out.Skipped
		for len(items) > 0 || len(skipped) > 0 {
			if len(skipped) == 0 || (len(items) > 0 && items[0].Seq < skipped[0].Seq) {
				it := items[0]
				items = items[1:]
				fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\n", it.Seq, it.Type, ts(it.ReceivedAt), it.StreamSeq, eventID(it.Event))
				continue
			}
			s := skipped[0]
			skipped = skipped[1:]
			fmt.Fprintf(w, "%d\t%s\t-\t-\tskipped by %s: %s\n", s.Seq, s.Type, out.Subscription, s.Reason)
		}
		more := ""
		if out.More {
			more = fmt.Sprintf("; more: --from-seq %d", out.Next)
		}
		fmt.Fprintf(w, "\nvehicle %s: stored seqs %d–%d%s\n", out.Vehicle, out.OldestSeq, out.LastSeq, more)
	})
}
