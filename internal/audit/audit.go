// Package audit keeps the record of every finance and ops action: who acted, with which
// credential, on what, when, and whether it took effect. Records are written once, under keys
// that sort by time, and never rewritten.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/store"
)

// Prefix holds every audit record: audit/<YYYY-MM-DD>/<time>-<action>-<random>.json.
const Prefix = layout.AuditPrefix

// Outcomes of an action.
const (
	Done    = "done"
	Refused = "refused"
)

// Record is one action.
type Record struct {
	At         time.Time         `json:"at"`
	Person     string            `json:"person"`
	Role       string            `json:"role"`
	Credential string            `json:"credential"` // a fingerprint of the token presented, never the token
	Action     string            `json:"action"`     // approve, hold, release, reject, reverse, launch, ...
	Target     string            `json:"target"`     // the month, project or rejection acted on
	Details    map[string]string `json:"details,omitempty"`
	Outcome    string            `json:"outcome"`
	Error      string            `json:"error,omitempty"`
}

// Key is where r is stored.
func Key(r Record) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return layout.AuditKey(r.At, r.Action, hex.EncodeToString(b[:]))
}

// Write stores r with the outcome of err.
func Write(ctx context.Context, s *store.Store, r Record, err error) error {
	if r.At.IsZero() {
		r.At = time.Now().UTC()
	}
	r.Outcome = Done
	if err != nil {
		r.Outcome, r.Error = Refused, err.Error()
	}
	return s.PutJSON(ctx, Key(r), r)
}

// List reads the records of one day (YYYY-MM-DD), oldest first.
func List(ctx context.Context, s *store.Store, day string) ([]Record, error) {
	var keys []string
	if err := s.List(ctx, layout.AuditDayPrefix(day), func(key string, _ int64) error {
		keys = append(keys, key)
		return nil
	}); err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(keys))
	for _, k := range keys {
		var r Record
		if err := s.GetJSON(ctx, k, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
