package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
)

// DeliveryLayoutVersion is the version of the client-side layout written below; it changes only
// with a documented migration.
const DeliveryLayoutVersion = 1

// DeliveryPrefix is the folder of a project in the client's bucket: <prefix><project>/.
func DeliveryPrefix(prefix, project string) string {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return prefix + project + "/"
}

// DeliveredChunkKey is a chunk's labels in the client's bucket.
func DeliveredChunkKey(prefix, project string, chunk int) string {
	return fmt.Sprintf("%slabels/chunk-%06d.jsonl", DeliveryPrefix(prefix, project), chunk)
}

// DeliverChunkInput names the chunk to deliver.
type DeliverChunkInput struct {
	ProjectID  string
	Chunk      int
	Agreed     int // items settled by agreement, kept on the receipt for status
	Arbitrated int
	Redelivery Redelivery
}

// Redelivery names a re-delivery of stored results: its own receipts, and optionally another
// target. The zero value is the project's own delivery.
type Redelivery struct {
	ID      string         // "" for the project's own delivery
	Target  *spec.Delivery // nil: the project's delivery target
	Formats []string       // nil: the project's formats
}

func (r Redelivery) formats(sp spec.Project) []string {
	if r.Formats != nil {
		return r.Formats
	}
	return sp.Delivery.Formats
}

func (r Redelivery) target(sp spec.Project) spec.Delivery {
	if r.Target != nil {
		return *r.Target
	}
	return sp.Delivery
}

// DeliveryReceipt records one delivered object.
type DeliveryReceipt struct {
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

// ReceiptPrefix lists a project's delivery receipts.
func ReceiptPrefix(project string) string { return fmt.Sprintf("projects/%s/deliveries/", project) }

// receiptKey is where a delivery of a chunk is recorded; re-deliveries keep their own receipts so
// that the original delivery's record never changes.
func receiptKey(project string, r Redelivery, chunk int) string {
	if r.ID == "" {
		return ReceiptKey(project, chunk)
	}
	return fmt.Sprintf("projects/%s/redeliveries/%s/chunk-%06d.json", project, r.ID, chunk)
}

// DeliverChunk copies a chunk's recorded results to the client's bucket as soon as the chunk is
// done, so partial results are readable while the project runs, and keeps a receipt.
func (a *Activities) DeliverChunk(ctx context.Context, in DeliverChunkInput) (DeliveryReceipt, error) {
	sp, err := a.spec(ctx, in.ProjectID)
	if err != nil {
		return DeliveryReceipt{}, err
	}
	data, err := a.Store.Get(ctx, ResultsKey(in.ProjectID, in.Chunk))
	if err != nil {
		return DeliveryReceipt{}, err
	}
	target := in.Redelivery.target(sp)
	b, err := a.openTarget(ctx, sp, target)
	if err != nil {
		return DeliveryReceipt{}, err
	}
	key := DeliveredChunkKey(target.Prefix, sp.ID, in.Chunk)
	sum, err := b.Put(ctx, key, data, "application/x-ndjson")
	if err != nil {
		return DeliveryReceipt{}, err
	}
	r := DeliveryReceipt{Chunk: in.Chunk, Key: key, SHA256: sum, Size: int64(len(data)), Items: bytes.Count(data, []byte{'\n'}),
		Agreed: in.Agreed, Arbitrated: in.Arbitrated}
	if slices.Contains(in.Redelivery.formats(sp), spec.FormatGroundTruth) {
		if r.Extra, err = a.deliverGroundTruthAnnotations(ctx, b, sp, target, in.Chunk, data); err != nil {
			return DeliveryReceipt{}, err
		}
	}
	if in.Redelivery.ID != "" {
		var original DeliveryReceipt
		if err := a.Store.GetJSON(ctx, ReceiptKey(in.ProjectID, in.Chunk), &original); err == nil {
			r.Agreed, r.Arbitrated = original.Agreed, original.Arbitrated
		}
	}
	if err := a.Store.PutJSON(ctx, receiptKey(in.ProjectID, in.Redelivery, in.Chunk), r); err != nil {
		return DeliveryReceipt{}, err
	}
	return r, nil
}

// DeliveryManifestInput closes a project's delivery.
type DeliveryManifestInput struct {
	ProjectID   string
	Chunks      int
	CompletedAt time.Time
	Redelivery  Redelivery
}

// DeliveryManifest is the last object of a delivery: once it exists, every object it names
// exists with the given checksum.
type DeliveryManifest struct {
	LayoutVersion int              `json:"layout_version"`
	Project       string           `json:"project"`
	Client        string           `json:"client"`
	CompletedAt   time.Time        `json:"completed_at"`
	Items         int              `json:"items"`
	Rejects       int              `json:"rejects"`
	Objects       []ManifestObject `json:"objects"`
}

// ManifestObject is one delivered object.
type ManifestObject struct {
	Key    string `json:"key"`
	Kind   string `json:"kind"` // labels | rejects
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Items  int    `json:"items"`
}

// DeliveryManifestResult is what history keeps of the final delivery.
type DeliveryManifestResult struct {
	ManifestKey string
	Objects     int
	Items       int
}

// CompletionKey is the marker written after the manifest.
func CompletionKey(prefix, project string) string {
	return DeliveryPrefix(prefix, project) + "_COMPLETE"
}

// ManifestKey is where the manifest lands in the client's bucket.
func ManifestKey(prefix, project string) string {
	return DeliveryPrefix(prefix, project) + "manifest.json"
}

// WriteDeliveryManifest delivers the rejects report and then the manifest, built from the chunk
// receipts. A missing receipt is an error: a manifest never names what was not delivered.
func (a *Activities) WriteDeliveryManifest(ctx context.Context, in DeliveryManifestInput) (DeliveryManifestResult, error) {
	sp, err := a.spec(ctx, in.ProjectID)
	if err != nil {
		return DeliveryManifestResult{}, err
	}
	target := in.Redelivery.target(sp)
	b, err := a.openTarget(ctx, sp, target)
	if err != nil {
		return DeliveryManifestResult{}, err
	}
	m := DeliveryManifest{LayoutVersion: DeliveryLayoutVersion, Project: sp.ID, Client: sp.Client, CompletedAt: in.CompletedAt.UTC()}
	for c := 0; c < in.Chunks; c++ {
		var r DeliveryReceipt
		if err := a.Store.GetJSON(ctx, receiptKey(in.ProjectID, in.Redelivery, c), &r); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return DeliveryManifestResult{}, fmt.Errorf("chunk %d has no delivery receipt; the manifest waits for it", c)
			}
			return DeliveryManifestResult{}, err
		}
		m.Objects = append(m.Objects, ManifestObject{Key: r.Key, Kind: "labels", SHA256: r.SHA256, Size: r.Size, Items: r.Items})
		m.Objects = append(m.Objects, r.Extra...)
		m.Items += r.Items
	}
	rejects, err := a.Store.Get(ctx, RejectsKey(in.ProjectID))
	if err != nil {
		return DeliveryManifestResult{}, err
	}
	rkey := DeliveryPrefix(target.Prefix, sp.ID) + "rejects.jsonl"
	rsum, err := b.Put(ctx, rkey, rejects, "application/x-ndjson")
	if err != nil {
		return DeliveryManifestResult{}, err
	}
	m.Rejects = bytes.Count(rejects, []byte{'\n'})
	m.Objects = append(m.Objects, ManifestObject{Key: rkey, Kind: "rejects", SHA256: rsum, Size: int64(len(rejects)), Items: m.Rejects})
	// The quality report goes with the results: agreement per chunk, arbitration rate, first-pass
	// acceptance, time per task and each person's figures.
	report, err := a.buildQualityReport(ctx, sp, in.Chunks)
	if err != nil {
		return DeliveryManifestResult{}, err
	}
	reportJSON, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		return DeliveryManifestResult{}, err
	}
	if err := a.Store.Put(ctx, QualityReportKey(sp.ID), append(reportJSON, '\n')); err != nil {
		return DeliveryManifestResult{}, err
	}
	if err := a.recordScores(ctx, sp, report); err != nil {
		return DeliveryManifestResult{}, err
	}
	if in.Redelivery.ID == "" {
		if err := a.payBonuses(ctx, sp, report, in.CompletedAt); err != nil {
			return DeliveryManifestResult{}, err
		}
	}
	qkey := DeliveryPrefix(target.Prefix, sp.ID) + "quality/report.json"
	qsum, err := b.Put(ctx, qkey, append(reportJSON, '\n'), "application/json")
	if err != nil {
		return DeliveryManifestResult{}, err
	}
	m.Objects = append(m.Objects, ManifestObject{Key: qkey, Kind: "quality-report", SHA256: qsum, Size: int64(len(reportJSON) + 1), Items: report.Items})
	for _, f := range in.Redelivery.formats(sp) {
		if f == spec.FormatJSONL {
			continue // the labels objects are the JSON Lines delivery
		}
		obj, err := a.writeFormat(ctx, b, sp, target, in.Chunks, f)
		if err != nil {
			return DeliveryManifestResult{}, err
		}
		m.Objects = append(m.Objects, obj)
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, f)
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return DeliveryManifestResult{}, err
	}
	key := ManifestKey(target.Prefix, sp.ID)
	manifestSum, err := b.Put(ctx, key, append(data, '\n'), "application/json")
	if err != nil {
		return DeliveryManifestResult{}, err
	}
	// The completion marker comes after the manifest: a client that sees it knows the manifest,
	// and so every object it names, is in place.
	marker := fmt.Sprintf("{\"manifest\":%q,\"sha256\":%q,\"completed_at\":%q}\n", key, manifestSum, m.CompletedAt.Format(time.RFC3339Nano))
	if _, err := b.Put(ctx, CompletionKey(target.Prefix, sp.ID), []byte(marker), "application/json"); err != nil {
		return DeliveryManifestResult{}, err
	}
	return DeliveryManifestResult{ManifestKey: key, Objects: len(m.Objects), Items: m.Items}, nil
}
