package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Taxonomy of the demo project.
var Taxonomy = []string{"positive", "negative", "neutral"}

var (
	products   = []string{"delivery", "phone", "blender", "jacket", "headset", "laptop bag", "kettle", "backpack", "desk lamp", "water bottle"}
	adjectives = map[string][]string{
		"positive": {"excellent", "wonderful", "a delight", "better than expected", "worth every cent"},
		"negative": {"broken on arrival", "a waste of money", "disappointing", "worse than described", "faulty after a week"},
		"neutral":  {"as described", "fine, nothing special", "average", "what I ordered", "okay for the price"},
	}
)

// Dataset builds a demo manifest: n short reviews with known labels in a `truth` field, followed
// by bad lines of every kind chunking must quarantine. It returns the manifest and the number of
// bad lines.
func Dataset(n int, seed uint64) ([]byte, int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for i := 0; i < n; i++ {
		class := Taxonomy[rng.IntN(len(Taxonomy))]
		adj := adjectives[class][rng.IntN(len(adjectives[class]))]
		text := fmt.Sprintf("The %s was %s.", products[rng.IntN(len(products))], adj)
		_ = enc.Encode(map[string]any{"id": fmt.Sprintf("review-%05d", i+1), "source": text, "truth": class, "lang": "en"})
	}
	bad := []string{
		`{"id": "review-bad-json", "source": "unterminated`,
		`{"id": "review-no-source", "lang": "en"}`,
		`{"id": "review-00001", "source": "a second line with an id already used", "truth": "neutral"}`,
		`{"id": "review-bad-ref", "source-ref": "https://example.com/x.jpg"}`,
		`["not", "an", "object"]`,
		`{"id": "review-oversize", "source": "` + strings.Repeat("x", 70000) + `"}`,
	}
	for _, l := range bad {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes(), len(bad)
}

// SpecYAML is the demo project's spec.
func SpecYAML(id, endpoint string, chunkSize int, lease time.Duration, webhookURL, webhookSecret string) string {
	hook := ""
	if webhookURL != "" {
		hook = fmt.Sprintf("  webhook: {url: %q, secret: %s}\n", webhookURL, webhookSecret)
	}
	return fmt.Sprintf(`id: %s
client: acme
source: s3://%s/acme/reviews.manifest
annotation:
  type: single-label
  taxonomy: [positive, negative, neutral]
  instructions: |
    Read the product review and choose the sentiment it expresses about the product.
chunk_size: %d
suite_size: 10
annotators_per_item: 2
lease: %s
languages: [en]
reviewer_role: reviewer
delivery:
  bucket: %s
  prefix: labelflow/
  region: us-east-1
  endpoint: %s
  credentials: dev
  formats: [jsonl, groundtruth, csv, labelstudio]
  label_attribute: sentiment
%spay:
  currency: USD
  per_annotation: "0.04"
  per_arbitration: "0.10"
`, id, IntakeBucket, chunkSize, lease, ClientBucket, endpoint, hook)
}

// BoxTaxonomy and the others are the demo taxonomies of the other annotation types.
var (
	BoxTaxonomy           = []string{"car", "person", "bicycle"}
	TranscriptionTaxonomy = []string{"text"}
)

// BoxDataset builds n images of declared size with known boxes (a `truth` field), so that box
// answers can be checked against the image without reading it.
func BoxDataset(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 11))
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for i := 0; i < n; i++ {
		w, h := 640, 480
		var boxes []map[string]any
		for k := 0; k < 1+rng.IntN(3); k++ {
			// Boxes sit in separate columns so that two of them never overlap much.
			bw, bh := 60+rng.IntN(120), 60+rng.IntN(200)
			left := k*210 + rng.IntN(210-min(bw, 200)+1)
			boxes = append(boxes, map[string]any{"label": BoxTaxonomy[rng.IntN(len(BoxTaxonomy))],
				"left": min(left, w-bw), "top": rng.IntN(h - bh), "width": bw, "height": bh})
		}
		_ = enc.Encode(map[string]any{"id": fmt.Sprintf("street-%05d", i+1),
			"source-ref": fmt.Sprintf("s3://%s/acme/street/%05d.jpg", IntakeBucket, i+1),
			"width":      w, "height": h, "truth": map[string]any{"boxes": boxes}})
	}
	return b.Bytes()
}

// TranscriptionDataset builds n receipt images with known text.
func TranscriptionDataset(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 13))
	shops := []string{"Duka la Mama", "Kigali Fresh", "Lagos Market", "Accra Books", "Addis Coffee"}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for i := 0; i < n; i++ {
		text := fmt.Sprintf("%s receipt %04d total %d.%02d", shops[rng.IntN(len(shops))], rng.IntN(10000), 100+rng.IntN(9000), rng.IntN(100))
		_ = enc.Encode(map[string]any{"id": fmt.Sprintf("receipt-%05d", i+1),
			"source-ref": fmt.Sprintf("s3://%s/acme/receipts/%05d.png", IntakeBucket, i+1), "truth": map[string]string{"text": text}})
	}
	return b.Bytes()
}

// TypedSpecYAML is a project spec for annotation type typ on the manifest at key.
func TypedSpecYAML(id, typ string, taxonomy []string, key, endpoint string, chunkSize int, formats []string) string {
	return fmt.Sprintf(`id: %s
client: acme
source: s3://%s/%s
annotation:
  type: %s
  taxonomy: [%s]
  instructions: Label every item as the guidelines say.
chunk_size: %d
suite_size: 10
lease: 1m
delivery:
  bucket: %s
  prefix: labelflow/
  region: us-east-1
  endpoint: %s
  credentials: dev
  formats: [%s]
pay:
  currency: KES
  per_annotation: "5"
  per_arbitration: "12"
`, id, IntakeBucket, key, typ, strings.Join(taxonomy, ", "), chunkSize, ClientBucket, endpoint, strings.Join(formats, ", "))
}

// Taxonomies of the multi-label and named-entity demo datasets.
var (
	TopicTaxonomy  = []string{"price", "quality", "delivery", "service"}
	EntityTaxonomy = []string{"PER", "LOC", "ORG"}
)

// MultiLabelDataset builds n reviews, each with the set of topics it mentions as its truth.
func MultiLabelDataset(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 17))
	phrases := map[string]string{"price": "cheap for what it is", "quality": "well made", "delivery": "arrived a day early", "service": "the seller answered fast"}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for i := 0; i < n; i++ {
		var topics, parts []string
		for _, t := range TopicTaxonomy {
			if rng.IntN(2) == 0 {
				topics = append(topics, t)
				parts = append(parts, phrases[t])
			}
		}
		if len(topics) == 0 {
			topics, parts = []string{"quality"}, []string{phrases["quality"]}
		}
		_ = enc.Encode(map[string]any{"id": fmt.Sprintf("topics-%05d", i+1), "source": strings.Join(parts, "; ") + ".", "truth": topics})
	}
	return b.Bytes()
}

// EntityDataset builds n sentences with their named entities (code-point offsets) as truth.
func EntityDataset(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 19))
	people := []string{"Amina Wanjiru", "Kwame Mensah", "Grace Okafor", "Tigist Alemu"}
	places := []string{"Nairobi", "Kigali", "Accra", "Addis Ababa"}
	orgs := []string{"Acme", "Safari Labs", "Mama Mboga Ltd"}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for i := 0; i < n; i++ {
		p, l, o := people[rng.IntN(len(people))], places[rng.IntN(len(places))], orgs[rng.IntN(len(orgs))]
		text := p + " joined " + o + " in " + l + "."
		span := func(start int, s, label string) map[string]any {
			return map[string]any{"start": start, "end": start + len([]rune(s)), "label": label}
		}
		po := len([]rune(p + " joined "))
		lo := len([]rune(p + " joined " + o + " in "))
		_ = enc.Encode(map[string]any{"id": fmt.Sprintf("sentence-%05d", i+1), "source": text,
			"truth": map[string]any{"spans": []any{span(0, p, "PER"), span(po, o, "ORG"), span(lo, l, "LOC")}}})
	}
	return b.Bytes()
}
