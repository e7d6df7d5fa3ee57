package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/internal/aggregate"
)

// qualityCmd re-aggregates crowd answers offline with the same code the platform uses. Nothing
// under it reads the configuration or connects to anything.
func qualityCmd() *cobra.Command {
	return group("quality", "aggregate crowd answers offline, with the platform's methods",
		qualityAggregateCmd(), qualityReplayCmd(), qualityBenchCmd(), qualityCompareCmd(), qualitySynthCmd())
}

// aggregateOptions are the flags of quality aggregate.
type aggregateOptions struct {
	in, truth, method, out, skills, delimiter string
}

// check refuses options that cannot work, before anything is read.
func (o aggregateOptions) check() error {
	if _, ok := aggregate.Methods[o.method]; !ok {
		return fmt.Errorf("--method %q: use %s", o.method, strings.Join(aggregate.MethodNames, ", "))
	}
	if _, err := parseDelimiter(o.delimiter); err != nil {
		return err
	}
	if err := checkReadable(flagPath{"--in", o.in}, flagPath{"--truth", o.truth}); err != nil {
		return err
	}
	inputs := []string{o.in, o.truth}
	if err := checkWritable(inputs, flagPath{"--out", o.out}, flagPath{"--skills", o.skills}); err != nil {
		return err
	}
	if o.out != "" && o.out == o.skills {
		return fmt.Errorf("--out and --skills name the same file %s", o.out)
	}
	return nil
}

func qualityAggregateCmd() *cobra.Command {
	o := &aggregateOptions{}
	cmd := &cobra.Command{
		Use:   "aggregate --in answers.csv --method " + strings.Join(aggregate.MethodNames, "|"),
		Short: "one label and confidence per task from answers.csv (task,worker,label)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return aggregateFile(cmd.OutOrStdout(), cmd.ErrOrStderr(), *o)
		},
	}
	cmd.Args = withCheck(func() error { return o.check() })
	fl := cmd.Flags()
	fl.StringVar(&o.in, "in", "", "answers CSV with header task,worker,label")
	fl.StringVar(&o.truth, "truth", "", "truth CSV with header task,label; prints the accuracy and the calibration")
	fl.StringVar(&o.method, "method", "best", strings.Join(aggregate.MethodNames, ", "))
	fl.StringVar(&o.out, "out", "", "labels CSV to write (task,label,confidence); default stdout")
	fl.StringVar(&o.skills, "skills", "", "worker skills CSV to write (worker,skill)")
	fl.StringVar(&o.delimiter, "delimiter", ",", `field separator of the input files: one character, or "tab"`)
	required(cmd, "in")
	return cmd
}

// withCheck makes a command's argument check also check its options: flags are parsed by then,
// and a failure is a usage error reported before anything runs.
func withCheck(check func() error) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := noArgs(cmd, args); err != nil {
			return err
		}
		return check()
	}
}

func aggregateFile(stdout, stderr io.Writer, o aggregateOptions) error {
	format := formatOf(o.delimiter)
	var truth map[string]string
	if o.truth != "" {
		var err error
		if truth, err = readCSV(o.truth, format.ReadTruth); err != nil {
			return err
		}
	}
	answers, err := readCSV(o.in, format.ReadAnswers)
	if err != nil {
		return err
	}
	if truth != nil {
		if err := checkOverlap(stderr, o.in, o.truth, answers, truth); err != nil {
			return err
		}
	}
	if err := aggregate.CheckSize(o.method, answers); err != nil {
		return err
	}
	start := time.Now()
	res := aggregate.Methods[o.method](answers)
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
	if !res.Converged {
		fmt.Fprintf(stderr, "warning: %s stopped at its iteration cap (%d iterations) with posteriors still moving: labels near a tie may change with more iterations\n", o.method, res.Iterations)
	}
	if truth != nil {
		acc, n := aggregate.Accuracy(res.Labels, truth)
		fmt.Fprintf(stderr, "accuracy %.2f%% on %d tasks with truth\n", 100*acc, n)
		printCalibration(stderr, aggregate.Calibration(res, truth))
	}
	return nil
}

// fewShared is the number of shared tasks below which an accuracy is too noisy to read alone:
// its standard error is above 9 points.
const fewShared = 30

// checkOverlap fails when the truth names no task of the answers, and warns when it names few of
// them or when most of its tasks were not answered.
func checkOverlap(stderr io.Writer, in, truthFile string, answers []aggregate.Answer, truth map[string]string) error {
	answered := map[string]bool{}
	for _, a := range answers {
		answered[a.Task] = true
	}
	shared := 0
	for task := range truth {
		if answered[task] {
			shared++
		}
	}
	switch {
	case shared == 0:
		return fmt.Errorf("%s and %s share no task (%d tasks answered, %d with a truth, e.g. %q and %q): check that both use the same task ids", in, truthFile,
			len(answered), len(truth), firstKey(answered), firstKey(truth))
	case shared < fewShared || 2*shared < len(truth):
		fmt.Fprintf(stderr, "warning: %s and %s share only %d tasks (%d answered, %d with a truth): the accuracy is measured on those\n", in, truthFile, shared, len(answered), len(truth))
	}
	return nil
}

// firstKey is the smallest key of m, to name an example.
func firstKey[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// printCalibration prints, per tenth of confidence with tasks in it, the mean confidence against
// the share right.
func printCalibration(w io.Writer, bins [10]aggregate.CalibrationBin) {
	fmt.Fprintln(w, "calibration (confidence → share right):")
	for _, b := range bins {
		if b.Tasks == 0 {
			continue
		}
		fmt.Fprintf(w, "  %.1f–%.1f: %5d tasks, mean confidence %.3f, right %.3f (%+.1f points)\n",
			b.Low, b.High, b.Tasks, b.MeanConfidence, b.Accuracy(), 100*b.Gap())
	}
}

// parseDelimiter reads --delimiter: one character, or "tab" (also written \t).
func parseDelimiter(s string) (rune, error) {
	switch s {
	case "", ",":
		return ',', nil
	case "tab", `\t`, "\t":
		return '\t', nil
	}
	r, size := utf8.DecodeRuneInString(s)
	if size != len(s) {
		return 0, fmt.Errorf("--delimiter %q: want one character, or \"tab\"", s)
	}
	if err := (aggregate.Format{Delimiter: r}).Check(); err != nil {
		return 0, fmt.Errorf("--delimiter %q: %v", s, err)
	}
	return r, nil
}

// formatOf is the input format of a checked --delimiter.
func formatOf(delimiter string) aggregate.Format {
	r, _ := parseDelimiter(delimiter)
	return aggregate.Format{Delimiter: r}
}

// flagPath is a file named by a flag; an empty path is a flag not given.
type flagPath struct{ flag, path string }

// checkReadable refuses an input file that does not exist or is a directory.
func checkReadable(files ...flagPath) error {
	for _, f := range files {
		if f.path == "" {
			continue
		}
		st, err := os.Stat(f.path)
		switch {
		case err != nil:
			return fmt.Errorf("%s %s: %w", f.flag, f.path, err)
		case st.IsDir():
			return fmt.Errorf("%s %s is a directory", f.flag, f.path)
		}
	}
	return nil
}

// checkWritable refuses an output file that could not be written in place: its directory
// missing, a directory in its place, or one of the inputs.
func checkWritable(inputs []string, files ...flagPath) error {
	for _, f := range files {
		if f.path == "" {
			continue
		}
		if st, err := os.Stat(filepath.Dir(f.path)); err != nil || !st.IsDir() {
			return fmt.Errorf("%s %s: no directory %s to write it in", f.flag, f.path, filepath.Dir(f.path))
		}
		if st, err := os.Stat(f.path); err == nil && st.IsDir() {
			return fmt.Errorf("%s %s is a directory", f.flag, f.path)
		}
		for _, in := range inputs {
			if in != "" && sameFile(in, f.path) {
				return fmt.Errorf("%s %s would overwrite the input %s", f.flag, f.path, in)
			}
		}
	}
	return nil
}

func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	return filepath.Clean(a) == filepath.Clean(b)
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

// writeTo writes with write to the file named, or to fallback when the name is empty. A file is
// written whole or not at all: to a temporary file beside it, renamed over it once complete.
func writeTo(file string, fallback io.Writer, write func(io.Writer) error) error {
	if file == "" {
		return write(fallback)
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*.tmp")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriter(tmp)
	if err := write(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return err
	}
	done = true
	return nil
}

// replayOptions are the flags of quality replay.
type replayOptions struct {
	in, truth, delimiter string
	policy               string
	opts                 aggregate.ReplayOptions
}

func (o replayOptions) check() error {
	if _, err := parseDelimiter(o.delimiter); err != nil {
		return err
	}
	if err := checkReadable(flagPath{"--in", o.in}, flagPath{"--truth", o.truth}); err != nil {
		return err
	}
	if o.policy != "both" && o.policy != "fixed" && o.policy != "dynamic" {
		return fmt.Errorf("--policy %q: use fixed, dynamic or both", o.policy)
	}
	for _, p := range o.policies() {
		opts := o.opts
		opts.Policy = p
		if err := opts.Check(); err != nil {
			return err
		}
	}
	return nil
}

// policies are the policies to replay: both for "both".
func (o replayOptions) policies() []string {
	if o.policy == "both" {
		return []string{"fixed", "dynamic"}
	}
	return []string{o.policy}
}

func qualityReplayCmd() *cobra.Command {
	o := &replayOptions{}
	cmd := &cobra.Command{
		Use:   "replay --in answers.csv --truth truth.csv --policy fixed|dynamic|both",
		Short: "replay an overlap policy over recorded answers: accuracy, labels per item, share reviewed",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return replayFile(cmd.OutOrStdout(), *o)
		},
	}
	cmd.Args = withCheck(func() error { return o.check() })
	fl := cmd.Flags()
	fl.StringVar(&o.in, "in", "", "answers CSV with header task,worker,label, in the order they arrived")
	fl.StringVar(&o.truth, "truth", "", "truth CSV with header task,label")
	fl.StringVar(&o.policy, "policy", "dynamic", "fixed (two answers, a reviewer on disagreement), dynamic (more answers until sure), or both")
	fl.Float64Var(&o.opts.ConfidenceTarget, "confidence-target", 0.9, "dynamic: the posterior the best label must reach")
	fl.IntVar(&o.opts.MaxAnnotations, "max-annotations", 5, "dynamic: answers at most before a reviewer")
	fl.Float64Var(&o.opts.MinGain, "min-gain", aggregate.DefaultMinGain, "dynamic: also stop once one or two more answers are expected to make the label right more often by less than this per answer (0: the target alone)")
	fl.IntVar(&o.opts.Annotators, "annotators", 2, "answers every item gets first")
	fl.Float64Var(&o.opts.ReviewerAccuracy, "reviewer-accuracy", 0, "simulate reviewers right this often; 0: the next recorded answer reviews")
	fl.Float64Var(&o.opts.ReviewCost, "review-cost", 0, "dynamic: the price of a review in annotations; above 0 (with --reviewer-accuracy) the policy sends an item to a reviewer early when a review is worth more per price than more answers")
	fl.Uint64Var(&o.opts.Seed, "seed", 1, "seed of the simulated reviewers and of the dynamic policy's split")
	fl.StringVar(&o.delimiter, "delimiter", ",", `field separator of the input files: one character, or "tab"`)
	required(cmd, "in", "truth")
	return cmd
}

func replayFile(w io.Writer, o replayOptions) error {
	format := formatOf(o.delimiter)
	truth, err := readCSV(o.truth, format.ReadTruth)
	if err != nil {
		return err
	}
	answers, err := readCSV(o.in, format.ReadAnswers)
	if err != nil {
		return err
	}
	if err := checkOverlap(w, o.in, o.truth, answers, truth); err != nil {
		return err
	}
	for _, p := range o.policies() {
		opts := o.opts
		opts.Policy = p
		r, err := aggregate.Replay(answers, truth, opts)
		if err != nil {
			return err
		}
		printReplay(w, opts, r)
	}
	return nil
}

func printReplay(w io.Writer, o aggregate.ReplayOptions, r aggregate.ReplayResult) {
	reviewer := "the next recorded answer"
	if o.ReviewerAccuracy > 0 {
		reviewer = fmt.Sprintf("simulated, right %.0f%% of the time", 100*o.ReviewerAccuracy)
	}
	rule := fmt.Sprintf("%d answers, a reviewer on disagreement", o.Annotators)
	if o.Policy == "dynamic" {
		until := fmt.Sprintf("%.2f sure", o.ConfidenceTarget)
		if o.MinGain > 0 {
			until += fmt.Sprintf(" or one more is worth less than %.3f", o.MinGain)
		}
		rule = fmt.Sprintf("%d answers, then more until %s, at most %d, then a reviewer", o.Annotators, until, o.MaxAnnotations)
		if o.ReviewCost > 0 {
			rule += fmt.Sprintf(", or sooner when a review (the price of %.1f answers) is worth more", o.ReviewCost)
		}
	}
	fmt.Fprintf(w, "%s (%s; reviewer: %s): %d items\n", o.Policy, rule, reviewer, r.Items)
	fmt.Fprintf(w, "  accuracy %.2f%% (majority vote over every recorded answer: %.2f%%)\n", 100*r.Accuracy, 100*r.MajorityAll)
	fmt.Fprintf(w, "  labels per item %.2f (%.2f annotations + %.2f reviews); %.1f%% of items went to a reviewer\n",
		r.LabelsPerItem, r.AnnotationsPerItem, r.LabelsPerItem-r.AnnotationsPerItem, 100*r.ReviewedShare)
	if r.Unreviewed > 0 {
		fmt.Fprintf(w, "  %d items needed a reviewer but had no answer left: they keep their best label\n", r.Unreviewed)
	}
}

// qualityBenchOptions are the flags of quality bench.
type qualityBenchOptions struct {
	in, truth, delimiter string
	perTask, seeds       int
}

func (o qualityBenchOptions) check() error {
	if _, err := parseDelimiter(o.delimiter); err != nil {
		return err
	}
	if (o.in == "") != (o.truth == "") {
		return errors.New("--in and --truth go together")
	}
	if err := checkReadable(flagPath{"--in", o.in}, flagPath{"--truth", o.truth}); err != nil {
		return err
	}
	if o.perTask < 0 || o.seeds < 1 {
		return fmt.Errorf("--per-task %d, --seeds %d: want a count of answers (0 for none) and at least one sampling", o.perTask, o.seeds)
	}
	return nil
}

func qualityBenchCmd() *cobra.Command {
	o := &qualityBenchOptions{}
	cmd := &cobra.Command{
		Use:   "bench [--in answers.csv --truth truth.csv]",
		Short: "accuracy and time of every method, with all answers and with a few per task",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return benchMethods(cmd.OutOrStdout(), *o)
		},
	}
	cmd.Args = withCheck(func() error { return o.check() })
	fl := cmd.Flags()
	fl.StringVar(&o.in, "in", "", "answers CSV (task,worker,label); default: the synthetic crowds")
	fl.StringVar(&o.truth, "truth", "", "truth CSV (task,label), with --in")
	fl.IntVar(&o.perTask, "per-task", 3, "also measure with this many answers per task drawn at random (0: only all answers)")
	fl.IntVar(&o.seeds, "seeds", 5, "samplings of --per-task answers, averaged")
	fl.StringVar(&o.delimiter, "delimiter", ",", `field separator of the input files: one character, or "tab"`)
	return cmd
}

func benchMethods(w io.Writer, o qualityBenchOptions) error {
	type data struct {
		name    string
		answers []aggregate.Answer
		truth   map[string]string
	}
	var sets []data
	if o.in != "" {
		format := formatOf(o.delimiter)
		truth, err := readCSV(o.truth, format.ReadTruth)
		if err != nil {
			return err
		}
		answers, err := readCSV(o.in, format.ReadAnswers)
		if err != nil {
			return err
		}
		if err := checkOverlap(w, o.in, o.truth, answers, truth); err != nil {
			return err
		}
		sets = append(sets, data{filepath.Base(filepath.Dir(o.in)) + "/" + filepath.Base(o.in), answers, truth})
	} else {
		for _, c := range aggregate.BenchCrowds {
			answers, truth, _ := aggregate.Synthesize(c.Spec)
			sets = append(sets, data{c.Name, answers, truth})
		}
	}
	var rows []aggregate.BenchRow
	for _, s := range sets {
		rows = append(rows, aggregate.Bench(s.name, s.answers, s.truth, aggregate.BenchMethods, 0, 1))
		if o.perTask > 0 {
			rows = append(rows, aggregate.Bench(s.name, s.answers, s.truth, aggregate.BenchMethods, o.perTask, o.seeds))
		}
	}
	_, err := io.WriteString(w, aggregate.BenchTable(aggregate.BenchMethods, rows))
	return err
}

func qualityCompareCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "compare",
		Short: "accuracy of mv, ds, policy, onecoin and best on synthetic crowds",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			specs := []aggregate.CrowdSpec{
				{Tasks: 2000, Workers: 50, Classes: 2, SkillMin: 0.6, SkillMax: 0.9, Seed: 1},
				{Tasks: 2000, Workers: 200, Classes: 3, SkillMin: 0.5, SkillMax: 0.95, SpammerShare: 0.3, Seed: 2},
				{Tasks: 2000, Workers: 50, Classes: 4, SkillMin: 0.6, SkillMax: 0.9, ClassImbalance: 0.5, Seed: 3},
				{Tasks: 2000, Workers: 50, Classes: 4, SkillMin: 0.65, SkillMax: 0.95, ClassSkillDrop: 0.35, FirstClassErrors: 0.6, Seed: 4},
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
	o := &synthOptions{}
	cmd := &cobra.Command{
		Use:   "synth",
		Short: "a synthetic crowd as answers.csv and truth.csv",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return synthesize(cmd.OutOrStdout(), *o)
		},
	}
	cmd.Args = withCheck(func() error {
		if o.out == o.truth {
			return fmt.Errorf("--out and --truth name the same file %s", o.out)
		}
		return checkWritable(nil, flagPath{"--out", o.out}, flagPath{"--truth", o.truth})
	})
	fl := cmd.Flags()
	fl.IntVar(&o.spec.Tasks, "tasks", 20000, "tasks")
	fl.IntVar(&o.spec.Workers, "workers", 100, "workers")
	fl.IntVar(&o.spec.AnswersPerTask, "answers", 5, "answers per task")
	fl.IntVar(&o.spec.Classes, "classes", 4, "classes")
	fl.Float64Var(&o.spec.SkillMin, "skill-min", 0.55, "lowest accuracy of a worker who is not a spammer")
	fl.Float64Var(&o.spec.SkillMax, "skill-max", 0.95, "highest accuracy")
	fl.Float64Var(&o.spec.SpammerShare, "spammers", 0, "share of workers answering at random")
	fl.Float64Var(&o.spec.ClassImbalance, "imbalance", 0, "each class this much rarer than the one before (0: balanced)")
	fl.Float64Var(&o.spec.ClassSkillDrop, "class-skill-drop", 0, "accuracy this much lower on the last class than on the first")
	fl.Float64Var(&o.spec.FirstClassErrors, "first-class-errors", 0, "share of mistakes that go to the first class")
	fl.Uint64Var(&o.spec.Seed, "seed", 1, "seed: the same flags give the same crowd")
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
	return writeTo(file, nil, func(out io.Writer) error {
		_, err := out.Write(b.Bytes())
		return err
	})
}

func sortedTasks(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
