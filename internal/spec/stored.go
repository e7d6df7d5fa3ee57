package spec

import (
	"context"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/store"
)

// Load reads a launched project's spec from the platform store (layout.SpecKey), where
// PrepareProject keeps it; store.ErrNotFound for a project never launched.
func Load(ctx context.Context, s *store.Store, project string) (Project, error) {
	var p Project
	err := s.GetJSON(ctx, layout.SpecKey(project), &p)
	return p, err
}

// Save keeps a launched project's spec in the platform store.
func Save(ctx context.Context, s *store.Store, p Project) error {
	return s.PutJSON(ctx, layout.SpecKey(p.ID), p)
}
