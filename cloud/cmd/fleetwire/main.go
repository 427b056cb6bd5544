// Command fleetwire is the cloud side of fleetwire.
//
//	fleetwire demo                     everything on embedded defaults, in one process
//	fleetwire serve --config cloud.yaml  hub + dispatcher + API
package main

import (
	"context"
	"io"
	"os"

	"github.com/fleetwire/fleetwire/cloud/server"
	"github.com/fleetwire/fleetwire/shared/cli"
)

const usage = `fleetwire: vehicle events to webhooks you can trust

Commands:
  demo    start a hub, a dispatcher, a webhook receiver and three simulated
          vehicles replaying real drives, and print every delivered webhook
  serve   run the hub, the dispatcher and the API (production)
  hub-auth init --dir DIR
          keys and the nats-server auth.conf for an external cluster that
          admits vehicles and customer clients from fleetwire's key registry

Over the API (--api URL, --token or FLEETWIRE_API, FLEETWIRE_TOKEN; --json):
  subscription create|list|show|pause|resume|replay|test|rotate-secret|delete
  deliveries   list|show
  geofence     import|list|delete
  vehicles     [events ID --from-seq N [--subscription S]]
               register ID --key U…  |  key ID  |  revoke ID   (vehicle keys, hub.auth)
  nats-credential create|list|revoke   (read-only NATS access for a customer's client)
  feed         tail|export   (the pull feed; --cursor to resume)
  streams
  token        create

Exit codes: 0 ok, 1 server or network error, 2 usage or invalid input,
3 not found, 4 missing, unknown or insufficient token.

Run "fleetwire <command> --help" for its settings.
`

func main() {
	cmds := map[string]cli.Command{"serve": serve, "demo": demo}
	for name, f := range apiCommands {
		cmds[name] = func(ctx context.Context, args []string) error { return f(ctx, args, os.Stdout, os.Stderr) }
	}
	cli.Main(usage, cmds)
}

// apiCommands talk to the API.
var apiCommands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"subscription": subscriptionCmd, "deliveries": deliveriesCmd, "geofence": geofenceCmd,
	"vehicles": vehiclesCmd, "streams": streamsCmd, "token": tokenCmd, "feed": feedCmd, "nats-credential": natsCredentialCmd,
	"hub-auth": hubAuth,
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
