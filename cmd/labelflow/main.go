// Command labelflow is LabelFlow's single binary: the production processes (worker, gateway), the
// operations and finance commands, the crowd simulator and the embedded development stack.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes: a command that failed exits 1; a command that was not understood (an unknown
// command or flag, a missing argument or required flag) exits 2 and changes nothing.
const (
	exitFailed = 1
	exitUsage  = 2
)

// errUsage is returned by a command that has already printed its help because it was called
// without what it needs.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, &env{stderr: os.Stderr}, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// execute runs one command line and returns the process's exit code.
func execute(ctx context.Context, e *env, args []string, stdout, stderr io.Writer) int {
	root := newRoot(e, stdout, stderr)
	root.SetArgs(args)
	ran := trackRuns(root)
	cmd, err := root.ExecuteContextC(ctx)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return exitUsage
	case !*ran:
		// Cobra refused the command line before any command ran: a usage error.
		fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for usage.\n", cmd.CommandPath(), err, cmd.CommandPath())
		return exitUsage
	}
	printError(stderr, err)
	return exitFailed
}

// trackRuns reports, through the returned flag, whether any command of the tree began to run:
// every error before that is cobra refusing the command line.
func trackRuns(root *cobra.Command) *bool {
	ran := new(bool)
	var mark func(*cobra.Command)
	mark = func(c *cobra.Command) {
		if run := c.RunE; run != nil {
			c.RunE = func(cmd *cobra.Command, args []string) error {
				*ran = true
				return run(cmd, args)
			}
		}
		for _, sub := range c.Commands() {
			mark(sub)
		}
	}
	mark(root)
	return ran
}
