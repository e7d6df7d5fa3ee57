// Package delivery owns the record of what reached a client: the receipt kept for each delivered
// chunk, the manifest written last into the client's bucket, and which target and formats a
// delivery (or a re-delivery of stored results) goes to. Keys are in internal/layout.
package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
)

// Redelivery names a re-delivery of stored results: its own receipts, and optionally another
// target. The zero value is the project's own delivery. It travels in workflow inputs, so its
// JSON shape is fixed.
type Redelivery struct {
	ID      string         // "" for the project's own delivery
	Target  *spec.Delivery // nil: the project's delivery target
	Formats []string       // nil: the project's formats
}

// FormatsOf are the formats to deliver for sp.
func (r Redelivery) FormatsOf(sp spec.Project) []string {
	if r.Formats != nil {
		return r.Formats
	}
	return sp.Delivery.Formats
}

// TargetOf is where to deliver sp.
func (r Redelivery) TargetOf(sp spec.Project) spec.Delivery {
	if r.Target != nil {
		return *r.Target
	}
	return sp.Delivery
}

// ReceiptKey is where a delivery of a chunk is recorded; re-deliveries keep their own receipts so
// that the original delivery's record never changes.
func (r Redelivery) ReceiptKey(project string, chunk int) string {
	if r.ID == "" {
		return layout.ReceiptKey(project, chunk)
	}
	return layout.RedeliveryReceiptKey(project, r.ID, chunk)
}

// Receipt records one delivered chunk.
type Receipt struct {
	Chunk  int    `json:"chunk"`
	Key    string `json:"key"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Items  int    `json:"items"`
	// Agreed and Arbitrated say how the chunk's labels were reached.
	Agreed     int `json:"agreed"`
	Arbitrated int `json:"arbitrated"`
	// Extra lists the chunk's other delivered objects (Ground Truth annotation files).
	Extra []ManifestObject `json:"extra,omitempty"`
}

// Manifest is the last object of a delivery: once it exists, every object it names exists with
// the given checksum.
type Manifest struct {
	LayoutVersion int              `json:"layout_version"`
	Project       string           `json:"project"`
	Client        string           `json:"client"`
	CompletedAt   time.Time        `json:"completed_at"`
	Items         int              `json:"items"`
	Rejects       int              `json:"rejects"`
	Objects       []ManifestObject `json:"objects"`
}

// Kinds of delivered objects besides the whole-project formats (named by their format).
const (
	KindLabels                  = "labels"
	KindRejects                 = "rejects"
	KindQualityReport           = "quality-report"
	KindGroundTruthResponses    = "groundtruth-worker-response"
	KindGroundTruthConsolidated = "groundtruth-consolidated"
)

// ManifestObject is one delivered object.
type ManifestObject struct {
	Key    string `json:"key"`
	Kind   string `json:"kind"` // labels | rejects | quality-report | a format | a Ground Truth kind
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Items  int    `json:"items"`
}

// ManifestResult is what history keeps of a finished delivery.
type ManifestResult struct {
	ManifestKey string
	Objects     int
	Items       int
}

// ListReceipts reads the receipts of a project's delivered chunks, in key (chunk) order. It
// reads one object per chunk.
func ListReceipts(ctx context.Context, s *store.Store, project string) ([]Receipt, error) {
	var out []Receipt
	err := s.List(ctx, layout.ReceiptPrefix(project), func(key string, _ int64) error {
		var r Receipt
		if err := s.GetJSON(ctx, key, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// CheckTarget writes and deletes a probe object in the project's delivery location, so that a
// project whose bucket refuses writes fails at launch, not after its annotators' work.
func CheckTarget(ctx context.Context, targets *clientbucket.Profiles, p spec.Project) error {
	b, err := targets.Open(ctx, p.Delivery)
	if err != nil {
		return fmt.Errorf("delivery target: %w", err)
	}
	return b.Probe(ctx, layout.ProbeKey(p.Delivery.Prefix, p.ID))
}
