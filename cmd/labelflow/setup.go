package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/logging"
	"github.com/labelflow/labelflow/internal/temporalconn"
)

func setupCmd(e *env) *cobra.Command {
	var retention time.Duration
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "create the Temporal namespace unless it exists and register LabelFlow's search attributes (idempotent)",
		Long: `Prepare a Temporal cluster for LabelFlow, once per namespace and again after an upgrade that
adds a search attribute: create LABELFLOW_TEMPORAL_NAMESPACE unless it exists, and register the
search attributes LabelFlow's workflows set (LabelFlowProject, LabelFlowClient, LabelFlowStage, all
Keyword) where they are missing. Run again, it changes nothing. It connects like every process
(LABELFLOW_TEMPORAL_* settings: TLS, client certificate, API key) and needs rights to administer
the namespace. On Temporal Cloud the namespace exists already; setup checks it.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withConfig(cmd, func(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
				return runSetup(ctx, cmd.OutOrStdout(), cfg, log, retention)
			})
		},
	}
	cmd.Flags().DurationVar(&retention, "retention", 30*24*time.Hour, "how long closed workflows' histories are kept, for a namespace setup creates")
	return cmd
}

// setupSettle bounds the wait for a namespace just created to be served.
const setupSettle = time.Minute

func runSetup(ctx context.Context, w io.Writer, cfg config.Config, log zerolog.Logger, retention time.Duration) error {
	if retention < 24*time.Hour {
		return fmt.Errorf("--retention must be at least 24h, got %s", retention)
	}
	opts, err := temporalconn.ClientOptions(cfg)
	if err != nil {
		return err
	}
	opts.Logger = logging.NewTemporal(log)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.DialContext(dctx, opts)
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	defer c.Close()
	steps, err := temporalconn.Setup(ctx, c, temporalconn.SetupOptions{
		Namespace: cfg.TemporalNamespace, Retention: retention, SearchAttributes: app.SearchAttributes(), Settle: setupSettle,
	})
	changed := 0
	for _, s := range steps {
		mark := "ok     "
		if s.Changed {
			mark, changed = "changed", changed+1
		}
		fmt.Fprintf(w, "%s  %s\n", mark, s.What)
	}
	if err != nil {
		return err
	}
	if changed == 0 {
		fmt.Fprintln(w, "nothing to change: Temporal is set up for LabelFlow")
	}
	return nil
}
