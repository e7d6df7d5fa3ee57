package aggregate

import (
	"bytes"
	"math"
	"reflect"
	"testing"
)

func answersOf(rows ...[3]string) []Answer {
	out := make([]Answer, len(rows))
	for i, r := range rows {
		out[i] = Answer{Task: r[0], Worker: r[1], Label: r[2]}
	}
	return out
}

// mvSet is interleaved across tasks so that "earliest answer for the task" differs from both the
// label's first appearance in the file and its index.
var mvSet = answersOf(
	[3]string{"t1", "w1", "a"},
	[3]string{"t3", "w3", "c"},
	[3]string{"t1", "w2", "b"},
	[3]string{"t2", "w1", "b"},
	[3]string{"t1", "w3", "a"},
	[3]string{"t2", "w2", "a"},
	[3]string{"t3", "w1", "a"},
	[3]string{"t3", "w2", "a"},
	[3]string{"t3", "w4", "c"},
	[3]string{"t4", "w4", "c"},
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestMajorityVoteHandWorked(t *testing.T) {
	r := MajorityVote(mvSet)
	// t1: a,b,a → a. t2: b,a tie → b (answered first for t2, although a comes first in the file).
	// t3: c,a,a,c tie → c (answered first for t3). t4: c.
	wantLabels := map[string]string{"t1": "a", "t2": "b", "t3": "c", "t4": "c"}
	if !reflect.DeepEqual(r.Labels, wantLabels) {
		t.Fatalf("labels %v, want %v", r.Labels, wantLabels)
	}
	// K = 3 observed labels: (votes+1)/(answers+3).
	wantConf := map[string]float64{"t1": 3.0 / 6, "t2": 2.0 / 5, "t3": 3.0 / 7, "t4": 2.0 / 4}
	for task, want := range wantConf {
		if !near(r.Confidence[task], want) {
			t.Errorf("confidence[%s] = %v, want %v", task, r.Confidence[task], want)
		}
	}
	// (½ + agree)/(1 + total).
	wantSkill := map[string]float64{
		"w1": 2.5 / 4, // t1 ✓, t2 ✓, t3 ✗
		"w2": 0.5 / 4, // t1 ✗, t2 ✗, t3 ✗
		"w3": 2.5 / 3, // t3 ✓, t1 ✓
		"w4": 2.5 / 3, // t3 ✓, t4 ✓
	}
	for w, want := range wantSkill {
		if !near(r.Skill[w], want) {
			t.Errorf("skill[%s] = %v, want %v", w, r.Skill[w], want)
		}
	}
	if r.Method != "mv" || r.Iterations != 0 {
		t.Errorf("method %q iterations %d", r.Method, r.Iterations)
	}

	// Swapping t2's two answers swaps its winner; the other tasks keep theirs.
	swapped := append([]Answer(nil), mvSet...)
	swapped[3], swapped[5] = swapped[5], swapped[3]
	r2 := MajorityVote(swapped)
	if r2.Labels["t2"] != "a" || r2.Labels["t3"] != "c" || r2.Labels["t1"] != "a" {
		t.Fatalf("after swapping t2's answers: %v", r2.Labels)
	}
}

func TestMajorityVoteTieIsReproducible(t *testing.T) {
	// Many labels tied on every task: the first answered wins, run after run.
	var answers []Answer
	for _, task := range []string{"x", "y", "z"} {
		for i, l := range []string{"q", "p", "s", "r"} {
			answers = append(answers, Answer{Task: task, Worker: string(rune('A' + i)), Label: l})
		}
	}
	for range 20 {
		r := MajorityVote(answers)
		for _, task := range []string{"x", "y", "z"} {
			if r.Labels[task] != "q" {
				t.Fatalf("task %s: %s, want q", task, r.Labels[task])
			}
		}
	}
}

var policySet = answersOf(
	// p1: agreement of two.
	[3]string{"p1", "w1", "x"}, [3]string{"p1", "w2", "x"},
	// p2: disagreement, third sides with the second.
	[3]string{"p2", "w1", "x"}, [3]string{"p2", "w2", "y"}, [3]string{"p2", "w3", "y"},
	// p3: disagreement, third names a third label.
	[3]string{"p3", "w1", "x"}, [3]string{"p3", "w2", "y"}, [3]string{"p3", "w3", "z"},
	// p4: agreement; the later two answers are ignored though they agree with each other.
	[3]string{"p4", "w1", "x"}, [3]string{"p4", "w2", "x"}, [3]string{"p4", "w3", "y"}, [3]string{"p4", "w4", "y"},
	// p5: disagreement settled by the third; the fourth is ignored.
	[3]string{"p5", "w2", "x"}, [3]string{"p5", "w1", "y"}, [3]string{"p5", "w3", "x"}, [3]string{"p5", "w4", "y"},
	// p6: a single answer.
	[3]string{"p6", "w3", "y"},
	// p7: disagreement still waiting for a third answer.
	[3]string{"p7", "w1", "x"}, [3]string{"p7", "w4", "y"},
)

func TestPolicyHandWorked(t *testing.T) {
	r := Policy(policySet)
	want := map[string]string{"p1": "x", "p2": "y", "p3": "z", "p4": "x", "p5": "x", "p6": "y"}
	for task, l := range want {
		if r.Labels[task] != l {
			t.Errorf("%s: %s, want %s", task, r.Labels[task], l)
		}
	}
	if l := r.Labels["p7"]; l != "x" && l != "y" {
		t.Errorf("p7: %s, want one of the two answers", l)
	}
	if r.Method != "policy" {
		t.Errorf("method %q", r.Method)
	}
	// Skill against the policy's labels over all answers: w2 is right on p1, p2, p4, p5 and wrong
	// on p3; w3 is right on p2, p3, p5, p6 and wrong on p4 (an ignored answer still counts).
	if !near(r.Skill["w2"], 4.5/6) || !near(r.Skill["w3"], 4.5/6) {
		t.Errorf("skills %v", r.Skill)
	}

	// Confidence is the Dawid–Skene posterior given only the answers used, computed here directly
	// from the fitted priors and confusion matrices: prior[j]·Π pi[w][j][l], normalised.
	d := newDataset(policySet)
	m := d.dawidSkene(DSOptions{})
	ix := func(names []string, s string) int {
		for i, n := range names {
			if n == s {
				return i
			}
		}
		t.Fatalf("%q not indexed", s)
		return -1
	}
	used := map[string]int{"p1": 2, "p2": 3, "p3": 3, "p4": 2, "p5": 3, "p6": 1, "p7": 2}
	for task, n := range used {
		var rows []Answer
		for _, a := range policySet {
			if a.Task == task && len(rows) < n {
				rows = append(rows, a)
			}
		}
		joint := make([]float64, m.k)
		total := 0.0
		for j := range joint {
			joint[j] = m.prior[j]
			for _, a := range rows {
				joint[j] *= m.pi[ix(d.workers, a.Worker)*m.k*m.k+j*m.k+ix(d.labels, a.Label)]
			}
			total += joint[j]
		}
		want := joint[ix(d.labels, r.Labels[task])] / total
		if math.Abs(r.Confidence[task]-want) > 1e-9 {
			t.Errorf("%s: confidence %v, want %v", task, r.Confidence[task], want)
		}
	}
	// p7 waits for a third answer: the two-answer posterior picks between its two labels.
	p7 := map[string]float64{}
	for _, l := range []string{"x", "y"} {
		j := ix(d.labels, l)
		p7[l] = m.prior[j] * m.pi[ix(d.workers, "w1")*m.k*m.k+j*m.k+ix(d.labels, "x")] * m.pi[ix(d.workers, "w4")*m.k*m.k+j*m.k+ix(d.labels, "y")]
	}
	if (p7["y"] > p7["x"]) != (r.Labels["p7"] == "y") {
		t.Errorf("p7: %s, posterior weights %v", r.Labels["p7"], p7)
	}
	for task, c := range r.Confidence {
		if c < 0 || c > 1 || math.IsNaN(c) {
			t.Errorf("%s: confidence %v", task, c)
		}
	}
}

func TestPolicyIgnoresLaterAnswers(t *testing.T) {
	// Answers after those the policy uses change no label, even when they all contradict it.
	more := append(append([]Answer(nil), policySet...),
		Answer{Task: "p1", Worker: "w3", Label: "y"}, Answer{Task: "p1", Worker: "w4", Label: "y"}, Answer{Task: "p1", Worker: "w5", Label: "y"},
		Answer{Task: "p2", Worker: "w4", Label: "x"}, Answer{Task: "p2", Worker: "w5", Label: "x"},
		Answer{Task: "p5", Worker: "w5", Label: "y"})
	a, b := Policy(policySet), Policy(more)
	for task, l := range a.Labels {
		if b.Labels[task] != l && task != "p7" {
			t.Errorf("%s: %s became %s", task, l, b.Labels[task])
		}
	}
	// Majority vote, by contrast, is swayed by them.
	if mv := MajorityVote(more); mv.Labels["p1"] != "y" || mv.Labels["p2"] != "x" {
		t.Fatalf("majority vote %v", mv.Labels)
	}
}

func TestAccuracy(t *testing.T) {
	labels := map[string]string{"a": "1", "b": "2", "c": "3", "extra": "9"}
	truth := map[string]string{"a": "1", "b": "0", "c": "3", "missing": "1"}
	acc, n := Accuracy(labels, truth)
	if n != 3 || !near(acc, 2.0/3) {
		t.Fatalf("Accuracy = %v over %d, want 2/3 over 3", acc, n)
	}
	if acc, n := Accuracy(labels, nil); acc != 0 || n != 0 {
		t.Fatalf("no common task: %v, %d", acc, n)
	}
}

func TestWriteLabelsAndSkills(t *testing.T) {
	r := MajorityVote(mvSet)
	var b bytes.Buffer
	if err := WriteLabels(&b, r); err != nil {
		t.Fatal(err)
	}
	want := "task,label,confidence\nt1,a,0.500000\nt2,b,0.400000\nt3,c,0.428571\nt4,c,0.500000\n"
	if b.String() != want {
		t.Fatalf("labels:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteSkills(&b, r); err != nil {
		t.Fatal(err)
	}
	want = "worker,skill\nw1,0.625000\nw2,0.125000\nw3,0.833333\nw4,0.833333\n"
	if b.String() != want {
		t.Fatalf("skills:\n%s\nwant:\n%s", b.String(), want)
	}
	// Names that need quoting are quoted.
	b.Reset()
	err := WriteLabels(&b, Result{Labels: map[string]string{"t,1": `say "hi"`}, Confidence: map[string]float64{"t,1": 1}})
	if err != nil || b.String() != "task,label,confidence\n\"t,1\",\"say \"\"hi\"\"\",1.000000\n" {
		t.Fatalf("quoted: %q, %v", b.String(), err)
	}
}

func TestEmptyAndSingleLabelInput(t *testing.T) {
	for _, r := range []Result{MajorityVote(nil), DawidSkene(nil, DSOptions{}), Policy(nil), Best(nil)} {
		if r.Labels == nil || len(r.Labels) != 0 || len(r.Skill) != 0 {
			t.Fatalf("%s on nothing: %+v", r.Method, r)
		}
	}
	one := answersOf([3]string{"t1", "w1", "a"}, [3]string{"t1", "w2", "a"}, [3]string{"t2", "w1", "a"})
	for _, r := range []Result{MajorityVote(one), DawidSkene(one, DSOptions{}), Policy(one), Best(one)} {
		if r.Labels["t1"] != "a" || r.Labels["t2"] != "a" {
			t.Fatalf("%s: %v", r.Method, r.Labels)
		}
		for task, c := range r.Confidence {
			if math.IsNaN(c) || c < 0 || c > 1 {
				t.Fatalf("%s: confidence[%s] = %v", r.Method, task, c)
			}
		}
	}
}
