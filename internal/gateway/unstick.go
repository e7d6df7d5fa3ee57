package gateway

import (
	"context"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// A workflow whose worker lost it from its cache while Updates kept coming can stall every
// Update after: each Update's workflow task goes to that worker's sticky queue with only the
// newest events, the worker reads the rest of the history, which (before Temporal server 1.31)
// lacks the events of the Update's own, speculative, workflow task, and fails the task with
// "premature end of stream" — and so on for each Update, until something else is recorded
// (temporalio/temporal#7741). Resetting the workflow's stickiness sends its next task, with the
// whole history, to any worker, which then holds it in its cache again. The gateway does so for
// a workflow whose Update has not completed after stallAfter, at most once per unstickEvery.
// ResetStickyTaskQueue writes no history and is not billed.

// stallAfter is how long an Update may run before its workflow is taken for stuck: Updates
// normally complete in tens of milliseconds.
const stallAfter = time.Second

// unstickEvery bounds the resets of one workflow.
const unstickEvery = 3 * time.Second

// unsticker remembers when each workflow's stickiness was last reset.
type unsticker struct {
	mu   sync.Mutex
	last *lru[string, time.Time]
}

func newUnsticker() *unsticker { return &unsticker{last: newLRU[string, time.Time](cacheCap)} }

// due reports whether workflowID may be reset now, and notes it.
func (u *unsticker) due(workflowID string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if at, ok := u.last.get(workflowID); ok && now.Sub(at) < unstickEvery {
		return false
	}
	u.last.put(workflowID, now)
	return true
}

// watchStall resets workflowID's stickiness if the Update sent to it has not completed after
// stallAfter. The returned function ends the watch; call it when the Update returns.
func (g *Gateway) watchStall(workflowID string) (done func()) {
	t := time.AfterFunc(stallAfter, func() {
		if !g.stuck.due(workflowID, time.Now()) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := g.app.Temporal.WorkflowService().ResetStickyTaskQueue(ctx, &workflowservice.ResetStickyTaskQueueRequest{
			Namespace: g.app.Cfg.TemporalNamespace, Execution: executionOf(workflowID)})
		if err != nil {
			g.log.Warn().Err(err).Str("workflow", workflowID).Msg("an Update stalls, and its workflow's stickiness could not be reset")
			return
		}
		g.log.Info().Str("workflow", workflowID).Msg("an Update stalls: the workflow's next task goes to any worker with its whole history")
	})
	return func() { t.Stop() }
}

// executionOf names a workflow's current run.
func executionOf(workflowID string) *commonpb.WorkflowExecution {
	return &commonpb.WorkflowExecution{WorkflowId: workflowID}
}

// updatesInFlight bounds the Updates one gateway has in flight at one workflow: Temporal refuses
// more than ten, and the client retries a refusal until its deadline, so that a burst past the
// limit would wait for nothing. Updates past the bound wait here for a turn instead.
const updatesInFlight = 8

// updateGates hands out the turns of each workflow's Updates.
type updateGates struct {
	mu    sync.Mutex
	gates map[string]chan struct{}
	users map[string]int
}

func newUpdateGates() *updateGates {
	return &updateGates{gates: map[string]chan struct{}{}, users: map[string]int{}}
}

// enter waits for a turn at workflowID's gate; call the returned function to leave.
func (u *updateGates) enter(ctx context.Context, workflowID string) (leave func(), err error) {
	u.mu.Lock()
	gate, ok := u.gates[workflowID]
	if !ok {
		gate = make(chan struct{}, updatesInFlight)
		u.gates[workflowID] = gate
	}
	u.users[workflowID]++
	u.mu.Unlock()
	done := func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		if u.users[workflowID]--; u.users[workflowID] == 0 {
			delete(u.users, workflowID)
			delete(u.gates, workflowID)
		}
	}
	select {
	case gate <- struct{}{}:
		return func() { <-gate; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}
