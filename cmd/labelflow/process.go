package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/gateway"
)

func runWorker(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.RunWorker(ctx)
}

func runGateway(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	g, err := gateway.New(a)
	if err != nil {
		return err
	}
	ln, err := gateway.Listen(cfg.GatewayListen, cfg.GatewayMaxConns)
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
	log.Info().Str("listen", cfg.GatewayListen).Int("max_conns", cfg.GatewayMaxConns).Msg("gateway serving")
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// devCmd runs the embedded stack in the foreground on the configured ports, so every other
// command works against it with the default configuration.
func devCmd(ctx context.Context, cfg config.Config, log zerolog.Logger, _ []string) error {
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
	fmt.Printf(`LabelFlow dev stack is up (Ctrl-C stops it)
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
	<-ctx.Done()
	fmt.Println("stopping")
	return nil
}

type portSet struct{ temporal, ui, s3 int }

func devPorts(cfg config.Config) (portSet, error) {
	var p portSet
	if _, err := fmt.Sscanf(hostPortPart(cfg.TemporalAddress), "%d", &p.temporal); err != nil {
		return p, fmt.Errorf("LABELFLOW_TEMPORAL_ADDRESS %q: needs a port", cfg.TemporalAddress)
	}
	if _, err := fmt.Sscanf(hostPortPart(cfg.TemporalUIURL), "%d", &p.ui); err != nil {
		return p, fmt.Errorf("LABELFLOW_TEMPORAL_UI_URL %q: needs a port", cfg.TemporalUIURL)
	}
	if _, err := fmt.Sscanf(hostPortPart(cfg.StoreEndpoint), "%d", &p.s3); err != nil {
		return p, fmt.Errorf("LABELFLOW_STORE_ENDPOINT %q: needs a port", cfg.StoreEndpoint)
	}
	return p, nil
}

func hostPortPart(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return s[i+1:]
		}
	}
	return ""
}

// demoCmd runs the whole pipeline once on a fresh embedded stack and prints a summary.
func demoCmd(ctx context.Context, cfg config.Config, log zerolog.Logger, args []string) error {
	fs := newFlags("demo")
	items := fs.Int("items", 300, "valid items in the demo dataset")
	annotators := fs.Int("annotators", 12, "simulated annotators")
	reviewers := fs.Int("reviewers", 3, "simulated reviewers")
	accuracy := fs.Float64("accuracy", 0.85, "probability a simulated annotator is right")
	keep := fs.Bool("keep", false, "keep the demo's state directory")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	dir, err := os.MkdirTemp(cfg.DataDir, "demo-")
	if err != nil {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return err
		}
		if dir, err = os.MkdirTemp(cfg.DataDir, "demo-"); err != nil {
			return err
		}
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	fmt.Println("Starting the embedded stack (Temporal dev server, S3 server, worker, gateway)…")
	e, err := demo.Start(ctx, demo.LiftLimitsForSimulatedCrowd(cfg), demo.StackOptions{DataDir: dir}, log)
	if err != nil {
		return err
	}
	defer e.Stop()
	fmt.Printf("  Temporal UI %s   object store %s   gateway %s\n", e.Cfg.TemporalUIURL, e.Cfg.StoreEndpoint, e.GatewayURL)
	bar := progressPrinter(os.Stdout)
	sum, err := demo.Run(ctx, e, demo.RunOptions{
		ProjectID: "acme-reviews", Items: *items, Annotators: *annotators, Reviewers: *reviewers,
		Accuracy: *accuracy, Seed: 2026, Progress: bar,
	})
	fmt.Println()
	if err != nil {
		return err
	}
	printSummary(os.Stdout, e, sum)
	return nil
}

// benchCmd runs one project of --items items with an instant simulated crowd on a fresh embedded
// stack, with the worker in its own process, and reports throughput, history and memory.
func benchCmd(ctx context.Context, cfg config.Config, log zerolog.Logger, args []string) error {
	if len(args) > 0 && args[0] == "delivery" {
		return benchDeliveryCmd(ctx, cfg, log, args[1:])
	}
	if len(args) > 0 && args[0] == "payroll" {
		return benchPayrollCmd(ctx, cfg, log, args[1:])
	}
	fs := newFlags("bench")
	items := fs.Int("items", 10000, "valid items in the project")
	annotators := fs.Int("annotators", 20, "simulated annotators")
	reviewers := fs.Int("reviewers", 3, "simulated reviewers")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(cfg.DataDir, "bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	e, err := demo.Start(ctx, demo.LiftLimitsForSimulatedCrowd(cfg), demo.StackOptions{DataDir: dir, Headless: true, WorkerCommand: []string{self, "worker"}}, log)
	if err != nil {
		return err
	}
	defer e.Stop()
	sum, err := demo.Run(ctx, e, demo.RunOptions{
		ProjectID: "bench", Items: *items, Annotators: *annotators, Reviewers: *reviewers, Accuracy: 0.85,
		Seed: 1, ChunkSize: 500, Lease: 15 * time.Minute,
	})
	if err != nil {
		return err
	}
	rss, rssErr := demo.PeakRSS(e.Worker.Process.Pid)
	hist, err := demo.ProjectHistory(ctx, e, "bench")
	if err != nil {
		return err
	}
	fmt.Printf(`bench: %d items, %d annotators, %d reviewers, chunk size 500, window %d
  project wall time        %s (launch to verified delivery)
  items per second         %.1f
  annotations              %d, arbitrations %d, agreement %.1f%%
  workflow runs            %d (%d chunk runs, %d project runs)
  history events           %d in all, %.2f per delivered item; largest run %d events, %d KiB
  history bytes            %.1f MiB in all, %.0f per delivered item
`, sum.ValidItems, *annotators, *reviewers, cfg.ChunkWindow, sum.ProjectTime.Round(time.Millisecond),
		float64(sum.Delivered)/sum.ProjectTime.Seconds(), sum.Annotations, sum.Arbitrated, 100*sum.Agreement,
		hist.Runs, hist.ChunkRuns, hist.ProjectRun, hist.Events, float64(hist.Events)/float64(sum.Delivered), hist.MaxEvents, hist.MaxBytes/1024,
		float64(hist.Bytes)/(1<<20), float64(hist.Bytes)/float64(sum.Delivered))
	if rssErr == nil {
		fmt.Printf("  peak worker RSS          %.1f MiB (VmHWM of the worker process)\n", float64(rss)/(1<<20))
	} else {
		fmt.Printf("  peak worker RSS          unavailable: %v\n", rssErr)
	}
	return nil
}
