package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/labelflow/labelflow/internal/delivery"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/manifest"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
)

// PrepareProjectInput carries the spec of a project being started.
type PrepareProjectInput struct {
	Spec spec.Project
}

// PrepareProject checks the spec against the boundary (a workflow started without a launch gets
// the same checks), stores it (the gateway and later activities read it from there) and checks
// that the client's bucket accepts writes before any annotation starts. Nothing is written for a
// spec that reaches outside its client's locations.
func (a *Activities) PrepareProject(ctx context.Context, in PrepareProjectInput) error {
	if errs := a.Boundary.Check(in.Spec); len(errs) > 0 {
		return invalidInput("%v", &spec.Error{File: "project " + in.Spec.ID, Fields: errs})
	}
	if err := a.claimProjectID(ctx, in.Spec); err != nil {
		return err
	}
	if err := spec.Save(ctx, a.Store, in.Spec); err != nil {
		return err
	}
	if err := delivery.CheckTarget(ctx, a.Targets, in.Spec); err != nil {
		return invalidInput("%v", err)
	}
	return nil
}

// claimProjectID refuses a spec whose id already holds another project's spec: the folder of a
// project (its chunks, results and receipts) is its own. The same spec again is a retry.
func (a *Activities) claimProjectID(ctx context.Context, sp spec.Project) error {
	stored, err := spec.Load(ctx, a.Store, sp.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	was, _ := json.Marshal(stored)
	now, _ := json.Marshal(sp)
	if !bytes.Equal(was, now) {
		return invalidInput("project %s already exists with another spec; a project id is launched once", sp.ID)
	}
	return nil
}

// SplitInput names the manifest to split.
type SplitInput struct {
	ProjectID string
	Source    string // s3://bucket/key in one of the client's intake locations
	ChunkSize int
	// GoldSource, when set, is a manifest of gold items (each with a truth); GoldPerChunk of them
	// are added to every chunk.
	GoldSource   string
	GoldPerChunk int
}

// SplitResult is what history keeps of chunking: counts and keys, never items.
type SplitResult struct {
	Lines        int
	Items        int
	Chunks       int
	Rejects      int
	RejectsKey   string
	GoldPerChunk int // gold items at the end of every chunk
}

// SplitManifest streams the source manifest and writes chunk files and the rejects file. Its
// output is a pure function of the manifest, so a retry rewrites identical objects.
//
// Every object read is checked against the client's intake locations first (the source, the gold
// manifest and each line's source-ref), so a project never reads, nor hands its annotators,
// another client's or the platform's data.
func (a *Activities) SplitManifest(ctx context.Context, in SplitInput) (SplitResult, error) {
	sp, err := a.spec(ctx, in.ProjectID)
	if err != nil {
		return SplitResult{}, err
	}
	intake := func(uri string) error { return a.Boundary.MayRead(sp.Client, uri) }
	if err := intake(in.Source); err != nil {
		return SplitResult{}, invalidInput("source: %v", err)
	}
	if in.GoldSource != "" {
		if err := intake(in.GoldSource); err != nil {
			return SplitResult{}, invalidInput("quality.gold.source: %v", err)
		}
	}
	bucket, key, err := store.ParseURI(in.Source)
	if err != nil {
		return SplitResult{}, invalidInput("source: %v", err)
	}
	r, err := a.Store.OpenIn(ctx, bucket, key)
	if err != nil {
		return SplitResult{}, fmt.Errorf("open manifest: %w", err)
	}
	defer r.Close()
	sink := &chunkSink{store: a.Store, project: in.ProjectID}
	if in.GoldSource != "" {
		if sink.gold, err = a.loadGold(ctx, in.GoldSource, intake); err != nil {
			return SplitResult{}, err
		}
		sink.perChunk = min(in.GoldPerChunk, len(sink.gold))
	}
	opts := manifest.Options{ChunkSize: in.ChunkSize, MaxLineBytes: a.MaxLineBytes, CheckSourceRef: intake}
	res, err := manifest.Split(ctx, r, opts, sink,
		func(lines int) { activity.RecordHeartbeat(ctx, lines) })
	if err != nil {
		return SplitResult{}, fmt.Errorf("split %s: %w", in.Source, err)
	}
	a.logger(ctx).Info("manifest split", "project", in.ProjectID, "lines", res.Lines, "items", res.Items,
		"chunks", res.Chunks, "rejects", res.Rejects)
	a.Metrics.Chunked(res.Items, res.Rejects)
	return SplitResult{Lines: res.Lines, Items: res.Items, Chunks: res.Chunks, Rejects: res.Rejects, RejectsKey: layout.RejectsKey(in.ProjectID),
		GoldPerChunk: sink.perChunk}, nil
}

// loadGold reads the gold manifest; every line must carry a truth, and every source-ref must be
// in the client's intake.
func (a *Activities) loadGold(ctx context.Context, source string, intake func(string) error) ([]manifest.Item, error) {
	bucket, key, err := store.ParseURI(source)
	if err != nil {
		return nil, invalidInput("quality.gold.source: %v", err)
	}
	r, err := a.Store.OpenIn(ctx, bucket, key)
	if err != nil {
		return nil, fmt.Errorf("open gold manifest: %w", err)
	}
	defer r.Close()
	var gold goldSink
	res, err := manifest.Split(ctx, r, manifest.Options{ChunkSize: 1 << 20, MaxLineBytes: a.MaxLineBytes, CheckSourceRef: intake}, &gold, nil)
	if err != nil {
		return nil, fmt.Errorf("gold manifest %s: %w", source, err)
	}
	if res.Rejects > 0 || res.Items == 0 {
		return nil, invalidInput("gold manifest %s: %d valid items and %d bad lines; fix it before launch", source, res.Items, res.Rejects)
	}
	for _, it := range gold.items {
		var line struct {
			Truth json.RawMessage `json:"truth"`
		}
		if json.Unmarshal(it.Data, &line) != nil || len(line.Truth) == 0 || string(line.Truth) == "null" {
			return nil, invalidInput("gold manifest %s line %d: truth: every gold item needs its known answer", source, it.Line)
		}
	}
	return gold.items, nil
}

type goldSink struct{ items []manifest.Item }

func (g *goldSink) WriteChunk(_ context.Context, _ int, data []byte, _ int) error {
	items, err := manifest.ReadChunk(data)
	g.items = append(g.items, items...)
	return err
}

func (g *goldSink) WriteRejects(context.Context, []byte, int) error { return nil }

type chunkSink struct {
	store    *store.Store
	project  string
	gold     []manifest.Item
	perChunk int
}

// WriteChunk stores a chunk with its gold items appended; which gold items a chunk gets rotates
// through the gold set, deterministically.
func (s *chunkSink) WriteChunk(ctx context.Context, index int, data []byte, _ int) error {
	if s.perChunk > 0 {
		var buf bytes.Buffer
		buf.Write(data)
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for j := 0; j < s.perChunk; j++ {
			g := s.gold[(index*s.perChunk+j)%len(s.gold)]
			g.Gold = true
			g.ID = fmt.Sprintf("gold-%06d-%02d", index, j)
			if err := enc.Encode(g); err != nil {
				return err
			}
		}
		data = buf.Bytes()
	}
	return s.store.Put(ctx, layout.ChunkKey(s.project, index), data)
}

func (s *chunkSink) WriteRejects(ctx context.Context, data []byte, _ int) error {
	return s.store.Put(ctx, layout.RejectsKey(s.project), data)
}
