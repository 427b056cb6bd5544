package agent

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/fleetwire/fleetwire/shared/cli"
)

// childConfigEnv, when set, makes the test binary run as the edge agent
// (what fleetwire-edge run does) with that configuration file, instead of
// running tests: the kill test's child process, without a go build. (Not a
// FLEETWIRE_ variable: the agent would take it for a setting.)
const childConfigEnv = "AGENT_TEST_CHILD_CONFIG"

func TestMain(m *testing.M) {
	if path := os.Getenv(childConfigEnv); path != "" {
		os.Exit(runChild(path))
	}
	os.Exit(m.Run())
}

// runChild is edge/cmd/fleetwire-edge's run command.
func runChild(path string) int {
	cfg := Default()
	if err := cli.Load("fleetwire-edge run", []string{"--config", path}, &cfg, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return 2
	}
	log := cli.Logger(cfg.LogLevel, os.Stderr)
	a, err := New(cfg, WithLogger(log))
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return 1
	}
	return 0
}
