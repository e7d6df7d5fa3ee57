package formats

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Ground Truth task types written in <attr>-metadata.type.
const (
	gtTextClassification           = "groundtruth/text-classification"
	gtImageClassification          = "groundtruth/image-classification"
	gtTextClassificationMultilabel = "groundtruth/text-classification-multilabel"
	gtImageClassificationMultilbl  = "groundtruth/image-classification-multilabel"
	gtObjectDetection              = "groundtruth/object-detection"
	gtTextSpan                     = "groundtruth/text-span"
	gtCustom                       = "groundtruth/custom"

	// gtDateLayout is Ground Truth's creation-date: UTC, microseconds, no zone.
	gtDateLayout = "2006-01-02T15:04:05.000000"
	// gtDefaultDepth is the image depth written when the manifest gives none.
	gtDefaultDepth = 3
)

// GroundTruthManifest writes lines as a SageMaker Ground Truth output manifest (JSON Lines, each
// line ending in "\n") whose label attribute is attr. See GroundTruthLine.
func GroundTruthManifest(lines []Line, attr string, taxonomy []string) ([]byte, error) {
	if err := checkAttr(attr); err != nil {
		return nil, err
	}
	idx := classIndex(taxonomy)
	var out bytes.Buffer
	for i, l := range lines {
		b, err := groundTruthLine(l, attr, idx)
		if err != nil {
			return nil, lineError(l, i, "%v", err)
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

// GroundTruthLine returns the client's input line (Raw without "label" and "label-metadata",
// fields in their original order) followed by <attr> and <attr>-metadata as Ground Truth writes
// them. An input field already named <attr> or <attr>-metadata is replaced, as Ground Truth does.
//
//   - single-label: <attr> is the class index in the taxonomy; the metadata holds class-name,
//     confidence, type (groundtruth/text-classification, or groundtruth/image-classification for
//     lines with a source-ref), job-name, human-annotated and creation-date.
//   - multi-label: <attr> is the list of class indexes; the metadata holds class-map and
//     confidence-map (keyed by index, in the answer's order), type
//     (groundtruth/text-classification-multilabel or groundtruth/image-classification-multilabel),
//     job-name, human-annotated and creation-date.
//   - bounding-box: <attr> is {"image_size":[{"width","height","depth"}],"annotations":[{"class_id",
//     "left","top","width","height"}]}, in whole pixels as Ground Truth writes them (rounded to the
//     nearest); the metadata holds objects (one confidence per box), class-map, type
//     groundtruth/object-detection, job-name, human-annotated and creation-date. The image size
//     comes from the line's width/height or image_size fields and is required.
//   - named-entities: Ground Truth's named entity recognition output, <attr> being
//     {"annotations":{"labels":[{"label"}],"entities":[{"label","startOffset","endOffset"}]}} with
//     offsets in Unicode code points, labels the taxonomy (or, without one, the labels used);
//     the metadata holds entities (one confidence per entity), type groundtruth/text-span,
//     job-name, human-annotated and creation-date.
//   - any other type (transcription): <attr> is the answer as delivered and the metadata type is
//     groundtruth/custom, as a custom labelling task writes it.
//
// The shapes are those of the "Output Data" page of the SageMaker Ground Truth developer guide
// (sms-data-output).
//
// job-name is "labeling-job/<project>"; human-annotated is always "yes" (every LabelFlow label is
// given by people); creation-date is completed_at in UTC with microseconds. Per-class and per-box
// confidences are the line's confidence: LabelFlow scores an answer as a whole.
func GroundTruthLine(l Line, attr string, taxonomy []string) ([]byte, error) {
	if err := checkAttr(attr); err != nil {
		return nil, err
	}
	return groundTruthLine(l, attr, classIndex(taxonomy))
}

func checkAttr(attr string) error {
	switch {
	case attr == "":
		return errors.New("ground truth: the label attribute name is empty")
	case strings.Contains(attr, "-metadata"):
		return fmt.Errorf("ground truth: the label attribute name %q may not contain \"-metadata\"", attr)
	case strings.HasSuffix(attr, "-ref"):
		return fmt.Errorf("ground truth: the label attribute name %q may not end in \"-ref\"", attr)
	}
	return nil
}

func groundTruthLine(l Line, attr string, idx map[string]int) ([]byte, error) {
	fields, err := originalFields(l)
	if err != nil {
		return nil, err
	}
	metaAttr := attr + "-metadata"
	out := make(object, 0, len(fields)+2)
	for _, f := range fields {
		if f.key != attr && f.key != metaAttr {
			out = append(out, f)
		}
	}
	value, meta, err := groundTruthLabel(l, idx)
	if err != nil {
		return nil, err
	}
	out.setRaw(attr, value)
	mb, err := marshal(meta)
	if err != nil {
		return nil, err
	}
	out.setRaw(metaAttr, mb)
	return marshal(out)
}

// groundTruthLabel returns the label value and its metadata.
func groundTruthLabel(l Line, idx map[string]int) (json.RawMessage, object, error) {
	switch l.Meta.Type {
	case TypeSingleLabel:
		return gtSingleLabel(l, idx)
	case TypeMultiLabel:
		return gtMultiLabel(l, idx)
	case TypeBoundingBox:
		return gtBoundingBoxes(l, idx)
	case TypeNamedEntities:
		return gtEntities(l, idx)
	default:
		return gtCustomLabel(l)
	}
}

// gtCommon appends the metadata members every label type ends with, in Ground Truth's order.
func gtCommon(meta *object, l Line, typ string) {
	_ = meta.set("type", typ)
	_ = meta.set("job-name", "labeling-job/"+l.Meta.Project)
	_ = meta.set("human-annotated", "yes")
	_ = meta.set("creation-date", l.Meta.CompletedAt.UTC().Format(gtDateLayout))
}

// gtClassID is the index of class in the taxonomy: Ground Truth writes classes by number, so a
// class outside the taxonomy (or any class, without one) cannot be written.
func gtClassID(idx map[string]int, class string) (int, error) {
	i, ok := idx[class]
	if !ok {
		return 0, fmt.Errorf("class %q is not in the taxonomy", class)
	}
	return i, nil
}

// gtTaskType picks the text or the image variant of a classification task type: lines with a
// source-ref are images.
func gtTaskType(l Line, text, image string) string {
	if l.SourceRef != "" {
		return image
	}
	return text
}

func gtSingleLabel(l Line, idx map[string]int) (json.RawMessage, object, error) {
	class, err := decodeSingle(l)
	if err != nil {
		return nil, nil, err
	}
	i, err := gtClassID(idx, class)
	if err != nil {
		return nil, nil, err
	}
	var meta object
	_ = meta.set("class-name", class)
	_ = meta.set("confidence", l.Meta.Confidence)
	gtCommon(&meta, l, gtTaskType(l, gtTextClassification, gtImageClassification))
	return json.RawMessage(strconv.Itoa(i)), meta, nil
}

func gtMultiLabel(l Line, idx map[string]int) (json.RawMessage, object, error) {
	classes, err := decodeMulti(l)
	if err != nil {
		return nil, nil, err
	}
	indexes := make([]int, 0, len(classes))
	var classMap, confMap object
	seen := map[int]bool{}
	for _, c := range classes {
		i, err := gtClassID(idx, c)
		if err != nil {
			return nil, nil, err
		}
		indexes = append(indexes, i)
		if !seen[i] {
			seen[i] = true
			k := strconv.Itoa(i)
			_ = classMap.set(k, c)
			_ = confMap.set(k, l.Meta.Confidence)
		}
	}
	var meta object
	_ = meta.set("class-map", orEmpty(classMap))
	_ = meta.set("confidence-map", orEmpty(confMap))
	gtCommon(&meta, l, gtTaskType(l, gtTextClassificationMultilabel, gtImageClassificationMultilbl))
	v, err := marshal(indexes)
	return v, meta, err
}

// gtBoxesValue is the <attr> value of an object-detection line.
type gtBoxesValue struct {
	ImageSize   []gtSize       `json:"image_size"`
	Annotations []gtAnnotation `json:"annotations"`
}

type gtSize struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	Depth  int `json:"depth"`
}

type gtAnnotation struct {
	ClassID int `json:"class_id"`
	Left    int `json:"left"`
	Top     int `json:"top"`
	Width   int `json:"width"`
	Height  int `json:"height"`
}

// pixelsOf rounds a box to whole pixels, as Ground Truth's bounding box tool records them.
func pixelsOf(b box) (left, top, width, height int) {
	r := func(n json.Number) int { return int(math.Round(num(n))) }
	return r(b.Left), r(b.Top), r(b.Width), r(b.Height)
}

type gtObject struct {
	Confidence float64 `json:"confidence"`
}

func gtBoundingBoxes(l Line, idx map[string]int) (json.RawMessage, object, error) {
	boxes, err := decodeBoxes(l)
	if err != nil {
		return nil, nil, err
	}
	size, err := knownSize(l)
	if err != nil {
		return nil, nil, err
	}
	if size.Depth == 0 {
		size.Depth = gtDefaultDepth
	}
	value := gtBoxesValue{ImageSize: []gtSize{{size.Width, size.Height, size.Depth}}, Annotations: []gtAnnotation{}}
	objects := []gtObject{}
	var classMap object
	seen := map[int]bool{}
	for n, b := range boxes {
		i, err := gtClassID(idx, b.Label)
		if err != nil {
			return nil, nil, fmt.Errorf("boxes[%d]: %v", n, err)
		}
		left, top, width, height := pixelsOf(b)
		value.Annotations = append(value.Annotations, gtAnnotation{i, left, top, width, height})
		objects = append(objects, gtObject{l.Meta.Confidence})
		if !seen[i] {
			seen[i] = true
			_ = classMap.set(strconv.Itoa(i), b.Label)
		}
	}
	var meta object
	_ = meta.set("objects", objects)
	_ = meta.set("class-map", orEmpty(classMap))
	gtCommon(&meta, l, gtObjectDetection)
	v, err := marshal(value)
	return v, meta, err
}

// gtEntitiesValue is the <attr> value of a named-entity line.
type gtEntitiesValue struct {
	Annotations struct {
		Labels   []gtEntityLabel `json:"labels"`
		Entities []gtEntity      `json:"entities"`
	} `json:"annotations"`
}

type gtEntityLabel struct {
	Label string `json:"label"`
}

type gtEntity struct {
	Label       string `json:"label"`
	StartOffset int    `json:"startOffset"`
	EndOffset   int    `json:"endOffset"`
}

func gtEntities(l Line, idx map[string]int) (json.RawMessage, object, error) {
	spans, err := decodeSpans(l)
	if err != nil {
		return nil, nil, err
	}
	var value gtEntitiesValue
	value.Annotations.Labels = gtEntityLabels(spans, idx)
	value.Annotations.Entities = []gtEntity{}
	confidences := []gtObject{}
	for k, sp := range spans {
		if _, ok := idx[sp.Label]; !ok && len(idx) > 0 {
			return nil, nil, fmt.Errorf("spans[%d]: class %q is not in the taxonomy", k, sp.Label)
		}
		value.Annotations.Entities = append(value.Annotations.Entities, gtEntity{sp.Label, sp.Start, sp.End})
		confidences = append(confidences, gtObject{l.Meta.Confidence})
	}
	var meta object
	_ = meta.set("entities", confidences)
	gtCommon(&meta, l, gtTextSpan)
	v, err := marshal(value)
	return v, meta, err
}

// gtEntityLabels lists the job's labels: the taxonomy in its order, or the labels the spans use.
func gtEntityLabels(spans []span, idx map[string]int) []gtEntityLabel {
	out := []gtEntityLabel{}
	seen := map[string]bool{}
	add := func(label string) {
		if !seen[label] {
			seen[label] = true
			out = append(out, gtEntityLabel{label})
		}
	}
	if len(idx) > 0 {
		names := make([]string, 0, len(idx))
		for name := range idx {
			names = append(names, name)
		}
		slices.SortFunc(names, func(a, b string) int { return idx[a] - idx[b] })
		for _, n := range names {
			add(n)
		}
		return out
	}
	for _, sp := range spans {
		add(sp.Label)
	}
	return out
}

// gtCustomLabel writes an answer Ground Truth has no form for as it was delivered.
func gtCustomLabel(l Line) (json.RawMessage, object, error) {
	var c bytes.Buffer
	if err := json.Compact(&c, l.Label); err != nil {
		return nil, nil, fmt.Errorf("label: %v", err)
	}
	var meta object
	_ = meta.set("confidence", l.Meta.Confidence)
	gtCommon(&meta, l, gtCustom)
	return c.Bytes(), meta, nil
}

func orEmpty(o object) object {
	if o == nil {
		return object{}
	}
	return o
}
