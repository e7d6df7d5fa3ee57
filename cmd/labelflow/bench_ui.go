package main

import (
	"context"
	"fmt"
	"os"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/webtest"
)

// benchUICmd measures the workbench in a real browser.
func benchUICmd(e *env) *cobra.Command {
	var items int
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "the workbench in headless Chromium: page weight, time to first task, keyboard labeling",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withConfig(cmd, func(ctx context.Context, cfg config.Config, _ zerolog.Logger) error {
				dir, err := stateDir(cfg.DataDir, "bench-ui-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				res, err := webtest.BenchUI(ctx, webtest.UIBenchOptions{Items: items, Dir: dir, Log: cmd.ErrOrStderr()})
				if err != nil {
					return fmt.Errorf("bench ui: %w", err)
				}
				webtest.PrintUIBench(cmd.OutOrStdout(), res)
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&items, "items", 200, "items labeled in the browser, one key each")
	return cmd
}
