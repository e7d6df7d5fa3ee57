package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/manifest"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
)

// ItemResult is the outcome of one item, as the chunk workflow hands it over.
type ItemResult struct {
	Item        int             `json:"item"`
	Final       json.RawMessage `json:"final"`
	Method      string          `json:"method"`
	Annotations []Contribution  `json:"annotations"`
	Arbitration *Contribution   `json:"arbitration,omitempty"`
}

// RecordChunkInput carries a finished chunk's outcomes.
type RecordChunkInput struct {
	ProjectID string
	Chunk     int
	// Results are the items whose answers the workflow still holds; the others were stored
	// earlier by StoreSettled, in Parts parts, and are read back from the store.
	Results []ItemResult
	Parts   int
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

// SettledPartKey holds one part of a chunk's settled results until the chunk is recorded.
func SettledPartKey(project string, chunk, part int) string {
	return fmt.Sprintf("projects/%s/settled/chunk-%06d/part-%04d.json", project, chunk, part)
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
	return a.Store.Put(ctx, SettledPartKey(in.ProjectID, in.Chunk, in.Part), buf.Bytes())
}

// allResults merges the parts stored by StoreSettled with the results given inline, in item order.
func (a *Activities) allResults(ctx context.Context, in RecordChunkInput) ([]ItemResult, error) {
	if in.Parts == 0 {
		return in.Results, nil
	}
	all := slices.Clone(in.Results)
	for part := range in.Parts {
		key := SettledPartKey(in.ProjectID, in.Chunk, part)
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
}

// LabelMetadata is added to each delivered line beside the label.
type LabelMetadata struct {
	Method      string    `json:"method"`
	Annotators  []string  `json:"annotators"`
	Reviewer    string    `json:"reviewer,omitempty"`
	Answers     []any     `json:"answers"`
	Confidence  float64   `json:"confidence"`
	Type        string    `json:"type"`
	Project     string    `json:"project"`
	CompletedAt time.Time `json:"completed_at"`
}

// LedgerEntry is one payable piece of work. Its ID is unique per (project, chunk, item, role,
// worker): the same work can only ever produce the same entry.
type LedgerEntry struct {
	ID         string    `json:"id"`
	Worker     string    `json:"worker"`
	Project    string    `json:"project"`
	Chunk      int       `json:"chunk"`
	Item       string    `json:"item"`
	Role       string    `json:"role"` // annotation | arbitration
	Amount     int64     `json:"amount"`
	Currency   string    `json:"currency"`
	Month      string    `json:"month"`
	AcceptedAt time.Time `json:"accepted_at"`
	Seconds    int       `json:"seconds"`
}

// Ledger roles.
const (
	LedgerAnnotation  = "annotation"
	LedgerArbitration = "arbitration"
	LedgerGold        = "gold"
	LedgerBonus       = "bonus"
)

// RecordChunk writes a chunk's final labels (the platform's copy, from which deliveries are made)
// and its ledger entries: one per annotation and one per arbitration of the chunk. Every answer
// given in good faith within its lease is paid, whether or not it matched the final label.
func (a *Activities) RecordChunk(ctx context.Context, in RecordChunkInput) (RecordChunkResult, error) {
	sp, err := a.spec(ctx, in.ProjectID)
	if err != nil {
		return RecordChunkResult{}, err
	}
	data, err := a.Store.Get(ctx, ChunkKey(in.ProjectID, in.Chunk))
	if err != nil {
		return RecordChunkResult{}, err
	}
	items, err := manifest.ReadChunk(data)
	if err != nil {
		return RecordChunkResult{}, invalidInput("chunk %d: %v", in.Chunk, err)
	}
	if in.Results, err = a.allResults(ctx, in); err != nil {
		return RecordChunkResult{}, err
	}
	if len(items) != len(in.Results) {
		return RecordChunkResult{}, invalidInput("chunk %d holds %d items but %d results were given", in.Chunk, len(items), len(in.Results))
	}

	perAnnotation, perArbitration := sp.Rates()
	acc, err := a.accuracies(ctx, sp, in.Results)
	if err != nil {
		return RecordChunkResult{}, err
	}
	var out bytes.Buffer
	ledger := map[string][]LedgerEntry{}
	for i, r := range in.Results {
		it := items[r.Item]
		if r.Item != i {
			return RecordChunkResult{}, invalidInput("result %d is for item %d", i, r.Item)
		}
		meta, completed := metadataFor(sp, r, acc)
		if !it.Gold { // gold items are scored, never delivered
			line, err := labelledLine(it.Data, r.Final, meta)
			if err != nil {
				return RecordChunkResult{}, invalidInput("chunk %d line %d: %v", in.Chunk, it.Line, err)
			}
			out.Write(line)
			out.WriteByte('\n')
		}
		month := completed.In(a.Months).Format("2006-01")
		add := func(c Contribution, role string, amount int64) {
			ledger[month] = append(ledger[month], LedgerEntry{
				ID:     fmt.Sprintf("%s/%06d/%s/%s/%s", sp.ID, in.Chunk, it.ID, role, c.Worker),
				Worker: c.Worker, Project: sp.ID, Chunk: in.Chunk, Item: it.ID, Role: role,
				Amount: amount, Currency: sp.Pay.Currency, Month: month, AcceptedAt: completed, Seconds: c.Seconds,
			})
		}
		for _, c := range r.Annotations {
			if it.Gold {
				add(c, LedgerGold, sp.GoldRate())
			} else {
				add(c, LedgerAnnotation, perAnnotation)
			}
		}
		if r.Arbitration != nil {
			// Gold items included: the reviewer did the work of an arbitration, unaware of the truth.
			add(*r.Arbitration, LedgerArbitration, perArbitration)
		}
	}
	stats := chunkStats(sp, in.Chunk, items, in.Results)
	for i, r := range in.Results {
		if !items[i].Gold {
			continue
		}
		// The label this gold item would have been delivered with, and its confidence.
		var line struct {
			Truth json.RawMessage `json:"truth"`
		}
		_ = json.Unmarshal(items[i].Data, &line)
		typ, _ := label.Lookup(sp.Annotation.Type)
		would := r
		would.Method = "agreed"
		if len(r.Annotations) >= 2 && typ != nil && !label.Agree(typ, r.Annotations[0].Answer, r.Annotations[1].Answer, 0) {
			would.Method = "disputed"
		}
		meta, _ := metadataFor(sp, would, acc)
		stats.calibrate(meta.Confidence, typ != nil && len(line.Truth) > 0 && label.Agree(typ, r.Final, line.Truth, 0))
	}
	res := RecordChunkResult{ResultsKey: ResultsKey(in.ProjectID, in.Chunk), Items: bytes.Count(out.Bytes(), []byte{'\n'})}
	if err := a.Store.Put(ctx, res.ResultsKey, out.Bytes()); err != nil {
		return res, err
	}
	if err := a.Store.PutJSON(ctx, StatsKey(in.ProjectID, in.Chunk), stats); err != nil {
		return res, err
	}
	months := make([]string, 0, len(ledger))
	for m := range ledger {
		months = append(months, m)
	}
	sort.Strings(months)
	for _, m := range months {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		for _, e := range ledger[m] {
			if err := enc.Encode(e); err != nil {
				return res, err
			}
		}
		key := LedgerKey(m, in.ProjectID, in.Chunk)
		if err := a.Store.Put(ctx, key, buf.Bytes()); err != nil {
			return res, err
		}
		res.LedgerKeys = append(res.LedgerKeys, key)
		res.LedgerEntries += len(ledger[m])
	}
	return res, nil
}

// metadataFor builds the label metadata and the time the item was settled. Confidence is the
// posterior of the delivered label given each person's estimated accuracy (acc; the default for
// people without a record). An answer that agrees with the delivered one under the type's
// measure counts as a vote for it.
func metadataFor(sp spec.Project, r ItemResult, acc map[string]float64) (LabelMetadata, time.Time) {
	meta := LabelMetadata{Method: r.Method, Type: sp.Annotation.Type, Project: sp.ID}
	typ, _ := label.Lookup(sp.Annotation.Type)
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
	// Free-form types have many possible answers; two classes is the cautious count for them.
	k := len(sp.Annotation.Taxonomy)
	if sp.Annotation.Type != label.SingleLabelName || k < 2 {
		k = 2
	}
	meta.Confidence = round4(quality.Posterior(string(r.Final), votes, k))
	meta.CompletedAt = completed.UTC()
	return meta, completed
}

func round4(f float64) float64 { return float64(int64(f*10000+0.5)) / 10000 }

// labelledLine appends "label" and "label-metadata" to the client's original JSON object, keeping
// its fields and their order untouched.
func labelledLine(original, final json.RawMessage, meta LabelMetadata) ([]byte, error) {
	trimmed := bytes.TrimSpace(original)
	if len(trimmed) < 2 || trimmed[0] != '{' || trimmed[len(trimmed)-1] != '}' {
		return nil, fmt.Errorf("input line is not a JSON object")
	}
	m, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(trimmed[:len(trimmed)-1])
	if len(bytes.TrimSpace(trimmed[1:len(trimmed)-1])) > 0 {
		b.WriteByte(',')
	}
	b.WriteString(`"label":`)
	// Compact, so that the line stays one line whatever formatting the answer came with.
	if err := json.Compact(&b, final); err != nil {
		return nil, fmt.Errorf("label: %v", err)
	}
	b.WriteString(`,"label-metadata":`)
	b.Write(m)
	b.WriteByte('}')
	return b.Bytes(), nil
}
