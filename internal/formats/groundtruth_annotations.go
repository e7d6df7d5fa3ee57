package formats

import (
	"encoding/json"
	"fmt"
	"math"
)

// Ground Truth writes, beside its output manifest, each worker's response
// (annotations/worker-response) and the consolidated labels (annotations/consolidated-annotation).
// The shapes follow the SageMaker Ground Truth developer guide: "Output Data" (Worker Metadata:
// acceptanceTime and submissionTime as YYYY-MM-DDTHH:MM:SS.mmmZ, timeSpentInSeconds, workerId,
// workerMetadata) and the output of each built-in task's crowd element in the Crowd HTML Elements
// reference, keyed by the element's name as its worker task template names it. Ground Truth
// keeps one file per data object; LabelFlow keeps one per chunk, an array of the objects'
// entries, each with its datasetObjectId.

// gtTimeLayout is the worker response's time form: UTC with milliseconds.
const gtTimeLayout = "2006-01-02T15:04:05.000Z"

// Names of the crowd elements in Ground Truth's built-in worker task templates, which key the
// answerContent of a response.
const (
	gtElemTextClassifier       = "crowd-classifier"
	gtElemImageClassifier      = "crowd-image-classifier"
	gtElemTextMultiClassifier  = "crowd-classifier-multi-select"
	gtElemImageMultiClassifier = "crowd-image-classifier-multi-select"
	gtElemBoundingBox          = "boundingBox"
	gtElemEntities             = "crowd-entity-annotation"
	// gtElemTranscription names the crowd-text-area of a custom transcription template: Ground
	// Truth has no built-in transcription task.
	gtElemTranscription = "transcription"
)

type gtResponse struct {
	DatasetObjectID string     `json:"datasetObjectId"`
	Answers         []gtAnswer `json:"answers"`
}

type gtAnswer struct {
	AcceptanceTime     string          `json:"acceptanceTime"`
	AnswerContent      object          `json:"answerContent"`
	SubmissionTime     string          `json:"submissionTime"`
	TimeSpentInSeconds float64         `json:"timeSpentInSeconds"`
	WorkerID           string          `json:"workerId"`
	WorkerMetadata     json.RawMessage `json:"workerMetadata"` // null: no Cognito or OIDC identity to give
}

type gtBoxAnswer struct {
	Height int    `json:"height"`
	Label  string `json:"label"`
	Left   int    `json:"left"`
	Top    int    `json:"top"`
	Width  int    `json:"width"`
}

type gtImageProperties struct {
	Height int `json:"height"`
	Width  int `json:"width"`
}

type gtEntityAnswer struct {
	EndOffset   int    `json:"endOffset"`
	Label       string `json:"label"`
	StartOffset int    `json:"startOffset"`
}

// GroundTruthWorkerResponses writes the worker responses of lines: for each line, every
// annotator's answer and then the reviewer's (the delivered label), each with the person's
// pseudonym as workerId (the lines carry pseudonyms by then), the times they took the answer up
// and submitted it, the seconds it took, and answerContent in the shape of Ground Truth's own
// element for the task type.
func GroundTruthWorkerResponses(lines []Line) ([]byte, error) {
	out := make([]gtResponse, 0, len(lines))
	for i, l := range lines {
		r, err := gtResponseOf(l)
		if err != nil {
			return nil, lineError(l, i, "%v", err)
		}
		out = append(out, r)
	}
	return marshal(out)
}

func gtResponseOf(l Line) (gtResponse, error) {
	r := gtResponse{DatasetObjectID: l.ID, Answers: []gtAnswer{}}
	add := func(k int, worker string, answer json.RawMessage) error {
		content, err := gtAnswerContent(l, answer)
		if err != nil {
			return fmt.Errorf("answer %d: %v", k+1, err)
		}
		t := answerTime(l.Meta, k)
		r.Answers = append(r.Answers, gtAnswer{
			AcceptanceTime:     t.AcceptedAt.UTC().Format(gtTimeLayout),
			AnswerContent:      content,
			SubmissionTime:     t.SubmittedAt.UTC().Format(gtTimeLayout),
			TimeSpentInSeconds: math.Max(0, float64(t.Seconds)),
			WorkerID:           worker,
			WorkerMetadata:     json.RawMessage("null"),
		})
		return nil
	}
	for k, w := range l.Meta.Annotators {
		if k >= len(l.Meta.Answers) {
			break
		}
		if err := add(k, w, l.Meta.Answers[k]); err != nil {
			return r, err
		}
	}
	if l.Meta.Reviewer != "" {
		if err := add(len(l.Meta.Annotators), l.Meta.Reviewer, l.Label); err != nil {
			return r, err
		}
	}
	return r, nil
}

// gtAnswerContent is one answer as Ground Truth's element for the line's type records it.
func gtAnswerContent(l Line, answer json.RawMessage) (object, error) {
	a := l
	a.Label = answer
	var content object
	var err error
	switch l.Meta.Type {
	case TypeSingleLabel:
		var class string
		if class, err = decodeSingle(a); err == nil {
			err = content.set(gtTaskType(l, gtElemTextClassifier, gtElemImageClassifier), map[string]string{"label": class})
		}
	case TypeMultiLabel:
		var classes []string
		if classes, err = decodeMulti(a); err == nil {
			err = content.set(gtTaskType(l, gtElemTextMultiClassifier, gtElemImageMultiClassifier), map[string][]string{"labels": classes})
		}
	case TypeBoundingBox:
		err = gtBoxContent(&content, a)
	case TypeNamedEntities:
		var spans []span
		if spans, err = decodeSpans(a); err == nil {
			entities := make([]gtEntityAnswer, 0, len(spans))
			for _, sp := range spans {
				entities = append(entities, gtEntityAnswer{EndOffset: sp.End, Label: sp.Label, StartOffset: sp.Start})
			}
			err = content.set(gtElemEntities, map[string][]gtEntityAnswer{"entities": entities})
		}
	case TypeTranscription:
		var text string
		if text, err = decodeTranscription(a); err == nil {
			err = content.set(gtElemTranscription, text)
		}
	default:
		content.setRaw("answer", answer)
	}
	return content, err
}

func gtBoxContent(content *object, a Line) error {
	boxes, err := decodeBoxes(a)
	if err != nil {
		return err
	}
	size, err := knownSize(a)
	if err != nil {
		return err
	}
	out := make([]gtBoxAnswer, 0, len(boxes))
	for _, b := range boxes {
		left, top, width, height := pixelsOf(b)
		out = append(out, gtBoxAnswer{Height: height, Label: b.Label, Left: left, Top: top, Width: width})
	}
	return content.set(gtElemBoundingBox, struct {
		BoundingBoxes        []gtBoxAnswer     `json:"boundingBoxes"`
		InputImageProperties gtImageProperties `json:"inputImageProperties"`
	}{out, gtImageProperties{Height: size.Height, Width: size.Width}})
}

type gtConsolidated struct {
	DatasetObjectID        string `json:"datasetObjectId"`
	ConsolidatedAnnotation struct {
		Content object `json:"content"`
	} `json:"consolidatedAnnotation"`
}

// GroundTruthConsolidated writes the consolidated labels of lines: for each line, its
// datasetObjectId and the <attr> and <attr>-metadata members of its output manifest line.
func GroundTruthConsolidated(lines []Line, attr string, taxonomy []string) ([]byte, error) {
	if err := checkAttr(attr); err != nil {
		return nil, err
	}
	idx := classIndex(taxonomy)
	out := make([]gtConsolidated, 0, len(lines))
	for i, l := range lines {
		value, meta, err := groundTruthLabel(l, idx)
		if err != nil {
			return nil, lineError(l, i, "%v", err)
		}
		c := gtConsolidated{DatasetObjectID: l.ID}
		c.ConsolidatedAnnotation.Content.setRaw(attr, value)
		if err := c.ConsolidatedAnnotation.Content.set(attr+"-metadata", meta); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return marshal(out)
}
