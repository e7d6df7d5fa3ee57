package formatcheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// The Ground Truth checks follow the SageMaker Ground Truth developer guide: "Output Data"
// (sms-data-output: the output manifest by task type, Worker Metadata) and the Crowd HTML
// Elements reference (each element's output, which keys a worker response's answerContent).

// gtCreationDate is the creation-date form of Ground Truth's metadata ("2018-10-18T22:18:13.527256").
const gtCreationDate = "2006-01-02T15:04:05.000000"

// gtResponseTime is acceptanceTime and submissionTime: YYYY-MM-DDTHH:MM:SS.mmmZ.
const gtResponseTime = "2006-01-02T15:04:05.000Z"

// GroundTruthManifest checks an output manifest whose label attribute is attr: JSON Lines, each
// line an object holding attr and attr-metadata; the metadata has type, job-name,
// human-annotated ("yes" or "no") and creation-date in Ground Truth's form; and the label has
// the shape of its type: a class index (classification), a list of indexes with class-map and
// confidence-map (multi-label), {image_size, annotations} in whole pixels with one objects
// confidence per box and a class-map naming every class_id (object detection), or
// {annotations: {labels, entities}} with integer offsets and one entities confidence per entity
// (text-span, named entity recognition).
func GroundTruthManifest(data []byte, attr string) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1<<16), 1<<26)
	n := 0
	for sc.Scan() {
		n++
		if err := gtLine(sc.Bytes(), attr); err != nil {
			return fmt.Errorf("line %d: %v", n, err)
		}
	}
	if n == 0 {
		return fmt.Errorf("no lines")
	}
	return sc.Err()
}

func gtLine(line []byte, attr string) error {
	var l map[string]json.RawMessage
	if err := json.Unmarshal(line, &l); err != nil {
		return fmt.Errorf("not a JSON object: %v", err)
	}
	value, ok := l[attr]
	if !ok {
		return fmt.Errorf("no %q", attr)
	}
	var meta struct {
		Type           string             `json:"type"`
		JobName        string             `json:"job-name"`
		HumanAnnotated string             `json:"human-annotated"`
		CreationDate   string             `json:"creation-date"`
		ClassName      *string            `json:"class-name"`
		ClassMap       map[string]string  `json:"class-map"`
		ConfidenceMap  map[string]float64 `json:"confidence-map"`
		Objects        []gtConfidence     `json:"objects"`
		Entities       []gtConfidence     `json:"entities"`
	}
	if err := json.Unmarshal(l[attr+"-metadata"], &meta); err != nil {
		return fmt.Errorf("%s-metadata: %v", attr, err)
	}
	if meta.JobName == "" || (meta.HumanAnnotated != "yes" && meta.HumanAnnotated != "no") {
		return fmt.Errorf("metadata needs job-name and human-annotated yes or no")
	}
	if _, err := time.Parse(gtCreationDate, meta.CreationDate); err != nil {
		return fmt.Errorf("creation-date %q is not in Ground Truth's form", meta.CreationDate)
	}
	switch meta.Type {
	case "groundtruth/image-classification", "groundtruth/text-classification":
		var class int
		if err := json.Unmarshal(value, &class); err != nil || meta.ClassName == nil {
			return fmt.Errorf("a classification label is a class index, with class-name")
		}
	case "groundtruth/image-classification-multilabel", "groundtruth/text-classification-multilabel":
		var classes []int
		if err := json.Unmarshal(value, &classes); err != nil || meta.ClassMap == nil || meta.ConfidenceMap == nil {
			return fmt.Errorf("a multi-label label is a list of class indexes, with class-map and confidence-map")
		}
		for _, c := range classes {
			if _, ok := meta.ClassMap[fmt.Sprint(c)]; !ok {
				return fmt.Errorf("class %d is not in the class-map", c)
			}
		}
	case "groundtruth/object-detection":
		return gtBoxes(value, meta.ClassMap, len(meta.Objects))
	case "groundtruth/text-span":
		return gtEntities(value, len(meta.Entities))
	case "groundtruth/custom":
	default:
		return fmt.Errorf("type %q is not a Ground Truth task type LabelFlow writes", meta.Type)
	}
	return nil
}

type gtConfidence struct {
	Confidence *float64 `json:"confidence"`
}

func gtBoxes(value json.RawMessage, classMap map[string]string, objects int) error {
	var v struct {
		ImageSize   []struct{ Width, Height, Depth int } `json:"image_size"`
		Annotations []map[string]json.Number             `json:"annotations"`
	}
	if err := json.Unmarshal(value, &v); err != nil || len(v.ImageSize) != 1 {
		return fmt.Errorf("an object detection label is {image_size: [one size], annotations}")
	}
	if s := v.ImageSize[0]; s.Width <= 0 || s.Height <= 0 || s.Depth <= 0 {
		return fmt.Errorf("image_size %+v", s)
	}
	if objects != len(v.Annotations) {
		return fmt.Errorf("%d objects confidences for %d boxes", objects, len(v.Annotations))
	}
	for k, a := range v.Annotations {
		for _, key := range []string{"class_id", "left", "top", "width", "height"} {
			if _, err := a[key].Int64(); err != nil {
				return fmt.Errorf("annotations[%d].%s = %q: Ground Truth writes whole pixels", k, key, a[key])
			}
		}
		if _, ok := classMap[a["class_id"].String()]; !ok {
			return fmt.Errorf("annotations[%d]: class_id %s is not in the class-map", k, a["class_id"])
		}
	}
	return nil
}

func gtEntities(value json.RawMessage, confidences int) error {
	var v struct {
		Annotations *struct {
			Labels   []struct{ Label string }
			Entities []struct {
				Label       string
				StartOffset *int `json:"startOffset"`
				EndOffset   *int `json:"endOffset"`
			}
		} `json:"annotations"`
	}
	if err := json.Unmarshal(value, &v); err != nil || v.Annotations == nil {
		return fmt.Errorf("a named entity label is {annotations: {labels, entities}}")
	}
	labels := map[string]bool{}
	for _, l := range v.Annotations.Labels {
		labels[l.Label] = true
	}
	if confidences != len(v.Annotations.Entities) {
		return fmt.Errorf("%d entities confidences for %d entities", confidences, len(v.Annotations.Entities))
	}
	for k, e := range v.Annotations.Entities {
		if e.StartOffset == nil || e.EndOffset == nil || *e.StartOffset < 0 || *e.EndOffset <= *e.StartOffset {
			return fmt.Errorf("entities[%d]: startOffset and endOffset must be integers, start before end", k)
		}
		if !labels[e.Label] {
			return fmt.Errorf("entities[%d]: label %q is not in labels", k, e.Label)
		}
	}
	return nil
}

// GroundTruthWorkerResponses checks a file of worker responses: a list of objects, each with a
// datasetObjectId and answers; each answer has acceptanceTime and submissionTime in Ground
// Truth's form, the first not after the second, timeSpentInSeconds, a workerId and
// answerContent holding one crowd element's output in that element's shape. It returns the
// answers, for callers that check more of them.
func GroundTruthWorkerResponses(data []byte) ([]GroundTruthAnswer, error) {
	var entries []struct {
		DatasetObjectID *string             `json:"datasetObjectId"`
		Answers         []GroundTruthAnswer `json:"answers"`
	}
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("not a list of worker responses: %v", err)
	}
	var all []GroundTruthAnswer
	for i, e := range entries {
		if e.DatasetObjectID == nil {
			return nil, fmt.Errorf("response %d: no datasetObjectId", i)
		}
		for k, a := range e.Answers {
			if err := a.check(); err != nil {
				return nil, fmt.Errorf("response %d, answer %d: %v", i, k, err)
			}
			all = append(all, a)
		}
	}
	return all, nil
}

// GroundTruthAnswer is one worker's answer in a worker response.
type GroundTruthAnswer struct {
	AcceptanceTime     string                     `json:"acceptanceTime"`
	SubmissionTime     string                     `json:"submissionTime"`
	TimeSpentInSeconds *float64                   `json:"timeSpentInSeconds"`
	WorkerID           string                     `json:"workerId"`
	AnswerContent      map[string]json.RawMessage `json:"answerContent"`
}

func (a GroundTruthAnswer) check() error {
	accepted, err := time.Parse(gtResponseTime, a.AcceptanceTime)
	if err != nil {
		return fmt.Errorf("acceptanceTime %q is not YYYY-MM-DDTHH:MM:SS.mmmZ", a.AcceptanceTime)
	}
	submitted, err := time.Parse(gtResponseTime, a.SubmissionTime)
	if err != nil {
		return fmt.Errorf("submissionTime %q is not YYYY-MM-DDTHH:MM:SS.mmmZ", a.SubmissionTime)
	}
	if submitted.Before(accepted) {
		return fmt.Errorf("submitted at %s, before it was accepted at %s", a.SubmissionTime, a.AcceptanceTime)
	}
	if a.TimeSpentInSeconds == nil || *a.TimeSpentInSeconds < 0 || a.WorkerID == "" {
		return fmt.Errorf("timeSpentInSeconds and workerId are required")
	}
	if len(a.AnswerContent) != 1 {
		return fmt.Errorf("answerContent holds %d elements' outputs, want one", len(a.AnswerContent))
	}
	for elem, out := range a.AnswerContent {
		if err := gtElementOutput(elem, out); err != nil {
			return fmt.Errorf("answerContent.%s: %v", elem, err)
		}
	}
	return nil
}

// gtElementOutput checks an element's output against the Crowd HTML Elements reference.
func gtElementOutput(elem string, out json.RawMessage) error {
	strict := func(v any) error {
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.DisallowUnknownFields()
		return dec.Decode(v)
	}
	switch elem {
	case "crowd-classifier", "crowd-image-classifier":
		var v struct{ Label *string }
		if err := strict(&v); err != nil || v.Label == nil {
			return fmt.Errorf(`want {"label": class}`)
		}
	case "crowd-classifier-multi-select", "crowd-image-classifier-multi-select":
		var v struct{ Labels []string }
		if err := strict(&v); err != nil || v.Labels == nil {
			return fmt.Errorf(`want {"labels": [classes]}`)
		}
	case "boundingBox":
		var v struct {
			BoundingBoxes []struct {
				Height, Left, Top, Width int
				Label                    string
			} `json:"boundingBoxes"`
			InputImageProperties *struct{ Height, Width int } `json:"inputImageProperties"`
		}
		if err := strict(&v); err != nil || v.BoundingBoxes == nil || v.InputImageProperties == nil {
			return fmt.Errorf("want {boundingBoxes: [{height, label, left, top, width} in whole pixels], inputImageProperties}: %v", err)
		}
	case "crowd-entity-annotation":
		var v struct {
			Entities []struct {
				EndOffset   int `json:"endOffset"`
				Label       string
				StartOffset int `json:"startOffset"`
			}
		}
		if err := strict(&v); err != nil || v.Entities == nil {
			return fmt.Errorf("want {entities: [{endOffset, label, startOffset}]}: %v", err)
		}
	case "transcription":
		var s string
		if err := json.Unmarshal(out, &s); err != nil {
			return fmt.Errorf("a crowd-text-area's output is its text")
		}
	default:
		return fmt.Errorf("no crowd element of LabelFlow's task types is named %q", elem)
	}
	return nil
}
