// Command temporal-server is the Temporal server that LabelFlow's cluster test runs as a separate
// process: the server module's own frontend, history, matching and worker services on PostgreSQL,
// at the version pinned in this module's go.mod. It is its own module so that the server's
// dependencies stay out of LabelFlow's.
//
//	temporal-server --config FILE                 runs the services that FILE configures
//	temporal-server sql-tool [ARGS...]            the server's SQL schema tool (temporal-sql-tool)
package main

import (
	"flag"
	"fmt"
	"os"

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql" // the postgres12 plugin
	"go.temporal.io/server/temporal"
	"go.temporal.io/server/tools/sql"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "sql-tool" {
		// The tool logs its own errors; its exit status is what a setup script reads.
		if err := sql.RunTool(append([]string{"temporal-sql-tool"}, os.Args[2:]...)); err != nil {
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "temporal-server:", err)
		os.Exit(1)
	}
}

// run starts the services and returns when an interrupt or termination signal has stopped them.
func run(args []string) error {
	fs := flag.NewFlagSet("temporal-server", flag.ContinueOnError)
	configFile := fs.String("config", "", "server configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *configFile == "" {
		return fmt.Errorf("--config is required")
	}
	cfg, err := config.Load(config.WithConfigFile(*configFile))
	if err != nil {
		return fmt.Errorf("load %s: %w", *configFile, err)
	}
	logger := log.NewZapLogger(log.BuildZapLogger(cfg.Log))
	dynamicConfig := dynamicconfig.Client(dynamicconfig.NewNoopClient())
	if cfg.DynamicConfigClient != nil {
		dynamicConfig, err = dynamicconfig.NewFileBasedClient(cfg.DynamicConfigClient, logger, temporal.InterruptCh())
		if err != nil {
			return fmt.Errorf("dynamic config %s: %w", cfg.DynamicConfigClient.Filepath, err)
		}
	}
	authorizer, err := authorization.GetAuthorizerFromConfig(&cfg.Global.Authorization)
	if err != nil {
		return fmt.Errorf("authorizer: %w", err)
	}
	server, err := temporal.NewServer(
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithConfig(cfg),
		temporal.WithDynamicConfigClient(dynamicConfig),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.InterruptOn(temporal.InterruptCh()),
	)
	if err != nil {
		return fmt.Errorf("create server: %w", err)
	}
	return server.Start()
}
