// Command labelflow is LabelFlow's single binary: the production processes (worker, gateway), the
// operations and finance commands, the crowd simulator and the embedded development stack.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/logging"
)

const usage = `labelflow — durable data-labeling workflows

Production processes:
  labelflow worker                          run workflow and activity workers (LABELFLOW_WORKER_ROLE)
  labelflow gateway                         serve the annotator API on LABELFLOW_GATEWAY_LISTEN

Operations:
  labelflow workforce import roster.csv     import annotators, reviewers and finance people
  labelflow workforce token issue|rotate|revoke PERSON
                                            print a new token once (issue, rotate), or take it away
  labelflow project launch -f project.yaml  validate and start a project; prints its id (ops, LABELFLOW_TOKEN)
labelflow project cancel ID --reason TEXT  start no more chunks; running ones finish and are delivered (ops)
  labelflow project status ID [--watch] [--json] [--chunks]
  labelflow project list [--json]
  labelflow delivery redeliver PROJECT [--to PROFILE] [--bucket B] [--prefix P]
                                            deliver stored results again, nothing re-annotated
  labelflow project annotations ID --csv    every raw answer as task,worker,label
  labelflow project quality ID [--csv]      agreement, arbitration rate, first-pass acceptance, per person
  labelflow quality aggregate --in answers.csv [--truth truth.csv] --method mv|ds|policy|best [--out labels.csv]
  labelflow quality compare                 accuracy of mv, ds, policy and best on synthetic crowds
  labelflow simulate --project ID [--annotators 20] [--reviewers 3] [--accuracy 0.85]
                                            simulated people, on the embedded stack (or --allow-simulated-people)

Finance:
  labelflow payroll run --month YYYY-MM [--force]     a month not over yet needs --force
  labelflow payroll approve --month YYYY-MM [--note TEXT]
  labelflow payroll hold --month YYYY-MM --person ID --reason TEXT
  labelflow payroll release --month YYYY-MM --person ID
  labelflow payroll status --month YYYY-MM [--json]
  labelflow payroll report --month YYYY-MM --csv       one row per person: earned, floor, top-up, paid
  labelflow payroll schedule --day 3 [--hour 6]     previous month's payroll, every month
  labelflow payroll reject --project ID --person ID [--chunks 3,4] --reason TEXT
                                                    set work done in bad faith aside from pay
  labelflow payroll reverse --rejection ID  pay it after all, next month, as an adjustment
  labelflow payroll rejections [--json]

Embedded stack:
  labelflow dev                             real Temporal + S3 servers, worker and gateway, in the foreground
  labelflow demo                            the whole pipeline end to end on the embedded stack
  labelflow bench [--items 10000]           one project with an instant crowd: throughput, history, worker memory
  labelflow config                          list every LABELFLOW_* variable with its default
`

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		fmt.Print(usage)
		return
	}
	cfg, err := config.Load()
	if err != nil {
		fatal(err)
	}
	log := logging.New(cfg.LogLevel, os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmds := map[string]func(context.Context, config.Config, []string) error{
		"worker":    func(ctx context.Context, c config.Config, a []string) error { return runWorker(ctx, c, log) },
		"gateway":   func(ctx context.Context, c config.Config, a []string) error { return runGateway(ctx, c, log) },
		"workforce": func(ctx context.Context, c config.Config, a []string) error { return workforceCmd(ctx, c, log, a) },
		"project":   func(ctx context.Context, c config.Config, a []string) error { return projectCmd(ctx, c, log, a) },
		"simulate":  func(ctx context.Context, c config.Config, a []string) error { return simulateCmd(ctx, c, log, a) },
		"payroll":   func(ctx context.Context, c config.Config, a []string) error { return payrollCmd(ctx, c, log, a) },
		"delivery":  func(ctx context.Context, c config.Config, a []string) error { return deliveryCmd(ctx, c, log, a) },
		"quality":   func(ctx context.Context, c config.Config, a []string) error { return qualityCmd(ctx, c, log, a) },
		"dev":       func(ctx context.Context, c config.Config, a []string) error { return devCmd(ctx, c, log, a) },
		"demo":      func(ctx context.Context, c config.Config, a []string) error { return demoCmd(ctx, c, log, a) },
		"bench":     func(ctx context.Context, c config.Config, a []string) error { return benchCmd(ctx, c, log, a) },
		"config": func(context.Context, config.Config, []string) error {
			fmt.Print(config.Usage())
			return nil
		},
	}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "labelflow: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err := cmd(ctx, cfg, os.Args[2:]); err != nil {
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		fatal(err)
	}
}

var errUsage = errors.New("usage")

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "labelflow: %v\n", err)
	os.Exit(1)
}
