package spec

import (
	"slices"
	"testing"
)

// A spec wrong in every section reports its problems section by section, in a fixed order:
// identity, annotation, work, destination, quality, delivery options, pay.
func TestValidateReportsSectionsInOrder(t *testing.T) {
	data := `id: Bad_ID
client: ""
source: https://example.com/m.jsonl
annotation:
  type: single-label
  taxonomy: [cat, cat]
  instructions: ""
chunk_size: -1
suite_size: 500
annotators_per_item: 3
lease: 1s
reviewer_role: boss
delivery:
  bucket: B
  prefix: a//b
  region: ""
  endpoint: ftp://x
  credentials: ""
  formats: [xml, coco]
  label_attribute: "-x"
  encryption: {type: AES256, kms_key_id: k}
  webhook: {url: ftp://hook}
pay:
  currency: usd
  per_annotation: "x"
  per_arbitration: "-1"
  per_gold: "y"
  quality_bonus: {amount: "z", min_gold_accuracy: 2}
quality:
  min_accuracy: 0.9
  overlap: {mode: dynamic, confidence_target: 0.2, max_annotations: 20}
`
	se := parseErr(t, "p.yaml", data)
	var got []string
	for _, f := range se.Fields {
		got = append(got, f.Field)
	}
	want := []string{
		"id", "client", "source",
		"annotation.taxonomy", "annotation.instructions",
		"chunk_size", "suite_size", "annotators_per_item", "lease", "reviewer_role",
		"delivery.bucket", "delivery.prefix", "delivery.region", "delivery.endpoint",
		"quality.min_accuracy", "quality.overlap.confidence_target", "quality.overlap.max_annotations",
		"delivery.formats[0]", "delivery.formats[1]", "delivery.label_attribute",
		"delivery.encryption.kms_key_id", "delivery.webhook.url", "delivery.webhook.secret", "delivery.credentials",
		"pay.currency", "pay.per_annotation", "pay.per_arbitration",
		"pay.quality_bonus.amount", "pay.quality_bonus.min_gold_accuracy", "pay.quality_bonus", "pay.per_gold",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems in order\n%q\nwant\n%q", got, want)
	}
}
