package delivery

import (
	"testing"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/spec"
)

// A project's own delivery goes to its target in its formats with its receipts; a re-delivery
// keeps receipts of its own, so the original delivery's record never changes.
func TestARedeliveryKeepsItsOwnReceipts(t *testing.T) {
	sp := spec.Project{ID: "p1", Delivery: spec.Delivery{Bucket: "out", Formats: []string{spec.FormatCSV}}}
	var own Redelivery
	if own.ReceiptKey("p1", 3) != layout.ReceiptKey("p1", 3) || own.TargetOf(sp).Bucket != "out" || own.FormatsOf(sp)[0] != spec.FormatCSV {
		t.Fatal("the zero re-delivery is not the project's own delivery")
	}
	other := spec.Delivery{Bucket: "elsewhere"}
	re := Redelivery{ID: "ab12", Target: &other, Formats: []string{}}
	if re.ReceiptKey("p1", 3) != layout.RedeliveryReceiptKey("p1", "ab12", 3) || re.TargetOf(sp).Bucket != "elsewhere" || len(re.FormatsOf(sp)) != 0 {
		t.Fatalf("re-delivery: receipt %s, target %+v, formats %v", re.ReceiptKey("p1", 3), re.TargetOf(sp), re.FormatsOf(sp))
	}
}
