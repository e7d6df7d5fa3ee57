package workflows

import (
	"fmt"
	"maps"
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/webhook"
)

// Results: the chunk's status, its settled results stored as it goes, and at its end the
// record, the delivery and the report to the project.

// DefaultSpillBytes is how many bytes of settled answers a chunk holds before it stores them.
// Boxes and long transcriptions make answers of kilobytes; held until the end, a chunk's answers
// would outgrow the 2 MB a payload may carry (RecordChunk's input, the continue-as-new input).
const DefaultSpillBytes = 256 << 10

func (c *chunk) status() ChunkStatus {
	st := ChunkStatus{Chunk: c.in.Chunk, Items: len(c.st.Items), ActiveLeases: len(c.st.Suites), LeasesExpired: c.st.LeasesExpired, Finishing: c.finished, Paused: c.st.Paused}
	for i := range c.st.Items {
		if c.isGold(i) {
			st.Items--
			c.countGold(&st, &c.st.Items[i])
			continue
		}
		c.countItem(&st, &c.st.Items[i])
	}
	if st.DoublyAnnotated > 0 {
		st.Agreement = float64(st.Agreed) / float64(st.DoublyAnnotated)
	}
	return st
}

// countGold counts a gold item: settled, or disputed and holding the chunk open like any other
// dispute.
func (c *chunk) countGold(st *ChunkStatus, it *ItemState) {
	switch {
	case it.Final:
		st.Gold++
	case len(it.Annotations) >= c.in.Settings.AnnotatorsPerItem:
		st.AwaitingArbitration++
	}
}

// countItem counts an item to deliver by how far it is.
func (c *chunk) countItem(st *ChunkStatus, it *ItemState) {
	st.Annotations += len(it.Annotations)
	if len(it.Annotations) >= c.in.Settings.AnnotatorsPerItem {
		st.DoublyAnnotated++
	}
	switch {
	case it.Final && it.Method == MethodAgreed:
		st.Agreed++
	case it.Final && it.Method == MethodArbitrated:
		st.Arbitrated++
	case it.Final && it.Method == MethodOverlap:
		st.Overlap++
	case len(it.Annotations) >= c.in.Settings.AnnotatorsPerItem:
		st.AwaitingArbitration++
	}
	if it.Final {
		st.Final++
	}
}

// result is item i's result as RecordChunk takes it. Late answers follow the item's own
// annotations, so that they are paid like them, after the label is decided without them.
func (c *chunk) result(i int) activities.ItemResult {
	it := &c.st.Items[i]
	r := activities.ItemResult{Item: i, Method: it.Method, Annotations: it.Annotations, Arbitration: it.Arbitration}
	switch {
	case it.Arbitration != nil:
		r.Final = it.Arbitration.Answer
	case it.Method == MethodOverlap:
		r.Final = it.Settled
	case it.Method == MethodGold:
		r.Final = it.Annotations[0].Answer // not delivered: gold items are scored, not labelled
	default:
		answers := make([]label.Answer, len(it.Annotations))
		for j, a := range it.Annotations {
			answers[j] = a.Answer
		}
		r.Final = c.typ.Consolidate(answers)
	}
	if len(it.Late) > 0 {
		r.Annotations = append(slices.Clone(it.Annotations), it.Late...)
	}
	return r
}

// spillSettled stores the results of settled items once their answers reach the spill size, and
// drops those answers from the state. Settled items never change again, so Updates handled while
// the activity runs cannot touch them.
func (c *chunk) spillSettled(ctx workflow.Context) error {
	limit := c.in.Settings.SpillBytes
	if limit <= 0 {
		limit = DefaultSpillBytes
	}
	ready, held := c.settledInState()
	if held < limit {
		return nil
	}
	in := activities.StoreSettledInput{ProjectID: c.in.Settings.ProjectID, Chunk: c.in.Chunk, Part: c.st.Parts}
	for _, i := range ready {
		in.Results = append(in.Results, c.result(i))
	}
	actx := workflow.WithActivityOptions(ctx, ioActivityOptions(c.in.Settings.ActivityTaskQueue))
	var a *activities.Activities
	if err := workflow.ExecuteActivity(actx, a.StoreSettled, in).Get(ctx, nil); err != nil {
		return err
	}
	c.st.Parts++
	for _, i := range ready {
		c.dropAnswers(&c.st.Items[i])
	}
	return nil
}

// settledInState lists the settled items whose answers the state still holds, and their size.
func (c *chunk) settledInState() (items []int, bytes int) {
	for i := range c.st.Items {
		it := &c.st.Items[i]
		if !it.Final || it.Spilled || (c.reofferSilent && len(it.Holders) > 0) {
			// A holder of a final item may still send a late answer, to be stored with the item.
			continue
		}
		items = append(items, i)
		for _, a := range slices.Concat(it.Annotations, it.Late) {
			bytes += len(a.Answer)
		}
		if it.Arbitration != nil {
			bytes += len(it.Arbitration.Answer)
		}
	}
	return items, bytes
}

// dropAnswers keeps of a stored item only who answered and when.
func (c *chunk) dropAnswers(it *ItemState) {
	kept := make([]Contribution, len(it.Annotations))
	for j, a := range it.Annotations {
		a.Answer = nil
		kept[j] = a
	}
	it.Annotations = kept
	late := make([]Contribution, len(it.Late))
	for j, a := range it.Late {
		a.Answer = nil
		late[j] = a
	}
	if len(late) > 0 {
		it.Late = late
	}
	if it.Arbitration != nil {
		arb := *it.Arbitration
		arb.Answer = nil
		it.Arbitration = &arb
	}
	it.Settled, it.Spilled = nil, true
}

// finish records the chunk's results and ledger, delivers them to the client's bucket, notifies
// the webhook, and reports to the project.
func (c *chunk) finish(ctx workflow.Context) (ChunkSummary, error) {
	actx := workflow.WithActivityOptions(ctx, ioActivityOptions(c.in.Settings.ActivityTaskQueue))
	recorded, err := c.record(ctx, actx)
	if err != nil {
		return ChunkSummary{}, err
	}
	st := c.status()
	receipt, err := c.deliver(ctx, actx, st)
	if err != nil {
		return ChunkSummary{}, err
	}
	sum := ChunkSummary{
		Chunk: c.in.Chunk,
		ChunkCounts: ChunkCounts{
			Items: st.Items, Annotations: st.Annotations, Agreed: st.Agreed, Arbitrated: st.Arbitrated,
			Overlap: st.Overlap, LeasesExpired: c.st.LeasesExpired, Delivered: receipt.Items,
		},
		DeliveredKey: receipt.Key,
		Gold:         recorded.ModelCalibration,
	}
	if c.in.Settings.Webhook {
		if sum.Webhook, err = c.notify(ctx, receipt); err != nil {
			return ChunkSummary{}, err
		}
	}
	workflow.GetLogger(ctx).Info("Chunk delivered", "Chunk", c.in.Chunk, "Items", sum.Items,
		"Agreed", sum.Agreed, "Arbitrated", sum.Arbitrated, "Overlap", sum.Overlap, "Delivered", sum.Delivered, "Key", sum.DeliveredKey)
	if c.in.ProjectWorkflowID != "" {
		if err := workflow.SignalExternalWorkflow(ctx, c.in.ProjectWorkflowID, "", SignalChunkFinished, sum).Get(ctx, nil); err != nil {
			return sum, fmt.Errorf("report chunk %d to its project: %w", c.in.Chunk, err)
		}
	}
	return sum, nil
}

// record writes the results not stored yet, and the chunk's ledger (RecordChunk).
func (c *chunk) record(ctx, actx workflow.Context) (activities.RecordChunkResult, error) {
	var results []activities.ItemResult
	for i := range c.st.Items {
		if !c.st.Items[i].Spilled {
			results = append(results, c.result(i))
		}
	}
	in := activities.RecordChunkInput{ProjectID: c.in.Settings.ProjectID, Chunk: c.in.Chunk, Results: results, Parts: c.st.Parts,
		Suites: c.submittedSuites(), Gold: c.in.Settings.Gold, Model: c.in.Settings.CrowdModel}
	var a *activities.Activities
	var recorded activities.RecordChunkResult
	// RecordChunk heartbeats while it runs: a worker lost mid-way is noticed in seconds.
	rctx := workflow.WithHeartbeatTimeout(actx, activities.RecordHeartbeatTimeout)
	err := workflow.ExecuteActivity(rctx, a.RecordChunk, in).Get(ctx, &recorded)
	return recorded, err
}

// submittedSuites lists the accepted suites whose count is known, in suite order: the keys are
// sorted before use, so the random order of the map never shows.
func (c *chunk) submittedSuites() []activities.SubmittedSuite {
	var out []activities.SubmittedSuite
	ids := slices.Sorted(maps.Keys(c.st.Accepted)) //workflowcheck:ignore
	for _, id := range ids {
		out = append(out, activities.SubmittedSuite{SuiteID: id, Worker: c.st.Submitted[id], Accepted: c.st.Accepted[id]})
	}
	return out
}

// deliver writes the chunk's labels to the client's bucket.
func (c *chunk) deliver(ctx, actx workflow.Context, st ChunkStatus) (activities.DeliveryReceipt, error) {
	in := activities.DeliverChunkInput{ProjectID: c.in.Settings.ProjectID, Chunk: c.in.Chunk, Agreed: st.Agreed, Arbitrated: st.Arbitrated}
	var a *activities.Activities
	var receipt activities.DeliveryReceipt
	dctx := workflow.WithActivityOptions(actx, deliveryActivityOptions(c.in.Settings.ActivityTaskQueue))
	err := workflow.ExecuteActivity(dctx, a.DeliverChunk, in).Get(ctx, &receipt)
	return receipt, err
}

// notify tells the project's webhook that the chunk is delivered. A failing webhook is reported
// in the result, not as an error: the delivery stands.
func (c *chunk) notify(ctx workflow.Context, receipt activities.DeliveryReceipt) (activities.WebhookResult, error) {
	chunk := c.in.Chunk
	wctx := workflow.WithActivityOptions(ctx, webhookActivityOptions(c.in.Settings.ActivityTaskQueue))
	var a *activities.Activities
	var res activities.WebhookResult
	err := workflow.ExecuteActivity(wctx, a.NotifyWebhook, activities.WebhookInput{
		ProjectID: c.in.Settings.ProjectID, Type: webhook.EventChunkDelivered, Chunk: &chunk, Items: receipt.Items, At: workflow.Now(ctx),
	}).Get(ctx, &res)
	return res, err
}
