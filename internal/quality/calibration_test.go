package quality

import (
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/aggregate"
)

func TestCalibrationRowsAndVerdicts(t *testing.T) {
	var st ChunkStats
	for i := range 40 {
		st.Calibrate(0.95, 0.95, i < 38) // 95% right at 0.95: within
	}
	for i := range 30 {
		st.Calibrate(0.85, 0.85, i < 18) // 60% right at 0.85: off by −25 points
	}
	st.Calibrate(0.35, 0.35, true) // one item: not judged
	r := Report{People: map[string]AnnotatorStats{}}
	r.addChunk(st)
	rows := r.CalibrationRows()
	if len(rows) != 3 || rows[0].Low != 0.3 || rows[0].Judged || !rows[2].Within || rows[1].Within || !rows[1].Judged {
		t.Fatalf("rows %+v", rows)
	}
	if math.Abs(rows[1].MeanConfidence-0.85) > 1e-9 || math.Abs(rows[1].Right-0.6) > 1e-9 {
		t.Fatalf("0.8 row %+v", rows[1])
	}
	if r.Calibrated() {
		t.Fatal("a tenth off by 25 points, and calibrated")
	}
	out := FormatCalibration(r)
	for _, want := range []string{"0.9–1.0: 40 items, mean confidence 0.950, 95.0% right (within 5 points)", "(off by -25.0 points)", "not judged"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if (Report{}).Calibrated() || FormatCalibration(Report{}) != "" {
		t.Fatal("an empty report is calibrated or prints a calibration")
	}
}

func TestRecalibrationIsMonotoneAndFollowsGold(t *testing.T) {
	var bins CalibrationBins
	fill := func(conf float64, items, correct int) {
		b := &bins[calibrationBin(conf)]
		b.Items, b.Correct, b.ConfidenceSum = items, correct, conf*float64(items)
	}
	fill(0.55, 100, 40) // 40% right
	fill(0.75, 100, 35) // 35%: below the tenth before, pooled with it
	fill(0.98, 1000, 700)
	r := NewRecalibration(bins)
	prev := -1.0
	for c := 0.0; c <= 1; c += 0.01 {
		v := r.Apply(c)
		if v < prev-1e-12 || v < 0 || v > 1 {
			t.Fatalf("Apply(%.2f) = %v after %v", c, v, prev)
		}
		prev = v
	}
	if v := r.Apply(0.98); math.Abs(v-(700+5*0.98)/1005) > 1e-9 {
		t.Errorf("Apply(0.98) = %v", v)
	}
	if id := NewRecalibration(CalibrationBins{}); id.Apply(0.42) != 0.42 {
		t.Error("an empty recalibration is not the identity")
	}
}

// On the shared real dataset the model's posteriors promise far more than they deliver (some
// faces are hard for everyone, so nine agreeing answers are not nine independent witnesses).
// Recalibrated on gold, half of the tasks, the other half's confidences are within 5 points per
// tenth wherever a tenth has data.
func TestRecalibrationOnGoldMakesRealConfidenceHonest(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "crowd", "face_sentiment")
	answers, err := read(filepath.Join(dir, "answers.csv"), aggregate.ReadAnswers)
	if err != nil {
		t.Skipf("no real crowd data: %v", err)
	}
	truth, err := read(filepath.Join(dir, "truth.csv"), aggregate.ReadTruth)
	if err != nil {
		t.Fatal(err)
	}
	res := aggregate.Best(answers)
	tasks := make([]string, 0, len(truth))
	for task := range truth {
		tasks = append(tasks, task)
	}
	sort.Strings(tasks)
	var gold, rest ChunkStats
	for i, task := range tasks {
		s := &gold
		if i%2 == 1 {
			s = &rest
		}
		s.Calibration.Count(res.Confidence[task], res.Labels[task] == truth[task])
	}
	raw := Report{Calibration: rest.Calibration}
	t.Logf("raw:\n%s", FormatCalibration(raw))
	if raw.Calibrated() {
		t.Fatal("the raw posteriors are calibrated: nothing to show")
	}
	recal := NewRecalibration(gold.Calibration)
	var fixed ChunkStats
	for i, task := range tasks {
		if i%2 == 1 {
			fixed.Calibration.Count(recal.Apply(res.Confidence[task]), res.Labels[task] == truth[task])
		}
	}
	after := Report{Calibration: fixed.Calibration}
	t.Logf("recalibrated on the other half:\n%s", FormatCalibration(after))
	if !after.Calibrated() {
		t.Error("recalibrated confidences are not within 5 points where there is data")
	}
}

func read[T any](path string, parse func(string, io.Reader) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return parse(path, f)
}

// A report sums the delivered and the model's calibration apart; a chunk recorded before
// recalibration delivered the model's confidence and counts as both.
func TestReportKeepsDeliveredAndModelCalibrationApart(t *testing.T) {
	var recalibrated, older ChunkStats
	for i := range 30 {
		recalibrated.Calibrate(0.62, 0.97, i < 19) // delivered 0.62, the model said 0.97
	}
	for i := range 10 {
		older.Calibration.Count(0.97, i < 6)
	}
	r := Report{People: map[string]AnnotatorStats{}}
	r.addChunk(recalibrated)
	r.addChunk(older)
	if r.Calibration[6].Items != 30 || r.Calibration[9].Items != 10 || r.ModelCalibration[9].Items != 40 || r.ModelCalibration[9].Correct != 25 {
		t.Fatalf("delivered %+v, model %+v", r.Calibration, r.ModelCalibration)
	}
	out := FormatCalibration(r)
	for _, want := range []string{"0.6–0.7: 30 items, mean confidence 0.620, 63.3% right (within 5 points)",
		"before recalibration", "0.9–1.0: 40 items, mean confidence 0.970, 62.5% right (off by -34.5 points)"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}
