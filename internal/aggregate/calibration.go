package aggregate

// CalibrationBin is one tenth of the confidence scale: the tasks with a truth whose confidence
// fell in it, their mean confidence and how many of their labels were right.
type CalibrationBin struct {
	Low, High      float64 // the bin is [Low, High), the last one [0.9, 1]
	Tasks, Correct int
	MeanConfidence float64
}

// Accuracy is the share of the bin's labels that were right (0 for an empty bin).
func (b CalibrationBin) Accuracy() float64 {
	if b.Tasks == 0 {
		return 0
	}
	return float64(b.Correct) / float64(b.Tasks)
}

// Gap is the bin's accuracy minus its mean confidence: negative when the confidence promises
// more than the labels deliver.
func (b CalibrationBin) Gap() float64 { return b.Accuracy() - b.MeanConfidence }

// Calibration bins the tasks of r that have a truth by tenths of confidence.
func Calibration(r Result, truth map[string]string) [10]CalibrationBin {
	var bins [10]CalibrationBin
	for i := range bins {
		bins[i].Low, bins[i].High = float64(i)/10, float64(i+1)/10
	}
	for task, want := range truth {
		label, ok := r.Labels[task]
		if !ok {
			continue
		}
		c := r.Confidence[task]
		b := &bins[min(int(c*10), 9)]
		b.Tasks++
		b.MeanConfidence += c
		if label == want {
			b.Correct++
		}
	}
	for i := range bins {
		if bins[i].Tasks > 0 {
			bins[i].MeanConfidence /= float64(bins[i].Tasks)
		}
	}
	return bins
}
