package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/aggregate"
)

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// synthFiles writes a synthetic crowd's answers and truth as CSV.
func synthFiles(t *testing.T, dir string, spec aggregate.CrowdSpec) (answers, truth string) {
	t.Helper()
	as, tr, _ := aggregate.Synthesize(spec)
	var a, b strings.Builder
	a.WriteString("task,worker,label\n")
	for _, x := range as {
		fmt.Fprintf(&a, "%s,%s,%s\n", x.Task, x.Worker, x.Label)
	}
	b.WriteString("task,label\n")
	for _, task := range sortedTasks(tr) {
		fmt.Fprintf(&b, "%s,%s\n", task, tr[task])
	}
	return writeFile(t, dir, "answers.csv", a.String()), writeFile(t, dir, "truth.csv", b.String())
}

func noFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		t.Errorf("%s was written", path)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// Options are checked before any answer is read, as usage errors, and nothing is written.
func TestQualityAggregateChecksOptionsFirst(t *testing.T) {
	dir := t.TempDir()
	answers, truth := synthFiles(t, dir, aggregate.CrowdSpec{Tasks: 50, Workers: 5, Classes: 2, AnswersPerTask: 3, SkillMin: 0.7, SkillMax: 0.9, Seed: 1})
	out := filepath.Join(dir, "out.csv")
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"--method", "bogus"}, `--method "bogus"`},
		{[]string{"--truth", filepath.Join(dir, "missing.csv")}, "--truth"},
		{[]string{"--out", filepath.Join(dir, "no", "such", "dir.csv")}, "no directory"},
		{[]string{"--out", answers}, "would overwrite the input"},
		{[]string{"--delimiter", "ab"}, "--delimiter"},
		{[]string{"--out", out, "--skills", out}, "same file"},
	} {
		args := append([]string{"quality", "aggregate", "--in", answers, "--out", out}, tc.args...)
		code, _, errOut := run(t, args...)
		if code != exitUsage || !strings.Contains(errOut, tc.says) {
			t.Errorf("%v: exit %d, stderr %q; want %d saying %q", tc.args, code, errOut, exitUsage, tc.says)
		}
	}
	noFile(t, out)
	_ = truth
}

// A failure after the options leaves no output file behind: the truth is read before anything
// is written, and files are written whole or not at all.
func TestQualityAggregateLeavesNothingOnError(t *testing.T) {
	dir := t.TempDir()
	answers, _ := synthFiles(t, dir, aggregate.CrowdSpec{Tasks: 50, Workers: 5, Classes: 2, AnswersPerTask: 3, SkillMin: 0.7, SkillMax: 0.9, Seed: 1})
	out := filepath.Join(dir, "out.csv")
	badTruth := writeFile(t, dir, "bad.csv", "task,label\nt01,c0\nt01,c1\n")
	code, _, errOut := run(t, "quality", "aggregate", "--in", answers, "--truth", badTruth, "--out", out)
	if code != exitFailed || !strings.Contains(errOut, "listed twice") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	noFile(t, out)

	otherTasks := writeFile(t, dir, "other.csv", "task,label\nx1,c0\nx2,c1\n")
	code, _, errOut = run(t, "quality", "aggregate", "--in", answers, "--truth", otherTasks, "--out", out)
	if code != exitFailed || !strings.Contains(errOut, "share no task") {
		t.Fatalf("truth sharing no task: exit %d: %s", code, errOut)
	}
	noFile(t, out)
}

func TestQualityAggregateWarnsOnFewSharedTasks(t *testing.T) {
	dir := t.TempDir()
	answers, _ := synthFiles(t, dir, aggregate.CrowdSpec{Tasks: 50, Workers: 5, Classes: 2, AnswersPerTask: 3, SkillMin: 0.7, SkillMax: 0.9, Seed: 1})
	few := writeFile(t, dir, "few.csv", "task,label\nt01,c0\nt02,c1\nx9,c1\n")
	out := filepath.Join(dir, "out.csv")
	code, _, errOut := run(t, "quality", "aggregate", "--in", answers, "--truth", few, "--out", out)
	if code != 0 || !strings.Contains(errOut, "share only 2 tasks") || !strings.Contains(errOut, "on 2 tasks with truth") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if data, err := os.ReadFile(out); err != nil || !strings.HasPrefix(string(data), "task,label,confidence\n") {
		t.Fatalf("out.csv: %q, %v", data, err)
	}
}

// Tab-separated input, labels compared in Unicode normal form C: "café" typed two ways is one
// label; case is kept.
func TestQualityAggregateReadsTabsAndNormalisesLabels(t *testing.T) {
	dir := t.TempDir()
	nfc, nfd := "caf\u00e9", "cafe\u0301"
	answers := writeFile(t, dir, "answers.tsv", "task\tworker\tlabel\n"+
		"t1\tw1\t"+nfc+"\nt1\tw2\t"+nfd+"\nt1\tw3\tCafé\n"+
		"t2\tw1\tthé\nt2\tw2\tthé\n")
	out := filepath.Join(dir, "out.csv")
	code, _, errOut := run(t, "quality", "aggregate", "--in", answers, "--method", "mv", "--delimiter", "tab", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, _ := os.ReadFile(out)
	// Three labels (café, Café, thé): t1 has 2 of 3 votes, (2+1)/(3+3); as four labels it would
	// be a three-way tie, and with case folded t2 would be (2+1)/(2+2).
	if !strings.Contains(string(data), "t1,"+nfc+",0.500000") || !strings.Contains(string(data), "t2,thé,0.600000") {
		t.Fatalf("labels not compared in NFC with case kept:\n%s", data)
	}
}

// A method whose confusion matrices would not fit is refused with the figures; majority vote
// still runs.
func TestQualityAggregateRefusesHugeLabelSets(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("task,worker,label\n")
	for w := range 200 {
		for x := range 2 {
			fmt.Fprintf(&b, "t%d,w%d,l%d\n", w*2+x, w, (w*2+x)%300)
		}
	}
	answers := writeFile(t, dir, "answers.csv", b.String())
	code, _, errOut := run(t, "quality", "aggregate", "--in", answers, "--method", "best", "--out", filepath.Join(dir, "out.csv"))
	if code != exitFailed || !strings.Contains(errOut, "300×300 confusion matrix for each of 200 workers") || !strings.Contains(errOut, "--method mv or onecoin") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, _, errOut := run(t, "quality", "aggregate", "--in", answers, "--method", "mv", "--out", filepath.Join(dir, "mv.csv")); code != 0 {
		t.Fatalf("mv: exit %d: %s", code, errOut)
	}
}

func TestQualityAggregateReportsCalibrationAndConvergence(t *testing.T) {
	dir := t.TempDir()
	answers, truth := synthFiles(t, dir, aggregate.CrowdSpec{Tasks: 400, Workers: 20, Classes: 3, AnswersPerTask: 3, SkillMin: 0.6, SkillMax: 0.9, Seed: 3})
	code, _, errOut := run(t, "quality", "aggregate", "--in", answers, "--truth", truth, "--out", filepath.Join(dir, "out.csv"))
	if code != 0 || !strings.Contains(errOut, "calibration (confidence → share right):") || !strings.Contains(errOut, "0.9–1.0:") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// One iteration is never enough for Dawid–Skene on this crowd: the cap is reported.
	res := aggregate.DawidSkene(mustRead(t, answers), aggregate.DSOptions{MaxIter: 1})
	if res.Converged {
		t.Fatal("one iteration converged")
	}
}

func mustRead(t *testing.T, path string) []aggregate.Answer {
	t.Helper()
	as, err := readCSV(path, aggregate.ReadAnswers)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func TestQualityReplay(t *testing.T) {
	dir := t.TempDir()
	answers, truth := synthFiles(t, dir, aggregate.CrowdSpec{Tasks: 400, Workers: 20, Classes: 3, AnswersPerTask: 6, SkillMin: 0.6, SkillMax: 0.9, Seed: 4})
	code, out, errOut := run(t, "quality", "replay", "--in", answers, "--truth", truth, "--policy", "both")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"fixed (2 answers, a reviewer on disagreement; reviewer: the next recorded answer): 400 items",
		"dynamic (2 answers, then more until 0.90 sure or one more is worth less than 0.020, at most 5, then a reviewer", "labels per item", "went to a reviewer", "majority vote over every recorded answer"} {
		if !strings.Contains(out, want) {
			t.Errorf("replay output lacks %q:\n%s", want, out)
		}
	}
	code, _, errOut = run(t, "quality", "replay", "--in", answers, "--truth", truth, "--policy", "dynamic", "--max-annotations", "1")
	if code != exitUsage || !strings.Contains(errOut, "--max-annotations 1") {
		t.Errorf("max below the first round: exit %d: %s", code, errOut)
	}
	code, _, errOut = run(t, "quality", "replay", "--in", answers, "--truth", truth, "--min-gain", "-0.1")
	if code != exitUsage || !strings.Contains(errOut, "--min-gain -0.1") {
		t.Errorf("negative gain: exit %d: %s", code, errOut)
	}
}

func TestQualityBenchOnAFile(t *testing.T) {
	dir := t.TempDir()
	answers, truth := synthFiles(t, dir, aggregate.CrowdSpec{Tasks: 200, Workers: 20, Classes: 3, AnswersPerTask: 5, SkillMin: 0.6, SkillMax: 0.9, Seed: 5})
	code, out, errOut := run(t, "quality", "bench", "--in", answers, "--truth", truth, "--seeds", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "| data | answers/task | mv | ds | onecoin | best |") ||
		!strings.Contains(lines[2], "| all |") || !strings.Contains(lines[3], "| 3 |") {
		t.Fatalf("bench table:\n%s", out)
	}
}
