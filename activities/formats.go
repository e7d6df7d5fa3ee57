package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/delivery"
	"github.com/labelflow/labelflow/internal/formats"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/spec"
)

// writeFormat streams one whole-project format, chunk by chunk, from the stored results into the
// client's bucket (multipart beyond 8 MiB), and returns its manifest entry. A format an earlier
// attempt delivered is skipped; its upload in flight is resumed, the encoding being the same.
func (a *Activities) writeFormat(ctx context.Context, pr *progress, b *clientbucket.Bucket, sp spec.Project, target spec.Delivery, chunks int, format string) (delivery.ManifestObject, error) {
	key := layout.FormatKey(target.Prefix, sp.ID, format)
	if obj, ok := pr.delivered(key); ok {
		return obj, nil
	}
	contentType := map[string]string{spec.FormatGroundTruth: "application/x-ndjson", spec.FormatCSV: "text/csv",
		spec.FormatLabelStudio: "application/json", spec.FormatCOCO: "application/json"}[format]
	w := b.NewWriterWith(ctx, key, contentType, clientbucket.WriterOptions{PartSize: a.partSize, Resume: pr.resume(key), OnPart: pr.uploading})
	items, err := a.encodeFormat(ctx, w, sp, chunks, format)
	if err != nil {
		w.Close()
		return delivery.ManifestObject{}, err
	}
	sum, size, err := w.Close()
	if err != nil {
		return delivery.ManifestObject{}, err
	}
	obj := delivery.ManifestObject{Key: key, Kind: format, SHA256: sum, Size: size, Items: items}
	pr.add(obj)
	return obj, nil
}

func (a *Activities) chunkLines(ctx context.Context, project string, chunk int) ([]formats.Line, error) {
	data, err := a.Store.Get(ctx, layout.ResultsKey(project, chunk))
	if err != nil {
		return nil, err
	}
	lines, err := formats.ParseLines(data)
	if err != nil {
		return nil, invalidInput("results of chunk %d: %v", chunk, err)
	}
	return lines, nil
}

func (a *Activities) encodeFormat(ctx context.Context, w io.Writer, sp spec.Project, chunks int, format string) (int, error) {
	tax := sp.Annotation.Taxonomy
	items := 0
	switch format {
	case spec.FormatGroundTruth, spec.FormatCSV:
		for c := 0; c < chunks; c++ {
			lines, err := a.chunkLines(ctx, sp.ID, c)
			if err != nil {
				return 0, err
			}
			var out []byte
			if format == spec.FormatGroundTruth {
				out, err = formats.GroundTruthManifest(lines, labelAttribute(sp), tax)
			} else if out, err = formats.CSV(lines); err == nil && c > 0 {
				out = out[bytes.IndexByte(out, '\n')+1:] // the header is written once
			}
			if err != nil {
				return 0, invalidInput("%s, chunk %d: %v", format, c, err)
			}
			if _, err := w.Write(out); err != nil {
				return 0, err
			}
			items += len(lines)
		}
		return items, nil
	case spec.FormatLabelStudio:
		return a.encodeLabelStudio(ctx, w, sp, chunks)
	case spec.FormatCOCO:
		return a.encodeCOCO(ctx, w, sp, chunks)
	}
	return 0, invalidInput("unknown delivery format %q", format)
}

// encodeLabelStudio writes one JSON array of tasks; task and annotation ids run across chunks.
func (a *Activities) encodeLabelStudio(ctx context.Context, w io.Writer, sp spec.Project, chunks int) (int, error) {
	io.WriteString(w, "[")
	n := 0
	for c := 0; c < chunks; c++ {
		lines, err := a.chunkLines(ctx, sp.ID, c)
		if err != nil {
			return 0, err
		}
		out, err := formats.LabelStudio(lines, sp.Annotation.Taxonomy)
		if err != nil {
			return 0, invalidInput("labelstudio, chunk %d: %v", c, err)
		}
		var tasks []map[string]json.RawMessage
		if err := json.Unmarshal(out, &tasks); err != nil {
			return 0, err
		}
		for _, t := range tasks {
			n++
			id := json.RawMessage(strconv.Itoa(n))
			t["id"] = id
			var anns []map[string]json.RawMessage
			if json.Unmarshal(t["annotations"], &anns) == nil {
				for _, an := range anns {
					an["id"] = id
				}
				t["annotations"], _ = json.Marshal(anns)
			}
			b, err := json.Marshal(t)
			if err != nil {
				return 0, err
			}
			if n > 1 {
				io.WriteString(w, ",\n")
			}
			if _, err := w.Write(b); err != nil {
				return 0, err
			}
		}
	}
	_, err := io.WriteString(w, "]\n")
	return n, err
}

// encodeCOCO writes one COCO dataset: images in a first pass over the chunks, annotations in a
// second, with image and annotation ids running across chunks, so memory holds one chunk at a time.
func (a *Activities) encodeCOCO(ctx context.Context, w io.Writer, sp spec.Project, chunks int) (int, error) {
	type part struct {
		Images      []map[string]json.RawMessage `json:"images"`
		Categories  json.RawMessage              `json:"categories"`
		Annotations []map[string]json.RawMessage `json:"annotations"`
	}
	load := func(c int) (part, error) {
		var p part
		lines, err := a.chunkLines(ctx, sp.ID, c)
		if err != nil {
			return p, err
		}
		out, err := formats.COCO(lines, sp.Annotation.Taxonomy)
		if err != nil {
			return p, invalidInput("coco, chunk %d: %v", c, err)
		}
		return p, json.Unmarshal(out, &p)
	}
	num := func(n int) json.RawMessage { return json.RawMessage(strconv.Itoa(n)) }
	var categories json.RawMessage = []byte("[]")
	io.WriteString(w, `{"images":[`)
	images, offsets := 0, make([]int, chunks)
	for c := 0; c < chunks; c++ {
		p, err := load(c)
		if err != nil {
			return 0, err
		}
		offsets[c] = images
		categories = p.Categories
		for _, im := range p.Images {
			local, _ := strconv.Atoi(string(im["id"]))
			im["id"] = num(offsets[c] + local)
			if images++; images > 1 {
				io.WriteString(w, ",")
			}
			b, _ := json.Marshal(im)
			if _, err := w.Write(b); err != nil {
				return 0, err
			}
		}
	}
	fmt.Fprintf(w, `],"categories":%s,"annotations":[`, categories)
	anns := 0
	for c := 0; c < chunks; c++ {
		p, err := load(c)
		if err != nil {
			return 0, err
		}
		for _, an := range p.Annotations {
			local, _ := strconv.Atoi(string(an["image_id"]))
			an["image_id"] = num(offsets[c] + local)
			if anns++; anns > 1 {
				io.WriteString(w, ",")
			}
			an["id"] = num(anns)
			b, _ := json.Marshal(an)
			if _, err := w.Write(b); err != nil {
				return 0, err
			}
		}
	}
	_, err := io.WriteString(w, "]}\n")
	return images, err
}

// deliverGroundTruthAnnotations writes, beside the Ground Truth output manifest, the chunk's
// individual answers (annotations/worker-response) and consolidated labels
// (annotations/consolidated-annotation), one file per chunk rather than one per item.
func (a *Activities) deliverGroundTruthAnnotations(ctx context.Context, pr *progress, b *clientbucket.Bucket, sp spec.Project, target spec.Delivery, chunk int, results []byte) ([]delivery.ManifestObject, error) {
	lines, err := formats.ParseLines(results)
	if err != nil {
		return nil, invalidInput("results of chunk %d: %v", chunk, err)
	}
	attr := labelAttribute(sp)
	type answer struct {
		WorkerID       string                     `json:"workerId"`
		AnswerContent  map[string]json.RawMessage `json:"answerContent"`
		SubmissionTime string                     `json:"submissionTime"`
	}
	type response struct {
		DatasetObjectID string   `json:"datasetObjectId"`
		Answers         []answer `json:"answers"`
	}
	type consolidated struct {
		DatasetObjectID        string `json:"datasetObjectId"`
		ConsolidatedAnnotation struct {
			Content map[string]json.RawMessage `json:"content"`
		} `json:"consolidatedAnnotation"`
	}
	var responses []response
	var merged []consolidated
	for i, l := range lines {
		r := response{DatasetObjectID: l.ID}
		at := l.Meta.CompletedAt.UTC().Format("2006-01-02T15:04:05.000Z")
		for j, w := range l.Meta.Annotators {
			if j < len(l.Meta.Answers) {
				r.Answers = append(r.Answers, answer{WorkerID: w, AnswerContent: map[string]json.RawMessage{attr: l.Meta.Answers[j]}, SubmissionTime: at})
			}
		}
		if l.Meta.Reviewer != "" {
			r.Answers = append(r.Answers, answer{WorkerID: l.Meta.Reviewer, AnswerContent: map[string]json.RawMessage{attr: l.Label}, SubmissionTime: at})
		}
		responses = append(responses, r)
		gt, err := formats.GroundTruthLine(l, attr, sp.Annotation.Taxonomy)
		if err != nil {
			return nil, invalidInput("chunk %d line %d: %v", chunk, i+1, err)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(gt, &fields); err != nil {
			return nil, err
		}
		c := consolidated{DatasetObjectID: l.ID}
		c.ConsolidatedAnnotation.Content = map[string]json.RawMessage{attr: fields[attr], attr + "-metadata": fields[attr+"-metadata"]}
		merged = append(merged, c)
	}
	var out []delivery.ManifestObject
	for _, f := range []struct {
		key, kind string
		v         any
	}{
		{layout.GroundTruthResponsesKey(target.Prefix, sp.ID, chunk), delivery.KindGroundTruthResponses, responses},
		{layout.GroundTruthConsolidatedKey(target.Prefix, sp.ID, chunk), delivery.KindGroundTruthConsolidated, merged},
	} {
		data, err := json.Marshal(f.v)
		if err != nil {
			return nil, err
		}
		obj, err := pr.put(ctx, b, f.key, f.kind, "application/json", append(data, '\n'), len(lines))
		if err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
	return out, nil
}

// labelAttribute is the Ground Truth attribute name; specs stored before it existed use "label".
func labelAttribute(sp spec.Project) string {
	if sp.Delivery.LabelAttribute == "" {
		return "label"
	}
	return sp.Delivery.LabelAttribute
}
