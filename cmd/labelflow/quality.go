package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/internal/aggregate"
)

// qualityCmd re-aggregates crowd answers offline with the same code the platform uses. Nothing
// under it reads the configuration or connects to anything.
func qualityCmd() *cobra.Command {
	return group("quality", "aggregate crowd answers offline, with the platform's methods",
		qualityAggregateCmd(), qualityCompareCmd(), qualitySynthCmd())
}

// aggregateOptions are the flags of quality aggregate.
type aggregateOptions struct {
	in, truth, method, out, skills string
}

func qualityAggregateCmd() *cobra.Command {
	var o aggregateOptions
	cmd := &cobra.Command{
		Use:   "aggregate --in answers.csv --method mv|ds|policy|best",
		Short: "one label and confidence per task from answers.csv (task,worker,label)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return aggregateFile(cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.in, "in", "", "answers CSV with header task,worker,label")
	fl.StringVar(&o.truth, "truth", "", "truth CSV with header task,label; prints the accuracy")
	fl.StringVar(&o.method, "method", "best", "mv, ds, policy or best")
	fl.StringVar(&o.out, "out", "", "labels CSV to write (task,label,confidence); default stdout")
	fl.StringVar(&o.skills, "skills", "", "worker skills CSV to write (worker,skill)")
	required(cmd, "in")
	return cmd
}

// methods are the aggregation methods by their flag name.
var methods = map[string]func([]aggregate.Answer) aggregate.Result{
	"mv":     aggregate.MajorityVote,
	"ds":     func(a []aggregate.Answer) aggregate.Result { return aggregate.DawidSkene(a, aggregate.DSOptions{}) },
	"policy": aggregate.Policy,
	"best":   aggregate.Best,
}

func aggregateFile(stdout, stderr io.Writer, o aggregateOptions) error {
	method, ok := methods[o.method]
	if !ok {
		return fmt.Errorf("--method %q: use mv, ds, policy or best", o.method)
	}
	answers, err := readCSV(o.in, aggregate.ReadAnswers)
	if err != nil {
		return err
	}
	start := time.Now()
	res := method(answers)
	took := time.Since(start)
	if err := writeTo(o.out, stdout, func(w io.Writer) error { return aggregate.WriteLabels(w, res) }); err != nil {
		return err
	}
	if o.skills != "" {
		if err := writeTo(o.skills, nil, func(w io.Writer) error { return aggregate.WriteSkills(w, res) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "%s: %d answers, %d tasks, %d workers in %s\n", o.method, len(answers), len(res.Labels), len(res.Skill), took.Round(time.Millisecond))
	if o.truth == "" {
		return nil
	}
	truth, err := readCSV(o.truth, aggregate.ReadTruth)
	if err != nil {
		return err
	}
	acc, n := aggregate.Accuracy(res.Labels, truth)
	fmt.Fprintf(stderr, "accuracy %.2f%% on %d tasks with truth\n", 100*acc, n)
	return nil
}

// readCSV opens file and reads it with read, which names the file in its errors.
func readCSV[T any](file string, read func(string, io.Reader) (T, error)) (T, error) {
	f, err := os.Open(file)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return read(file, bufio.NewReader(f))
}

// writeTo writes with write to the file named, or to fallback when the name is empty.
func writeTo(file string, fallback io.Writer, write func(io.Writer) error) error {
	if file == "" {
		return write(fallback)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func qualityCompareCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "compare",
		Short: "accuracy of mv, ds, policy and best on synthetic crowds",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			specs := []aggregate.CrowdSpec{
				{Tasks: 2000, Workers: 50, Classes: 2, SkillMin: 0.6, SkillMax: 0.9, Seed: 1},
				{Tasks: 2000, Workers: 200, Classes: 3, SkillMin: 0.5, SkillMax: 0.95, SpammerShare: 0.3, Seed: 2},
				{Tasks: 2000, Workers: 50, Classes: 4, SkillMin: 0.6, SkillMax: 0.9, ClassImbalance: 0.5, Seed: 3},
			}
			fmt.Fprint(cmd.OutOrStdout(), aggregate.Compare(specs, []int{3, 5}))
			return nil
		},
	}
}

// synthOptions are the flags of quality synth.
type synthOptions struct {
	spec       aggregate.CrowdSpec
	out, truth string
}

func qualitySynthCmd() *cobra.Command {
	o := synthOptions{spec: aggregate.CrowdSpec{Classes: 4, SkillMin: 0.55, SkillMax: 0.95, Seed: 1}}
	cmd := &cobra.Command{
		Use:   "synth",
		Short: "a synthetic crowd as answers.csv and truth.csv",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return synthesize(cmd.OutOrStdout(), o)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&o.spec.Tasks, "tasks", 20000, "tasks")
	fl.IntVar(&o.spec.Workers, "workers", 100, "workers")
	fl.IntVar(&o.spec.AnswersPerTask, "answers", 5, "answers per task")
	fl.Float64Var(&o.spec.SpammerShare, "spammers", 0, "share of workers answering at random")
	fl.StringVar(&o.out, "out", "answers.csv", "answers CSV (task,worker,label)")
	fl.StringVar(&o.truth, "truth", "truth.csv", "truth CSV (task,label)")
	return cmd
}

func synthesize(w io.Writer, o synthOptions) error {
	answers, truth, _ := aggregate.Synthesize(o.spec)
	rows := [][]string{{"task", "worker", "label"}}
	for _, a := range answers {
		rows = append(rows, []string{a.Task, a.Worker, a.Label})
	}
	if err := writeCSVFile(o.out, rows); err != nil {
		return err
	}
	rows = [][]string{{"task", "label"}}
	for _, task := range sortedTasks(truth) {
		rows = append(rows, []string{task, truth[task]})
	}
	if err := writeCSVFile(o.truth, rows); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d answers in %s, %d truths in %s\n", len(answers), o.out, len(truth), o.truth)
	return nil
}

func writeCSVFile(file string, rows [][]string) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	return os.WriteFile(file, b.Bytes(), 0o644)
}

func sortedTasks(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
