package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// clientResults reads a chunk's recorded results as its client receives them: every person under
// their pseudonym for the client. Every delivered object is made from these.
func (a *Activities) clientResults(ctx context.Context, sp spec.Project, chunk int) ([]byte, error) {
	data, err := a.Store.Get(ctx, layout.ResultsKey(sp.ID, chunk))
	if err != nil {
		return nil, err
	}
	out, err := delivery.ClientResults(data, a.Pseudonyms, sp.Client)
	switch {
	case errors.Is(err, delivery.ErrNoPseudonyms):
		return nil, err // another worker, given the key, can deliver
	case err != nil:
		return nil, invalidInput("results of chunk %d: %v", chunk, err)
	}
	return out, nil
}

func (a *Activities) chunkLines(ctx context.Context, sp spec.Project, chunk int) ([]formats.Line, error) {
	data, err := a.clientResults(ctx, sp, chunk)
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
			lines, err := a.chunkLines(ctx, sp, c)
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
		lines, err := a.chunkLines(ctx, sp, c)
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

// encodeCOCO writes one COCO dataset, holding one chunk at a time (formats.WriteCOCO).
func (a *Activities) encodeCOCO(ctx context.Context, w io.Writer, sp spec.Project, chunks int) (int, error) {
	n, err := formats.WriteCOCO(w, chunks, sp.Annotation.Taxonomy, func(c int) ([]formats.Line, error) { return a.chunkLines(ctx, sp, c) })
	var bad *formats.ChunkError
	if errors.As(err, &bad) {
		return 0, invalidInput("coco, %v", err)
	}
	return n, err
}

// deliverGroundTruthAnnotations writes, beside the Ground Truth output manifest, the chunk's
// individual answers (annotations/worker-response) and consolidated labels
// (annotations/consolidated-annotation), one file per chunk rather than one per item. results
// are the client's copy (clientResults).
func (a *Activities) deliverGroundTruthAnnotations(ctx context.Context, pr *progress, b *clientbucket.Bucket, sp spec.Project, target spec.Delivery, chunk int, results []byte) ([]delivery.ManifestObject, error) {
	lines, err := formats.ParseLines(results)
	if err != nil {
		return nil, invalidInput("results of chunk %d: %v", chunk, err)
	}
	responses, err := formats.GroundTruthWorkerResponses(lines)
	if err != nil {
		return nil, invalidInput("chunk %d: %v", chunk, err)
	}
	merged, err := formats.GroundTruthConsolidated(lines, labelAttribute(sp), sp.Annotation.Taxonomy)
	if err != nil {
		return nil, invalidInput("chunk %d: %v", chunk, err)
	}
	var out []delivery.ManifestObject
	for _, f := range []struct {
		key, kind string
		data      []byte
	}{
		{layout.GroundTruthResponsesKey(target.Prefix, sp.ID, chunk), delivery.KindGroundTruthResponses, responses},
		{layout.GroundTruthConsolidatedKey(target.Prefix, sp.ID, chunk), delivery.KindGroundTruthConsolidated, merged},
	} {
		obj, err := pr.put(ctx, b, f.key, f.kind, "application/json", append(f.data, '\n'), len(lines))
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
