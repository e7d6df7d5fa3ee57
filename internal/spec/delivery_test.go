package spec

import (
	"strings"
	"testing"
)

const deliveryBase = `id: p1
client: acme
source: s3://in/p1.manifest
annotation: {type: single-label, taxonomy: [a, b], instructions: pick}
pay: {currency: USD, per_annotation: "0.01", per_arbitration: "0.02"}
delivery:
  bucket: acme-out
  region: us-east-1
  credentials: acme
`

func TestDeliveryOptions(t *testing.T) {
	p, err := Parse("p.yaml", []byte(deliveryBase+`  formats: [jsonl, groundtruth, csv, labelstudio]
  label_attribute: sentiment
  encryption: {type: "aws:kms", kms_key_id: alias/acme}
  webhook: {url: "https://hooks.acme.example/labelflow", secret: acme-hook}
`))
	if err != nil {
		t.Fatal(err)
	}
	d := p.Delivery
	if len(d.Formats) != 4 || d.LabelAttribute != "sentiment" || d.Encryption.KMSKeyID != "alias/acme" || d.Webhook.Secret != "acme-hook" {
		t.Fatalf("delivery = %+v", d)
	}
	_, err = Parse("p.yaml", []byte(deliveryBase+`  formats: [jsonl, coco, parquet]
  label_attribute: "bad attr"
  encryption: {type: DES}
  webhook: {url: "ftp://x", secret: "s3cr3t/with+slashes"}
`))
	for _, want := range []string{
		"p.yaml:10: delivery.formats[1]: coco needs annotation.type bounding-box",
		"delivery.formats[2]: unknown format \"parquet\"",
		"p.yaml:11: delivery.label_attribute",
		"p.yaml:12: delivery.encryption.type",
		"p.yaml:13: delivery.webhook.url",
		"delivery.webhook.secret: must name a webhook secret",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nlacks %q", err, want)
		}
	}
}

func TestOverlapPolicy(t *testing.T) {
	p, err := Parse("p.yaml", []byte(deliveryBase+"quality: {overlap: {mode: dynamic}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if o := p.Quality.Overlap; o.ConfidenceTarget != 0.9 || o.MaxAnnotations != 4 {
		t.Fatalf("dynamic overlap defaults = %+v", o)
	}
	if p, _ := Parse("p.yaml", []byte(deliveryBase)); p.Quality.Overlap.Mode != "review" {
		t.Fatalf("default overlap = %+v", p.Quality.Overlap)
	}
	if p, err := Parse("p.yaml", []byte(deliveryBase+"quality: {overlap: {mode: dynamic, min_gain: 0}}\n")); err != nil || p.Quality.Overlap.MinGain == nil || *p.Quality.Overlap.MinGain != 0 {
		t.Fatalf("min_gain 0 (the target alone) = %+v, %v", p.Quality.Overlap, err)
	}
	_, err = Parse("p.yaml", []byte(deliveryBase+"quality: {overlap: {mode: dynamic, confidence_target: 0.4, max_annotations: 20, min_gain: 0.5}}\n"))
	for _, want := range []string{"quality.overlap.confidence_target", "quality.overlap.max_annotations", "quality.overlap.min_gain"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %s", err, want)
		}
	}
	if _, err := Parse("p.yaml", []byte(deliveryBase+"quality: {overlap: {mode: vote}}\n")); err == nil || !strings.Contains(err.Error(), "quality.overlap.mode") {
		t.Errorf("unknown mode: %v", err)
	}
	early := "quality: {overlap: {mode: dynamic, early_review: true}}\n"
	if p, err := Parse("p.yaml", []byte(deliveryBase+early)); err != nil || !p.Quality.Overlap.EarlyReview {
		t.Errorf("early review on a single-label project: %+v, %v", p.Quality.Overlap, err)
	}
	boxes := strings.Replace(deliveryBase, "type: single-label", "type: bounding-box", 1)
	if _, err := Parse("p.yaml", []byte(boxes+early)); err == nil || !strings.Contains(err.Error(), "quality.overlap.early_review") {
		t.Errorf("early review on a bounding-box project: %v", err)
	}
}
