// Command fleetwire-edge is the in-vehicle agent.
//
//	fleetwire-edge run --config edge.yaml
//	fleetwire-edge simulate --hub.url nats-leaf://127.0.0.1:7422 --vehicles 1000
//	fleetwire-edge keygen /etc/fleetwire/vehicle.nk
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/fleetwire/fleetwire/edge/agent"
	"github.com/fleetwire/fleetwire/edge/simulate"
	"github.com/fleetwire/fleetwire/shared/cli"
	"github.com/fleetwire/fleetwire/shared/identity"
)

const usage = `fleetwire-edge: the in-vehicle agent

Commands:
  run        read the vehicle's sensors, detect events, store them and forward them to the hub
  simulate   run a fleet of simulated vehicles (real agents replaying a real drive) against a hub
  keygen     create the vehicle's key file (if missing) and print its public key for registration

Run "fleetwire-edge run --help" for every setting.
`

func main() {
	cli.Main(usage, map[string]cli.Command{"run": run, "simulate": simulateCmd, "keygen": keygen})
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

func simulateCmd(ctx context.Context, args []string) error {
	cfg := simulate.Default()
	if err := cli.Load("fleetwire-edge simulate", args, &cfg, os.Stderr); err != nil {
		return err
	}
	return simulate.Main(ctx, cfg, os.Stdout, cli.Logger(cfg.LogLevel, os.Stderr))
}

// keygen creates the key file at the one path given, or reads the existing
// one, and prints the public key: the operator registers it with
// "fleetwire vehicles register". The seed stays in the file (mode 0600).
func keygen(_ context.Context, args []string) error {
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		return cli.UsageError{Msg: "usage: fleetwire-edge keygen <key file>, e.g. /etc/fleetwire/vehicle.nk (the hub.key_file setting)"}
	}
	kp, created, err := identity.LoadOrCreateKey(args[0])
	if err != nil {
		return err
	}
	state := "existing key"
	if created {
		state = "new key written"
	}
	fmt.Fprintf(os.Stderr, "%s: %s\n", state, args[0])
	fmt.Println(identity.PublicKey(kp))
	return nil
}
