package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fleetwire/fleetwire/cloud/api"
	"github.com/fleetwire/fleetwire/cloud/apiclient"
	"github.com/fleetwire/fleetwire/cloud/tokens"
	"github.com/fleetwire/fleetwire/shared/cli"
	"github.com/spf13/pflag"
)

// Exit codes of the API commands.
const (
	exitOK       = 0
	exitFailure  = 1 // server or network error
	exitUsage    = 2 // bad flags or a request the API refused as invalid
	exitNotFound = 3 // no such object (in the token's account)
	exitAuth     = 4 // no, unknown or insufficient token
)

// codedError carries an exit code.
type codedError struct {
	code int
	err  error
}

func (e codedError) Error() string { return e.err.Error() }
func (e codedError) Unwrap() error { return e.err }
func (e codedError) ExitCode() int { return e.code }

// classify gives an API error its exit code.
func classify(err error) error {
	if err == nil {
		return nil
	}
	switch s := apiclient.StatusOf(err); {
	case s == http.StatusNotFound:
		return codedError{exitNotFound, err}
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return codedError{exitAuth, err}
	case s == http.StatusBadRequest || s == http.StatusUnprocessableEntity || s == http.StatusRequestEntityTooLarge ||
		s == http.StatusUnsupportedMediaType || s == http.StatusConflict || s == http.StatusMethodNotAllowed:
		var e *apiclient.Error
		if errors.As(err, &e) {
			for _, f := range e.Problem.Errors {
				err = fmt.Errorf("%w\n  %s: %s", err, f.Field, f.Detail)
			}
		}
		return codedError{exitUsage, err}
	}
	return codedError{exitFailure, err}
}

// apiCmd is what every API command shares: the API, the token, --json.
type apiCmd struct {
	fs        *pflag.FlagSet
	base      string
	token     string
	tokenFile string
	json      bool
	stdout    io.Writer
}

func newAPICmd(name string, stdout, stderr io.Writer) *apiCmd {
	c := &apiCmd{fs: pflag.NewFlagSet(name, pflag.ContinueOnError), stdout: stdout}
	c.fs.SetOutput(stderr)
	c.fs.StringVar(&c.base, "api", envOr("FLEETWIRE_API", "http://127.0.0.1:8080"), "API base URL (FLEETWIRE_API)")
	c.fs.StringVar(&c.token, "token", os.Getenv("FLEETWIRE_TOKEN"), "API token (FLEETWIRE_TOKEN)")
	c.fs.StringVar(&c.tokenFile, "token-file", os.Getenv("FLEETWIRE_TOKEN_FILE"), "file holding the API token, e.g. the operator.token written at first start (FLEETWIRE_TOKEN_FILE)")
	c.fs.BoolVar(&c.json, "json", false, "print JSON instead of a table")
	return c
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// parse reads the flags and wants exactly nargs positional arguments
// named by argNames.
func (c *apiCmd) parse(args []string, argNames ...string) ([]string, *apiclient.Client, error) {
	if err := c.fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, cli.UsageError{Msg: c.fs.Name() + ": " + err.Error()}
	}
	if c.fs.NArg() != len(argNames) {
		return nil, nil, cli.UsageError{Msg: fmt.Sprintf("usage: fleetwire %s %s [flags]", c.fs.Name(), strings.Join(argNames, " "))}
	}
	tok := c.token
	if tok == "" && c.tokenFile != "" {
		b, err := os.ReadFile(c.tokenFile)
		if err != nil {
			return nil, nil, codedError{exitAuth, fmt.Errorf("--token-file: %w", err)}
		}
		tok = strings.TrimSpace(string(b))
	}
	if tok == "" {
		return nil, nil, codedError{exitAuth, errors.New("no token: set --token, --token-file or FLEETWIRE_TOKEN (the first operator token is in operator.token in the hub's store directory)")}
	}
	return c.fs.Args(), apiclient.New(c.base, tok), nil
}

// print writes v as JSON, or the table.
func (c *apiCmd) print(v any, header string, rows func(w io.Writer)) error {
	if c.json {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	if header != "" {
		fmt.Fprintln(tw, header)
	}
	rows(tw)
	return tw.Flush()
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func subcommand(group string, args []string, cmds map[string]func([]string) error) error {
	if len(args) == 0 || cmds[args[0]] == nil {
		names := make([]string, 0, len(cmds))
		for n := range cmds {
			names = append(names, n)
		}
		return cli.UsageError{Msg: fmt.Sprintf("usage: fleetwire %s <%s> [flags]", group, strings.Join(sortStrings(names), "|"))}
	}
	return cmds[args[0]](args[1:])
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func subRows(c *apiCmd, subs ...api.SubscriptionView) func(io.Writer) {
	return func(w io.Writer) {
		for _, s := range subs {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\n", s.ID, s.Account, s.State, s.URL, strings.Join(s.Events, ","), s.Epoch)
		}
	}
}

const subHeader = "ID\tACCOUNT\tSTATE\tURL\tEVENTS\tEPOCH"

// subscriptionCmd: fleetwire subscription create|list|show|pause|resume|replay|test|rotate-secret|delete.
func subscriptionCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	one := func(name string, setup func(c *apiCmd) func() any, do func(cl *apiclient.Client, id string, body any) (api.SubscriptionView, error)) func([]string) error {
		return func(args []string) error {
			c := newAPICmd("subscription "+name, stdout, stderr)
			var body func() any
			if setup != nil {
				body = setup(c)
			}
			pos, cl, err := c.parse(args, "ID")
			if err != nil {
				return err
			}
			var in any
			if body != nil {
				in = body()
			}
			v, err := do(cl, pos[0], in)
			if err != nil {
				return classify(err)
			}
			return c.print(v, subHeader, func(w io.Writer) {
				subRows(c, v)(w)
				if v.Secret != "" {
					fmt.Fprintf(w, "\nsecret (shown once):\t%s\n", v.Secret)
				}
			})
		}
	}
	action := func(name string) func(cl *apiclient.Client, id string, body any) (api.SubscriptionView, error) {
		return func(cl *apiclient.Client, id string, body any) (api.SubscriptionView, error) {
			return cl.Action(ctx, id, name, body)
		}
	}
	return subcommand("subscription", args, map[string]func([]string) error{
		"create": func(args []string) error {
			c := newAPICmd("subscription create", stdout, stderr)
			var in apiclient.SubscriptionInput
			c.fs.StringVar(&in.URL, "url", "", "receiver URL (required)")
			c.fs.StringVar(&in.ID, "id", "", "id (generated when empty)")
			c.fs.StringVar(&in.Account, "account", "", "account (operator tokens; others use their own)")
			c.fs.StringVar(&in.Name, "name", "", "display name")
			c.fs.StringVar(&in.Secret, "secret", "", "whsec_ signing secret (generated when empty)")
			c.fs.StringSliceVar(&in.Events, "events", nil, "event types, comma-separated (default all)")
			c.fs.StringSliceVar(&in.Vehicles, "vehicles", nil, "vehicle ids (default all)")
			c.fs.StringSliceVar(&in.GeofenceTags, "geofence-tags", nil, "only events about fences with one of these tags")
			c.fs.StringVar(&in.Format, "format", "", "json or form")
			c.fs.StringVar(&in.Payload, "payload", "", "full or minimal")
			c.fs.StringVar(&in.Ordering, "ordering", "", "subscription or vehicle")
			if _, cl, err := c.parse(args); err != nil {
				return err
			} else {
				if in.URL == "" {
					return cli.UsageError{Msg: "subscription create: --url is required"}
				}
				v, err := cl.CreateSubscription(ctx, in)
				if err != nil {
					return classify(err)
				}
				return c.print(v, subHeader, func(w io.Writer) {
					subRows(c, v)(w)
					fmt.Fprintf(w, "\nsecret (shown once):\t%s\n", v.Secret)
				})
			}
		},
		"list": func(args []string) error {
			c := newAPICmd("subscription list", stdout, stderr)
			_, cl, err := c.parse(args)
			if err != nil {
				return err
			}
			subs, err := cl.Subscriptions(ctx)
			if err != nil {
				return classify(err)
			}
			return c.print(subs, subHeader, subRows(c, subs...))
		},
		"show": one("show", nil, func(cl *apiclient.Client, id string, _ any) (api.SubscriptionView, error) {
			return cl.Subscription(ctx, id)
		}),
		"pause":  one("pause", nil, action("pause")),
		"resume": one("resume", nil, action("resume")),
		"replay": one("replay", func(c *apiCmd) func() any {
			since := c.fs.String("since", "", "RFC 3339 time, or a duration ago such as 2h (required)")
			return func() any {
				s := *since
				if d, err := time.ParseDuration(s); err == nil {
					s = time.Now().Add(-d).UTC().Format(time.RFC3339Nano)
				}
				return map[string]string{"since": s}
			}
		}, action("replay")),
		"rotate-secret": one("rotate-secret", func(c *apiCmd) func() any {
			overlap := c.fs.String("overlap", "24h", "how long the old secret keeps signing")
			return func() any { return map[string]string{"overlap": *overlap} }
		}, action("rotate-secret")),
		"delete": func(args []string) error {
			c := newAPICmd("subscription delete", stdout, stderr)
			pos, cl, err := c.parse(args, "ID")
			if err != nil {
				return err
			}
			if err := cl.DeleteSubscription(ctx, pos[0]); err != nil {
				return classify(err)
			}
			return c.print(map[string]string{"deleted": pos[0]}, "", func(w io.Writer) { fmt.Fprintf(w, "deleted %s\n", pos[0]) })
		},
		"test": func(args []string) error {
			c := newAPICmd("subscription test", stdout, stderr)
			typ := c.fs.String("type", "position", "event type of the sample")
			pos, cl, err := c.parse(args, "ID")
			if err != nil {
				return err
			}
			at, err := cl.Test(ctx, pos[0], *typ)
			if err != nil {
				return classify(err)
			}
			if err := c.print(at, "EVENT\tTYPE\tDELIVERED\tSTATUS\tLATENCY\tERROR", func(w io.Writer) {
				fmt.Fprintf(w, "%s\t%s\t%v\t%d\t%.1fms\t%s\n", at.EventID, at.EventType, at.Delivered, at.StatusCode, at.LatencyMs, dash(at.Error))
			}); err != nil {
				return err
			}
			if !at.Delivered {
				return codedError{exitFailure, fmt.Errorf("the receiver did not accept the test event: %s", dash(at.Error))}
			}
			return nil
		},
	})
}

// deliveriesCmd: fleetwire deliveries list SUB | show SUB EVENT.
func deliveriesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const header = "TIME\tEVENT\tTYPE\tVEHICLE\tSEQ\tATTEMPT\tOUTCOME\tSTATUS\tLATENCY\tERROR"
	return subcommand("deliveries", args, map[string]func([]string) error{
		"list": func(args []string) error {
			c := newAPICmd("deliveries list", stdout, stderr)
			status := c.fs.String("status", "", "delivered, failed or discarded")
			vehicle := c.fs.String("vehicle", "", "one vehicle's deliveries")
			limit := c.fs.Int("limit", 50, "page size")
			cursor := c.fs.String("cursor", "", "the next cursor of the previous page")
			pos, cl, err := c.parse(args, "SUBSCRIPTION")
			if err != nil {
				return err
			}
			q := url.Values{"limit": {strconv.Itoa(*limit)}}
			for k, v := range map[string]string{"status": *status, "vehicle": *vehicle, "cursor": *cursor} {
				if v != "" {
					q.Set(k, v)
				}
			}
			page, err := cl.Deliveries(ctx, pos[0], q)
			if err != nil {
				return classify(err)
			}
			return c.print(page, header, func(w io.Writer) {
				for _, r := range page.Items {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%d\t%.1fms\t%s\n", ts(r.Time), r.EventID, r.EventType, r.Vehicle, r.Seq, r.Attempt, mark(string(r.Outcome)), r.StatusCode, r.LatencyMs, dash(r.Error))
				}
				if page.Next != "" {
					fmt.Fprintf(w, "\nmore: --cursor %s\n", page.Next)
				}
			})
		},
		"show": func(args []string) error {
			c := newAPICmd("deliveries show", stdout, stderr)
			vehicle := c.fs.String("vehicle", "", "the event's vehicle (a faster search)")
			pos, cl, err := c.parse(args, "SUBSCRIPTION", "EVENT_ID")
			if err != nil {
				return err
			}
			d, err := cl.Delivery(ctx, pos[0], pos[1], *vehicle)
			if err != nil {
				return classify(err)
			}
			return c.print(d, "", func(w io.Writer) {
				for _, r := range d.Attempts {
					fmt.Fprintf(w, "attempt %d\t%s\t%s\tstatus %d\t%.1fms\t%s\n", r.Attempt, ts(r.Time), mark(string(r.Outcome)), r.StatusCode, r.LatencyMs, dash(r.Error))
					if r.Request != "" {
						fmt.Fprintf(w, "  request:\t%s\n", r.Request)
					}
					if r.Response != "" {
						fmt.Fprintf(w, "  response:\t%s\n", r.Response)
					}
				}
			})
		},
	})
}

func mark(outcome string) string {
	switch outcome {
	case "ok":
		return "✔ ok"
	case "fail":
		return "✗ fail"
	}
	return "⊘ " + outcome
}

// geofenceCmd: fleetwire geofence import FILE | list | delete ID.
func geofenceCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	withAccount := func(c *apiCmd) *string { return c.fs.String("account", "", "account (operator tokens)") }
	q := func(account string) string {
		if account == "" {
			return ""
		}
		return "?account=" + url.QueryEscape(account)
	}
	return subcommand("geofence", args, map[string]func([]string) error{
		"import": func(args []string) error {
			c := newAPICmd("geofence import", stdout, stderr)
			account := withAccount(c)
			pos, cl, err := c.parse(args, "FILE")
			if err != nil {
				return err
			}
			b, err := os.ReadFile(pos[0])
			if err != nil {
				return codedError{exitUsage, err}
			}
			var out struct {
				Account  string   `json:"account"`
				Imported []string `json:"imported"`
			}
			if err := cl.Do(ctx, "POST", "/v1/geofences"+q(*account), b, &out); err != nil {
				return classify(err)
			}
			return c.print(out, "", func(w io.Writer) {
				fmt.Fprintf(w, "imported %d fences into %s: %s\n", len(out.Imported), out.Account, strings.Join(out.Imported, ", "))
			})
		},
		"list": func(args []string) error {
			c := newAPICmd("geofence list", stdout, stderr)
			account := withAccount(c)
			_, cl, err := c.parse(args)
			if err != nil {
				return err
			}
			var raw []byte
			if err := cl.Do(ctx, "GET", "/v1/geofences"+q(*account), nil, &raw); err != nil {
				return classify(err)
			}
			if c.json {
				_, err := c.stdout.Write(raw)
				return err
			}
			var fc struct {
				Features []struct {
					Geometry   struct{ Type string } `json:"geometry"`
					Properties struct {
						ID            string   `json:"id"`
						Name          string   `json:"name"`
						Tags          []string `json:"tags"`
						SpeedLimitKph float64  `json:"speedLimitKph"`
					} `json:"properties"`
				} `json:"features"`
			}
			if err := json.Unmarshal(raw, &fc); err != nil {
				return codedError{exitFailure, err}
			}
			return c.print(nil, "ID\tNAME\tGEOMETRY\tTAGS\tLIMIT", func(w io.Writer) {
				for _, f := range fc.Features {
					p := f.Properties
					lim := "-"
					if p.SpeedLimitKph > 0 {
						lim = strconv.FormatFloat(p.SpeedLimitKph, 'f', -1, 64) + " km/h"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.ID, dash(p.Name), f.Geometry.Type, dash(strings.Join(p.Tags, ",")), lim)
				}
			})
		},
		"delete": func(args []string) error {
			c := newAPICmd("geofence delete", stdout, stderr)
			account := withAccount(c)
			pos, cl, err := c.parse(args, "ID")
			if err != nil {
				return err
			}
			if err := cl.Do(ctx, "DELETE", "/v1/geofences/"+url.PathEscape(pos[0])+q(*account), nil, nil); err != nil {
				return classify(err)
			}
			return c.print(map[string]string{"deleted": pos[0]}, "", func(w io.Writer) { fmt.Fprintf(w, "deleted %s\n", pos[0]) })
		},
	})
}

// vehiclesCmd: fleetwire vehicles [--account A] | vehicles events ID (feedcmds.go).
func vehiclesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "events" {
		return vehicleEventsCmd(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && (args[0] == "register" || args[0] == "key" || args[0] == "revoke") {
		return vehicleKeyCmd(ctx, args[0], args[1:], stdout, stderr)
	}
	c := newAPICmd("vehicles", stdout, stderr)
	account := c.fs.String("account", "", "account (operator tokens)")
	limit := c.fs.Int("limit", 100, "page size")
	_, cl, err := c.parse(args)
	if err != nil {
		return err
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *account != "" {
		q.Set("account", *account)
	}
	var out struct {
		Items []api.VehicleView `json:"items"`
		Next  string            `json:"next,omitempty"`
	}
	if err := cl.Do(ctx, "GET", "/v1/vehicles?"+q.Encode(), nil, &out); err != nil {
		return classify(err)
	}
	return c.print(out, "VEHICLE\tNAME\tEVENTS\tLAST SEQ\tLAST EVENT\tLAST SEEN\tPOSITION\tLINK", func(w io.Writer) {
		for _, v := range out.Items {
			pos := "-"
			if p := v.LastPosition; p != nil {
				pos = fmt.Sprintf("%.5f,%.5f", p.Lat, p.Lon)
			}
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", v.ID, dash(v.Name), v.Events, v.LastSeq, v.LastEventType, ts(v.LastSeenAt), pos, v.LinkState)
		}
	})
}

// streamsCmd: fleetwire streams (operator).
func streamsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newAPICmd("streams", stdout, stderr)
	_, cl, err := c.parse(args)
	if err != nil {
		return err
	}
	var out struct {
		Items []api.StreamView `json:"items"`
	}
	if err := cl.Do(ctx, "GET", "/v1/streams", nil, &out); err != nil {
		return classify(err)
	}
	return c.print(out, "STREAM\tMESSAGES\tBYTES\tFIRST\tLAST\tCONSUMERS", func(w io.Writer) {
		for _, s := range out.Items {
			fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t%d\n", s.Name, s.Messages, s.Bytes, ts(s.FirstTime), ts(s.LastTime), s.Consumers)
		}
	})
}

// tokenCmd: fleetwire token create --account A --role R.
func tokenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return subcommand("token", args, map[string]func([]string) error{
		"create": func(args []string) error {
			c := newAPICmd("token create", stdout, stderr)
			account := c.fs.String("account", "", "account of the token (not for operator tokens)")
			role := c.fs.String("role", "viewer", "operator, admin or viewer")
			name := c.fs.String("name", "", "what the token is for")
			_, cl, err := c.parse(args)
			if err != nil {
				return err
			}
			t, err := cl.CreateToken(ctx, *account, tokens.Role(*role), *name)
			if err != nil {
				return classify(err)
			}
			return c.print(t, "ID\tACCOUNT\tROLE\tTOKEN (shown once)", func(w io.Writer) {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.ID, dash(t.Account), t.Role, t.Value)
			})
		},
	})
}
