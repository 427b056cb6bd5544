// Command fleetwire is the cloud side of fleetwire.
//
//	fleetwire demo                     everything on embedded defaults, in one process
//	fleetwire serve --config cloud.yaml  hub + dispatcher + API
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/fleetwire/fleetwire/cloud/server"
	"github.com/fleetwire/fleetwire/shared/cli"
)

const usage = `fleetwire: vehicle events to webhooks you can trust

Commands:
  demo    start a hub, a dispatcher, a webhook receiver and three simulated
          vehicles replaying real drives, and print every delivered webhook
  serve   run the hub, the dispatcher and the API (production)

Run "fleetwire <command> --help" for its settings.
`

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch os.Args[1] {
	case "serve":
		cli.Exit(serve(ctx, os.Args[2:]))
	case "demo":
		cli.Exit(demo(ctx, os.Args[2:]))
	default:
		fmt.Fprint(os.Stderr, usage)
		cli.Exit(cli.UsageError{Msg: fmt.Sprintf("unknown command %q", os.Args[1])})
	}
}

func serve(ctx context.Context, args []string) error {
	cfg := server.Default()
	if err := cli.Load("fleetwire serve", args, &cfg, os.Stderr); err != nil {
		return err
	}
	log := cli.Logger(cfg.LogLevel, os.Stderr)
	s, err := server.New(cfg, server.WithLogger(log))
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
