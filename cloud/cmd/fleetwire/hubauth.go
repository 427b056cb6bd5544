package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/fleetwire/fleetwire/cloud/callout"
	"github.com/fleetwire/fleetwire/shared/cli"
)

// hubAuth: fleetwire hub-auth init --dir DIR [--operator U…]. It prepares
// an external cluster to admit vehicles and customer clients from the key
// registry, as the embedded hub does: three seed files for fleetwire serve
// and the public auth.conf that every node includes.
func hubAuth(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "init" {
		return cli.UsageError{Msg: "usage: fleetwire hub-auth init --dir DIR [--operator U…]"}
	}
	fs := flag.NewFlagSet("fleetwire hub-auth init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory for the keys and auth.conf, e.g. /etc/fleetwire/hub-auth (created, mode 0700)")
	var operators listFlag
	fs.Var(&operators, "operator", "public nkey (U…) of an operator's own tool (nats CLI) admitted with all permissions; repeatable")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return cli.UsageError{Msg: err.Error()}
	}
	if *dir == "" || fs.NArg() != 0 {
		return cli.UsageError{Msg: "usage: fleetwire hub-auth init --dir DIR [--operator U…]"}
	}
	f, err := callout.InitDir(*dir, operators)
	if err != nil {
		if errors.Is(err, callout.ErrBadKey) {
			return cli.UsageError{Msg: err.Error()}
		}
		return err
	}
	fmt.Fprintf(stdout, `wrote %s (public keys only): copy it beside every node's configuration and
add "include ./auth.conf" to it (deploy/nats/hub-common.conf has the line), then restart or reload the nodes.

fleetwire serve settings (keep the seed files readable by fleetwire only):
  hub:
    auth: true
    nkey_file: %s
    callout:
      issuer_file: %s
      system_key_file: %s
`, f.Conf, f.Service, f.Issuer, f.System)
	return nil
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
