package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/delivery"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
)

// DeliverChunkInput names the chunk to deliver.
type DeliverChunkInput struct {
	ProjectID  string
	Chunk      int
	Agreed     int // items settled by agreement, kept on the receipt for status
	Arbitrated int
	Redelivery Redelivery
}

// DeliverChunk copies a chunk's recorded results to the client's bucket as soon as the chunk is
// done, so partial results are readable while the project runs, and keeps a receipt. It
// heartbeats each object delivered; a retry skips those.
func (a *Activities) DeliverChunk(ctx context.Context, in DeliverChunkInput) (DeliveryReceipt, error) {
	pr := startProgress(ctx)
	defer pr.close()
	return a.deliverChunk(ctx, in, pr)
}

func (a *Activities) deliverChunk(ctx context.Context, in DeliverChunkInput, pr *progress) (DeliveryReceipt, error) {
	original := a.originalReceipt(ctx, in)
	sp, err := a.spec(ctx, in.ProjectID)
	if err != nil {
		return DeliveryReceipt{}, err
	}
	data, err := a.clientResults(ctx, sp, in.Chunk)
	if err != nil {
		return DeliveryReceipt{}, err
	}
	target := in.Redelivery.TargetOf(sp)
	b, err := a.openTarget(ctx, sp, target)
	if err != nil {
		return DeliveryReceipt{}, err
	}
	key := layout.DeliveredChunkKey(target.Prefix, sp.ID, in.Chunk)
	labels, err := pr.put(ctx, b, key, delivery.KindLabels, "application/x-ndjson", data, bytes.Count(data, []byte{'\n'}))
	if err != nil {
		return DeliveryReceipt{}, err
	}
	r := DeliveryReceipt{Chunk: in.Chunk, Key: key, SHA256: labels.SHA256, Size: labels.Size, Items: labels.Items,
		Agreed: in.Agreed, Arbitrated: in.Arbitrated}
	if slices.Contains(in.Redelivery.FormatsOf(sp), spec.FormatGroundTruth) {
		if r.Extra, err = a.deliverGroundTruthAnnotations(ctx, pr, b, sp, target, in.Chunk, data); err != nil {
			return DeliveryReceipt{}, err
		}
	}
	if in.Redelivery.ID != "" {
		// A re-delivery keeps the original delivery's counts; a failed read is retried rather
		// than leaving them out.
		rc := <-original
		switch err := rc.err; {
		case err == nil:
			r.Agreed, r.Arbitrated = rc.r.Agreed, rc.r.Arbitrated
		case !errors.Is(err, store.ErrNotFound):
			return DeliveryReceipt{}, err
		}
	}
	if err := a.Store.PutJSON(ctx, in.Redelivery.ReceiptKey(in.ProjectID, in.Chunk), r); err != nil {
		return DeliveryReceipt{}, err
	}
	a.Metrics.Delivered(r.Items, in.Redelivery.ID != "")
	return r, nil
}

// receiptRead is a receipt read from the store, or why it could not be.
type receiptRead struct {
	r   DeliveryReceipt
	err error
}

// originalReceipt reads, for a re-delivery, the receipt of the chunk's original delivery while the
// chunk is read and uploaded; the channel is never read for the project's own delivery.
func (a *Activities) originalReceipt(ctx context.Context, in DeliverChunkInput) <-chan receiptRead {
	out := make(chan receiptRead, 1)
	if in.Redelivery.ID != "" {
		go func() {
			var rc receiptRead
			rc.err = a.Store.GetJSON(ctx, layout.ReceiptKey(in.ProjectID, in.Chunk), &rc.r)
			out <- rc
		}()
	}
	return out
}

// DeliverChunksInput names a run of consecutive chunks to deliver in one activity.
type DeliverChunksInput struct {
	ProjectID  string
	First      int // the first chunk of the run
	Count      int
	Redelivery Redelivery
}

// DeliverChunksResult counts what a run of chunks delivered; the receipts stay in the store.
type DeliverChunksResult struct {
	Chunks int
	Items  int
}

// deliverChunksWidth is how many chunks of one DeliverChunks are in flight at once: enough to keep
// the link and the servers busy while each chunk's requests travel, few enough that the chunks'
// results held in memory stay small.
const deliverChunksWidth = 8

// DeliverChunks delivers a run of consecutive chunks again as DeliverChunk does each, several at a
// time: one activity for many chunks keeps the workflow's history and the scheduling overhead per
// chunk small when a whole project is delivered at once (a re-delivery). It heartbeats each object
// delivered, for all its chunks; a retry skips those and rewrites the receipts with the same bytes.
func (a *Activities) DeliverChunks(ctx context.Context, in DeliverChunksInput) (DeliverChunksResult, error) {
	if in.Redelivery.ID == "" {
		// A project's own delivery keeps each chunk's settlement counts, which only DeliverChunk is given.
		return DeliverChunksResult{}, invalidInput("DeliverChunks delivers a project's results again; it needs a re-delivery id")
	}
	pr := startProgress(ctx)
	defer pr.close()
	items := make([]int, in.Count)
	err := store.Parallel(in.Count, deliverChunksWidth, func(i int) error {
		r, err := a.deliverChunk(ctx, DeliverChunkInput{ProjectID: in.ProjectID, Chunk: in.First + i, Redelivery: in.Redelivery}, pr)
		items[i] = r.Items
		return err
	})
	if err != nil {
		return DeliverChunksResult{}, err
	}
	res := DeliverChunksResult{Chunks: in.Count}
	for _, n := range items {
		res.Items += n
	}
	return res, nil
}

// DeliveryManifestInput closes a project's delivery.
type DeliveryManifestInput struct {
	ProjectID string
	Chunks    int
	// CompletedAt is when the workflow scheduled the delivery; quality bonuses are dated by it.
	// The manifest's completed_at is when the activity wrote the last object.
	CompletedAt time.Time
	Redelivery  Redelivery
}

// manifestWriter delivers the closing objects of one delivery into the client's bucket and lists
// each in the manifest.
type manifestWriter struct {
	a      *Activities
	sp     spec.Project
	target spec.Delivery
	bucket *clientbucket.Bucket
	pr     *progress
	m      delivery.Manifest
}

// WriteDeliveryManifest delivers the rejects report, the quality report and the whole-project
// formats, and then the manifest, built from the chunk receipts, and the completion marker. A
// missing receipt is an error: a manifest never names what was not delivered. It heartbeats
// each object and each part delivered; a retry skips the objects in place and resumes the
// upload in flight.
func (a *Activities) WriteDeliveryManifest(ctx context.Context, in DeliveryManifestInput) (DeliveryManifestResult, error) {
	pr := startProgress(ctx)
	defer pr.close()
	return a.writeDeliveryManifest(ctx, in, pr)
}

func (a *Activities) writeDeliveryManifest(ctx context.Context, in DeliveryManifestInput, pr *progress) (DeliveryManifestResult, error) {
	w, err := a.openManifest(ctx, in, pr)
	if err != nil {
		return DeliveryManifestResult{}, err
	}
	if err := w.addReceipts(ctx, in.ProjectID, in.Redelivery, in.Chunks); err != nil {
		return DeliveryManifestResult{}, err
	}
	if err := w.deliverRejects(ctx); err != nil {
		return DeliveryManifestResult{}, err
	}
	if err := w.deliverQualityReport(ctx, in); err != nil {
		return DeliveryManifestResult{}, err
	}
	if err := w.deliverFormats(ctx, in.Redelivery.FormatsOf(w.sp), in.Chunks); err != nil {
		return DeliveryManifestResult{}, err
	}
	key, err := w.finish(ctx)
	if err != nil {
		return DeliveryManifestResult{}, err
	}
	return DeliveryManifestResult{ManifestKey: key, Objects: len(w.m.Objects), Items: w.m.Items}, nil
}

// openManifest opens the delivery's target and starts its manifest.
func (a *Activities) openManifest(ctx context.Context, in DeliveryManifestInput, pr *progress) (*manifestWriter, error) {
	sp, err := a.spec(ctx, in.ProjectID)
	if err != nil {
		return nil, err
	}
	target := in.Redelivery.TargetOf(sp)
	b, err := a.openTarget(ctx, sp, target)
	if err != nil {
		return nil, err
	}
	return &manifestWriter{a: a, sp: sp, target: target, bucket: b, pr: pr,
		m: delivery.Manifest{LayoutVersion: layout.DeliveryLayoutVersion, Project: sp.ID, Client: sp.Client}}, nil
}

// addReceipts lists every chunk's delivered objects, from its receipt. The receipts are read side
// by side; a missing one is reported for the first chunk that lacks it.
func (w *manifestWriter) addReceipts(ctx context.Context, project string, r Redelivery, chunks int) error {
	receipts, errs := make([]DeliveryReceipt, chunks), make([]error, chunks)
	_ = store.Parallel(chunks, ioWidth, func(c int) error {
		errs[c] = w.a.Store.GetJSON(ctx, r.ReceiptKey(project, c), &receipts[c])
		return nil
	})
	for c, rc := range receipts {
		if err := errs[c]; err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("chunk %d has no delivery receipt; the manifest waits for it", c)
			}
			return err
		}
		w.m.Objects = append(w.m.Objects, delivery.ManifestObject{Key: rc.Key, Kind: delivery.KindLabels, SHA256: rc.SHA256, Size: rc.Size, Items: rc.Items})
		w.m.Objects = append(w.m.Objects, rc.Extra...)
		w.m.Items += rc.Items
	}
	return nil
}

// put delivers one object and lists it in the manifest.
func (w *manifestWriter) put(ctx context.Context, key, kind, contentType string, data []byte, items int) error {
	obj, err := w.pr.put(ctx, w.bucket, key, kind, contentType, data, items)
	if err != nil {
		return err
	}
	w.m.Objects = append(w.m.Objects, obj)
	return nil
}

// delivered lists the object at key in the manifest if an earlier attempt delivered it.
func (w *manifestWriter) delivered(key string) (delivery.ManifestObject, bool) {
	obj, ok := w.pr.delivered(key)
	if ok {
		w.m.Objects = append(w.m.Objects, obj)
	}
	return obj, ok
}

// deliverRejects delivers the quarantined lines of the manifest.
func (w *manifestWriter) deliverRejects(ctx context.Context) error {
	if obj, ok := w.delivered(layout.DeliveredRejectsKey(w.target.Prefix, w.sp.ID)); ok {
		w.m.Rejects = obj.Items
		return nil
	}
	rejects, err := w.a.Store.Get(ctx, layout.RejectsKey(w.sp.ID))
	if err != nil {
		return err
	}
	w.m.Rejects = bytes.Count(rejects, []byte{'\n'})
	return w.put(ctx, layout.DeliveredRejectsKey(w.target.Prefix, w.sp.ID), delivery.KindRejects, "application/x-ndjson", rejects, w.m.Rejects)
}

// deliverQualityReport builds the project's quality report (agreement per chunk, arbitration
// rate, first-pass acceptance, time per task and each person's figures), keeps it with the
// people's records and, on the project's own delivery, the quality bonuses, and delivers it with
// the results. A report an earlier attempt delivered has had all of that done.
func (w *manifestWriter) deliverQualityReport(ctx context.Context, in DeliveryManifestInput) error {
	if _, ok := w.delivered(layout.DeliveredQualityReportKey(w.target.Prefix, w.sp.ID)); ok {
		return nil
	}
	report, err := quality.BuildReport(ctx, w.a.Store, w.sp, in.Chunks)
	if err != nil {
		return err
	}
	reportJSON, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		return err
	}
	reportJSON = append(reportJSON, '\n')
	if err := w.a.Store.Put(ctx, layout.QualityReportKey(w.sp.ID), reportJSON); err != nil {
		return err
	}
	clientReport, err := delivery.ClientReport(report, w.a.Pseudonyms, w.sp.Client)
	if err != nil {
		return err
	}
	clientJSON, err := json.MarshalIndent(clientReport, "", "  ")
	if err != nil {
		return err
	}
	if err := w.a.recordScores(ctx, w.sp, report); err != nil {
		return err
	}
	if in.Redelivery.ID == "" {
		if err := w.a.payBonuses(ctx, w.sp, report, in.CompletedAt); err != nil {
			return err
		}
	}
	return w.put(ctx, layout.DeliveredQualityReportKey(w.target.Prefix, w.sp.ID), delivery.KindQualityReport, "application/json", append(clientJSON, '\n'), report.Items)
}

// deliverFormats streams each whole-project format into the client's bucket.
func (w *manifestWriter) deliverFormats(ctx context.Context, formats []string, chunks int) error {
	for _, f := range formats {
		if f == spec.FormatJSONL {
			continue // the labels objects are the JSON Lines delivery
		}
		obj, err := w.a.writeFormat(ctx, w.pr, w.bucket, w.sp, w.target, chunks, f)
		if err != nil {
			return err
		}
		w.m.Objects = append(w.m.Objects, obj)
	}
	return nil
}

// finish writes the manifest and then the completion marker: a client that sees the marker knows
// the manifest, and so every object it names, is in place. It returns the manifest's key.
// completed_at is when the last object before them was in place, kept in the progress so that a
// retry writes the same bytes.
func (w *manifestWriter) finish(ctx context.Context) (string, error) {
	w.m.CompletedAt = w.pr.completedAt(w.a.now())
	data, err := json.MarshalIndent(w.m, "", "  ")
	if err != nil {
		return "", err
	}
	key := layout.ManifestKey(w.target.Prefix, w.sp.ID)
	manifestSum, err := w.bucket.Put(ctx, key, append(data, '\n'), "application/json")
	if err != nil {
		return "", err
	}
	marker := fmt.Sprintf("{\"manifest\":%q,\"sha256\":%q,\"completed_at\":%q}\n", key, manifestSum, w.m.CompletedAt.Format(time.RFC3339Nano))
	if _, err := w.bucket.Put(ctx, layout.CompletionKey(w.target.Prefix, w.sp.ID), []byte(marker), "application/json"); err != nil {
		return "", err
	}
	return key, nil
}
