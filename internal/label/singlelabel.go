package label

import (
	"encoding/json"
	"fmt"
	"slices"
)

// SingleLabel is single-label classification: the answer is one class name from the taxonomy,
// and two answers agree when they name the same class.
type SingleLabel struct{}

// SingleLabelName is the spec value for single-label classification.
const SingleLabelName = "single-label"

func init() { Register(SingleLabel{}) }

func (SingleLabel) Name() string { return SingleLabelName }

func (SingleLabel) CheckTaxonomy(taxonomy []string) error {
	if len(taxonomy) < 2 {
		return fmt.Errorf("needs at least 2 classes, got %d", len(taxonomy))
	}
	return checkClasses(taxonomy)
}

func (SingleLabel) Validate(a Answer, item Item) error {
	taxonomy := item.Taxonomy
	var s string
	if err := json.Unmarshal(a, &s); err != nil {
		return fmt.Errorf("label: must be a string naming one class, got %s", truncate(a))
	}
	if !slices.Contains(taxonomy, s) {
		return fmt.Errorf("label: %q is not in the taxonomy %v", s, taxonomy)
	}
	return nil
}

// Agreement is exact match: 1 for the same class, 0 otherwise.
func (SingleLabel) Agreement(a, b Answer) float64 {
	var x, y string
	if json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && x == y {
		return 1
	}
	return 0
}

// DefaultThreshold: only the same class agrees.
func (SingleLabel) DefaultThreshold() float64 { return 1 }

// Consolidate returns the class the agreeing answers share.
func (s SingleLabel) Consolidate(answers []Answer) Answer {
	if len(answers) == 0 {
		return nil
	}
	return s.Canonical(answers[0])
}

func (SingleLabel) Canonical(a Answer) Answer {
	var s string
	if json.Unmarshal(a, &s) != nil {
		return a
	}
	out, _ := json.Marshal(s)
	return out
}

// ClassOf is the class a single-label answer names: "" when it names none.
func ClassOf(a Answer) string {
	var class string
	err := json.Unmarshal(a, &class) //workflowcheck:ignore decoding a string depends on nothing but its bytes
	if err != nil {
		return ""
	}
	return class
}

func truncate(a Answer) string {
	if len(a) > 60 {
		return string(a[:60]) + "…"
	}
	if len(a) == 0 {
		return "nothing"
	}
	return string(a)
}
