package activities

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/labelflow/labelflow/internal/aggregate"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/manifest"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/results"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
)

// RecordChunkInput carries a finished chunk's outcomes.
type RecordChunkInput struct {
	ProjectID string
	Chunk     int
	// Results are the items whose answers the workflow still holds; the others were stored
	// earlier by StoreSettled, in Parts parts, and are read back from the store.
	Results []ItemResult
	Parts   int
	// Suites are the chunk's accepted suites, kept for submissions repeated after it closes
	// (layout.SuitesKey). Chunks recorded before they were kept send none.
	Suites []SubmittedSuite `json:",omitempty"`
	// Gold is the project's calibration on gold of the chunks finished before this one started:
	// each label's confidence is the model's, recalibrated on it (quality.NewRecalibration), so
	// that a delivered 0.9 is right about nine times in ten. Chunks started before it was kept
	// send none and deliver the model's confidence.
	Gold *quality.CalibrationBins `json:",omitempty"`
	// Model is the project's model of its crowd, which dynamic overlap decided with: each
	// label's confidence is its posterior given the item's answers, each weighing with its
	// author's accuracy. Without it, a single-label chunk uses the model fitted on its own
	// answers (chunkSkills); other types the one-coin posterior (quality.Posterior).
	Model *aggregate.Snapshot `json:",omitempty"`
}

// StoreSettledInput carries the results of items already settled, so that the chunk workflow can
// let go of their answers: large answers (boxes, long transcriptions) would otherwise make its
// state, and RecordChunk's input, outgrow Temporal's payload limit.
type StoreSettledInput struct {
	ProjectID string
	Chunk     int
	Part      int
	Results   []ItemResult
}

// StoreSettled writes one part of a chunk's settled results, one compact JSON line per item;
// the key is the part's number, so a retry rewrites the same object.
func (a *Activities) StoreSettled(ctx context.Context, in StoreSettledInput) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, r := range in.Results {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return a.Store.Put(ctx, layout.SettledPartKey(in.ProjectID, in.Chunk, in.Part), buf.Bytes())
}

// allResults merges the parts stored by StoreSettled with the results given inline, in item order.
func (a *Activities) allResults(ctx context.Context, in RecordChunkInput) ([]ItemResult, error) {
	if in.Parts == 0 {
		return in.Results, nil
	}
	all := slices.Clone(in.Results)
	for part := range in.Parts {
		key := layout.SettledPartKey(in.ProjectID, in.Chunk, part)
		data, err := a.Store.Get(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, invalidInput("chunk %d, settled part %d is not in the store (%s)", in.Chunk, part, key)
		case err != nil:
			return nil, fmt.Errorf("chunk %d, settled part %d: %w", in.Chunk, part, err)
		}
		for n, line := range bytes.Split(bytes.TrimSpace(data), []byte{'\n'}) {
			var r ItemResult
			if err := json.Unmarshal(line, &r); err != nil {
				return nil, invalidInput("%s line %d: %v", key, n+1, err)
			}
			all = append(all, r)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Item < all[j].Item })
	return all, nil
}

// RecordChunkResult says what was written.
type RecordChunkResult struct {
	ResultsKey    string
	Items         int
	LedgerEntries int
	LedgerKeys    []string
	// ModelCalibration is the chunk's gold binned by the model's own confidence, for the
	// project to recalibrate later chunks on; nil without gold.
	ModelCalibration *quality.CalibrationBins `json:",omitempty"`
}

// RecordChunk writes a chunk's final labels (the platform's copy, from which deliveries are made),
// its quality figures and its ledger entries: one per annotation and one per arbitration of the
// chunk. Every answer given in good faith within its lease is paid, whether or not it matched the
// final label.
//
// It heartbeats while it runs (RecordHeartbeatTimeout), so that a worker lost mid-way is noticed
// in seconds, and each heartbeat carries the keys written so far: a retry writes only the others.
// Every key and its bytes derive from the chunk, so whatever a retry writes is what the attempt
// before it would have written.
func (a *Activities) RecordChunk(ctx context.Context, in RecordChunkInput) (RecordChunkResult, error) {
	rec := startRecording(ctx)
	defer rec.close()
	return a.recordChunk(ctx, in, rec)
}

// recordChunk is RecordChunk resuming from the progress rec holds.
func (a *Activities) recordChunk(ctx context.Context, in RecordChunkInput, progress *recording) (RecordChunkResult, error) {
	sp, items, err := a.chunkToRecord(ctx, &in)
	if err != nil {
		return RecordChunkResult{}, err
	}
	acc, chunkModel, err := a.accuracies(ctx, sp, in.Results)
	if err != nil {
		return RecordChunkResult{}, err
	}
	typ, err := label.Lookup(sp.Annotation.Type)
	if err != nil {
		// The spec passed validation with this type, so this worker is older than the one that
		// launched the project: another (upgraded) worker can record it, so the error retries.
		return RecordChunkResult{}, fmt.Errorf("project %s: %w (upgrade the activity workers)", sp.ID, err)
	}
	rec := chunkRecord{sp: sp, typ: typ, chunk: in.Chunk, items: items, acc: acc, months: a.location(), ledger: map[string][]ledger.Entry{}}
	// Dynamic overlap decided with the project's model: its confidence is that model's. Other
	// single-label chunks weigh their answers with the model fitted on their own.
	if model := cmp.Or(in.Model, chunkModel); model != nil {
		rec.model = model.Posteriors()
	}
	if in.Gold != nil {
		rec.recal = quality.NewRecalibration(*in.Gold)
	}
	if err := rec.label(in.Results); err != nil {
		return RecordChunkResult{}, err
	}
	stats := quality.MeasureChunk(sp, in.Chunk, items, in.Results)
	rec.calibrate(&stats, in.Results)
	res := RecordChunkResult{ResultsKey: layout.ResultsKey(in.ProjectID, in.Chunk), Items: bytes.Count(rec.lines.Bytes(), []byte{'\n'})}
	if stats.ModelCalibration.Items() > 0 {
		res.ModelCalibration = &stats.ModelCalibration
	}
	if err := progress.put(res.ResultsKey, func() error { return a.Store.Put(ctx, res.ResultsKey, rec.lines.Bytes()) }); err != nil {
		return res, err
	}
	statsKey := layout.StatsKey(in.ProjectID, in.Chunk)
	if err := progress.put(statsKey, func() error { return a.Store.PutJSON(ctx, statsKey, stats) }); err != nil {
		return res, err
	}
	if err := a.writeSuites(ctx, in, progress); err != nil {
		return res, err
	}
	if res, err = a.writeLedger(ctx, in, rec.ledger, res, progress); err != nil {
		return res, err
	}
	a.Metrics.Recorded(res.Items, rec.arbitrated(in.Results), rec.entriesByRole())
	return res, nil
}

// writeSuites keeps the chunk's accepted suites. The object is a function of the input alone, so
// a retry writes the same one again.
func (a *Activities) writeSuites(ctx context.Context, in RecordChunkInput, progress *recording) error {
	if len(in.Suites) == 0 {
		return nil
	}
	key := layout.SuitesKey(in.ProjectID, in.Chunk)
	return progress.put(key, func() error {
		return a.Store.PutJSON(ctx, key, results.ChunkSuites{Project: in.ProjectID, Chunk: in.Chunk, Suites: in.Suites})
	})
}

// chunkToRecord reads what recording a chunk needs: the spec, the chunk's items, and every result
// (in.Results then holds the stored parts too), one per item.
func (a *Activities) chunkToRecord(ctx context.Context, in *RecordChunkInput) (spec.Project, []manifest.Item, error) {
	sp, err := a.spec(ctx, in.ProjectID)
	if err != nil {
		return sp, nil, err
	}
	data, err := a.Store.Get(ctx, layout.ChunkKey(in.ProjectID, in.Chunk))
	if err != nil {
		return sp, nil, err
	}
	items, err := manifest.ReadChunk(data)
	if err != nil {
		return sp, nil, invalidInput("chunk %d: %v", in.Chunk, err)
	}
	if in.Results, err = a.allResults(ctx, *in); err != nil {
		return sp, nil, err
	}
	if len(items) != len(in.Results) {
		return sp, nil, invalidInput("chunk %d holds %d items but %d results were given", in.Chunk, len(items), len(in.Results))
	}
	return sp, items, nil
}

// chunkRecord builds what a finished chunk leaves: the delivered lines and the ledger entries by
// month.
type chunkRecord struct {
	sp     spec.Project
	typ    label.Type
	chunk  int
	items  []manifest.Item
	acc    map[string]float64    // estimated accuracies (accuracies)
	model  *aggregate.Posteriors // the crowd model: the project's (RecordChunkInput.Model) or the chunk's own; nil for none
	recal  quality.Recalibration
	months *time.Location // decides which month work falls in
	lines  bytes.Buffer
	ledger map[string][]ledger.Entry
}

// label writes each item's delivered line (gold items are scored, never delivered) and its ledger
// entries, in item order.
func (c *chunkRecord) label(settled []ItemResult) error {
	perAnnotation, perArbitration := c.sp.Rates()
	for i, r := range settled {
		if r.Item != i {
			return invalidInput("result %d is for item %d", i, r.Item)
		}
		it := c.items[i]
		meta, _, completed := c.metadata(r)
		if !it.Gold {
			line, err := results.LabelledLine(it.Data, r.Final, meta)
			if err != nil {
				return invalidInput("chunk %d line %d: %v", c.chunk, it.Line, err)
			}
			c.lines.Write(line)
			c.lines.WriteByte('\n')
		}
		month := completed.In(c.months).Format("2006-01")
		for _, a := range r.Annotations {
			if it.Gold {
				c.pay(month, it.ID, a, completed, ledger.Gold, c.sp.GoldRate())
			} else {
				c.pay(month, it.ID, a, completed, ledger.Annotation, perAnnotation)
			}
		}
		if r.Arbitration != nil {
			// Gold items included: the reviewer did the work of an arbitration, unaware of the truth.
			c.pay(month, it.ID, *r.Arbitration, completed, ledger.Arbitration, perArbitration)
		}
	}
	return nil
}

// pay adds the ledger entry of one contribution to an item, accepted at completed.
func (c *chunkRecord) pay(month, item string, by Contribution, completed time.Time, role string, amount int64) {
	c.ledger[month] = append(c.ledger[month], ledger.Entry{
		ID:     ledger.EntryID(c.sp.ID, c.chunk, item, role, by.Worker),
		Worker: by.Worker, Project: c.sp.ID, Chunk: c.chunk, Item: item, Role: role,
		Amount: amount, Currency: c.sp.Pay.Currency, Month: month, AcceptedAt: completed, Seconds: by.Seconds,
	})
}

// arbitrated counts the items to deliver whose label a reviewer's arbitration decided.
func (c *chunkRecord) arbitrated(settled []ItemResult) int {
	n := 0
	for i, r := range settled {
		if !c.items[i].Gold && r.Method == results.MethodArbitrated {
			n++
		}
	}
	return n
}

// entriesByRole counts the chunk's ledger entries by role.
func (c *chunkRecord) entriesByRole() map[string]int {
	n := map[string]int{}
	for _, entries := range c.ledger {
		for _, e := range entries {
			n[e.Role]++
		}
	}
	return n
}

// calibrate counts each gold item under the confidence its label would have been delivered with
// (as if it were an ordinary item) and whether that label matched the known answer.
func (c *chunkRecord) calibrate(stats *quality.ChunkStats, settled []ItemResult) {
	typ := c.typ
	for i, r := range settled {
		if !c.items[i].Gold {
			continue
		}
		truth := quality.GoldTruth(c.items[i])
		would := r
		would.Method = results.MethodAgreed
		if len(r.Annotations) >= 2 && typ != nil && !label.Agree(typ, r.Annotations[0].Answer, r.Annotations[1].Answer, 0) {
			would.Method = results.MethodDisputed
		}
		meta, raw, _ := c.metadata(would)
		stats.Calibrate(meta.Confidence, raw, typ != nil && len(truth) > 0 && label.Agree(typ, r.Final, truth, 0))
	}
}

// metadata is metadataFor with the confidence recalibrated on the project's earlier gold; it
// returns the model's own confidence beside it.
func (c *chunkRecord) metadata(r ItemResult) (meta results.LabelMetadata, raw float64, completed time.Time) {
	meta, completed = metadataFor(c.sp, c.typ, r, c.acc, c.model)
	raw = meta.Confidence
	meta.Confidence = quality.Round4(c.recal.Apply(raw))
	return meta, raw, completed
}

// writeLedger writes the chunk's ledger files, one per month its items were accepted in, in month
// order; a file an earlier attempt wrote is counted, not written again.
func (a *Activities) writeLedger(ctx context.Context, in RecordChunkInput, byMonth map[string][]ledger.Entry, res RecordChunkResult, progress *recording) (RecordChunkResult, error) {
	months := make([]string, 0, len(byMonth))
	for m := range byMonth {
		months = append(months, m)
	}
	sort.Strings(months)
	for _, m := range months {
		data, err := ledger.Encode(byMonth[m])
		if err != nil {
			return res, err
		}
		key := layout.LedgerKey(m, in.ProjectID, in.Chunk)
		if err := progress.put(key, func() error { return a.Store.Put(ctx, key, data) }); err != nil {
			return res, err
		}
		res.LedgerKeys = append(res.LedgerKeys, key)
		res.LedgerEntries += len(byMonth[m])
	}
	return res, nil
}

// metadataFor builds the label metadata and the time the item was settled. Confidence is the
// posterior of the delivered label given each person's estimated accuracy (acc; the default for
// people without a record): under the model of the crowd when there is one that knows the
// delivered label, else the one-coin posterior. An answer that agrees with the delivered one
// under the type's measure counts as a vote for it.
func metadataFor(sp spec.Project, typ label.Type, r ItemResult, acc map[string]float64, model *aggregate.Posteriors) (results.LabelMetadata, time.Time) {
	meta := results.LabelMetadata{Method: r.Method, Type: sp.Annotation.Type, Project: sp.ID}
	class := func(a label.Answer) string {
		if typ != nil && label.Agree(typ, a, r.Final, 0) {
			return string(r.Final)
		}
		return string(a)
	}
	accuracy := func(worker string, dflt float64) float64 {
		if v, ok := acc[worker]; ok {
			return v
		}
		return dflt
	}
	var votes []quality.Vote
	var completed time.Time
	for _, c := range r.Annotations {
		meta.Annotators = append(meta.Annotators, c.Worker)
		meta.Answers = append(meta.Answers, c.Answer)
		votes = append(votes, quality.Vote{Class: class(c.Answer), Accuracy: accuracy(c.Worker, quality.DefaultAnnotatorAccuracy)})
		if c.SubmittedAt.After(completed) {
			completed = c.SubmittedAt
		}
	}
	if r.Arbitration != nil {
		meta.Reviewer = r.Arbitration.Worker
		votes = append(votes, quality.Vote{Class: class(r.Arbitration.Answer), Accuracy: accuracy(r.Arbitration.Worker, quality.DefaultReviewerAccuracy)})
		if r.Arbitration.SubmittedAt.After(completed) {
			completed = r.Arbitration.SubmittedAt
		}
	}
	meta.Confidence = quality.Round4(confidence(sp, r.Final, votes, model))
	meta.CompletedAt = completed.UTC()
	meta.Times = results.TimesOf(r)
	return meta, completed
}

// confidence is the posterior of the delivered label given the votes: the crowd model's for a
// single-label project whose model knows the label, else the one-coin posterior.
func confidence(sp spec.Project, final label.Answer, votes []quality.Vote, model *aggregate.Posteriors) float64 {
	single := sp.Annotation.Type == label.SingleLabelName
	if single && model != nil {
		mv := make([]aggregate.Vote, 0, len(votes))
		for _, v := range votes {
			mv = append(mv, aggregate.Vote{Label: label.ClassOf(label.Answer(v.Class)), Accuracy: v.Accuracy})
		}
		if p, ok := model.Probability(label.ClassOf(final), mv); ok {
			return p
		}
	}
	// Free-form types have many possible answers; two classes is the cautious count for them.
	k := len(sp.Annotation.Taxonomy)
	if !single || k < 2 {
		k = 2
	}
	return quality.Posterior(string(final), votes, k)
}
