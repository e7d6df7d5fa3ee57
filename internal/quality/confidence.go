// Package quality turns answers into confidence. Each answer weighs with its author's accuracy:
// their estimate from gold tasks and arbitration outcomes on earlier projects where the caller has
// one, otherwise the defaults below (reviewers higher than annotators). The posterior below is
// exact under that model.
package quality

import "slices"

// Default accuracies assumed for the posterior when a person's own is unknown.
const (
	DefaultAnnotatorAccuracy = 0.8
	DefaultReviewerAccuracy  = 0.9
)

// Vote is one answer, reduced to the class it names, with the voter's accuracy.
type Vote struct {
	Class    string
	Accuracy float64
}

// Posterior returns P(true class = class | votes) for a uniform prior over k classes, where a voter
// of accuracy p names the true class with probability p and each other class with (1-p)/(k-1).
func Posterior(class string, votes []Vote, k int) float64 {
	if k < 2 {
		return 1
	}
	// Only classes that received a vote, plus one representative of the unvoted ones, differ.
	// Classes in a fixed order: the sum below must not depend on map order (workflows call this).
	classes := []string{class}
	for _, v := range votes {
		if !slices.Contains(classes, v.Class) {
			classes = append(classes, v.Class)
		}
	}
	likelihood := func(c string) float64 {
		l := 1.0
		for _, v := range votes {
			if v.Class == c {
				l *= v.Accuracy
			} else {
				l *= (1 - v.Accuracy) / float64(k-1)
			}
		}
		return l
	}
	total := 0.0
	for _, c := range classes {
		total += likelihood(c)
	}
	if unvoted := k - len(classes); unvoted > 0 {
		total += float64(unvoted) * likelihood("\x00unvoted")
	}
	if total == 0 {
		return 0
	}
	return likelihood(class) / total
}
