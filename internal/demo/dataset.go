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
