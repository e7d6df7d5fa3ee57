package results

import (
	"context"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/store"
)

// SubmittedSuite is one suite a chunk accepted: who submitted it and how many of its answers
// were accepted, which is the answer a repeated submission gets again.
type SubmittedSuite struct {
	SuiteID  string `json:"suite_id"`
	Worker   string `json:"worker"`
	Accepted int    `json:"accepted"`
}

// ChunkSuites is what a closed chunk keeps of its accepted suites (layout.SuitesKey), so that a
// submission repeated after the chunk closed still gets its original answer.
type ChunkSuites struct {
	Project string           `json:"project"`
	Chunk   int              `json:"chunk"`
	Suites  []SubmittedSuite `json:"suites"`
}

// Find returns the accepted suite called id.
func (c ChunkSuites) Find(id string) (SubmittedSuite, bool) {
	for _, s := range c.Suites {
		if s.SuiteID == id {
			return s, true
		}
	}
	return SubmittedSuite{}, false
}

// ReadChunkSuites reads a closed chunk's accepted suites; store.ErrNotFound until the chunk is
// recorded (and for chunks recorded before the record was kept).
func ReadChunkSuites(ctx context.Context, s *store.Store, project string, chunk int) (ChunkSuites, error) {
	var c ChunkSuites
	err := s.GetJSON(ctx, layout.SuitesKey(project, chunk), &c)
	return c, err
}
