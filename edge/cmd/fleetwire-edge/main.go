// Command fleetwire-edge is the in-vehicle agent.
//
//	fleetwire-edge run --config edge.yaml
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/fleetwire/fleetwire/edge/agent"
	"github.com/fleetwire/fleetwire/shared/cli"
)

const usage = `fleetwire-edge: the in-vehicle agent

Commands:
  run   read the vehicle's sensors, detect events, store them and forward them to the hub

Run "fleetwire-edge run --help" for every setting.
`

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch os.Args[1] {
	case "run":
		cli.Exit(run(ctx, os.Args[2:]))
	default:
		fmt.Fprint(os.Stderr, usage)
		cli.Exit(cli.UsageError{Msg: fmt.Sprintf("unknown command %q", os.Args[1])})
	}
}

func run(ctx context.Context, args []string) error {
	cfg := agent.Default()
	if err := cli.Load("fleetwire-edge run", args, &cfg, os.Stderr); err != nil {
		return err
	}
	log := cli.Logger(cfg.LogLevel, os.Stderr)
	a, err := agent.New(cfg, agent.WithLogger(log))
	if err != nil {
		return err
	}
	log.Info("fleetwire-edge starting", "vehicle", cfg.Vehicle.ID, "account", cfg.Vehicle.Account, "hub", cfg.Hub.URL, "store", cfg.Store.Dir)
	return a.Run(ctx)
}
