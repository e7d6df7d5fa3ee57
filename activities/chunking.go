package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/manifest"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
)

// PrepareProjectInput carries the spec of a project being started.
type PrepareProjectInput struct {
	Spec spec.Project
}

// PrepareProject stores the spec (the gateway and later activities read it from there) and checks
// that the client's bucket accepts writes before any annotation starts.
func (a *Activities) PrepareProject(ctx context.Context, in PrepareProjectInput) error {
	if err := a.Store.PutJSON(ctx, SpecKey(in.Spec.ID), in.Spec); err != nil {
		return err
	}
	if err := CheckDeliveryTarget(ctx, a.Targets, in.Spec); err != nil {
		return invalidInput("%v", err)
	}
	return nil
}

// CheckDeliveryTarget writes and deletes a probe object in the project's delivery location.
func CheckDeliveryTarget(ctx context.Context, targets *clientbucket.Profiles, p spec.Project) error {
	b, err := targets.Open(ctx, p.Delivery)
	if err != nil {
		return fmt.Errorf("delivery target: %w", err)
	}
	return b.Probe(ctx, DeliveryPrefix(p.Delivery.Prefix, p.ID)+".labelflow-write-check")
}

// SplitInput names the manifest to split.
type SplitInput struct {
	ProjectID string
	Source    string // s3://bucket/key in the platform store
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
func (a *Activities) SplitManifest(ctx context.Context, in SplitInput) (SplitResult, error) {
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
		if sink.gold, err = a.loadGold(ctx, in.GoldSource); err != nil {
			return SplitResult{}, err
		}
		sink.perChunk = min(in.GoldPerChunk, len(sink.gold))
	}
	res, err := manifest.Split(ctx, r, manifest.Options{ChunkSize: in.ChunkSize, MaxLineBytes: a.MaxLineBytes}, sink,
		func(lines int) { activity.RecordHeartbeat(ctx, lines) })
	if err != nil {
		return SplitResult{}, fmt.Errorf("split %s: %w", in.Source, err)
	}
	a.Log.Info().Str("project", in.ProjectID).Int("lines", res.Lines).Int("items", res.Items).
		Int("chunks", res.Chunks).Int("rejects", res.Rejects).Msg("manifest split")
	return SplitResult{Lines: res.Lines, Items: res.Items, Chunks: res.Chunks, Rejects: res.Rejects, RejectsKey: RejectsKey(in.ProjectID),
		GoldPerChunk: sink.perChunk}, nil
}

// loadGold reads the gold manifest; every line must carry a truth.
func (a *Activities) loadGold(ctx context.Context, source string) ([]manifest.Item, error) {
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
	res, err := manifest.Split(ctx, r, manifest.Options{ChunkSize: 1 << 20, MaxLineBytes: a.MaxLineBytes}, &gold, nil)
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
	return s.store.Put(ctx, ChunkKey(s.project, index), data)
}

func (s *chunkSink) WriteRejects(ctx context.Context, data []byte, _ int) error {
	return s.store.Put(ctx, RejectsKey(s.project), data)
}
