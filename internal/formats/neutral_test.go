package formats

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// OWASP's CSV Injection page: a cell that begins with = + - @, tab or carriage return gets a
// leading single quote; every other cell stays as it is.
func TestNeutraliseFollowsOWASP(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1":                  "'=1+1",
		"+44 20 7946 0000":      "'+44 20 7946 0000",
		"-2":                    "'-2",
		"@SUM(A1)":              "'@SUM(A1)",
		"\t=cmd":                "'\t=cmd",
		"\r=cmd":                "'\r=cmd",
		"\x00x":                 "'\x00x",
		"＝1":                    "'＝1",
		"":                      "",
		"cat":                   "cat",
		"a=1":                   "a=1",
		"'already quoted":       "'already quoted",
		"s3://bucket/x.jpg":     "s3://bucket/x.jpg",
		"a-7q3k0d2mvx9p4r1s":    "a-7q3k0d2mvx9p4r1s",
		" =leading space stays": " =leading space stays",
	} {
		if got := Neutralise(in); got != want {
			t.Errorf("Neutralise(%q) = %q, want %q", in, got, want)
		}
	}
	ls := parse(t, delivered(t, `{"id":"-1","source":"=HYPERLINK(\"http://x.test\")"}`, `"cat"`, meta(TypeSingleLabel)))
	out, err := CSV(ls)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "'-1,\"'=HYPERLINK(\"\"http://x.test\"\")\",cat") {
		t.Fatalf("CSV not neutralised:\n%s", out)
	}
}

func TestRenameAnnotatorsKeepsTheRestOfTheLine(t *testing.T) {
	m := meta(TypeSingleLabel)
	m.Reviewer = "boss"
	data := []byte(delivered(t, `{"id":"1","source":"w1 wrote this"}`, `"cat"`, m) + "\n\n")
	got, err := RenameAnnotators(data, func(p string) string { return "p-" + p })
	if err != nil {
		t.Fatal(err)
	}
	ls := parse(t, strings.TrimSpace(string(got)))
	eq(t, "annotators", ls[0].Meta.Annotators, []string{"p-w1", "p-w2"})
	eq(t, "reviewer", ls[0].Meta.Reviewer, "p-boss")
	eq(t, "source", ls[0].Source, "w1 wrote this")
	if bytes.Count(got, []byte{'\n'}) != 1 {
		t.Fatalf("lines: %q", got)
	}
}

// A dataset written chunk by chunk numbers images and annotations across chunks, and a line it
// cannot hold is a ChunkError naming the chunk and the line.
func TestWriteCOCOAcrossChunks(t *testing.T) {
	chunks := [][]Line{
		parse(t, delivered(t, `{"source-ref":"s3://b/a/1.png","width":10,"height":10}`, `{"boxes":[{"label":"cat","left":1,"top":1,"width":2,"height":2}]}`, meta(TypeBoundingBox))),
		parse(t, delivered(t, `{"source-ref":"https://cdn.test/b/2.png","width":10,"height":10}`, `{"boxes":[{"label":"dog","left":1,"top":1,"width":2,"height":2},{"label":"cat","left":5,"top":5,"width":1,"height":1}]}`, meta(TypeBoundingBox))),
	}
	var b bytes.Buffer
	n, err := WriteCOCO(&b, 2, taxonomy, func(c int) ([]Line, error) { return chunks[c], nil })
	if err != nil || n != 2 {
		t.Fatalf("WriteCOCO = %d, %v", n, err)
	}
	var ds struct {
		Images []struct {
			ID       int    `json:"id"`
			FileName string `json:"file_name"`
		} `json:"images"`
		Annotations []struct {
			ID           int         `json:"id"`
			ImageID      int         `json:"image_id"`
			Segmentation [][]float64 `json:"segmentation"`
		} `json:"annotations"`
		Info struct {
			DateCreated string `json:"date_created"`
			Year        int    `json:"year"`
		} `json:"info"`
	}
	if err := json.Unmarshal(b.Bytes(), &ds); err != nil {
		t.Fatal(err)
	}
	eq(t, "file names", []string{ds.Images[0].FileName, ds.Images[1].FileName}, []string{"a/1.png", "b/2.png"})
	eq(t, "annotation ids", []int{ds.Annotations[0].ID, ds.Annotations[1].ID, ds.Annotations[2].ID}, []int{1, 2, 3})
	eq(t, "image ids", []int{ds.Annotations[0].ImageID, ds.Annotations[1].ImageID, ds.Annotations[2].ImageID}, []int{1, 2, 2})
	eq(t, "segmentation", ds.Annotations[2].Segmentation, [][]float64{{5, 5, 6, 5, 6, 6, 5, 6}})
	eq(t, "info date", [2]any{ds.Info.DateCreated, ds.Info.Year}, [2]any{"2026/03/04", 2026})

	bad := append(chunks, parse(t, delivered(t, `{"source":"x"}`, `"cat"`, meta(TypeSingleLabel))))
	_, err = WriteCOCO(&bytes.Buffer{}, 3, taxonomy, func(c int) ([]Line, error) { return bad[c], nil })
	var ce *ChunkError
	if !errors.As(err, &ce) || ce.Chunk != 2 || !strings.Contains(err.Error(), "chunk 2: line 1: COCO holds bounding-box labels only") {
		t.Fatalf("bad chunk: %v", err)
	}
	readErr := errors.New("store down")
	if _, err := WriteCOCO(&bytes.Buffer{}, 1, taxonomy, func(int) ([]Line, error) { return nil, readErr }); !errors.Is(err, readErr) || errors.As(err, &ce) {
		t.Fatalf("read error: %v", err)
	}
}

// Every answer of a worker response keeps its own times; lines recorded before times were kept
// give each answer the item's completion time.
func TestWorkerResponsesCarryEachAnswersTimes(t *testing.T) {
	ls := fixture(t)[TypeSingleLabel]
	out, err := GroundTruthWorkerResponses(ls)
	if err != nil {
		t.Fatal(err)
	}
	var rs []struct {
		Answers []struct {
			AcceptanceTime, SubmissionTime string
			WorkerID                       string `json:"workerId"`
		} `json:"answers"`
	}
	if err := json.Unmarshal(out, &rs); err != nil {
		t.Fatal(err)
	}
	got := rs[1].Answers
	if len(got) != 3 || got[2].WorkerID != "a-r9f4e1h6k2j8l0p3" || got[0].SubmissionTime == got[1].SubmissionTime ||
		got[0].AcceptanceTime != "2026-03-04T09:58:16.000Z" || got[0].SubmissionTime != "2026-03-04T09:58:30.000Z" {
		t.Fatalf("answers %+v", got)
	}
	old := parse(t, delivered(t, `{"id":"o","source":"x"}`, `"cat"`, meta(TypeSingleLabel)))
	out, _ = GroundTruthWorkerResponses(old)
	if !bytes.Contains(out, []byte(`"acceptanceTime":"2026-03-04T05:06:07.123Z"`)) {
		t.Fatalf("a line without times: %s", out)
	}
}
