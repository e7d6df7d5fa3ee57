package quality

import (
	"fmt"
	"strings"
)

// CalibrationTolerance is how far, in share of items, a tenth of the confidence scale may be
// from the share of its labels that were right and still count as calibrated: 5 points.
const CalibrationTolerance = 0.05

// MinCalibrationItems is the fewest gold items a tenth needs to be judged: below it the share
// right is too noisy (its standard error is above 11 points at 20 items).
const MinCalibrationItems = 20

// CalibrationRow is one tenth of the confidence scale of a report's calibration on gold.
type CalibrationRow struct {
	Low, High      float64
	Items, Correct int
	MeanConfidence float64 // 0 for bins recorded before confidence sums were kept
	Right          float64 // share of the items whose label was right
	// Judged is set when the bin has MinCalibrationItems and a recorded mean confidence; Within
	// when it is then within CalibrationTolerance of Right.
	Judged, Within bool
}

// CalibrationRows are the non-empty tenths of the report's calibration on gold, lowest first.
func (r Report) CalibrationRows() []CalibrationRow { return r.Calibration.Rows() }

// Rows are the non-empty tenths, lowest first.
func (c CalibrationBins) Rows() []CalibrationRow {
	var rows []CalibrationRow
	for i, b := range c {
		if b.Items == 0 {
			continue
		}
		row := CalibrationRow{Low: float64(i) / 10, High: float64(i+1) / 10, Items: b.Items, Correct: b.Correct,
			MeanConfidence: b.ConfidenceSum / float64(b.Items), Right: float64(b.Correct) / float64(b.Items)}
		row.Judged = b.Items >= MinCalibrationItems && b.ConfidenceSum > 0
		row.Within = row.Judged && abs(row.Right-row.MeanConfidence) <= CalibrationTolerance
		rows = append(rows, row)
	}
	return rows
}

// Calibrated reports whether every judged tenth is within CalibrationTolerance; with no judged
// tenth there is nothing to say, and it reports false.
func (r Report) Calibrated() bool {
	judged := 0
	for _, row := range r.CalibrationRows() {
		if row.Judged {
			judged++
			if !row.Within {
				return false
			}
		}
	}
	return judged > 0
}

// FormatCalibration is the report's calibration on gold as `project quality` prints it: per
// tenth, the items, their mean confidence, the share right, and whether it is within 5 points;
// then the same for the model's confidence before recalibration, where it differs.
func FormatCalibration(r Report) string {
	rows := r.Calibration.Rows()
	if len(rows) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("  calibration on gold (delivered confidence → share right):\n")
	formatRows(&b, rows)
	if r.ModelCalibration.Items() > 0 && r.ModelCalibration != r.Calibration {
		b.WriteString("  before recalibration on earlier gold (the model's confidence → share right):\n")
		formatRows(&b, r.ModelCalibration.Rows())
	}
	return b.String()
}

func formatRows(b *strings.Builder, rows []CalibrationRow) {
	for _, row := range rows {
		verdict := fmt.Sprintf("fewer than %d items: not judged", MinCalibrationItems)
		switch {
		case row.Judged && row.Within:
			verdict = "within 5 points"
		case row.Judged:
			verdict = fmt.Sprintf("off by %+.1f points", 100*(row.Right-row.MeanConfidence))
		case row.MeanConfidence == 0:
			verdict = "no mean confidence recorded"
		}
		fmt.Fprintf(b, "    %.1f–%.1f: %d items, mean confidence %.3f, %.1f%% right (%s)\n",
			row.Low, row.High, row.Items, row.MeanConfidence, 100*row.Right, verdict)
	}
}

// Recalibration maps a raw confidence to the share of labels that were right at that confidence
// on gold: the pooled-adjacent-violators (isotonic) fit of the share right against the mean
// confidence of each tenth, each tenth's share first pulled toward its own mean confidence by
// recalibrationPrior pseudo-items so that a tenth with few gold items stays near the raw
// confidence, and linear between the tenths' means. It is how a delivered confidence can be
// made to mean what it says when the model's posteriors do not (answers that are not independent
// given the label: some items are hard for everyone).
type Recalibration struct {
	x, y []float64 // knots: mean confidence → share right, x increasing
}

// recalibrationPrior is the weight, in gold items, of a tenth's own mean confidence in its share
// right.
const recalibrationPrior = 5.0

// NewRecalibration fits a Recalibration to the report's calibration bins; with no bin holding a
// mean confidence it is the identity.
func NewRecalibration(bins CalibrationBins) Recalibration {
	type block struct{ x, y, w float64 }
	var blocks []block
	for _, b := range bins {
		if b.Items == 0 || b.ConfidenceSum == 0 {
			continue
		}
		n := float64(b.Items)
		mean := b.ConfidenceSum / n
		blocks = append(blocks, block{x: mean, y: (float64(b.Correct) + recalibrationPrior*mean) / (n + recalibrationPrior), w: n + recalibrationPrior})
		// Pool adjacent violators: merge while the last block is below the one before.
		for len(blocks) > 1 && blocks[len(blocks)-1].y < blocks[len(blocks)-2].y {
			a, c := blocks[len(blocks)-2], blocks[len(blocks)-1]
			w := a.w + c.w
			blocks = append(blocks[:len(blocks)-2], block{x: (a.x*a.w + c.x*c.w) / w, y: (a.y*a.w + c.y*c.w) / w, w: w})
		}
	}
	var r Recalibration
	for _, b := range blocks {
		r.x, r.y = append(r.x, b.x), append(r.y, b.y)
	}
	return r
}

// Apply maps a raw confidence: linear between the knots, and beyond the ends shifted as the
// nearest knot is.
func (r Recalibration) Apply(confidence float64) float64 {
	n := len(r.x)
	switch {
	case n == 0:
		return confidence
	case confidence <= r.x[0]:
		return clamp01(confidence + r.y[0] - r.x[0])
	case confidence >= r.x[n-1]:
		return clamp01(confidence + r.y[n-1] - r.x[n-1])
	}
	i := 1
	for r.x[i] < confidence {
		i++
	}
	u := (confidence - r.x[i-1]) / (r.x[i] - r.x[i-1])
	return clamp01(r.y[i-1] + u*(r.y[i]-r.y[i-1]))
}

func clamp01(x float64) float64 { return min(max(x, 0), 1) }

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
