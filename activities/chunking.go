package activities

import (
	"context"
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
	if err := a.Store.PutJSON(ctx, specKey(in.Spec.ID), in.Spec); err != nil {
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
}

// SplitResult is what history keeps of chunking: counts and keys, never items.
type SplitResult struct {
	Lines      int
	Items      int
	Chunks     int
	Rejects    int
	RejectsKey string
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
	res, err := manifest.Split(ctx, r, manifest.Options{ChunkSize: in.ChunkSize, MaxLineBytes: a.MaxLineBytes}, sink,
		func(lines int) { activity.RecordHeartbeat(ctx, lines) })
	if err != nil {
		return SplitResult{}, fmt.Errorf("split %s: %w", in.Source, err)
	}
	a.Log.Info().Str("project", in.ProjectID).Int("lines", res.Lines).Int("items", res.Items).
		Int("chunks", res.Chunks).Int("rejects", res.Rejects).Msg("manifest split")
	return SplitResult{Lines: res.Lines, Items: res.Items, Chunks: res.Chunks, Rejects: res.Rejects, RejectsKey: rejectsKey(in.ProjectID)}, nil
}

type chunkSink struct {
	store   *store.Store
	project string
}

func (s *chunkSink) WriteChunk(ctx context.Context, index int, data []byte, _ int) error {
	return s.store.Put(ctx, ChunkKey(s.project, index), data)
}

func (s *chunkSink) WriteRejects(ctx context.Context, data []byte, _ int) error {
	return s.store.Put(ctx, rejectsKey(s.project), data)
}
