// Command fleetwire is the cloud side of fleetwire.
//
//	fleetwire demo                     everything on embedded defaults, in one process
//	fleetwire serve --config cloud.yaml  hub + dispatcher + API
package main

import (
	"context"
	"os"

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
	cli.Main(usage, map[string]cli.Command{"serve": serve, "demo": demo})
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
