// Command fleetwire-edge is the in-vehicle agent.
//
//	fleetwire-edge run --config edge.yaml
package main

import (
	"context"
	"os"

	"github.com/fleetwire/fleetwire/edge/agent"
	"github.com/fleetwire/fleetwire/shared/cli"
)

const usage = `fleetwire-edge: the in-vehicle agent

Commands:
  run   read the vehicle's sensors, detect events, store them and forward them to the hub

Run "fleetwire-edge run --help" for every setting.
`

func main() {
	cli.Main(usage, map[string]cli.Command{"run": run})
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
