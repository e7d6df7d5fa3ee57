package aggregate

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestReadAnswersReorderedAndExtraColumns(t *testing.T) {
	in := "\ufeffLabel, score ,Worker,task\n" +
		"cat,0.3,w1,t1\n" +
		"\n" + // blank line: skipped
		" dog ,,w2, t1\n" +
		",,,\n" + // spreadsheet filler row: skipped
		"\"cat, tabby\",1,w1,t2\n"
	got, err := ReadAnswers("a.csv", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Answer{
		{Task: "t1", Worker: "w1", Label: "cat"},
		{Task: "t1", Worker: "w2", Label: "dog"},
		{Task: "t2", Worker: "w1", Label: "cat, tabby"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestReadAnswersHeaderOnly(t *testing.T) {
	got, err := ReadAnswers("a.csv", strings.NewReader("task,worker,label\n"))
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v; want no answers and no error", got, err)
	}
}

func TestReadAnswersErrors(t *testing.T) {
	cases := []struct {
		name, in   string
		line, col  int
		msgContain string
	}{
		{"missing column", "task,worker,score\nt1,w1,1\n", 1, 1, `no "label" column`},
		{"duplicate column", "task,worker,label,Task\n", 1, 4, `"task" column twice`},
		{"empty file", "", 1, 1, "empty file"},
		{"empty task", "task,worker,label\nt1,w1,a\n ,w2,b\n", 3, 1, "empty task"},
		{"empty worker", "label,task,worker\na,t1,w1\nb,t2,\n", 3, 3, "empty worker"},
		{"empty label", "task,worker,label\nt1,w1,a\n\nt2,w2,\"\"\n", 4, 3, "empty label"},
		{"too few fields", "task,worker,label\nt1,w1,a\nt2,w2\n", 3, 3, "too few fields"},
		{"too few fields for the task", "worker,label,task\nw1,a,t1\nw1,a\n", 3, 3, `"task" column is column 3`},
		{"bad quoting", "task,worker,label\nt1,w1,\"a\"b\n", 2, 9, "quote"},
		{"duplicate answer", "task,worker,label\nt1,w1,a\nt1,w2,b\nt2,w1,a\nt1,w1,c\n", 5, 2, "lines 2 and 5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadAnswers("data/answers.csv", strings.NewReader(c.in))
			if err == nil {
				t.Fatalf("no error; got %v", got)
			}
			if got != nil {
				t.Fatalf("answers returned with the error: %v", got)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.File != "data/answers.csv" || pe.Line != c.line || pe.Column != c.col {
				t.Fatalf("position %s:%d:%d, want data/answers.csv:%d:%d (%v)", pe.File, pe.Line, pe.Column, c.line, c.col, err)
			}
			prefix := fmt.Sprintf("data/answers.csv:%d:%d: ", c.line, c.col)
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), c.msgContain) {
				t.Fatalf("error %q, want prefix %q and %q", err, prefix, c.msgContain)
			}
		})
	}
}

func TestReadTruth(t *testing.T) {
	truth, err := ReadTruth("truth.csv", strings.NewReader("note,label,task\nx,cat,t1\n\n,dog,t2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"t1": "cat", "t2": "dog"}; !reflect.DeepEqual(truth, want) {
		t.Fatalf("got %v, want %v", truth, want)
	}

	cases := []struct {
		name, in  string
		line, col int
		contain   string
	}{
		{"missing column", "task,answer\nt1,a\n", 1, 1, `no "label" column`},
		{"empty label", "task,label\nt1,\n", 2, 2, "empty label"},
		{"empty task", "label,task\na, \n", 2, 2, "empty task"},
		{"too few fields", "label,extra,task\na,b\n", 2, 3, "too few fields"},
		{"duplicate task", "task,label\nt1,a\nt2,b\nt1,a\n", 4, 1, "lines 2 and 4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadTruth("truth.csv", strings.NewReader(c.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if got != nil {
				t.Fatalf("truth returned with the error: %v", got)
			}
			if pe.File != "truth.csv" || pe.Line != c.line || pe.Column != c.col || !strings.Contains(err.Error(), c.contain) {
				t.Fatalf("got %v, want truth.csv:%d:%d …%s", err, c.line, c.col, c.contain)
			}
		})
	}
}

// Fields are compared in Unicode normal form C and trimmed; case is kept. A tab-separated file
// reads with Format{Delimiter: '\t'}.
func TestReadNormalisesAndReadsTabs(t *testing.T) {
	nfc, nfd := "caf\u00e9", "cafe\u0301"
	got, err := Format{Delimiter: '\t'}.ReadAnswers("a.tsv", strings.NewReader("task\tworker\tlabel\n t1 \tw1\t"+nfd+"\nt1\tw2\tCafé\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Answer{{Task: "t1", Worker: "w1", Label: nfc}, {Task: "t1", Worker: "w2", Label: "Café"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	truth, err := Format{Delimiter: '\t'}.ReadTruth("t.tsv", strings.NewReader("task\tlabel\nt1\t"+nfd+"\n"))
	if err != nil || truth["t1"] != nfc {
		t.Fatalf("truth %q, %v", truth, err)
	}
	// A worker answering twice in two normal forms of the same task id is still caught.
	_, err = ReadAnswers("a.csv", strings.NewReader("task,worker,label\n"+nfc+",w1,x\n"+nfd+",w1,y\n"))
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("duplicate across normal forms: %v", err)
	}
	for _, d := range []rune{'"', '\n', 0} {
		if d == 0 {
			continue
		}
		if err := (Format{Delimiter: d}).Check(); err == nil {
			t.Errorf("delimiter %q accepted", d)
		}
	}
}
