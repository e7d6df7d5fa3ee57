// Package activities holds LabelFlow's I/O: reading manifests, writing chunk files, results and
// the ledger to the platform store, delivering to client buckets, and payroll. Every activity is
// idempotent: it writes deterministic keys with identical bytes, so a retry never duplicates.
package activities

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/payout"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
)

// Activities holds the dependencies of every activity; workers register its methods.
type Activities struct {
	Store        *store.Store
	Targets      *clientbucket.Profiles
	Payouts      payout.Provider
	MaxLineBytes int
	Months       *time.Location // decides which month work falls in
	// FloorMultiplier times the local hourly minimum wage is the least a person earns an hour.
	FloorMultiplier string
	Log             zerolog.Logger
	// Scores caches people's records for accuracy estimates; nil reads them every time.
	Scores *ScoreCache
	// Clock tells the time where it decides something (whether a month is over); nil is the
	// system clock.
	Clock func() time.Time
	// Boundary is what a project may read and where it may deliver: its client's locations in
	// the clients file. Checked again here, so that a workflow started by other means than a
	// launch cannot reach outside it.
	Boundary spec.Boundary
	// PaySimulated lets payroll pay simulated people: only on the embedded stack, where the demo
	// shows a payroll of its simulated crowd. A production stack never pays them.
	PaySimulated bool

	specs sync.Map // project id → spec.Project; a launched spec never changes
}

// spec returns a launched project's spec, read from the store once per worker.
func (a *Activities) spec(ctx context.Context, project string) (spec.Project, error) {
	if sp, ok := a.specs.Load(project); ok {
		return sp.(spec.Project), nil
	}
	sp, err := LoadSpec(ctx, a.Store, project)
	if err == nil {
		a.specs.Store(project, sp)
	}
	return sp, err
}

// Contribution is one person's answer to one item.
type Contribution struct {
	Worker      string       `json:"worker"`
	Answer      label.Answer `json:"answer,omitempty"` // dropped once stored (StoreSettled)
	SubmittedAt time.Time    `json:"submitted_at"`
	Seconds     int          `json:"seconds"` // time from claim to submit, per task of the suite
	// Accuracy is the person's estimated accuracy when they claimed the work (0: unknown).
	Accuracy float64 `json:"accuracy,omitempty"`
}

// Platform store layout. Keys are derived from project, chunk and month only, never from time or
// randomness, which is what makes retries idempotent.

// ChunkKey is the chunk file of a project.
func ChunkKey(project string, chunk int) string {
	return fmt.Sprintf("projects/%s/chunks/chunk-%06d.jsonl", project, chunk)
}

// ResultsKey is the platform's copy of a chunk's final labels, kept for re-delivery.
func ResultsKey(project string, chunk int) string {
	return fmt.Sprintf("projects/%s/results/chunk-%06d.jsonl", project, chunk)
}

// ResultsPrefix lists a project's recorded results.
func ResultsPrefix(project string) string { return fmt.Sprintf("projects/%s/results/", project) }

// ReceiptKey records what was delivered for a chunk.
func ReceiptKey(project string, chunk int) string {
	return fmt.Sprintf("projects/%s/deliveries/chunk-%06d.json", project, chunk)
}

// LedgerKey holds a chunk's ledger entries for one month.
func LedgerKey(month, project string, chunk int) string {
	return fmt.Sprintf("ledger/%s/%s/chunk-%06d.jsonl", month, project, chunk)
}

// LedgerPrefix lists a month's ledger.
func LedgerPrefix(month string) string { return "ledger/" + month + "/" }

// LedgerFile is what a ledger key names: a chunk's entries of one month (LedgerKey), or a
// project's quality bonuses (BonusKey; Bonus set, Chunk -1).
type LedgerFile struct {
	Month, Project string
	Chunk          int
	Bonus          bool
}

var ledgerKeyPattern = regexp.MustCompile(`^ledger/([0-9]{4}-[0-9]{2})/([a-z0-9][a-z0-9-]{0,62})/(?:chunk-([0-9]{6,9})|bonus)\.jsonl$`)

// ParseLedgerKey reads a key of the exact form LedgerKey or BonusKey writes. Any other key under
// ledger/ was not written by LabelFlow's ledger (a stray or planted object), and payroll does not
// read it.
func ParseLedgerKey(key string) (LedgerFile, bool) {
	m := ledgerKeyPattern.FindStringSubmatch(key)
	if m == nil {
		return LedgerFile{}, false
	}
	if _, err := time.Parse("2006-01", m[1]); err != nil {
		return LedgerFile{}, false
	}
	f := LedgerFile{Month: m[1], Project: m[2], Chunk: -1, Bonus: m[3] == ""}
	if f.Bonus {
		return f, true
	}
	f.Chunk, _ = strconv.Atoi(m[3])
	// The round trip refuses what LedgerKey never writes, such as extra leading zeros.
	return f, LedgerKey(f.Month, f.Project, f.Chunk) == key
}

// SpecKey is where a launched project's spec is kept.
func SpecKey(project string) string { return fmt.Sprintf("projects/%s/spec.json", project) }

// RejectsKey is the quarantine file of a project's bad manifest lines.
func RejectsKey(project string) string { return fmt.Sprintf("projects/%s/rejects.jsonl", project) }

// LoadSpec reads a launched project's spec from the store.
func LoadSpec(ctx context.Context, s *store.Store, project string) (spec.Project, error) {
	var p spec.Project
	err := s.GetJSON(ctx, SpecKey(project), &p)
	return p, err
}

// invalidInput marks an error that retrying cannot fix.
func invalidInput(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), "InvalidInput", nil)
}

// heartbeatEvery is how often a long activity tells Temporal it is alive; well inside the
// heartbeat timeout, so that only a dead worker lets the activity time out and be retried.
const heartbeatEvery = 10 * time.Second

// keepAlive heartbeats until the returned stop is called. It suits steps that cannot report
// progress of their own (a payout provider's batch, a long ledger stream); outside an activity it
// does nothing.
func keepAlive(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}

func (a *Activities) now() time.Time {
	if a.Clock != nil {
		return a.Clock()
	}
	return time.Now()
}
