package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
)

// Default task queue names; configuration may override them. Workflow tasks and I/O activities
// use separate queues so that their workers scale apart.
const (
	DefaultWorkflowTaskQueue = "labelflow-workflows"
	DefaultActivityTaskQueue = "labelflow-io"
)

// webhookActivityOptions let a notification retry inside the activity for a few minutes; the
// activity reports a failing webhook instead of failing, so one attempt of it is enough.
func webhookActivityOptions(queue string) workflow.ActivityOptions {
	o := ioActivityOptions(queue)
	o.StartToCloseTimeout = 10 * time.Minute
	o.HeartbeatTimeout = 0
	return o
}

// ioActivityOptions are the options of object-store and delivery activities. Every such activity
// is idempotent (deterministic keys, identical bytes), so retrying until it succeeds is safe.
func ioActivityOptions(queue string) workflow.ActivityOptions {
	if queue == "" {
		queue = DefaultActivityTaskQueue
	}
	return workflow.ActivityOptions{
		TaskQueue:           queue,
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{activities.InvalidInput},
		},
	}
}

// deliveryActivityOptions suit DeliverChunk and WriteDeliveryManifest, which heartbeat their
// progress every few seconds, even while a part crawls over a slow link: a worker lost
// mid-delivery is noticed in 15 s, and the retry resumes from the recorded progress instead of
// starting over.
func deliveryActivityOptions(queue string) workflow.ActivityOptions {
	o := ioActivityOptions(queue)
	o.HeartbeatTimeout = 15 * time.Second
	return o
}

// payrollActivityOptions suit AggregatePayroll and PayPayroll, which heartbeat every 10 s however
// long the ledger or the provider takes: a worker that dies mid-payout is noticed in 30 s and the
// activity retried with the same idempotency keys.
func payrollActivityOptions(queue string) workflow.ActivityOptions {
	o := ioActivityOptions(queue)
	o.StartToCloseTimeout = 2 * time.Hour
	o.HeartbeatTimeout = 30 * time.Second
	return o
}
