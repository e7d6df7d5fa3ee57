package formats

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/formats/formatcheck"
)

// Golden files hold every format of every annotation type, as the converters write them from the
// fixture below; each is read back by its consumer's rules (internal/formats/formatcheck), and
// testdata/README.md says where each rule comes from. `go test ./internal/formats -update`
// rewrites them after a deliberate change: review the diff.
var update = flag.Bool("update", false, "rewrite the golden files")

// fixtureTime is when the fixture's items were completed.
var fixtureTime = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// fixtureMeta is a line's metadata as a client's copy carries it: people under pseudonyms, and
// each answer's own times.
func fixtureMeta(typ string, reviewer bool, answers ...string) Metadata {
	m := Metadata{Method: "agreed", Annotators: []string{"a-7q3k0d2mvx9p4r1s", "a-m2c8w5t0bq6n3z7y"},
		Confidence: 0.9412, Type: typ, Project: "acme-demo", CompletedAt: fixtureTime}
	for _, a := range answers {
		m.Answers = append(m.Answers, json.RawMessage(a))
	}
	for k := range m.Annotators {
		at := fixtureTime.Add(-time.Duration(90-20*k) * time.Second)
		m.Times = append(m.Times, AnswerTime{AcceptedAt: at.Add(-14 * time.Second), SubmittedAt: at, Seconds: 14})
	}
	if reviewer {
		m.Method, m.Reviewer, m.Confidence = "arbitrated", "a-r9f4e1h6k2j8l0p3", 0.8
		m.Times = append(m.Times, AnswerTime{AcceptedAt: fixtureTime.Add(-9 * time.Second), SubmittedAt: fixtureTime, Seconds: 9})
	}
	return m
}

// fixture holds delivered lines of every type, with the cases each consumer is particular
// about: a cell that starts like a formula, fractional box coordinates, text beyond ASCII.
func fixture(t *testing.T) map[string][]Line {
	t.Helper()
	return map[string][]Line{
		TypeSingleLabel: parse(t,
			delivered(t, `{"id":"t1","source":"=HYPERLINK(\"http://x.test\",\"win\")"}`, `"cat"`, fixtureMeta(TypeSingleLabel, false, `"cat"`, `"cat"`)),
			delivered(t, `{"id":"t2","source":"-2+3 is not a date"}`, `"dog"`, fixtureMeta(TypeSingleLabel, true, `"dog"`, `"bird"`)),
			delivered(t, `{"id":"i3","source-ref":"s3://acme-images/pets/3.jpg"}`, `"bird"`, fixtureMeta(TypeSingleLabel, false, `"bird"`, `"bird"`)),
		),
		TypeMultiLabel: parse(t,
			delivered(t, `{"id":"m1","source-ref":"s3://acme-images/pets/m1.jpg"}`, `["cat","dog"]`, fixtureMeta(TypeMultiLabel, false, `["cat","dog"]`, `["dog","cat"]`)),
			delivered(t, `{"id":"m2","source":"@channel two birds"}`, `["bird"]`, fixtureMeta(TypeMultiLabel, true, `["bird"]`, `["cat"]`)),
		),
		TypeBoundingBox: parse(t,
			delivered(t, `{"id":"b1","source-ref":"s3://acme-images/street/b1.jpg","width":640,"height":480}`,
				`{"boxes":[{"label":"cat","left":10.4,"top":20.6,"width":100.5,"height":50},{"label":"dog","left":300,"top":200,"width":40,"height":60.2}]}`,
				fixtureMeta(TypeBoundingBox, false,
					`{"boxes":[{"label":"cat","left":10,"top":21,"width":100,"height":50},{"label":"dog","left":300,"top":200,"width":40,"height":60}]}`,
					`{"boxes":[{"label":"cat","left":10.8,"top":20.2,"width":101,"height":50},{"label":"dog","left":300,"top":200,"width":40,"height":60.4}]}`)),
			delivered(t, `{"id":"b2","source-ref":"s3://acme-images/street/b2.jpg","image_size":[{"width":320,"height":240,"depth":3}]}`,
				`{"boxes":[{"label":"bird","left":0,"top":0,"width":320,"height":240}]}`,
				fixtureMeta(TypeBoundingBox, true, `{"boxes":[{"label":"bird","left":0,"top":0,"width":320,"height":240}]}`, `{"boxes":[]}`)),
		),
		TypeTranscription: parse(t,
			delivered(t, `{"id":"r1","source-ref":"s3://acme-scans/r1.png"}`, `{"text":"TOTAL 12.50 €"}`,
				fixtureMeta(TypeTranscription, false, `{"text":"TOTAL 12.50 €"}`, `{"text":"TOTAL 12.50 €"}`)),
			delivered(t, `{"id":"r2","source-ref":"s3://acme-scans/r2.png"}`, `{"text":"+44 20 7946 0000"}`,
				fixtureMeta(TypeTranscription, true, `{"text":"+44 20 7946 0000"}`, `{"text":"+44 20 7946 0001"}`)),
		),
		TypeNamedEntities: parse(t,
			delivered(t, `{"id":"e1","source":"Amina met Grace in Zürich."}`, `{"spans":[{"start":0,"end":5,"label":"cat"},{"start":10,"end":15,"label":"dog"},{"start":19,"end":25,"label":"bird"}]}`,
				fixtureMeta(TypeNamedEntities, false,
					`{"spans":[{"start":0,"end":5,"label":"cat"},{"start":10,"end":15,"label":"dog"},{"start":19,"end":25,"label":"bird"}]}`,
					`{"spans":[{"start":0,"end":5,"label":"cat"},{"start":10,"end":15,"label":"dog"},{"start":19,"end":25,"label":"bird"}]}`)),
			delivered(t, `{"id":"e2","source":"No one here."}`, `{"spans":[]}`,
				fixtureMeta(TypeNamedEntities, true, `{"spans":[]}`, `{"spans":[{"start":0,"end":2,"label":"cat"}]}`)),
		),
	}
}

// consumer is one format, the golden file's extension and the check of its consumer.
type consumer struct {
	format, ext string
	types       []string // nil: every type
	write       func([]Line) ([]byte, error)
	check       func([]byte) error
}

var allTypes = []string{TypeSingleLabel, TypeMultiLabel, TypeBoundingBox, TypeTranscription, TypeNamedEntities}

func consumers() []consumer {
	const attr = "label"
	return []consumer{
		{"groundtruth", "manifest", nil,
			func(ls []Line) ([]byte, error) { return GroundTruthManifest(ls, attr, taxonomy) },
			func(b []byte) error { return formatcheck.GroundTruthManifest(b, attr) }},
		{"groundtruth-worker-response", "json", nil, GroundTruthWorkerResponses,
			func(b []byte) error { _, err := formatcheck.GroundTruthWorkerResponses(b); return err }},
		{"groundtruth-consolidated", "json", nil,
			func(ls []Line) ([]byte, error) { return GroundTruthConsolidated(ls, attr, taxonomy) },
			checkConsolidated(attr)},
		{"labelstudio", "json", nil,
			func(ls []Line) ([]byte, error) { return LabelStudio(ls, taxonomy) },
			formatcheck.LabelStudioImport},
		{"csv", "csv", nil, CSV,
			func(b []byte) error { _, err := formatcheck.CSV(b); return err }},
		{"coco", "json", []string{TypeBoundingBox},
			func(ls []Line) ([]byte, error) { return COCO(ls, taxonomy) },
			formatcheck.COCO},
	}
}

// checkConsolidated reads each consolidated label as a line of the output manifest.
func checkConsolidated(attr string) func([]byte) error {
	return func(b []byte) error {
		var entries []struct {
			Annotation struct {
				Content json.RawMessage `json:"content"`
			} `json:"consolidatedAnnotation"`
		}
		if err := json.Unmarshal(b, &entries); err != nil {
			return err
		}
		var manifest bytes.Buffer
		for _, e := range entries {
			manifest.Write(e.Annotation.Content)
			manifest.WriteByte('\n')
		}
		return formatcheck.GroundTruthManifest(manifest.Bytes(), attr)
	}
}

func TestEveryFormatPassesItsConsumersRules(t *testing.T) {
	fx := fixture(t)
	for _, c := range consumers() {
		types := c.types
		if types == nil {
			types = allTypes
		}
		for _, typ := range types {
			t.Run(c.format+"/"+typ, func(t *testing.T) {
				out, err := c.write(fx[typ])
				if err != nil {
					t.Fatal(err)
				}
				if err := c.check(out); err != nil {
					t.Fatalf("%s refuses the %s file: %v\n%s", c.format, typ, err, out)
				}
				golden(t, filepath.Join("testdata", c.format, typ+"."+c.ext), out)
			})
		}
	}
}

// golden compares out with the file at path, or rewrites it with -update.
func golden(t *testing.T, path string, out []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./internal/formats -run %s -update writes it)", err, t.Name())
	}
	if !bytes.Equal(out, want) {
		t.Errorf("%s differs from the golden file:\n got: %s\nwant: %s", path, out, want)
	}
}

// The golden COCO dataset read by pycocotools and faster-coco-eval themselves, where installed
// (`make coco-tools`): indexed, every segmentation rasterised, its boxes loaded as results
// (loadRes, which needs info) and scored against themselves with COCOeval.
func TestCOCOToolsReadTheDataset(t *testing.T) {
	path, _ := filepath.Abs(filepath.Join("testdata", "coco", TypeBoundingBox+".json"))
	runs, err := formatcheck.RunCOCOTools(path)
	if errors.Is(err, formatcheck.ErrNoCOCOTools) {
		t.Skip("pycocotools and faster-coco-eval are not installed (make coco-tools); the dataset was checked against their documented requirements only")
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Images != 2 || r.Annotations != 3 || r.AP == nil || *r.AP < 0.99 {
			t.Errorf("%s read %d images, %d annotations, AP %v", r.Tool, r.Images, r.Annotations, r.AP)
		}
		t.Logf("%s: %d images, %d annotations, AP of the boxes against themselves %.3f", r.Tool, r.Images, r.Annotations, *r.AP)
	}
}

// Every check refuses what its consumer refuses: each case below is a file the issue found
// broken, or one the rule names.
func TestConsumerChecksRefuseWhatConsumersRefuse(t *testing.T) {
	cases := []struct {
		name  string
		check func() error
		want  string
	}{
		{"Label Studio: completed_by as a string", func() error {
			return formatcheck.LabelStudioImport([]byte(`[{"data":{"text":"x"},"annotations":[{"result":[],"completed_by":"amina"}]}]`))
		}, "not a valid annotator's email or ID"},
		{"Label Studio: result not a list", func() error {
			return formatcheck.LabelStudioImport([]byte(`[{"data":{"text":"x"},"annotations":[{"result":{}}]}]`))
		}, "must be list"},
		{"Label Studio: data key missing", func() error {
			return formatcheck.LabelStudioImport([]byte(`[{"data":{"other":"x"},"annotations":[{"result":[{"id":"1","from_name":"label","to_name":"text","type":"choices","value":{"choices":["a"]}}]}]}]`))
		}, `"text" key is expected`},
		{"COCO: no info", func() error {
			return formatcheck.COCO([]byte(`{"licenses":[],"images":[],"annotations":[],"categories":[]}`))
		}, "KeyError: 'info'"},
		{"COCO: s3 file_name", func() error {
			return formatcheck.COCO([]byte(`{"info":{},"licenses":[],"images":[{"id":1,"file_name":"s3://b/1.png","width":5,"height":5}],"annotations":[],"categories":[]}`))
		}, "a URI"},
		{"COCO: no segmentation", func() error {
			return formatcheck.COCO([]byte(`{"info":{},"licenses":[],"images":[{"id":1,"file_name":"1.png","width":5,"height":5}],"categories":[{"id":1,"name":"c"}],"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1],"area":1,"iscrowd":0}]}`))
		}, "segmentation"},
		{"Ground Truth: fractional box", func() error {
			return formatcheck.GroundTruthManifest([]byte(`{"l":{"image_size":[{"width":5,"height":5,"depth":3}],"annotations":[{"class_id":0,"left":0.5,"top":0,"width":1,"height":1}]},"l-metadata":{"objects":[{"confidence":1}],"class-map":{"0":"c"},"type":"groundtruth/object-detection","job-name":"j","human-annotated":"yes","creation-date":"2026-03-04T10:00:00.000000"}}`), "l")
		}, "whole pixels"},
		{"Ground Truth: no acceptanceTime", func() error {
			_, err := formatcheck.GroundTruthWorkerResponses([]byte(`[{"datasetObjectId":"1","answers":[{"submissionTime":"2026-03-04T10:00:00.000Z","timeSpentInSeconds":1,"workerId":"w","answerContent":{"crowd-classifier":{"label":"a"}}}]}]`))
			return err
		}, "acceptanceTime"},
		{"Ground Truth: answer not in an element's shape", func() error {
			_, err := formatcheck.GroundTruthWorkerResponses([]byte(`[{"datasetObjectId":"1","answers":[{"acceptanceTime":"2026-03-04T10:00:00.000Z","submissionTime":"2026-03-04T10:00:00.000Z","timeSpentInSeconds":1,"workerId":"w","answerContent":{"label":"a"}}]}]`))
			return err
		}, "no crowd element"},
		{"CSV: formula", func() error {
			_, err := formatcheck.CSV([]byte("id,source\n1,=1+1\n"))
			return err
		}, "formula"},
	}
	for _, c := range cases {
		if err := c.check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}
