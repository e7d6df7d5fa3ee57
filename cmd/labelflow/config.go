package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/app"
)

func configCmd(e *env) *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "config",
		Short: "every LABELFLOW_* variable with its default; --check tries the live environment",
		Long: `Print every LABELFLOW_* variable with its default and meaning.

With --check, load the configuration from the environment and check what it points at, one line
per check: the object store and the platform bucket, the delivery profiles and clients files, the
grant keys and token pepper the worker and the gateway need, Temporal, its namespace and
LabelFlow's search attributes. Exits 1 when any check fails.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !check {
				// The table comes from the Config type, not the environment: it prints even
				// where a LABELFLOW_* value is wrong.
				fmt.Fprint(cmd.OutOrStdout(), config.Usage())
				return nil
			}
			return checkEnvironment(cmd, e)
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "validate the live environment: configuration, store, Temporal, keys")
	return cmd
}

// errChecksFailed is the outcome of a check with failures, already listed one per line.
var errChecksFailed = fmt.Errorf("the environment is not ready: see the failed checks above")

func checkEnvironment(cmd *cobra.Command, e *env) error {
	w := cmd.OutOrStdout()
	cfg, err := e.config()
	if err != nil {
		printCheck(w, app.Check{Name: "configuration (LABELFLOW_* variables)", Err: err})
		return errChecksFailed
	}
	printCheck(w, app.Check{Name: "configuration (LABELFLOW_* variables), stack " + cfg.Stack})
	failed := false
	for _, c := range app.CheckEnvironment(cmd.Context(), cfg, e.log) {
		printCheck(w, c)
		failed = failed || c.Failed()
	}
	if failed {
		return errChecksFailed
	}
	return nil
}

// printCheck writes one check as a line: its outcome, what was checked and why it failed.
func printCheck(w io.Writer, c app.Check) {
	status := "ok  "
	switch {
	case c.Skipped:
		status = "skip"
	case c.Err != nil && c.Warning:
		status = "warn"
	case c.Err != nil:
		status = "FAIL"
	}
	if c.Err == nil {
		fmt.Fprintf(w, "%s  %s\n", status, c.Name)
		return
	}
	fmt.Fprintf(w, "%s  %s: %s\n", status, c.Name, plainMessage(c.Err))
}
