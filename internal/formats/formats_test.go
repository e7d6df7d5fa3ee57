package formats

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

var completed = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)

// delivered builds a results line as delivery writes it: the original object plus label and
// label-metadata.
func delivered(t *testing.T, original, label string, meta Metadata) string {
	t.Helper()
	m, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	o := strings.TrimSuffix(strings.TrimSpace(original), "}")
	if strings.TrimSpace(o) != "{" {
		o += ","
	}
	return o + `"label":` + label + `,"label-metadata":` + string(m) + "}"
}

func meta(typ string) Metadata {
	return Metadata{
		Method: "agreed", Annotators: []string{"w1", "w2"}, Answers: []json.RawMessage{json.RawMessage(`"x"`)},
		Confidence: 0.97, Type: typ, Project: "proj-1", CompletedAt: completed,
	}
}

func parse(t *testing.T, lines ...string) []Line {
	t.Helper()
	ls, err := ParseLines([]byte(strings.Join(lines, "\n") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// decode unmarshals b into a generic value, numbers kept as json.Number.
func decode(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

// keys returns the keys of a JSON object in their order.
func keys(t *testing.T, b []byte) []string {
	t.Helper()
	fs, err := objectFields(b)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fs {
		out = append(out, f.key)
	}
	return out
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func TestParseLines(t *testing.T) {
	m := meta(TypeSingleLabel)
	m.Reviewer = "rev"
	data := delivered(t, `{"source":"hello","id":7,"extra":{"a":1}}`, `"cat"`, m) + "\n\n" +
		delivered(t, `{"source-ref":"s3://b/k.png","id":"x-1"}`, `"dog"`, meta(TypeSingleLabel)) + "\r\n"
	ls, err := ParseLines([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 {
		t.Fatalf("got %d lines", len(ls))
	}
	l := ls[0]
	eq(t, "ID", l.ID, "7")
	eq(t, "Source", l.Source, "hello")
	eq(t, "Label", string(l.Label), `"cat"`)
	eq(t, "Method", l.Meta.Method, "agreed")
	eq(t, "Annotators", l.Meta.Annotators, []string{"w1", "w2"})
	eq(t, "Reviewer", l.Meta.Reviewer, "rev")
	eq(t, "Answers", len(l.Meta.Answers), 1)
	eq(t, "Confidence", l.Meta.Confidence, 0.97)
	eq(t, "Type", l.Meta.Type, TypeSingleLabel)
	eq(t, "Project", l.Meta.Project, "proj-1")
	eq(t, "CompletedAt", l.Meta.CompletedAt.Equal(completed), true)
	eq(t, "num", l.num, 1)
	eq(t, "second ID", ls[1].ID, "x-1")
	eq(t, "second SourceRef", ls[1].SourceRef, "s3://b/k.png")
	eq(t, "second num", ls[1].num, 3)
	if !json.Valid(l.Raw) {
		t.Errorf("Raw is not JSON: %s", l.Raw)
	}

	for _, tc := range []struct{ data, want string }{
		{"{}\n[1]\n", "line 1: no \"label\""},
		{delivered(t, `{"source":"a"}`, `"x"`, m) + "\n[1]\n", "line 2: not a JSON object"},
		{"\n\n{\"label\":1}\n", "line 3: no \"label-metadata\""},
		{`{"id":true,"label":1,"label-metadata":{}}`, "line 1: id must be a string or a number"},
		{`{"source":1,"label":1,"label-metadata":{}}`, "line 1: source must be a string"},
		{`{"label":1,"label-metadata":{}} x`, "line 1: not valid JSON"},
	} {
		_, err := ParseLines([]byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseLines(%q) error = %v, want %q", tc.data, err, tc.want)
		}
	}
}

var taxonomy = []string{"cat", "dog", "bird"}

func TestGroundTruthSingleLabel(t *testing.T) {
	ls := parse(t,
		delivered(t, `{"source":"a <b> & c","id":"i1","z":1}`, `"dog"`, meta(TypeSingleLabel)),
		delivered(t, `{"source-ref":"s3://b/1.jpg"}`, `"cat"`, meta(TypeSingleLabel)),
	)
	out, err := GroundTruthManifest(ls, "animal", taxonomy)
	if err != nil {
		t.Fatal(err)
	}
	rows := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	if len(rows) != 2 {
		t.Fatalf("got %d rows:\n%s", len(rows), out)
	}
	eq(t, "keys", keys(t, rows[0]), []string{"source", "id", "z", "animal", "animal-metadata"})
	if !bytes.Contains(rows[0], []byte(`"a <b> & c"`)) {
		t.Errorf("source escaped: %s", rows[0])
	}
	v := decode(t, rows[0]).(map[string]any)
	eq(t, "animal", v["animal"], json.Number("1"))
	md := v["animal-metadata"].(map[string]any)
	eq(t, "class-name", md["class-name"], "dog")
	eq(t, "confidence", md["confidence"], json.Number("0.97"))
	eq(t, "type", md["type"], "groundtruth/text-classification")
	eq(t, "job-name", md["job-name"], "labeling-job/proj-1")
	eq(t, "human-annotated", md["human-annotated"], "yes")
	eq(t, "creation-date", md["creation-date"], "2026-03-04T05:06:07.123456")
	eq(t, "metadata keys", keys(t, member(t, rows[0], "animal-metadata")),
		[]string{"class-name", "confidence", "type", "job-name", "human-annotated", "creation-date"})

	v = decode(t, rows[1]).(map[string]any)
	eq(t, "animal", v["animal"], json.Number("0"))
	eq(t, "image type", v["animal-metadata"].(map[string]any)["type"], "groundtruth/image-classification")

	if _, err := GroundTruthManifest(ls, "animal", []string{"cat"}); err == nil || !strings.Contains(err.Error(), `line 1 (id "i1"): class "dog" is not in the taxonomy`) {
		t.Errorf("unknown class: %v", err)
	}
	for _, attr := range []string{"", "x-metadata", "mask-ref"} {
		if _, err := GroundTruthManifest(ls, attr, taxonomy); err == nil {
			t.Errorf("attribute %q accepted", attr)
		}
	}
}

// member returns the raw JSON of member key of the object row, as written.
func member(t *testing.T, row []byte, key string) []byte {
	t.Helper()
	fs, err := objectFields(row)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.key == key {
			return f.value
		}
	}
	t.Fatalf("no %q in %s", key, row)
	return nil
}

func TestGroundTruthMultiLabel(t *testing.T) {
	ls := parse(t,
		delivered(t, `{"source":"t"}`, `["bird","cat"]`, meta(TypeMultiLabel)),
		delivered(t, `{"source-ref":"s3://b/2.jpg"}`, `[]`, meta(TypeMultiLabel)),
	)
	out, err := GroundTruthManifest(ls, "tags", taxonomy)
	if err != nil {
		t.Fatal(err)
	}
	rows := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	v := decode(t, rows[0]).(map[string]any)
	eq(t, "tags", v["tags"], []any{json.Number("2"), json.Number("0")})
	md := v["tags-metadata"].(map[string]any)
	eq(t, "class-map", md["class-map"], map[string]any{"2": "bird", "0": "cat"})
	eq(t, "confidence-map", md["confidence-map"], map[string]any{"2": json.Number("0.97"), "0": json.Number("0.97")})
	eq(t, "type", md["type"], "groundtruth/text-classification-multilabel")
	eq(t, "job-name", md["job-name"], "labeling-job/proj-1")
	eq(t, "class-map order", keys(t, member(t, member(t, rows[0], "tags-metadata"), "class-map")), []string{"2", "0"})

	v = decode(t, rows[1]).(map[string]any)
	eq(t, "empty tags", v["tags"], []any{})
	md = v["tags-metadata"].(map[string]any)
	eq(t, "empty class-map", md["class-map"], map[string]any{})
	eq(t, "image type", md["type"], "groundtruth/image-classification-multilabel")
}

const boxesAnswerJSON = `{"boxes":[{"label":"dog","left":111,"top":134,"width":61,"height":128},{"label":"bird","left":20.5,"top":20,"width":30,"height":30}]}`

func TestGroundTruthBoundingBox(t *testing.T) {
	ls := parse(t,
		delivered(t, `{"source-ref":"s3://b/3.png","width":500,"height":400}`, boxesAnswerJSON, meta(TypeBoundingBox)),
		delivered(t, `{"source-ref":"s3://b/4.png","image_size":[{"width":640,"height":480,"depth":1}]}`, `{"boxes":[]}`, meta(TypeBoundingBox)),
	)
	out, err := GroundTruthManifest(ls, "bounding-box", taxonomy)
	if err != nil {
		t.Fatal(err)
	}
	rows := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	v := decode(t, rows[0]).(map[string]any)
	eq(t, "bounding-box", v["bounding-box"], map[string]any{
		"image_size": []any{map[string]any{"width": json.Number("500"), "height": json.Number("400"), "depth": json.Number("3")}},
		"annotations": []any{
			map[string]any{"class_id": json.Number("1"), "left": json.Number("111"), "top": json.Number("134"), "width": json.Number("61"), "height": json.Number("128")},
			// Ground Truth writes whole pixels: 20.5 rounds to 21.
			map[string]any{"class_id": json.Number("2"), "left": json.Number("21"), "top": json.Number("20"), "width": json.Number("30"), "height": json.Number("30")},
		},
	})
	md := v["bounding-box-metadata"].(map[string]any)
	eq(t, "objects", md["objects"], []any{map[string]any{"confidence": json.Number("0.97")}, map[string]any{"confidence": json.Number("0.97")}})
	eq(t, "class-map", md["class-map"], map[string]any{"1": "dog", "2": "bird"})
	eq(t, "type", md["type"], "groundtruth/object-detection")
	eq(t, "human-annotated", md["human-annotated"], "yes")
	eq(t, "creation-date", md["creation-date"], "2026-03-04T05:06:07.123456")

	v = decode(t, rows[1]).(map[string]any)
	eq(t, "second", v["bounding-box"], map[string]any{
		"image_size":  []any{map[string]any{"width": json.Number("640"), "height": json.Number("480"), "depth": json.Number("1")}},
		"annotations": []any{},
	})

	noSize := parse(t, delivered(t, `{"source-ref":"s3://b/5.png","id":9}`, boxesAnswerJSON, meta(TypeBoundingBox)))
	if _, err := GroundTruthManifest(noSize, "bb", taxonomy); err == nil || !strings.Contains(err.Error(), `line 1 (id "9"): the image size is unknown`) {
		t.Errorf("no size: %v", err)
	}
}

func TestGroundTruthCustom(t *testing.T) {
	ls := parse(t,
		delivered(t, `{"source":"hello world"}`, `{"text": "hello  world"}`, meta(TypeTranscription)),
		delivered(t, `{"source":"Ada Lovelace"}`, `{"spans":[{"start":0,"end":12,"label":"person"}]}`, meta(TypeNamedEntities)),
	)
	out, err := GroundTruthManifest(ls, "out", nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	eq(t, "transcription", string(member(t, rows[0], "out")), `{"text":"hello  world"}`)
	// Named entities take Ground Truth's own named entity recognition form.
	eq(t, "entities", string(member(t, rows[1], "out")), `{"annotations":{"labels":[{"label":"person"}],"entities":[{"label":"person","startOffset":0,"endOffset":12}]}}`)
	md := decode(t, rows[0]).(map[string]any)["out-metadata"].(map[string]any)
	eq(t, "type", md["type"], "groundtruth/custom")
	eq(t, "confidence", md["confidence"], json.Number("0.97"))
	eq(t, "job-name", md["job-name"], "labeling-job/proj-1")
	md = decode(t, rows[1]).(map[string]any)["out-metadata"].(map[string]any)
	eq(t, "entity type", md["type"], "groundtruth/text-span")
	eq(t, "entity confidences", md["entities"], []any{map[string]any{"confidence": json.Number("0.97")}})
}

// TestGroundTruthKeepsInput checks every output line is a JSON object holding the input
// line's fields, values and order, and nothing of LabelFlow's own label fields.
func TestGroundTruthKeepsInput(t *testing.T) {
	originals := []string{
		`{"source":"x","id":"a","nested":{"k":[1,2,{"z":null}]},"n":1.50,"s":"é \u00e9 \"q\""}`,
		`{"id":3,"source-ref":"s3://b/k.jpg","width":10,"height":20,"tags":["a"]}`,
		`{"source":"y","label-old":true,"animal":"overwritten"}`,
	}
	typs := []string{TypeSingleLabel, TypeBoundingBox, TypeMultiLabel}
	labels := []string{`"cat"`, `{"boxes":[{"label":"cat","left":1,"top":2,"width":3,"height":4}]}`, `["cat"]`}
	var ls []Line
	for i := range originals {
		ls = append(ls, parse(t, delivered(t, originals[i], labels[i], meta(typs[i])))...)
	}
	out, err := GroundTruthManifest(ls, "animal", taxonomy)
	if err != nil {
		t.Fatal(err)
	}
	rows := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	if len(rows) != len(originals) {
		t.Fatalf("%d rows for %d lines", len(rows), len(originals))
	}
	for i, row := range rows {
		got, ok := decode(t, row).(map[string]any)
		if !ok {
			t.Fatalf("row %d is not an object: %s", i, row)
		}
		in := decode(t, []byte(originals[i])).(map[string]any)
		for k, v := range in {
			if k == "animal" {
				continue
			}
			eq(t, "field "+k, got[k], v)
		}
		if _, ok := got["label"]; ok {
			t.Errorf("row %d keeps label", i)
		}
		if _, ok := got["label-metadata"]; ok {
			t.Errorf("row %d keeps label-metadata", i)
		}
		wantKeys := []string{}
		for _, k := range keys(t, []byte(originals[i])) {
			if k != "animal" {
				wantKeys = append(wantKeys, k)
			}
		}
		wantKeys = append(wantKeys, "animal", "animal-metadata")
		eq(t, "keys", keys(t, row), wantKeys)
	}
	// The replaced attribute holds the label.
	eq(t, "replaced", decode(t, rows[2]).(map[string]any)["animal"], []any{json.Number("0")})

	again, _ := GroundTruthManifest(ls, "animal", taxonomy)
	if !bytes.Equal(out, again) {
		t.Error("output differs between runs")
	}
}

func TestHandBuiltLines(t *testing.T) {
	l := Line{ID: "h1", Source: "text", Label: json.RawMessage(`"bird"`), Meta: meta(TypeSingleLabel)}
	out, err := GroundTruthManifest([]Line{l}, "a", taxonomy)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "keys", keys(t, bytes.TrimSpace(out)), []string{"id", "source", "a", "a-metadata"})
	if _, err := CSV([]Line{l}); err != nil {
		t.Fatal(err)
	}
	bad := Line{Label: json.RawMessage(`"bird"`), Meta: meta(TypeBoundingBox), SourceRef: "s3://b/x"}
	if _, err := COCO([]Line{l, bad}, taxonomy); err == nil || !strings.HasPrefix(err.Error(), `line 1 (id "h1"): COCO holds bounding-box labels only`) {
		t.Errorf("COCO of a single-label line: %v", err)
	}
}

func TestCSV(t *testing.T) {
	m := meta(TypeSingleLabel)
	m.Reviewer = "boss"
	ls := parse(t,
		delivered(t, `{"id":"1","source":"he said \"hi\", then\nleft"}`, `"cat"`, m),
		delivered(t, `{"id":2,"source-ref":"s3://b/x.jpg"}`, `["cat","dog"]`, meta(TypeMultiLabel)),
		delivered(t, `{"source-ref":"s3://b/y.jpg"}`, `{"boxes": [{"label":"cat","left":1,"top":2,"width":3,"height":4}]}`, meta(TypeBoundingBox)),
		delivered(t, `{"source":"x"}`, `{"text":"a,b"}`, meta(TypeTranscription)),
	)
	out, err := CSV(ls)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"he said ""hi"", then`+"\n"+`left"`) {
		t.Errorf("not quoted per RFC 4180:\n%s", out)
	}
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "records", recs, [][]string{
		{"id", "source", "label", "method", "confidence", "annotators", "reviewer"},
		{"1", "he said \"hi\", then\nleft", "cat", "agreed", "0.97", "w1;w2", "boss"},
		{"2", "s3://b/x.jpg", "cat;dog", "agreed", "0.97", "w1;w2", ""},
		{"", "s3://b/y.jpg", `{"boxes":[{"label":"cat","left":1,"top":2,"width":3,"height":4}]}`, "agreed", "0.97", "w1;w2", ""},
		{"", "x", `{"text":"a,b"}`, "agreed", "0.97", "w1;w2", ""},
	})
	bad := parse(t, delivered(t, `{"id":"q"}`, `42`, meta(TypeSingleLabel)))
	if _, err := CSV(bad); err == nil || !strings.Contains(err.Error(), `line 1 (id "q")`) {
		t.Errorf("bad single label: %v", err)
	}
}

func TestLabelStudio(t *testing.T) {
	rev := meta(TypeSingleLabel)
	rev.Reviewer = "boss"
	ls := parse(t,
		delivered(t, `{"id":"t1","source":"nice","lang":"en"}`, `"cat"`, rev),
		delivered(t, `{"source-ref":"s3://b/m.jpg"}`, `["dog","bird"]`, meta(TypeMultiLabel)),
		delivered(t, `{"source-ref":"s3://b/bb.jpg","image_size":{"width":200,"height":50}}`,
			`{"boxes":[{"label":"dog","left":50,"top":10,"width":100,"height":25}]}`, meta(TypeBoundingBox)),
		delivered(t, `{"source-ref":"s3://b/scan.png"}`, `{"text":"hello"}`, meta(TypeTranscription)),
		delivered(t, `{"source":"Café in Paris"}`, `{"spans":[{"start":0,"end":4,"label":"cat"},{"start":8,"end":13,"label":"bird"}]}`, meta(TypeNamedEntities)),
	)
	out, err := LabelStudio(ls, taxonomy)
	if err != nil {
		t.Fatal(err)
	}
	var tasks []map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&tasks); err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 5 {
		t.Fatalf("%d tasks", len(tasks))
	}
	ann := func(i int) map[string]any { return tasks[i]["annotations"].([]any)[0].(map[string]any) }
	result := func(i int) []any { return ann(i)["result"].([]any) }

	// single-label
	eq(t, "id", tasks[0]["id"], json.Number("1"))
	eq(t, "data", tasks[0]["data"], map[string]any{"text": "nice", "id": "t1", "source": "nice", "lang": "en"})
	eq(t, "data order", keys(t, member(t, firstElem(t, out), "data")), []string{"text", "id", "source", "lang"})
	a := ann(0)
	eq(t, "annotation id", a["id"], json.Number("1"))
	if _, ok := a["completed_by"]; ok {
		t.Error("completed_by is given: Label Studio refuses anything but one of its own members")
	}
	eq(t, "created_at", a["created_at"], "2026-03-04T05:06:07.123456Z")
	eq(t, "ground_truth", a["ground_truth"], false)
	eq(t, "result", result(0), []any{map[string]any{
		"id": "1-1", "from_name": "label", "to_name": "text", "type": "choices",
		"value": map[string]any{"choices": []any{"cat"}},
	}})
	m := tasks[0]["meta"].(map[string]any)
	eq(t, "meta.method", m["method"], "agreed")
	eq(t, "meta.confidence", m["confidence"], json.Number("0.97"))
	eq(t, "meta.annotators", m["annotators"], []any{"w1", "w2"})
	eq(t, "meta.reviewer", m["reviewer"], "boss")
	eq(t, "meta.id", m["id"], "t1")

	// multi-label
	eq(t, "image data", tasks[1]["data"], map[string]any{"image": "s3://b/m.jpg", "source-ref": "s3://b/m.jpg"})
	eq(t, "multi", result(1), []any{map[string]any{
		"id": "2-1", "from_name": "label", "to_name": "image", "type": "choices",
		"value": map[string]any{"choices": []any{"dog", "bird"}},
	}})

	// bounding-box: 50/200 = 25%, 10/50 = 20%, 100/200 = 50%, 25/50 = 50%
	eq(t, "boxes", result(2), []any{map[string]any{
		"id": "3-1", "from_name": "label", "to_name": "image", "type": "rectanglelabels",
		"original_width": json.Number("200"), "original_height": json.Number("50"), "image_rotation": json.Number("0"),
		"value": map[string]any{
			"x": json.Number("25"), "y": json.Number("20"), "width": json.Number("50"), "height": json.Number("50"),
			"rotation": json.Number("0"), "rectanglelabels": []any{"dog"},
		},
	}})

	// transcription
	eq(t, "transcription", result(3), []any{map[string]any{
		"id": "4-1", "from_name": "label", "to_name": "image", "type": "textarea",
		"value": map[string]any{"text": []any{"hello"}},
	}})

	// named-entities: offsets in code points
	eq(t, "spans", result(4), []any{
		map[string]any{"id": "5-1", "from_name": "label", "to_name": "text", "type": "labels",
			"value": map[string]any{"start": json.Number("0"), "end": json.Number("4"), "text": "Café", "labels": []any{"cat"}}},
		map[string]any{"id": "5-2", "from_name": "label", "to_name": "text", "type": "labels",
			"value": map[string]any{"start": json.Number("8"), "end": json.Number("13"), "text": "Paris", "labels": []any{"bird"}}},
	})

	again, _ := LabelStudio(ls, taxonomy)
	if !bytes.Equal(out, again) {
		t.Error("output differs between runs")
	}

	for _, tc := range []struct {
		line, want string
	}{
		{delivered(t, `{"source-ref":"s3://b/x.jpg"}`, boxesAnswerJSON, meta(TypeBoundingBox)), "line 1: the image size is unknown"},
		{delivered(t, `{"source":"abc"}`, `{"spans":[{"start":1,"end":9,"label":"cat"}]}`, meta(TypeNamedEntities)), "line 1: spans[0]: [1,9) is outside"},
		{delivered(t, `{"source":"abc"}`, `"fish"`, meta(TypeSingleLabel)), `line 1: class "fish" is not in the taxonomy`},
	} {
		if _, err := LabelStudio(parse(t, tc.line), taxonomy); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error = %v, want %q", err, tc.want)
		}
	}
}

func TestLabelStudioPercent(t *testing.T) {
	ls := parse(t, delivered(t, `{"source-ref":"s3://b/p.jpg","width":3,"height":7}`,
		`{"boxes":[{"label":"cat","left":1,"top":1.5,"width":2,"height":7}]}`, meta(TypeBoundingBox)))
	out, err := LabelStudio(ls, nil)
	if err != nil {
		t.Fatal(err)
	}
	var tasks []struct {
		Annotations []struct {
			Result []struct {
				OriginalWidth  int `json:"original_width"`
				OriginalHeight int `json:"original_height"`
				Value          struct{ X, Y, Width, Height float64 }
			}
		}
	}
	if err := json.Unmarshal(out, &tasks); err != nil {
		t.Fatal(err)
	}
	r := tasks[0].Annotations[0].Result[0]
	near := func(what string, got, want float64) {
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	near("x", r.Value.X, 100.0/3)
	near("y", r.Value.Y, 150.0/7)
	near("width", r.Value.Width, 200.0/3)
	near("height", r.Value.Height, 100)
	eq(t, "original size", [2]int{r.OriginalWidth, r.OriginalHeight}, [2]int{3, 7})
	// Back to pixels.
	near("left px", r.Value.X*float64(r.OriginalWidth)/100, 1)
	near("top px", r.Value.Y*float64(r.OriginalHeight)/100, 1.5)
}

func firstElem(t *testing.T, arr []byte) []byte {
	t.Helper()
	var elems []json.RawMessage
	if err := json.Unmarshal(arr, &elems); err != nil || len(elems) == 0 {
		t.Fatalf("not a non-empty array: %v", err)
	}
	return elems[0]
}

func TestCOCO(t *testing.T) {
	ls := parse(t,
		delivered(t, `{"source-ref":"s3://b/1.png","width":500,"height":400}`, boxesAnswerJSON, meta(TypeBoundingBox)),
		delivered(t, `{"source-ref":"s3://b/2.png","image_size":[{"width":64,"height":48,"depth":3}]}`, `{"boxes":[]}`, meta(TypeBoundingBox)),
		delivered(t, `{"source-ref":"s3://b/3.png","image_size":[32,16]}`, `{"boxes":[{"label":"cat","left":0,"top":0,"width":2.5,"height":4}]}`, meta(TypeBoundingBox)),
	)
	out, err := COCO(ls, taxonomy)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "top keys", keys(t, out), []string{"images", "categories", "annotations", "info", "licenses"})
	var ds struct {
		Images []struct {
			ID       int    `json:"id"`
			FileName string `json:"file_name"`
			CocoURL  string `json:"coco_url"`
			Width    int    `json:"width"`
			Height   int    `json:"height"`
		} `json:"images"`
		Categories []struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		} `json:"categories"`
		Annotations []struct {
			ID         int       `json:"id"`
			ImageID    int       `json:"image_id"`
			CategoryID int       `json:"category_id"`
			BBox       []float64 `json:"bbox"`
			Area       float64   `json:"area"`
			IsCrowd    *int      `json:"iscrowd"`
			Score      float64   `json:"score"`
		} `json:"annotations"`
	}
	if err := json.Unmarshal(out, &ds); err != nil {
		t.Fatal(err)
	}
	eq(t, "images", len(ds.Images), 3)
	eq(t, "image 1", [5]any{ds.Images[0].ID, ds.Images[0].FileName, ds.Images[0].CocoURL, ds.Images[0].Width, ds.Images[0].Height}, [5]any{1, "1.png", "s3://b/1.png", 500, 400})
	eq(t, "image 2", [5]any{ds.Images[1].ID, ds.Images[1].FileName, ds.Images[1].CocoURL, ds.Images[1].Width, ds.Images[1].Height}, [5]any{2, "2.png", "s3://b/2.png", 64, 48})
	eq(t, "image 3", [5]any{ds.Images[2].ID, ds.Images[2].FileName, ds.Images[2].CocoURL, ds.Images[2].Width, ds.Images[2].Height}, [5]any{3, "3.png", "s3://b/3.png", 32, 16})
	eq(t, "categories", len(ds.Categories), 3)
	for i, c := range ds.Categories {
		eq(t, "category", [2]any{c.ID, c.Name}, [2]any{i + 1, taxonomy[i]})
	}
	eq(t, "annotations", len(ds.Annotations), 3)
	want := []struct {
		id, image, cat int
		bbox           []float64
	}{
		{1, 1, 2, []float64{111, 134, 61, 128}},
		{2, 1, 3, []float64{20.5, 20, 30, 30}},
		{3, 3, 1, []float64{0, 0, 2.5, 4}},
	}
	for i, w := range want {
		a := ds.Annotations[i]
		eq(t, "annotation id", a.ID, w.id)
		eq(t, "image_id", a.ImageID, w.image)
		eq(t, "category_id", a.CategoryID, w.cat)
		eq(t, "bbox", a.BBox, w.bbox)
		eq(t, "area", a.Area, w.bbox[2]*w.bbox[3])
		if a.IsCrowd == nil || *a.IsCrowd != 0 {
			t.Errorf("iscrowd = %v", a.IsCrowd)
		}
		eq(t, "score", a.Score, 0.97)
	}
	eq(t, "area 1", ds.Annotations[0].Area, 7808.0)

	again, _ := COCO(ls, taxonomy)
	if !bytes.Equal(out, again) {
		t.Error("output differs between runs")
	}

	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{
			delivered(t, `{"source-ref":"s3://b/1.png","width":5,"height":4}`, `{"boxes":[]}`, meta(TypeBoundingBox)),
			"",
			delivered(t, `{"id":"nosize","source-ref":"s3://b/2.png"}`, `{"boxes":[]}`, meta(TypeBoundingBox)),
		}, `line 3 (id "nosize"): the image has no width and height`},
		{[]string{delivered(t, `{"source":"x"}`, `"cat"`, meta(TypeSingleLabel))}, `line 1: COCO holds bounding-box labels only, not "single-label"`},
		{[]string{delivered(t, `{"source-ref":"s3://b/1.png","width":5,"height":0}`, `{"boxes":[]}`, meta(TypeBoundingBox))}, `line 1: height: must be a positive whole number`},
		{[]string{delivered(t, `{"source-ref":"s3://b/1.png","width":5,"height":4}`, `{"boxes":[{"label":"fish","left":0,"top":0,"width":1,"height":1}]}`, meta(TypeBoundingBox))}, `line 1: boxes[0]: class "fish"`},
		{[]string{delivered(t, `{"source-ref":"s3://b/1.png","width":5,"height":4}`, `{"boxes":[{"label":"cat","left":0,"top":0,"height":1}]}`, meta(TypeBoundingBox))}, `line 1: boxes[0].width: missing`},
	} {
		if _, err := COCO(parse(t, tc.lines...), taxonomy); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error = %v, want %q", err, tc.want)
		}
	}
}
