// Package activities holds LabelFlow's I/O: reading manifests, writing chunk files, results and
// the ledger to the platform store, delivering to client buckets, and payroll. Every activity is
// idempotent: it writes deterministic keys with identical bytes, so a retry never duplicates.
//
// The package holds the activity methods and their inputs and results only. What they write are
// records of the packages that own them (internal/results, internal/delivery, internal/ledger,
// internal/quality, internal/payroll), under the keys of internal/layout.
package activities

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/logging"
	"github.com/labelflow/labelflow/internal/metrics"
	"github.com/labelflow/labelflow/internal/payout"
	"github.com/labelflow/labelflow/internal/pseudonym"
	"github.com/labelflow/labelflow/internal/quality"
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
	Scores *quality.ScoreCache
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
	// Pseudonyms name people in everything delivered to clients; without it nothing is delivered.
	Pseudonyms *pseudonym.Namer
	// Metrics count the work completed (nil counts nothing).
	Metrics *metrics.Work

	// partSize is the multipart part size of deliveries; zero is clientbucket.PartSize.
	partSize int

	specs sync.Map // project id → spec.Project; a launched spec never changes
}

// spec returns a launched project's spec, read from the store once per worker.
func (a *Activities) spec(ctx context.Context, project string) (spec.Project, error) {
	if sp, ok := a.specs.Load(project); ok {
		return sp.(spec.Project), nil
	}
	sp, err := spec.Load(ctx, a.Store, project)
	if err == nil {
		a.specs.Store(project, sp)
	}
	return sp, err
}

// InvalidInput is the type of the errors activities return for input that retrying cannot fix;
// workflows list it among the non-retryable error types of their activity options.
const InvalidInput = "InvalidInput"

// invalidInput marks an error that retrying cannot fix.
func invalidInput(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), InvalidInput, nil)
}

// heartbeatEvery is how often a long activity tells Temporal it is alive; well inside the
// heartbeat timeout, so that only a dead worker lets the activity time out and be retried.
const heartbeatEvery = 10 * time.Second

// RecordHeartbeatTimeout is the heartbeat timeout of RecordChunk, which heartbeats its progress
// (recordProgress) every heartbeatEvery and after each object it writes.
const RecordHeartbeatTimeout = 3 * heartbeatEvery

// keepAlive heartbeats until the returned stop is called. It suits steps that cannot report
// progress of their own (a payout provider's batch, a long ledger stream); outside an activity it
// does nothing.
func keepAlive(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	return tick(ctx, heartbeatEvery, func() { activity.RecordHeartbeat(ctx) })
}

// tick calls beat every interval until stop is called or ctx ends: the heartbeat of a step that
// is in flight, whatever its progress.
func tick(ctx context.Context, every time.Duration, beat func()) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				beat()
			}
		}
	}()
	return sync.OnceFunc(func() { close(done) })
}

// lastProgress is the progress an earlier attempt of the activity heartbeat, or the zero value
// when there was none. Details that do not decode (an older kind of heartbeat) only mean starting
// over: every step writes the same bytes again.
func lastProgress[T any](ctx context.Context) T {
	var p T
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &p); err != nil {
			var zero T
			return zero
		}
	}
	return p
}

func (a *Activities) now() time.Time {
	if a.Clock != nil {
		return a.Clock()
	}
	return time.Now()
}

// logger is the activity's logger, whose lines carry the workflow and run ids of the activity;
// outside an activity (a benchmark calling a method directly) it is the process's logger.
func (a *Activities) logger(ctx context.Context) log.Logger {
	if activity.IsActivity(ctx) {
		return activity.GetLogger(ctx)
	}
	return logging.NewTemporal(a.Log)
}
