package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/simulate"
)

// simulateFlags are the flags of simulate that do not go straight into simulate.Options.
type simulateFlags struct {
	skills, languages, truth string
	allow                    bool
}

func simulateCmd(e *env) *cobra.Command {
	var o simulate.Options
	var f simulateFlags
	cmd := &cobra.Command{
		Use:   "simulate --project ID",
		Short: "simulated people work on a project through the gateway (embedded stack, or --allow-simulated-people)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSimulation(cmd, e, o, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Project, "project", "", "project id")
	fl.IntVar(&o.Annotators, "annotators", 20, "simulated annotators")
	fl.IntVar(&o.Reviewers, "reviewers", 3, "simulated reviewers")
	fl.Float64Var(&o.Accuracy, "accuracy", 0.85, "probability an annotator answers correctly")
	fl.Float64Var(&o.ReviewerAccuracy, "reviewer-accuracy", 0.95, "probability a reviewer answers correctly")
	fl.Float64Var(&o.Abandon, "abandon", 0, "probability a person walks away from a claimed suite")
	fl.Float64Var(&o.WalkAway, "walk-away", 0, "share of people who walk away from a suite without releasing it and do not come back")
	fl.Float64Var(&o.Release, "release", 0, "probability a person gives a claimed suite back instead of answering it")
	fl.DurationVar(&o.Think, "think", 0, "time spent on each suite before submitting")
	fl.DurationVar(&o.TaskTime, "task-time", 0, "time spent on each task of a suite, give or take a quarter, on top of --think; the ledger pays this time")
	fl.Uint64Var(&o.Seed, "seed", 1, "random seed")
	fl.StringVar(&f.skills, "skills", "", "skills of the simulated people, ';'-separated")
	fl.StringVar(&f.languages, "languages", "en", "languages of the simulated people, ';'-separated")
	fl.StringVar(&f.truth, "truth", "", "CSV of true answers (id,label); default: the manifest lines' truth field")
	fl.BoolVar(&f.allow, "allow-simulated-people", false, "register simulated people on a stack that is not the embedded one")
	required(cmd, "project")
	return cmd
}

// runSimulation refuses a stack where simulated people may not work before it connects to
// anything, then lets the crowd work until the project needs no more answers.
func runSimulation(cmd *cobra.Command, e *env, o simulate.Options, f simulateFlags) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	permit, err := simulate.Allow(cfg, f.allow)
	if err != nil {
		return err
	}
	o.GatewayURL = cfg.GatewayURL
	o.Skills, o.Languages = splitList(f.skills), splitList(f.languages)
	if f.truth != "" {
		if o.Truth, err = loadTruth(f.truth); err != nil {
			return err
		}
	}
	w := cmd.OutOrStdout()
	return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
		st, err := simulate.Simulate(ctx, permit, a.Roster, a.Store, o, func(crowd []simulate.Person) {
			fmt.Fprintf(w, "%d simulated people working on %s through %s\n", len(crowd), o.Project, o.GatewayURL)
		})
		if err != nil {
			return err
		}
		printSimulation(w, st)
		return nil
	})
}

func printSimulation(w io.Writer, st simulate.Stats) {
	fmt.Fprintf(w, "done: %d suites, %d answers (%d arbitrations), %d abandoned, %d released, %d heartbeats, %d rejected, %d empty claims; the simulated people have left the roster\n",
		st.Suites, st.Answers, st.Arbitrated, st.Abandoned, st.Released, st.Heartbeats, st.Rejected, st.EmptyClaims)
}

func loadTruth(file string) (map[string]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return simulate.LoadTruth(file, f)
}

// splitList splits a ';'-separated flag value, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ";") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
