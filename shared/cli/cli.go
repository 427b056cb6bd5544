// Package cli holds what fleetwire's binaries share: loading a subcommand's
// configuration from --config, FLEETWIRE_* and flags, and the process logger.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/fleetwire/fleetwire/shared/config"
	"github.com/spf13/pflag"
)

// EnvPrefix is the prefix of every fleetwire environment variable.
const EnvPrefix = "FLEETWIRE_"

// ErrHelp is returned when the user asked for --help (already printed).
var ErrHelp = pflag.ErrHelp

// Load parses args for the subcommand name into dst (which holds the
// defaults): --config FILE, then FLEETWIRE_* variables, then flags named
// after the keys. Every setting is listed by --help.
func Load(name string, args []string, dst any, stderr io.Writer) error {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "YAML configuration file")
	config.RegisterFlags(fs, dst)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s [--config FILE] [--key value ...]\n\nEvery key can also be set as %sKEY (dots become underscores).\n\n%s", name, EnvPrefix, fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return UsageError{Msg: name + ": " + err.Error()}
	}
	if fs.NArg() > 0 {
		return UsageError{Msg: fmt.Sprintf("%s: unexpected argument %q (settings are --key value)", name, fs.Arg(0))}
	}
	return config.Load(dst, config.Options{File: *file, EnvPrefix: EnvPrefix, Flags: fs})
}

// Logger returns a text logger on stderr at the given level.
func Logger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// Exit prints err (if any) and exits with Code(err).
func Exit(err error) {
	if err != nil && !errors.Is(err, ErrHelp) {
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	os.Exit(Code(err))
}

// ExitCoder is an error that chooses its exit code.
type ExitCoder interface{ ExitCode() int }

// Code is the exit code for err: 0 (nil, help), the code of an ExitCoder,
// 2 (configuration or usage error) or 1 (runtime failure).
func Code(err error) int {
	var ec ExitCoder
	switch {
	case err == nil, errors.Is(err, ErrHelp):
		return 0
	case errors.As(err, &ec):
		return ec.ExitCode()
	case errors.Is(err, config.ErrInvalid), errors.Is(err, config.ErrUnknownKey), isUsage(err):
		return 2
	default:
		return 1
	}
}

// UsageError marks a command-line mistake.
type UsageError struct{ Msg string }

func (e UsageError) Error() string { return e.Msg }

func isUsage(err error) bool {
	var u UsageError
	return errors.As(err, &u)
}

// Command is one subcommand of a binary.
type Command func(ctx context.Context, args []string) error

// Main runs the subcommand named by os.Args[1] with a context cancelled by
// SIGINT or SIGTERM, prints usage for help or an unknown name, and exits
// with Exit's codes. It is the whole main of fleetwire's binaries.
func Main(usage string, commands map[string]Command) {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprint(os.Stderr, usage)
		Exit(UsageError{Msg: fmt.Sprintf("unknown command %q", os.Args[1])})
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cmd(ctx, os.Args[2:])
	stop()
	Exit(err)
}
