package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/aggregate"
	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/formats"
)

// qualityCmd re-aggregates crowd answers offline with the same code the platform uses.
func qualityCmd(ctx context.Context, cfg config.Config, log zerolog.Logger, args []string) error {
	usage := "usage: labelflow quality aggregate --in answers.csv [--truth truth.csv] --method mv|ds|policy|best [--out labels.csv] [--skills skills.csv]\n       labelflow quality compare\n       labelflow quality synth [--tasks 20000] [--workers 100] [--answers 5] [--out answers.csv] [--truth truth.csv]"
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "compare":
		specs := []aggregate.CrowdSpec{
			{Tasks: 2000, Workers: 50, Classes: 2, SkillMin: 0.6, SkillMax: 0.9, Seed: 1},
			{Tasks: 2000, Workers: 200, Classes: 3, SkillMin: 0.5, SkillMax: 0.95, SpammerShare: 0.3, Seed: 2},
			{Tasks: 2000, Workers: 50, Classes: 4, SkillMin: 0.6, SkillMax: 0.9, ClassImbalance: 0.5, Seed: 3},
		}
		fmt.Print(aggregate.Compare(specs, []int{3, 5}))
		return nil
	case "synth":
		fs := newFlags("quality synth")
		spec := aggregate.CrowdSpec{Classes: 4, SkillMin: 0.55, SkillMax: 0.95, Seed: 1}
		fs.IntVar(&spec.Tasks, "tasks", 20000, "tasks")
		fs.IntVar(&spec.Workers, "workers", 100, "workers")
		fs.IntVar(&spec.AnswersPerTask, "answers", 5, "answers per task")
		fs.Float64Var(&spec.SpammerShare, "spammers", 0, "share of workers answering at random")
		out := fs.String("out", "answers.csv", "answers CSV (task,worker,label)")
		truthOut := fs.String("truth", "truth.csv", "truth CSV (task,label)")
		if err := fs.Parse(args[1:]); err != nil {
			return errUsage
		}
		answers, truth, _ := aggregate.Synthesize(spec)
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write([]string{"task", "worker", "label"})
		for _, a := range answers {
			w.Write([]string{a.Task, a.Worker, a.Label})
		}
		w.Flush()
		if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
			return err
		}
		b.Reset()
		w = csv.NewWriter(&b)
		w.Write([]string{"task", "label"})
		for _, task := range sortedTasks(truth) {
			w.Write([]string{task, truth[task]})
		}
		w.Flush()
		if err := os.WriteFile(*truthOut, b.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Printf("%d answers in %s, %d truths in %s\n", len(answers), *out, len(truth), *truthOut)
		return nil
	case "aggregate":
	default:
		fmt.Fprintln(os.Stderr, usage)
		return errUsage
	}
	fs := newFlags("quality aggregate")
	in := fs.String("in", "", "answers CSV with header task,worker,label")
	truthFile := fs.String("truth", "", "truth CSV with header task,label")
	method := fs.String("method", "best", "mv, ds, policy or best")
	out := fs.String("out", "", "labels CSV to write (task,label,confidence); default stdout")
	skills := fs.String("skills", "", "worker skills CSV to write (worker,skill)")
	if err := fs.Parse(args[1:]); err != nil || *in == "" {
		fmt.Fprintln(os.Stderr, usage)
		return errUsage
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	answers, err := aggregate.ReadAnswers(*in, bufio.NewReader(f))
	f.Close()
	if err != nil {
		return err
	}
	start := time.Now()
	var res aggregate.Result
	switch *method {
	case "mv":
		res = aggregate.MajorityVote(answers)
	case "ds":
		res = aggregate.DawidSkene(answers, aggregate.DSOptions{})
	case "policy":
		res = aggregate.Policy(answers)
	case "best":
		res = aggregate.Best(answers)
	default:
		return fmt.Errorf("--method %q: use mv, ds, policy or best", *method)
	}
	took := time.Since(start)
	w := os.Stdout
	if *out != "" {
		if w, err = os.Create(*out); err != nil {
			return err
		}
		defer w.Close()
	}
	if err := aggregate.WriteLabels(w, res); err != nil {
		return err
	}
	if *skills != "" {
		sf, err := os.Create(*skills)
		if err != nil {
			return err
		}
		defer sf.Close()
		if err := aggregate.WriteSkills(sf, res); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "%s: %d answers, %d tasks, %d workers in %s\n", *method, len(answers), len(res.Labels), len(res.Skill), took.Round(time.Millisecond))
	if *truthFile != "" {
		tf, err := os.Open(*truthFile)
		if err != nil {
			return err
		}
		truth, err := aggregate.ReadTruth(*truthFile, bufio.NewReader(tf))
		tf.Close()
		if err != nil {
			return err
		}
		acc, n := aggregate.Accuracy(res.Labels, truth)
		fmt.Fprintf(os.Stderr, "accuracy %.2f%% on %d tasks with truth\n", 100*acc, n)
	}
	return nil
}

// annotationsCSV exports a project's raw answers in the common crowd format (task,worker,label),
// reviewers' answers included, from the stored results.
func annotationsCSV(ctx context.Context, a *app.App, project string) error {
	w := csv.NewWriter(os.Stdout)
	if err := w.Write([]string{"task", "worker", "label"}); err != nil {
		return err
	}
	err := a.Store.List(ctx, activities.ResultsPrefix(project), func(key string, _ int64) error {
		data, err := a.Store.Get(ctx, key)
		if err != nil {
			return err
		}
		lines, err := formats.ParseLines(data)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		for _, l := range lines {
			workers := append([]string(nil), l.Meta.Annotators...)
			if l.Meta.Reviewer != "" {
				workers = append(workers, l.Meta.Reviewer)
			}
			var answers []json.RawMessage
			answers = append(answers, l.Meta.Answers...)
			if l.Meta.Reviewer != "" {
				answers = append(answers, l.Label)
			}
			for i, wk := range workers {
				if i >= len(answers) {
					break
				}
				label := string(bytes.TrimSpace(answers[i]))
				var s string
				if json.Unmarshal(answers[i], &s) == nil {
					label = s
				}
				if err := w.Write([]string{l.ID, wk, label}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}

func sortedTasks(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
