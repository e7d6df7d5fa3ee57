package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/logging"
)

// newRoot builds the whole command tree, writing to stdout and stderr. Help, usage lines and shell
// completion are generated from it, so there is no usage text to keep in step by hand.
func newRoot(e *env, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "labelflow",
		Short: "durable data-labeling workflows",
		Long: `labelflow — durable data-labeling workflows

Every setting comes from LABELFLOW_* environment variables (see 'labelflow config').`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return helpAsUsageError(cmd) },
		// execute prints errors itself: in plain words, and usage errors with a pointer to --help.
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.AddGroup(
		&cobra.Group{ID: "process", Title: "Production processes:"},
		&cobra.Group{ID: "ops", Title: "Operations and finance:"},
		&cobra.Group{ID: "local", Title: "Embedded stack and tools:"},
	)
	addToGroup(root, "process", workerCmd(e), gatewayCmd(e), setupCmd(e), codecServerCmd(e))
	addToGroup(root, "ops", workforceCmd(e), projectCmd(e), simulateCmd(e), deliveryCmd(e), payrollCmd(e), financeCmd(e), qualityCmd())
	addToGroup(root, "local", devCmd(e), demoCmd(e), benchCmd(e), configCmd(e))
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.Annotations = map[string]string{groupAnnotation: "yes"}
	// A group's usage shows its subcommands only: that it runs (to print its help) is not a use.
	root.SetUsageTemplate(strings.Replace(root.UsageTemplate(), "Usage:{{if .Runnable}}", "Usage:{{if runsItself .}}", 1))
	// Made here rather than when the command line runs, so that the completion command writes
	// to stdout as set above and the tree can be walked whole.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	return root
}

// groupAnnotation marks commands that only hold subcommands.
const groupAnnotation = "labelflow-group"

func init() {
	cobra.AddTemplateFunc("runsItself", func(c *cobra.Command) bool {
		return c.Runnable() && c.Annotations[groupAnnotation] == ""
	})
}

func addToGroup(root *cobra.Command, group string, cmds ...*cobra.Command) {
	for _, c := range cmds {
		c.GroupID = group
		root.AddCommand(c)
	}
}

// group makes a command that only holds subcommands: called alone it prints its help and fails
// as a usage error; called with a word that is none of its subcommands it says so.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:         use,
		Short:       short,
		Args:        subcommandOnly,
		RunE:        func(cmd *cobra.Command, _ []string) error { return helpAsUsageError(cmd) },
		Annotations: map[string]string{groupAnnotation: "yes"},
	}
	cmd.AddCommand(subs...)
	return cmd
}

// subcommandOnly refuses any argument of a group command: it can only be an unknown subcommand.
func subcommandOnly(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return fmt.Errorf("%s", msg)
}

// helpAsUsageError prints the command's help on stderr and fails as a usage error: a command
// line that only names a group did not say what to do.
func helpAsUsageError(cmd *cobra.Command) error {
	cmd.SetOut(cmd.ErrOrStderr())
	_ = cmd.Help()
	return errUsage
}

// takes names the positional arguments a command takes, so that a missing one is reported by name.
func takes(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, got []string) error {
		if len(got) == len(names) {
			return nil
		}
		if len(got) < len(names) {
			return fmt.Errorf("missing %s", strings.Join(names[len(got):], " "))
		}
		return fmt.Errorf("unexpected argument %q (takes %s)", got[len(names)], strings.Join(names, " "))
	}
}

// noArgs refuses positional arguments on a command that takes only flags.
func noArgs(cmd *cobra.Command, got []string) error {
	if len(got) > 0 {
		return fmt.Errorf("unexpected argument %q", got[0])
	}
	return nil
}

// required marks flags that a command cannot run without, and says so in its help.
func required(cmd *cobra.Command, names ...string) {
	for _, name := range names {
		f := cmd.Flags().Lookup(name)
		f.Usage += " (required)"
		if err := cmd.MarkFlagRequired(name); err != nil {
			panic(err) // a flag name that does not exist is a programming error
		}
	}
}

// env is what commands share: the configuration and the logger built from it, loaded only when a
// command asks for them, so that offline commands (quality, help, completion) work whatever the
// LABELFLOW_* variables say.
type env struct {
	cfg    *config.Config
	log    zerolog.Logger
	stderr io.Writer
}

// config loads the configuration on first use.
func (e *env) config() (config.Config, error) {
	if e.cfg == nil {
		cfg, err := config.Load()
		if err != nil {
			return cfg, err
		}
		e.cfg = &cfg
		e.log = logging.New(cfg.LogLevel, e.stderr)
	}
	return *e.cfg, nil
}

// open connects to the platform store and Temporal.
func (e *env) open(ctx context.Context) (*app.App, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	return app.Open(ctx, cfg, e.log)
}

// withApp runs fn with the app open, and closes it afterwards.
func (e *env) withApp(cmd *cobra.Command, fn func(ctx context.Context, a *app.App) error) error {
	a, err := e.open(cmd.Context())
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(cmd.Context(), a)
}

// withConfig runs fn with the configuration and its logger: for commands that start a stack of
// their own and need no connection opened for them.
func (e *env) withConfig(cmd *cobra.Command, fn func(ctx context.Context, cfg config.Config, log zerolog.Logger) error) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	return fn(cmd.Context(), cfg, e.log)
}

// printJSON writes v as indented JSON, for --json.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
