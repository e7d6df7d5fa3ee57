package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/spec"
)

// gatewayBench are the flags of bench gateway.
type gatewayBench struct {
	annotators, suiteSize, items, window int
	think, duration                      time.Duration
	cpuProfile                           string
}

// itemsNeeded is enough items that the crowd never runs out: the answers it can give in the
// run, with half again to spare, two answers an item.
func (b gatewayBench) itemsNeeded() int {
	suites := float64(b.annotators) * b.duration.Seconds() / b.think.Seconds()
	return int(suites*float64(b.suiteSize)*1.5/2) + 2000
}

func benchGatewayCmd(e *env) *cobra.Command {
	var b gatewayBench
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "people claiming and submitting over HTTP at a given pace: latency, errors, throughput, actions per item",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if b.annotators < 1 || b.think <= 0 || b.duration <= 0 || b.suiteSize < 1 || b.suiteSize > 100 {
				return fmt.Errorf("bench gateway: --annotators must be at least 1, --think and --duration above 0, --suite-size 1 to 100")
			}
			return e.withConfig(cmd, func(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
				return benchGateway(ctx, cmd.OutOrStdout(), cfg, log, b)
			})
		},
	}
	cmd.Flags().IntVar(&b.annotators, "annotators", 200, "simulated annotators")
	cmd.Flags().DurationVar(&b.think, "think", 10*time.Second, "time each person spends on a suite, give or take a quarter")
	cmd.Flags().DurationVar(&b.duration, "duration", 90*time.Second, "how long the crowd works")
	cmd.Flags().IntVar(&b.suiteSize, "suite-size", spec.DefaultSuiteSize, "items per suite")
	cmd.Flags().IntVar(&b.items, "items", 0, "items in the project (0: enough for the run)")
	cmd.Flags().IntVar(&b.window, "window", 0, "chunks annotated at once (0: LABELFLOW_CHUNK_WINDOW)")
	cmd.Flags().StringVar(&b.cpuProfile, "cpuprofile", "", "write a CPU profile of the gateway and crowd process during the run to this file")
	return cmd
}

// benchGateway starts a fresh embedded stack (worker in its own process), and measures people
// working through the gateway at b's pace.
func benchGateway(ctx context.Context, w io.Writer, cfg config.Config, log zerolog.Logger, b gatewayBench) error {
	dir, err := stateDir(cfg.DataDir, "bench-gateway-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if b.window > 0 {
		cfg.ChunkWindow = b.window
	}
	if b.items == 0 {
		b.items = b.itemsNeeded()
	}
	e, err := demo.Start(ctx, demo.LiftLimitsForSimulatedCrowd(cfg), demo.StackOptions{DataDir: dir, Headless: true,
		WorkerCommand: []string{self, "worker"}}, log)
	if err != nil {
		return err
	}
	defer e.Stop()
	if b.cpuProfile != "" {
		f, err := os.Create(b.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	res, err := demo.RunGatewayBench(ctx, e, demo.GatewayBenchOptions{ProjectID: "bench-gateway", Annotators: b.annotators,
		Think: b.think, Duration: b.duration, SuiteSize: b.suiteSize, Items: b.items, Seed: 1})
	if err != nil {
		return err
	}
	printGatewayBench(w, cfg, b, res)
	return nil
}

func printGatewayBench(w io.Writer, cfg config.Config, b gatewayBench, r demo.GatewayBench) {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	secs := r.Elapsed.Seconds()
	fmt.Fprintf(w, "bench gateway: %d annotators and %d reviewers, think %s a suite, suite size %d, window %d, %s\n",
		b.annotators, demo.BenchReviewers(b.annotators), b.think, b.suiteSize, cfg.ChunkWindow, r.Elapsed.Round(time.Second))
	for _, l := range []struct {
		name   string
		d      []time.Duration
		errors int64
	}{{"claim", r.Claims, r.ClaimErrors}, {"submit", r.Submits, r.SubmitErrors}} {
		fmt.Fprintf(w, "  %-6s  p50 %7.1f ms  p95 %7.1f ms  p99 %7.1f ms  max %7.1f ms  requests %d  errors %d\n", l.name,
			ms(demo.Percentile(l.d, 50)), ms(demo.Percentile(l.d, 95)), ms(demo.Percentile(l.d, 99)), ms(demo.Percentile(l.d, 100)), len(l.d), l.errors)
	}
	items := r.ItemsAnnotated()
	fmt.Fprintf(w, "  throughput  %.1f suites/s, %.1f answers/s; %d claims found no work\n", float64(r.Suites)/secs, float64(r.Answers)/secs, r.EmptyClaims)
	total := r.TotalActions()
	perItem := 0.0
	if items > 0 {
		perItem = total / items
	}
	fmt.Fprintf(w, "  actions     %.0f in all, %.3f per item (%.0f items of 2 answers), %.2f per second\n", total, perItem, items, total/secs)
	printActionTypes(w, r.Actions)
	for _, p := range r.CPU {
		fmt.Fprintf(w, "  cpu  %-24s %6.1f s (%.0f%% of one core)\n", p.Name, p.Seconds, 100*p.Seconds/secs)
	}
	printCPUSamples(w, r.Samples)
}

// printActions prints the billable actions the Temporal server counted since before, per
// delivered item: accepted and rejected Updates, Queries, starts, timers, signals and markers.
func printActions(ctx context.Context, w io.Writer, e *demo.Env, before map[string]float64, delivered int) {
	after, err := e.ServerActions(ctx)
	if err != nil || before == nil || delivered == 0 {
		fmt.Fprintf(w, "  actions                  unavailable: %v\n", err)
		return
	}
	total := 0.0
	byType := map[string]float64{}
	for k, v := range after {
		total += v - before[k]
		if v > before[k] {
			byType[k] = v - before[k]
		}
	}
	fmt.Fprintf(w, "  actions                  %.0f, %.3f per delivered item (as Temporal Cloud bills them: rejected Updates and Queries included)\n",
		total, total/float64(delivered))
	printActionTypes(w, byType)
}

// printActionTypes lists the billable actions by type, the most frequent first.
func printActionTypes(w io.Writer, actions map[string]float64) {
	types := make([]string, 0, len(actions))
	for t := range actions {
		types = append(types, t)
	}
	slices.SortFunc(types, func(a, c string) int { return int(actions[c] - actions[a]) })
	for _, t := range types {
		fmt.Fprintf(w, "    %-40s %8.0f\n", t, actions[t])
	}
}
