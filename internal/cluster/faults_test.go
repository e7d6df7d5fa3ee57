//go:build linux

package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// restartDelay is how long a killed process stays down before it is started again, as an
// orchestrator's restart would leave it.
const restartDelay = 2 * time.Second

// fault is one process killed with SIGKILL once a share of the items is labelled, and started
// again, with what it took.
type fault struct {
	member *Member
	share  float64 // of the items labelled when it is killed

	killed, restarted, ready, working, progressed time.Time
}

// log says what the fault took: kill → restart (the chosen delay) → ready → its first work, and
// when the project's labelled items next grew after the kill.
func (f fault) log(t *testing.T) {
	t.Helper()
	progressed := "never"
	if !f.progressed.IsZero() {
		progressed = f.progressed.Sub(f.killed).Round(10*time.Millisecond).String() + " after the kill"
	}
	working := "none before the project completed"
	if !f.working.IsZero() {
		working = f.working.Sub(f.restarted).Round(10*time.Millisecond).String() + " after the restart"
	}
	t.Logf("kill: %s (%s) SIGKILL at %.0f%% labelled; restarted after %s; ready %s later; its first work %s; the project's labelled items grew %s",
		f.member.Name(), f.member.Role, 100*f.share, f.restarted.Sub(f.killed).Round(10*time.Millisecond),
		f.ready.Sub(f.restarted).Round(10*time.Millisecond), working, progressed)
}

// workMetric is the counter that shows a process of role doing its work: workflow tasks,
// activities, or claims served.
func workMetric(role string) (string, map[string]string) {
	switch role {
	case RoleWorkflows:
		return "temporal_workflow_task_execution_latency_seconds", nil
	case RoleActivities:
		return "temporal_activity_execution_latency_seconds", nil
	}
	return "labelflow_http_requests_total", map[string]string{"route": claimRoute}
}

// injectFaults kills each fault's process in turn once its share of the items is labelled,
// restarts it after restartDelay, and waits until it is ready and working again, or until
// projectDone closes (a small project may end before a restarted worker is given work).
func injectFaults(ctx context.Context, book *metricsBook, watch *progressWatch, faults []*fault, projectDone <-chan struct{}) error {
	for _, f := range faults {
		if err := injectFault(ctx, book, watch, f, projectDone); err != nil {
			return err
		}
	}
	return nil
}

// injectFault kills f's process once its share is labelled, restarts it, and records what the
// fault took. The project's next growth is awaited only while the project runs: a small project
// may complete before it labels another item.
func injectFault(ctx context.Context, book *metricsBook, watch *progressWatch, f *fault, projectDone <-chan struct{}) error {
	if err := watch.waitShare(ctx, f.share); err != nil {
		return err
	}
	// The last reading before the kill: what the process counted is kept, as Prometheus keeps
	// the samples of a target that is gone.
	if _, err := book.scrape(ctx, f.member); err != nil {
		return fmt.Errorf("scrape %s before the kill: %w", f.member.Name(), err)
	}
	if err := f.member.Kill(); err != nil {
		return err
	}
	f.killed = time.Now()
	growthCtx, stopGrowth := context.WithCancel(ctx)
	defer stopGrowth()
	growth := watch.growthAfter(growthCtx, f.killed)
	time.Sleep(restartDelay)
	if err := f.member.Restart(); err != nil {
		return err
	}
	f.restarted = time.Now()
	if err := f.member.WaitReady(ctx); err != nil {
		return err
	}
	f.ready = time.Now()
	working, err := waitWorking(ctx, book, f.member, projectDone)
	if err != nil {
		return err
	}
	f.working = working
	select {
	case f.progressed = <-growth:
	case <-projectDone:
		// A growth already seen counts, though the project completed since.
		select {
		case f.progressed = <-growth:
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// waitWorking waits up to two minutes until the restarted process's own counters show work, and
// returns when they did (zero if the project completed first).
func waitWorking(ctx context.Context, book *metricsBook, m *Member, projectDone <-chan struct{}) (time.Time, error) {
	name, labels := workMetric(m.Role)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		s, err := book.scrape(ctx, m)
		if err == nil && s.Sum(name, labels) > 0 {
			return time.Now(), nil
		}
		select {
		case <-projectDone:
			return time.Time{}, nil
		case <-time.After(100 * time.Millisecond):
		}
	}
	return time.Time{}, fmt.Errorf("%s restarted but did no work (%s) within two minutes:\n%s", m.Name(), name, m.logTail(20))
}
