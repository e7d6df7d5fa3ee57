package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/delivery"
	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/devstack"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// benchOptions are the flags of bench.
type benchOptions struct{ items, annotators, reviewers int }

func benchCmd(e *env) *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "one project with an instant crowd: throughput, history, worker memory",
		Args:  subcommandOnly,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withConfig(cmd, func(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
				return benchProject(ctx, cmd.OutOrStdout(), cfg, log, o)
			})
		},
	}
	cmd.Flags().IntVar(&o.items, "items", 10000, "valid items in the project")
	cmd.Flags().IntVar(&o.annotators, "annotators", 20, "simulated annotators")
	cmd.Flags().IntVar(&o.reviewers, "reviewers", 3, "simulated reviewers")
	cmd.AddCommand(benchDeliveryCmd(e), benchPayrollCmd(e), benchUICmd(e), benchGatewayCmd(e))
	return cmd
}

// benchProject runs one project with an instant simulated crowd on a fresh embedded stack, with
// the worker in its own process so that its memory is measured alone.
func benchProject(ctx context.Context, w io.Writer, cfg config.Config, log zerolog.Logger, o benchOptions) error {
	dir, err := stateDir(cfg.DataDir, "bench-")
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
	actions, _ := e.ServerActions(ctx)
	sampler := demo.StartCPUSampler(e, sampleEvery(o.items))
	sum, err := demo.Run(ctx, e, demo.RunOptions{
		ProjectID: "bench", Items: o.items, Annotators: o.annotators, Reviewers: o.reviewers, Accuracy: 0.85,
		Seed: 1, ChunkSize: 500, Lease: 15 * time.Minute,
	})
	samples := sampler.Stop()
	if err != nil {
		return err
	}
	hist, err := demo.ProjectHistory(ctx, e, "bench")
	if err != nil {
		return err
	}
	printBench(w, cfg, o, sum, hist)
	printActions(ctx, w, e, actions, sum.Delivered)
	printProcesses(w, demo.StackProcesses(e), samples)
	return nil
}

// sampleEvery spaces the CPU samples of a project of items: about ten over the run.
func sampleEvery(items int) time.Duration {
	return max(5*time.Second, time.Duration(items/800/10)*time.Second)
}

// printProcesses prints each process's peak RSS, then the CPU samples.
func printProcesses(w io.Writer, procs []demo.ProcessCPU, samples []demo.CPUSample) {
	for _, p := range procs {
		if rss, err := demo.PeakRSS(p.PID); err == nil {
			fmt.Fprintf(w, "  peak RSS  %-24s %7.1f MiB (VmHWM)\n", p.Name, float64(rss)/(1<<20))
		}
	}
	printCPUSamples(w, samples)
}

// printCPUSamples prints each process's share of one core over each interval (the machine's
// cores bound the sum): a process near 100% is saturated.
func printCPUSamples(w io.Writer, samples []demo.CPUSample) {
	if len(samples) == 0 {
		return
	}
	fmt.Fprintf(w, "  cpu samples (share of one core over each interval, resident memory at its end)\n")
	for _, s := range samples {
		fmt.Fprintf(w, "    %6s", s.At.Round(time.Second))
		for i, p := range s.Procs {
			fmt.Fprintf(w, "  %s %.0f%%", p.Name, 100*p.Seconds/s.Every.Seconds())
			if i < len(s.RSS) && s.RSS[i] > 0 {
				fmt.Fprintf(w, " %.0f MiB", float64(s.RSS[i])/(1<<20))
			}
		}
		fmt.Fprintln(w)
	}
}

func printBench(w io.Writer, cfg config.Config, o benchOptions, sum demo.Summary, hist demo.HistoryTotals) {
	fmt.Fprintf(w, `bench: %d items, %d annotators, %d reviewers, chunk size 500, window %d
  project wall time        %s (launch to verified delivery)
  items per second         %.1f
  annotations              %d, arbitrations %d, agreement %.1f%%
  workflow runs            %d (%d chunk runs, %d project runs)
  history events           %d in all, %.2f per delivered item; largest run %d events, %d KiB
  history bytes            %.1f MiB in all, %.0f per delivered item
`, sum.ValidItems, o.annotators, o.reviewers, cfg.ChunkWindow, sum.ProjectTime.Round(time.Millisecond),
		float64(sum.Delivered)/sum.ProjectTime.Seconds(), sum.Annotations, sum.Arbitrated, 100*sum.Agreement,
		hist.Runs, hist.ChunkRuns, hist.ProjectRun, hist.Events, float64(hist.Events)/float64(sum.Delivered), hist.MaxEvents, hist.MaxBytes/1024,
		float64(hist.Bytes)/(1<<20), float64(hist.Bytes)/float64(sum.Delivered))
}

// deliveryBench are the flags of bench delivery.
type deliveryBench struct {
	items, chunkSize int
	cpuProfile       string
}

func (b deliveryBench) chunks() int { return (b.items + b.chunkSize - 1) / b.chunkSize }

// chunkItems is how many items chunk c holds: a full chunk but perhaps the last.
func (b deliveryBench) chunkItems(c int) int { return min(b.chunkSize, b.items-c*b.chunkSize) }

func benchDeliveryCmd(e *env) *cobra.Command {
	var b deliveryBench
	cmd := &cobra.Command{
		Use:   "delivery",
		Short: "a finished project's results delivered through the re-delivery workflow, against aws s3 cp",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withConfig(cmd, func(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
				return benchDelivery(ctx, cmd.OutOrStdout(), cfg, log, b)
			})
		},
	}
	cmd.Flags().IntVar(&b.items, "items", 100000, "items in the project")
	cmd.Flags().IntVar(&b.chunkSize, "chunk-size", 500, "items per chunk")
	cmd.Flags().StringVar(&b.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed part to this file")
	return cmd
}

// benchDelivery measures delivering a finished project's results (stored chunk results, as a
// project leaves them) to a client bucket through the durable path, against the aws CLI copying
// the same label files to the same server.
func benchDelivery(ctx context.Context, w io.Writer, cfg config.Config, log zerolog.Logger, b deliveryBench) error {
	dir, err := stateDir(cfg.DataDir, "bench-delivery-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dir, _ = filepath.Abs(dir)
	e, err := demo.Start(ctx, cfg, demo.StackOptions{DataDir: filepath.Join(dir, "stack"), Headless: true}, log)
	if err != nil {
		return err
	}
	defer e.Stop()
	local := filepath.Join(dir, "labels")
	fmt.Fprintf(w, "preparing %d items in %d chunks…\n", b.items, b.chunks())
	if err := storeFinishedProject(ctx, e, b, local); err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(b.cpuProfile)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := redeliverAll(ctx, e, cfg, b.chunks())
	durable := time.Since(start)
	stopProfile()
	if err != nil {
		return err
	}
	cli, err := awsCopy(ctx, e, local)
	if err != nil {
		return err
	}
	printDeliveryBench(w, b, res, durable, cli)
	return nil
}

// benchProjectSpec is the finished project bench delivery re-delivers.
func benchProjectSpec(e *demo.Env, chunkSize int) spec.Project {
	return spec.Project{ID: "bench-delivery", Client: "acme", Source: "s3://x/y",
		Annotation: spec.Annotation{Type: "single-label", Taxonomy: []string{"positive", "negative", "neutral"}, Instructions: "x"},
		ChunkSize:  chunkSize, Delivery: spec.Delivery{Bucket: demo.ClientBucket, Prefix: "durable/", Region: "us-east-1",
			Endpoint: e.Cfg.StoreEndpoint, Credentials: "dev", Formats: []string{"jsonl"}, LabelAttribute: "label"},
		Pay: spec.Pay{Currency: "USD", PerAnnotation: "0.04", PerArbitration: "0.10"}}
}

// storeFinishedProject writes what a finished project leaves in the platform store (its spec,
// rejects, each chunk's results and quality figures), and the same label files under local for
// the aws CLI.
func storeFinishedProject(ctx context.Context, e *demo.Env, b deliveryBench, local string) error {
	sp := benchProjectSpec(e, b.chunkSize)
	if err := e.App.Store.PutJSON(ctx, layout.SpecKey(sp.ID), sp); err != nil {
		return err
	}
	if err := e.App.Store.Put(ctx, layout.RejectsKey(sp.ID), nil); err != nil {
		return err
	}
	if err := os.MkdirAll(local, 0o755); err != nil {
		return err
	}
	for c := 0; c < b.chunks(); c++ {
		if err := storeFinishedChunk(ctx, e, sp.ID, b, c, local); err != nil {
			return err
		}
	}
	return nil
}

func storeFinishedChunk(ctx context.Context, e *demo.Env, project string, b deliveryBench, c int, local string) error {
	data := resultLines(project, c*b.chunkSize, b.chunkItems(c))
	if err := e.App.Store.Put(ctx, layout.ResultsKey(project, c), data); err != nil {
		return err
	}
	// The chunk's quality figures, as RecordChunk leaves them: the manifest's quality report is
	// built from them.
	agreed := b.chunkItems(c)
	if err := e.App.Store.PutJSON(ctx, layout.StatsKey(project, c), quality.ChunkStats{Chunk: c, Items: agreed, Agreed: agreed}); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(local, fmt.Sprintf("chunk-%06d.jsonl", c)), data, 0o644)
}

// resultLines are n delivered result lines, as a chunk stores them, numbered from first.
func resultLines(project string, first, n int) []byte {
	var buf bytes.Buffer
	for i := first; i < first+n; i++ {
		line, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("review-%07d", i), "source": fmt.Sprintf("The product number %d was exactly what I ordered, thank you.", i),
			"label": "positive", "label-metadata": map[string]any{"method": "agreed", "annotators": []string{"amina", "grace"}, "answers": []string{"positive", "positive"},
				"confidence": 0.9697, "type": "single-label", "project": project, "completed_at": "2026-11-27T10:00:00Z"}})
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func redeliverAll(ctx context.Context, e *demo.Env, cfg config.Config, chunks int) (delivery.ManifestResult, error) {
	var res delivery.ManifestResult
	run, err := e.App.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "bench-delivery", TaskQueue: cfg.WorkflowTaskQueue},
		workflows.RedeliveryWorkflow, workflows.RedeliveryInput{ProjectID: "bench-delivery", Chunks: chunks, ActivityTaskQueue: cfg.ActivityTaskQueue,
			Redelivery: delivery.Redelivery{ID: "bench"}})
	if err != nil {
		return res, err
	}
	err = run.Get(ctx, &res)
	return res, err
}

// awsCopy times the aws CLI copying the label files to the same server; 0 when it is not installed.
func awsCopy(ctx context.Context, e *demo.Env, local string) (time.Duration, error) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		return 0, nil
	}
	cmd := exec.CommandContext(ctx, aws, "--endpoint-url", e.Cfg.StoreEndpoint, "s3", "cp", "--recursive", "--only-show-errors", local, "s3://"+demo.ClientBucket+"/awscli/labels/")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+e.Cfg.StoreAccessKey, "AWS_SECRET_ACCESS_KEY="+e.Cfg.StoreSecretKey, "AWS_DEFAULT_REGION=us-east-1")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("aws s3 cp: %w", err)
	}
	return time.Since(start), nil
}

func printDeliveryBench(w io.Writer, b deliveryBench, res delivery.ManifestResult, durable, cli time.Duration) {
	fmt.Fprintf(w, `bench delivery: %d items in %d chunk files
  LabelFlow (workflow, per-chunk SHA-256-checked uploads, receipts, manifest)  %s  (%.0f items/s)
`, res.Items, b.chunks(), durable.Round(time.Millisecond), float64(res.Items)/durable.Seconds())
	if cli > 0 {
		fmt.Fprintf(w, "  aws s3 cp --recursive of the same label files                               %s  (%.0f items/s)\n", cli.Round(time.Millisecond), float64(b.items)/cli.Seconds())
	} else {
		fmt.Fprintln(w, "  aws CLI not found: install it (apt-get install awscli) to compare")
	}
}

// payrollBench are the flags of bench payroll.
type payrollBench struct {
	lines, people int
	cpuProfile    string
}

// benchMonth is the month bench payroll pays.
const benchMonth = "2026-10"

// ledgerLinesPerFile is how many entries each of bench payroll's ledger files holds.
const ledgerLinesPerFile = 500

func (b payrollBench) files() int { return (b.lines + ledgerLinesPerFile - 1) / ledgerLinesPerFile }

func benchPayrollCmd(e *env) *cobra.Command {
	var b payrollBench
	cmd := &cobra.Command{
		Use:   "payroll",
		Short: "a month's payroll over a large ledger: aggregation and payment, timed",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withConfig(cmd, func(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
				return benchPayroll(ctx, cmd.OutOrStdout(), cfg, log, b)
			})
		},
	}
	cmd.Flags().IntVar(&b.lines, "lines", 1000000, "ledger lines")
	cmd.Flags().IntVar(&b.people, "people", 10000, "people")
	cmd.Flags().StringVar(&b.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed part to this file")
	return cmd
}

// benchPayroll measures a month's payroll over a large ledger: aggregation (statements, floor)
// and payment, run as the activities run, against the embedded S3 server.
func benchPayroll(ctx context.Context, w io.Writer, cfg config.Config, log zerolog.Logger, b payrollBench) error {
	dir, err := stateDir(cfg.DataDir, "bench-payroll-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := devstack.Start(ctx, devstack.Options{BinDir: cfg.BinDir, DataDir: filepath.Join(dir, "stack"), Headless: true,
		Buckets: []string{cfg.StoreBucket}, Logger: log})
	if err != nil {
		return err
	}
	defer st.Stop()
	s, err := store.New(store.Options{Endpoint: st.S3Endpoint, AccessKey: st.AccessKey, SecretKey: st.SecretKey, Region: cfg.StoreRegion, Bucket: cfg.StoreBucket})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "preparing %d ledger lines for %d people…\n", b.lines, b.people)
	if err := seedPayroll(ctx, s, b); err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(b.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	return timePayroll(ctx, w, b, func() (app.PayrollRun, error) {
		return app.RunPayrollActivities(ctx, s, benchMonth, cfg.FloorMultiplier, log)
	})
}

// seedPayroll writes the roster, the month's ledger and the finance tables.
func seedPayroll(ctx context.Context, s *store.Store, b payrollBench) error {
	if err := saveBenchRoster(ctx, s, b.people); err != nil {
		return err
	}
	if err := store.Parallel(b.files(), 16, func(f int) error { return putLedgerFile(ctx, s, b, f) }); err != nil {
		return err
	}
	return demo.SeedFinanceTables(ctx, s, benchMonth)
}

// saveBenchRoster saves people who never sign in (no token), a hundred at a time.
func saveBenchRoster(ctx context.Context, s *store.Store, people int) error {
	countries := []string{"KE", "UG", "RW", "NG", "GH", "ET"}
	var roster []workforce.Person
	for i := 0; i < people; i++ {
		c := countries[i%len(countries)]
		roster = append(roster, workforce.Person{ID: fmt.Sprintf("p%05d", i), Name: "p", Country: c, Role: "annotator", PayoutMethod: "mobile-money"})
	}
	return store.Parallel(len(roster)/100+1, 16, func(i int) error {
		end := min(len(roster), (i+1)*100)
		if i*100 >= end {
			return nil
		}
		return workforce.Roster{Store: s}.Save(ctx, roster[i*100:end])
	})
}

// putLedgerFile writes ledger file f: its share of the lines, spread over the people.
func putLedgerFile(ctx context.Context, s *store.Store, b payrollBench, f int) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for j := 0; j < ledgerLinesPerFile && f*ledgerLinesPerFile+j < b.lines; j++ {
		n := f*ledgerLinesPerFile + j
		enc.Encode(ledger.Entry{ID: fmt.Sprintf("bench/%06d/i%d/annotation/p%05d", f, n, n%b.people), Worker: fmt.Sprintf("p%05d", n%b.people),
			Project: fmt.Sprintf("bench-%d", f%20), Chunk: f, Item: fmt.Sprintf("i%d", n), Role: "annotation", Amount: 4, Currency: "USD",
			Month: benchMonth, AcceptedAt: time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC), Seconds: 30})
	}
	return s.Put(ctx, layout.LedgerKey(benchMonth, fmt.Sprintf("bench-%d", f%20), f), buf.Bytes())
}

// timePayroll runs aggregation then payment as their activities do, sampling the heap throughout.
func timePayroll(ctx context.Context, w io.Writer, b payrollBench, run func() (app.PayrollRun, error)) error {
	runtime.GC()
	peak := peakHeap(50 * time.Millisecond)
	r, err := run()
	maxHeap := peak()
	if err != nil {
		return err
	}
	sum := r.Summary
	fmt.Fprintf(w, `bench payroll: %d ledger lines, %d people, %d files
  aggregate (stream ledger, roster, statements, floor)   %s  (%.0f lines/s)
  pay (file provider, pending and paid records, intents) %s  (%d payouts)
  peak Go heap during the run                             %.1f MiB
  top-ups                                                 %d
`, sum.Entries, sum.People, b.files(), r.Aggregate.Round(time.Millisecond), float64(sum.Entries)/r.Aggregate.Seconds(),
		r.Pay.Round(time.Millisecond), r.Payouts, float64(maxHeap)/(1<<20), len(sum.TopUps))
	return nil
}

// startCPUProfile writes a CPU profile to path until the returned function is called; with path
// empty it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// peakHeap samples the heap in use until the returned function is called, which returns the peak.
func peakHeap(every time.Duration) func() uint64 {
	var mu sync.Mutex
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			mu.Lock()
			peak = max(peak, m.HeapInuse)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}
