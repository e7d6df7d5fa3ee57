package quality

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
)

// AnnotatorStats is what one person did in one chunk (or, summed, in a project).
type AnnotatorStats struct {
	Answers int `json:"answers"` // annotations given
	// Accepted counts annotations that match the final label (agreed, or sided with the reviewer).
	Accepted int `json:"accepted"`
	// Disputed counts annotations on items that went to arbitration; Overruled those the reviewer
	// decided against.
	Disputed    int   `json:"disputed"`
	Overruled   int   `json:"overruled"`
	Arbitrated  int   `json:"arbitrated"` // items this person settled as reviewer
	Seconds     int64 `json:"seconds"`
	FirstPassOK int   `json:"first_pass_ok"` // annotations on items settled by agreement
	GoldAnswers int   `json:"gold_answers"`
	GoldCorrect int   `json:"gold_correct"` // gold answers that agree with the known answer
	// GoldArbitrations counts disputed gold items this person settled as reviewer (unknowingly:
	// they look like any other), GoldArbitrationsCorrect those settled with the known answer.
	// They are what measures a reviewer's accuracy.
	GoldArbitrations        int `json:"gold_arbitrations"`
	GoldArbitrationsCorrect int `json:"gold_arbitrations_correct"`
}

// Add sums o into s.
func (s *AnnotatorStats) Add(o AnnotatorStats) {
	s.Answers += o.Answers
	s.Accepted += o.Accepted
	s.Disputed += o.Disputed
	s.Overruled += o.Overruled
	s.Arbitrated += o.Arbitrated
	s.Seconds += o.Seconds
	s.FirstPassOK += o.FirstPassOK
	s.GoldAnswers += o.GoldAnswers
	s.GoldCorrect += o.GoldCorrect
	s.GoldArbitrations += o.GoldArbitrations
	s.GoldArbitrationsCorrect += o.GoldArbitrationsCorrect
}

// Tasks is how many pieces of work the person's seconds were spent on.
func (s AnnotatorStats) Tasks() int {
	return s.Answers + s.Arbitrated + s.GoldAnswers + s.GoldArbitrations
}

// ChunkStats is a chunk's contribution to the project's quality report, kept per chunk in the
// store (layout.StatsKey).
type ChunkStats struct {
	Chunk      int `json:"chunk"`
	Items      int `json:"items"`
	Agreed     int `json:"agreed"`
	Arbitrated int `json:"arbitrated"`
	Overlap    int `json:"settled_by_overlap"` // settled by asking more annotators
	Gold       int `json:"gold"`               // gold items answered
	// Calibration bins gold items by the confidence their label would have been delivered with
	// (bin i holds [i/10, (i+1)/10)) and counts how many of those labels were right.
	Calibration CalibrationBins `json:"calibration"`
	// ModelCalibration bins them by the model's own confidence, before the recalibration on the
	// project's earlier gold (NewRecalibration): what the next recalibration is fitted on.
	// Chunks recorded before delivered confidence was recalibrated have none; theirs was the
	// model's.
	ModelCalibration CalibrationBins           `json:"model_calibration"`
	Agreement        float64                   `json:"agreement"` // mean agreement measure of the first two answers
	People           map[string]AnnotatorStats `json:"people"`
}

// CalibrationBin counts gold items whose would-be confidence fell in the bin, how many of their
// would-be labels were right, and the sum of their confidences (for the bin's mean).
type CalibrationBin struct {
	Items         int     `json:"items"`
	Correct       int     `json:"correct"`
	ConfidenceSum float64 `json:"confidence_sum"`
}

// CalibrationBins are the ten bins of a calibration on gold, one per tenth of confidence.
type CalibrationBins [10]CalibrationBin

// Count counts a gold item whose label had confidence, and whether that label was right.
func (c *CalibrationBins) Count(confidence float64, correct bool) {
	c[calibrationBin(confidence)].add(confidence, correct)
}

// Add adds the counts of o.
func (c *CalibrationBins) Add(o CalibrationBins) {
	for i := range c {
		c[i].Items += o[i].Items
		c[i].Correct += o[i].Correct
		c[i].ConfidenceSum += o[i].ConfidenceSum
	}
}

// Items is the number of gold items counted.
func (c CalibrationBins) Items() int {
	n := 0
	for _, b := range c {
		n += b.Items
	}
	return n
}

// Valid reports whether the bins could have come from counting at most maxItems gold items: no
// negative count, no more right than counted, and each bin's confidences inside its tenth. A
// report of bins that fails it is not counted.
func (c CalibrationBins) Valid(maxItems int) bool {
	for i, b := range c {
		n := float64(b.Items)
		low, high := float64(i)/10, float64(i+1)/10
		if i == len(c)-1 {
			high = 1
		}
		if b.Items < 0 || b.Correct < 0 || b.Correct > b.Items || b.ConfidenceSum < low*n-1e-9 || b.ConfidenceSum > high*n+1e-9 {
			return false
		}
	}
	return c.Items() <= maxItems
}

// Calibrate counts a gold item whose label would have been delivered with confidence (the model's
// raw confidence, recalibrated) and whether that label was right.
func (c *ChunkStats) Calibrate(confidence, raw float64, correct bool) {
	c.Calibration.Count(confidence, correct)
	c.ModelCalibration.Count(raw, correct)
}

// Model is the chunk's calibration of the model's own confidence.
func (c ChunkStats) Model() CalibrationBins {
	if c.ModelCalibration.Items() == 0 {
		return c.Calibration // recorded before recalibration: delivered was the model's
	}
	return c.ModelCalibration
}

func calibrationBin(confidence float64) int { return min(max(int(confidence*10), 0), 9) }

func (b *CalibrationBin) add(confidence float64, correct bool) {
	b.Items++
	b.ConfidenceSum += confidence
	if correct {
		b.Correct++
	}
}

// Report is delivered with a project's results and printed by `project quality`.
type Report struct {
	Project         string  `json:"project"`
	AnnotationType  string  `json:"annotation_type"`
	Items           int     `json:"items"`
	Agreed          int     `json:"agreed"`
	Arbitrated      int     `json:"arbitrated"`
	Overlap         int     `json:"settled_by_overlap"`
	ArbitrationRate float64 `json:"arbitration_rate"`
	Agreement       float64 `json:"agreement"` // mean over items
	FirstPassRate   float64 `json:"first_pass_acceptance"`
	GoldAccuracy    float64 `json:"gold_accuracy"` // share of gold answers that were right
	// Calibration: on gold items, the confidence a label would have been delivered with against
	// how often it was right, by tenths of confidence. Each chunk's confidence was recalibrated on
	// the gold of the chunks finished before it started, never on its own.
	Calibration CalibrationBins `json:"calibration_on_gold"`
	// ModelCalibration is the same for the model's confidence before recalibration.
	ModelCalibration CalibrationBins           `json:"model_calibration_on_gold"`
	SecondsPerTask   float64                   `json:"seconds_per_task"`
	Chunks           []ChunkStats              `json:"chunks"`
	People           map[string]AnnotatorStats `json:"people"`
}

// ReadReport reads a finished project's quality report; store.ErrNotFound until its delivery
// completes.
func ReadReport(ctx context.Context, s *store.Store, project string) (Report, error) {
	var r Report
	err := s.GetJSON(ctx, layout.QualityReportKey(project), &r)
	return r, err
}

// readWidth is how many chunk figures BuildReport reads side by side.
const readWidth = 16

// BuildReport sums the figures the project's chunks stored (layout.StatsKey), in chunk order.
func BuildReport(ctx context.Context, s *store.Store, sp spec.Project, chunks int) (Report, error) {
	r := Report{Project: sp.ID, AnnotationType: sp.Annotation.Type, People: map[string]AnnotatorStats{}}
	stats := make([]ChunkStats, chunks)
	if err := store.Parallel(chunks, readWidth, func(c int) error {
		return s.GetJSON(ctx, layout.StatsKey(sp.ID, c), &stats[c])
	}); err != nil {
		return r, err
	}
	agreement := 0.0
	for _, st := range stats {
		r.addChunk(st)
		agreement += st.Agreement * float64(st.Items)
	}
	r.rates(agreement)
	return r, nil
}

// addChunk adds a chunk's figures; its people are summed into the report's, not repeated per
// chunk.
func (r *Report) addChunk(st ChunkStats) {
	for w, p := range st.People {
		q := r.People[w]
		q.Add(p)
		r.People[w] = q
	}
	st.People = nil
	r.Chunks = append(r.Chunks, st)
	r.Calibration.Add(st.Calibration)
	r.ModelCalibration.Add(st.Model())
	r.Items += st.Items
	r.Agreed += st.Agreed
	r.Arbitrated += st.Arbitrated
	r.Overlap += st.Overlap
}

// rates derives the report's shares from its counts; agreement is the items' summed agreement.
func (r *Report) rates(agreement float64) {
	if r.Items > 0 {
		r.Agreement = Round4(agreement / float64(r.Items))
		r.ArbitrationRate = Round4(float64(r.Arbitrated) / float64(r.Items))
		r.FirstPassRate = Round4(float64(r.Agreed) / float64(r.Items))
	}
	tasks, seconds, goldAnswers, goldCorrect := 0, int64(0), 0, 0
	for _, p := range r.People {
		tasks += p.Tasks()
		seconds += p.Seconds
		goldAnswers += p.GoldAnswers
		goldCorrect += p.GoldCorrect
	}
	if tasks > 0 {
		r.SecondsPerTask = Round4(float64(seconds) / float64(tasks))
	}
	if goldAnswers > 0 {
		r.GoldAccuracy = Round4(float64(goldCorrect) / float64(goldAnswers))
	}
}

// ReportCSV renders the per-person part of a report.
func ReportCSV(r Report) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"person", "answers", "accepted", "acceptance", "disputed", "overruled", "arbitrated", "gold_answers", "gold_accuracy", "seconds_per_task",
		"gold_arbitrations", "gold_arbitration_accuracy"})
	people := make([]string, 0, len(r.People))
	for p := range r.People {
		people = append(people, p)
	}
	sort.Strings(people)
	for _, id := range people {
		p := r.People[id]
		w.Write([]string{id, strconv.Itoa(p.Answers), strconv.Itoa(p.Accepted), fmt.Sprintf("%.4f", share(p.Accepted, p.Answers)), strconv.Itoa(p.Disputed),
			strconv.Itoa(p.Overruled), strconv.Itoa(p.Arbitrated), strconv.Itoa(p.GoldAnswers), shareOrBlank(p.GoldCorrect, p.GoldAnswers),
			fmt.Sprintf("%.1f", share(int(p.Seconds), p.Tasks())), strconv.Itoa(p.GoldArbitrations), shareOrBlank(p.GoldArbitrationsCorrect, p.GoldArbitrations)})
	}
	w.Flush()
	return b.Bytes()
}

// share is part/whole, 0 when whole is 0.
func share(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// shareOrBlank is part/whole to four places, blank when there is nothing to measure.
func shareOrBlank(part, whole int) string {
	if whole == 0 {
		return ""
	}
	return fmt.Sprintf("%.4f", share(part, whole))
}

// Round4 rounds a figure to four decimal places, as reports and label metadata show them.
func Round4(f float64) float64 { return float64(int64(f*10000+0.5)) / 10000 }
