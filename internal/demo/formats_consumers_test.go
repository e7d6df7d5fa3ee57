package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/delivery"
	"github.com/labelflow/labelflow/internal/formats/formatcheck"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/pseudonym"
	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/spec"
)

// formulaDataset is n reviews whose text begins like a spreadsheet formula, as a client's data
// may: the CSV delivery must keep every one of them inert.
func formulaDataset(n int) []byte {
	starts := []string{"=HYPERLINK(\"http://x.test\",\"win\")", "+1 would buy again", "-10% off, still broken", "@seller thanks", "\tindented praise"}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for i := range n {
		class := Taxonomy[i%len(Taxonomy)]
		_ = enc.Encode(map[string]any{"id": fmt.Sprintf("f-%03d", i+1), "source": starts[i%len(starts)] + " " + class, "truth": class})
	}
	return b.Bytes()
}

// Every format a project delivers, produced by the real pipeline and read from the client's
// bucket, passes the rules of the tool its client loads it into (internal/formats/formatcheck,
// and pycocotools or faster-coco-eval themselves where installed), and names every person by
// their pseudonym for the client: no roster id reaches the client.
func TestDeliveredFormatsPassTheirConsumersRules(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	all := []string{"jsonl", "groundtruth", "csv", "labelstudio"}
	cases := []struct {
		id, typ string
		tax     []string
		data    []byte
		formats []string
	}{
		{"it-consumers-boxes", label.BoundingBoxName, BoxTaxonomy, BoxDataset(30, 31), append([]string{"coco"}, all...)},
		{"it-consumers-entities", label.SpansName, EntityTaxonomy, EntityDataset(30, 32), all},
		{"it-consumers-formulas", label.SingleLabelName, Taxonomy, formulaDataset(30), all},
	}
	names, err := pseudonym.New(env.Cfg.PseudonymKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			p, crowd := runConsumerProject(ctx, t, c.id, c.typ, c.tax, c.data, c.formats)
			d := deliveredFiles{t: t, client: p.Client, names: names, crowd: crowd}
			m, _, err := VerifyDelivery(ctx, env.App, p)
			if err != nil {
				t.Fatal(err)
			}
			s3c := clientReader(t)
			kinds := map[string]int{}
			for _, o := range m.Objects {
				data := readObject(t, s3c, o.Key)
				d.namesNoOne(o.Key, data)
				d.check(o.Kind, o.Key, data)
				kinds[o.Kind]++
			}
			for _, f := range c.formats {
				if f != "jsonl" && kinds[f] != 1 {
					t.Errorf("%s delivered %d times", f, kinds[f])
				}
			}
			if kinds[delivery.KindGroundTruthResponses] == 0 || kinds[delivery.KindQualityReport] != 1 {
				t.Errorf("delivered kinds %v", kinds)
			}
			d.answersKeepTheirOwnTimes()
		})
	}
}

// runConsumerProject launches a project on data, has a simulated crowd label it, and waits for
// its delivery.
func runConsumerProject(ctx context.Context, t *testing.T, id, typ string, tax []string, data []byte, formats []string) (spec.Project, []simulate.Person) {
	t.Helper()
	a := env.App
	key := "acme/" + id + ".manifest"
	if err := a.Store.PutIn(ctx, IntakeBucket, key, data); err != nil {
		t.Fatal(err)
	}
	p, err := spec.Parse(id+".yaml", []byte(TypedSpecYAML(id, typ, tax, key, env.Cfg.StoreEndpoint, 10, formats)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Launch(ctx, signIn(ctx, t, a, OpsDemo), p); err != nil {
		t.Fatal(err)
	}
	o := simulate.Options{GatewayURL: env.GatewayURL, Project: id, Annotators: 4, Reviewers: 2, Accuracy: 0.8,
		ReviewerAccuracy: 0.95, Seed: 13, Idle: 50 * time.Millisecond}
	crowd := registerCrowd(ctx, t, a, o)
	if _, err := simulate.Run(ctx, o, a.Store, crowd); err != nil {
		t.Fatal(err)
	}
	if _, err := a.WaitProject(ctx, id, nil); err != nil {
		t.Fatal(err)
	}
	return p, crowd
}

// deliveredFiles checks one project's delivered objects.
type deliveredFiles struct {
	t       *testing.T
	client  string
	names   *pseudonym.Namer
	crowd   []simulate.Person
	answers []formatcheck.GroundTruthAnswer
}

// namesNoOne fails when a roster id appears in a delivered object, as a JSON string or a CSV
// cell.
func (d *deliveredFiles) namesNoOne(key string, data []byte) {
	for _, p := range d.crowd {
		if bytes.Contains(data, []byte(`"`+p.ID+`"`)) || bytes.Contains(data, []byte(","+p.ID+",")) || bytes.Contains(data, []byte(p.ID+";")) {
			d.t.Errorf("%s names %s by their roster id", key, p.ID)
		}
	}
}

// pseudonymous fails unless who is the pseudonym of someone in the crowd for the client.
func (d *deliveredFiles) pseudonymous(what string, who ...string) {
	people := make([]string, len(d.crowd))
	for i, p := range d.crowd {
		people[i] = p.ID
	}
	for _, w := range who {
		if _, err := d.names.Find(d.client, w, people); err != nil {
			d.t.Errorf("%s: %q is no one's pseudonym for %s: %v", what, w, d.client, err)
		}
	}
}

func (d *deliveredFiles) check(kind, key string, data []byte) {
	t := d.t
	var err error
	switch kind {
	case delivery.KindLabels:
		d.labels(key, data)
	case spec.FormatLabelStudio:
		if err = formatcheck.LabelStudioImport(data); err == nil {
			d.labelStudioMeta(data)
		}
	case spec.FormatCOCO:
		if err = formatcheck.COCO(data); err == nil {
			cocoTools(t, data)
		}
	case spec.FormatGroundTruth:
		err = formatcheck.GroundTruthManifest(data, "label")
	case delivery.KindGroundTruthResponses:
		var answers []formatcheck.GroundTruthAnswer
		if answers, err = formatcheck.GroundTruthWorkerResponses(data); err == nil {
			for _, a := range answers {
				d.pseudonymous(key+" workerId", a.WorkerID)
			}
			d.answers = append(d.answers, answers...)
		}
	case delivery.KindGroundTruthConsolidated:
		err = consolidatedAsManifest(data)
	case spec.FormatCSV:
		var recs [][]string
		if recs, err = formatcheck.CSV(data); err == nil {
			for _, r := range recs[1:] {
				d.pseudonymous(key+" annotators", strings.Split(r[5], ";")...)
			}
		}
	case delivery.KindQualityReport:
		var r struct{ People map[string]json.RawMessage }
		if err = json.Unmarshal(data, &r); err == nil {
			for who := range r.People {
				d.pseudonymous(key+" people", who)
			}
		}
	}
	if err != nil {
		t.Errorf("%s (%s) breaks its consumer's rules: %v", key, kind, err)
	}
}

// labels checks the JSON Lines delivery: pseudonyms, and one time per answer.
func (d *deliveredFiles) labels(key string, data []byte) {
	for l := range bytes.Lines(bytes.TrimSpace(data)) {
		var line struct {
			Meta struct {
				Annotators []string          `json:"annotators"`
				Reviewer   string            `json:"reviewer"`
				Times      []json.RawMessage `json:"times"`
			} `json:"label-metadata"`
		}
		mustJSON(d.t, l, &line)
		d.pseudonymous(key, line.Meta.Annotators...)
		answers := len(line.Meta.Annotators)
		if line.Meta.Reviewer != "" {
			d.pseudonymous(key, line.Meta.Reviewer)
			answers++
		}
		if len(line.Meta.Times) != answers {
			d.t.Errorf("%s: %d times for %d answers", key, len(line.Meta.Times), answers)
		}
	}
}

func (d *deliveredFiles) labelStudioMeta(data []byte) {
	var tasks []struct {
		Meta struct {
			Annotators []string `json:"annotators"`
			Reviewer   string   `json:"reviewer"`
		} `json:"meta"`
	}
	mustJSON(d.t, data, &tasks)
	for _, task := range tasks {
		d.pseudonymous("labelstudio meta", task.Meta.Annotators...)
		if task.Meta.Reviewer != "" {
			d.pseudonymous("labelstudio meta", task.Meta.Reviewer)
		}
	}
}

// answersKeepTheirOwnTimes: answers carry the times of their own suites, not their item's
// completion, so there are about as many distinct submission times as suites submitted, and
// more than one per item.
func (d *deliveredFiles) answersKeepTheirOwnTimes() {
	submitted := map[string]bool{}
	for _, a := range d.answers {
		submitted[a.SubmissionTime] = true
	}
	// 30 items answered twice in suites of 10 are at least 6 suites, and more with arbitrations.
	if len(d.answers) < 60 || len(submitted) < 6 {
		d.t.Errorf("%d answers share %d submission times", len(d.answers), len(submitted))
	}
}

// consolidatedAsManifest reads each consolidated label by the output manifest's rules.
func consolidatedAsManifest(data []byte) error {
	var entries []struct {
		Annotation struct {
			Content json.RawMessage `json:"content"`
		} `json:"consolidatedAnnotation"`
	}
	if err := json.Unmarshal(data, &entries); err != nil {
		return err
	}
	var manifest bytes.Buffer
	for _, e := range entries {
		manifest.Write(e.Annotation.Content)
		manifest.WriteByte('\n')
	}
	return formatcheck.GroundTruthManifest(manifest.Bytes(), "label")
}

// cocoTools runs pycocotools and faster-coco-eval on the delivered dataset where installed.
func cocoTools(t *testing.T, data []byte) {
	path := filepath.Join(t.TempDir(), "coco.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	runs, err := formatcheck.RunCOCOTools(path)
	if errors.Is(err, formatcheck.ErrNoCOCOTools) {
		t.Log("pycocotools and faster-coco-eval are not installed (make coco-tools): the COCO file was checked against their documented requirements only")
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Images != 30 || r.Annotations == 0 || r.AP == nil || *r.AP < 0.99 {
			t.Errorf("%s read %d images, %d annotations, AP %v", r.Tool, r.Images, r.Annotations, r.AP)
		}
		t.Logf("%s read the delivered COCO file: %d images, %d annotations, AP of its boxes against themselves %.3f", r.Tool, r.Images, r.Annotations, *r.AP)
	}
}
