package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/gateway"
)

func workerCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Temporal worker (LABELFLOW_WORKER_ROLE: workflows | activities | all)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app.App) error { return a.RunWorker(ctx) })
		},
	}
}

func gatewayCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "gateway",
		Short: "annotator API on LABELFLOW_GATEWAY_LISTEN",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withApp(cmd, serveGateway)
		},
	}
}

// serveGateway serves until ctx ends, then gives requests in flight ten seconds to finish.
func serveGateway(ctx context.Context, a *app.App) error {
	g, err := gateway.New(a)
	if err != nil {
		return err
	}
	ln, err := gateway.Listen(a.Cfg.GatewayListen, a.Cfg.GatewayMaxConns)
	if err != nil {
		return err
	}
	srv := gateway.NewServer(g)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	a.Log.Info().Str("listen", a.Cfg.GatewayListen).Int("max_conns", a.Cfg.GatewayMaxConns).Msg("gateway serving")
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func devCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "dev",
		Short: "embedded stack in the foreground on the default ports",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withConfig(cmd, func(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
				return runDev(ctx, cmd.OutOrStdout(), cfg, log)
			})
		},
	}
}

// runDev runs the embedded stack in the foreground on the configured ports, so every other
// command works against it with the default configuration.
func runDev(ctx context.Context, w io.Writer, cfg config.Config, log zerolog.Logger) error {
	ports, err := devPorts(cfg)
	if err != nil {
		return err
	}
	e, err := demo.Start(ctx, cfg, demo.StackOptions{
		DataDir: filepath.Join(cfg.DataDir, "dev"), TemporalPort: ports.temporal, UIPort: ports.ui, S3Port: ports.s3,
		GatewayAddr: cfg.GatewayListen,
	}, log)
	if err != nil {
		return err
	}
	defer e.Stop()
	if err := seedDev(ctx, e, cfg); err != nil {
		return err
	}
	printDevStack(w, e, cfg)
	<-ctx.Done()
	fmt.Fprintln(w, "stopping")
	return nil
}

// seedDev uploads the demo dataset and the finance tables of this month and the last, so that a
// project can be launched and paid at once.
func seedDev(ctx context.Context, e *demo.Env, cfg config.Config) error {
	data, _ := demo.Dataset(300, 2026)
	if err := e.App.Store.PutIn(ctx, demo.IntakeBucket, "acme/reviews.manifest", data); err != nil {
		return err
	}
	loc, _ := time.LoadLocation(cfg.MonthTimeZone)
	for _, m := range []time.Time{time.Now().In(loc), time.Now().In(loc).AddDate(0, -1, 0)} {
		if err := demo.SeedFinanceTables(ctx, e.App.Store, m.Format("2006-01")); err != nil {
			return err
		}
	}
	return nil
}

func printDevStack(w io.Writer, e *demo.Env, cfg config.Config) {
	fmt.Fprintf(w, `LabelFlow dev stack is up (Ctrl-C stops it)
  Temporal        %s   (namespace %s)
  Temporal UI     %s
  Object store    %s   access key %s, secret key %s
  Buckets         %s (platform), %s (intake), %s (a client's bucket)
  Gateway         %s
  Task queues     %s (workflows), %s (activities)
  Demo dataset    s3://%s/acme/reviews.manifest (try: labelflow project launch -f deploy/examples/project.yaml)
  aws CLI         AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s aws --endpoint-url %s s3 ls s3://%s/ --recursive
`, e.Cfg.TemporalAddress, cfg.TemporalNamespace, e.Cfg.TemporalUIURL, e.Cfg.StoreEndpoint, cfg.StoreAccessKey, cfg.StoreSecretKey,
		cfg.StoreBucket, demo.IntakeBucket, demo.ClientBucket, e.GatewayURL, cfg.WorkflowTaskQueue, cfg.ActivityTaskQueue,
		demo.IntakeBucket, cfg.StoreAccessKey, cfg.StoreSecretKey, e.Cfg.StoreEndpoint, demo.ClientBucket)
}

type portSet struct{ temporal, ui, s3 int }

func devPorts(cfg config.Config) (portSet, error) {
	var p portSet
	for _, f := range []struct {
		name, value, example string
		into                 *int
	}{
		{"LABELFLOW_TEMPORAL_ADDRESS", cfg.TemporalAddress, "127.0.0.1:7233", &p.temporal},
		{"LABELFLOW_TEMPORAL_UI_URL", cfg.TemporalUIURL, "http://127.0.0.1:8233", &p.ui},
		{"LABELFLOW_STORE_ENDPOINT", cfg.StoreEndpoint, "http://127.0.0.1:9000", &p.s3},
	} {
		if _, err := fmt.Sscanf(hostPortPart(f.value), "%d", f.into); err != nil {
			return p, fmt.Errorf("%s %q has no port: the embedded stack listens on it; give one, such as %s", f.name, f.value, f.example)
		}
	}
	return p, nil
}

// hostPortPart is what follows the last ':' of s, "" when there is none.
func hostPortPart(s string) string {
	if i := strings.LastIndex(s, ":"); i >= 0 {
		return s[i+1:]
	}
	return ""
}

// demoOptions are the flags of demo.
type demoOptions struct {
	items, annotators, reviewers int
	accuracy                     float64
	keep, exit                   bool
}

func demoCmd(e *env) *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "the whole pipeline once, end to end, on a fresh embedded stack",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withConfig(cmd, func(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
				return runDemo(ctx, cmd.OutOrStdout(), cfg, log, o)
			})
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&o.items, "items", 300, "valid items in the demo dataset")
	fl.IntVar(&o.annotators, "annotators", 12, "simulated annotators")
	fl.IntVar(&o.reviewers, "reviewers", 3, "simulated reviewers")
	fl.Float64Var(&o.accuracy, "accuracy", 0.85, "probability a simulated annotator is right")
	fl.BoolVar(&o.keep, "keep", false, "keep the demo's state directory")
	fl.BoolVar(&o.exit, "exit", false, "stop the stack when the run is done, also in a terminal")
	return cmd
}

// runDemo runs the whole pipeline once on a fresh embedded stack and prints a summary.
func runDemo(ctx context.Context, w io.Writer, cfg config.Config, log zerolog.Logger, o demoOptions) error {
	dir, err := stateDir(cfg.DataDir, "demo-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	fmt.Fprintln(w, "Starting the embedded stack (Temporal dev server, S3 server, worker, gateway)…")
	e, err := demo.Start(ctx, demo.LiftLimitsForSimulatedCrowd(cfg), demo.StackOptions{DataDir: dir}, log)
	if err != nil {
		return err
	}
	defer e.Stop()
	fmt.Fprintf(w, "  Temporal UI %s   object store %s   gateway %s\n", e.Cfg.TemporalUIURL, e.Cfg.StoreEndpoint, e.GatewayURL)
	sum, err := demo.Run(ctx, e, demo.RunOptions{
		ProjectID: "acme-reviews", Items: o.items, Annotators: o.annotators, Reviewers: o.reviewers,
		Accuracy: o.accuracy, Seed: 2026, Progress: progressPrinter(w), Floor: true,
	})
	fmt.Fprintln(w)
	if err != nil {
		return err
	}
	printSummary(w, e, sum)
	wb, err := demo.OpenWorkbench(ctx, e, workbenchItems)
	if err != nil {
		return err
	}
	printWorkbench(w, wb)
	if o.exit || !interactive() {
		fmt.Fprintln(w, "\nThe stack stops now (run `labelflow demo` in a terminal, without --exit, to keep it serving).")
		return nil
	}
	fmt.Fprintln(w, "\nThe stack keeps serving the workbench until Ctrl-C.")
	<-ctx.Done()
	fmt.Fprintln(w, "stopping")
	return nil
}

// workbenchItems is the size of the project the demo leaves open in the workbench.
const workbenchItems = 20

func printWorkbench(w io.Writer, wb demo.Workbench) {
	fmt.Fprintf(w, "\nWorkbench          %s   (project %s: %d reviews open for work)\n", wb.URL, wb.Project, wb.Items)
	fmt.Fprintln(w, "  sign in with one of these tokens (each shown once, valid while the stack runs):")
	for _, l := range wb.Logins {
		fmt.Fprintf(w, "  %-10s %-16s %s\n", l.Person.Role, l.Person.Name, l.Token)
	}
}

// interactive reports whether the demo runs in a terminal, where it may wait for Ctrl-C.
func interactive() bool {
	for _, f := range []*os.File{os.Stdin, os.Stdout} {
		st, err := f.Stat()
		if err != nil || st.Mode()&os.ModeCharDevice == 0 {
			return false
		}
	}
	return true
}

// stateDir makes a fresh directory under the data directory, creating that first if need be.
func stateDir(dataDir, pattern string) (string, error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(dataDir, pattern)
}

func printSummary(w io.Writer, e *demo.Env, s demo.Summary) {
	fmt.Fprintf(w, `
LabelFlow demo: project %s complete in %s
  manifest lines     %d (%d valid items, %d rejected with line and reason)
  delivered items    %d, in %d objects, every SHA-256 verified against the manifest
  annotations        %d (two distinct annotators per item)
  agreement          %.1f%%
  arbitrations       %d (a third, distinct reviewer)
  leases expired     %d
  payroll %s    %d people, total %s, paid now %s
  crowd              %d suites, %d answers, %d empty claims
%s
Where to look:
  delivery           %s   manifest: %s
  aws CLI            AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s aws --endpoint-url %s s3 ls %s --recursive
  Temporal UI        %s
`, s.Project, s.Elapsed.Round(time.Second), s.LinesIn, s.ValidItems, s.Rejected, s.Delivered, s.Verified, s.Annotations,
		100*s.Agreement, s.Arbitrated, s.LeasesExpired, s.Month, s.People, money(s.PayrollTotal), money(s.PaidThisRun),
		s.Crowd.Suites, s.Crowd.Answers, s.Crowd.EmptyClaims, topUpLines(s.TopUps),
		s.DeliveryURI, s.ManifestKey, e.Cfg.StoreAccessKey, e.Cfg.StoreSecretKey, e.Cfg.StoreEndpoint, s.DeliveryURI, e.Cfg.TemporalUIURL)
}

// topUpLines says whom payroll lifted to the earnings floor, one line each.
func topUpLines(lines []demo.TopUpLine) string {
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "  top-up             %s\n", l)
	}
	return b.String()
}
