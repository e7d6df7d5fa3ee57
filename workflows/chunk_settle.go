package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/internal/aggregate"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/quality"
)

// Settling: the submit Update records a suite's answers. Agreeing answers settle an item; a
// disagreement goes to a reviewer, or under dynamic overlap to more annotators until the best
// answer is sure enough; gold items are scored against their known answer.

// validateSubmit refuses, before it enters history, a submission that is not the holder's
// complete and valid answer to a suite they still hold.
func (c *chunk) validateSubmit(ctx workflow.Context, req SubmitRequest) error {
	if err := verifySeal(ctx, UpdateSubmit, req); err != nil {
		return err
	}
	s := c.suite(req.SuiteID)
	if s == nil {
		return c.notLeased(req)
	}
	if s.Worker != req.Worker.ID {
		return appErr(ErrWrongPerson, "suite %s was leased to someone else", req.SuiteID)
	}
	if c.finished {
		// Its results are being recorded: an answer taken now would be neither used nor paid.
		return appErr(ErrLeaseExpired, "chunk %d is complete: the items of suite %s were answered by others while you were away", c.in.Chunk, req.SuiteID)
	}
	if now := workflow.Now(ctx); !now.Before(s.ExpiresAt) {
		return appErr(ErrLeaseExpired, "the lease on suite %s expired at %s", req.SuiteID, s.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return c.checkAnswers(s, req)
}

// notLeased says why a submission names no active suite: submitted already, or never leased
// here, or its lease expired and was released.
func (c *chunk) notLeased(req SubmitRequest) error {
	who, done := c.st.Submitted[req.SuiteID]
	accepted, counted := c.st.Accepted[req.SuiteID]
	switch {
	case done && who != req.Worker.ID:
		return appErr(ErrWrongPerson, "suite %s was leased to someone else", req.SuiteID)
	case done && counted:
		// The person's retry (after a lost answer, or "busy") gets the original result, by
		// rejection: a rejected Update leaves no event in history, and nothing is recorded twice.
		return temporal.NewApplicationError(fmt.Sprintf("suite %s was already submitted", req.SuiteID),
			ErrAlreadySubmitted, SubmitResult{SuiteID: req.SuiteID, Accepted: accepted})
	case done:
		return appErr(ErrRepeated, "suite %s was already submitted", req.SuiteID)
	}
	return appErr(ErrUnknownSuite, "suite %s is not leased in chunk %d (its lease may have expired and the work gone to someone else)", req.SuiteID, c.in.Chunk)
}

// checkAnswers requires one valid answer for each item of suite s, and nothing else.
func (c *chunk) checkAnswers(s *Suite, req SubmitRequest) error {
	want := map[int]bool{}
	for _, t := range s.Tasks {
		want[t.Item] = true
	}
	seen := map[int]bool{}
	for n, a := range req.Answers {
		if !want[a.Item] {
			return appErr(ErrInvalidAnswer, "answers[%d].item: item %d is not in suite %s", n, a.Item, req.SuiteID)
		}
		if seen[a.Item] {
			return appErr(ErrInvalidAnswer, "answers[%d].item: item %d is answered twice", n, a.Item)
		}
		seen[a.Item] = true
		if err := c.typ.Validate(a.Answer, c.item(a.Item)); err != nil {
			return appErr(ErrInvalidAnswer, "answers[%d] (item %d): %v", n, a.Item, err)
		}
	}
	if len(seen) != len(want) {
		return appErr(ErrInvalidAnswer, "answers: %d of the suite's %d items are answered; answer them all", len(seen), len(want))
	}
	return nil
}

func (c *chunk) submit(ctx workflow.Context, req SubmitRequest) (SubmitResult, error) {
	c.updates++
	now := workflow.Now(ctx)
	s := c.suite(req.SuiteID)
	c.dropSuite(req.SuiteID)
	c.st.Submitted[req.SuiteID] = req.Worker.ID
	if c.st.Accepted == nil {
		c.st.Accepted = map[string]int{} // a state carried over from before counts were kept
	}
	c.st.Accepted[req.SuiteID] = len(req.Answers)
	seconds := int(now.Sub(s.ClaimedAt).Seconds()) / max(1, len(s.Tasks))
	if c.accuracyAware && s.Kind == KindArbitrate {
		c.reviewerSubmitted(req.Worker.ID, now)
	}
	for _, a := range req.Answers {
		it := &c.st.Items[a.Item]
		it.Holders = slices.DeleteFunc(it.Holders, func(h string) bool { return h == req.Worker.ID })
		contrib := Contribution{Worker: req.Worker.ID, Answer: c.typ.Canonical(a.Answer), SubmittedAt: now, Seconds: seconds, Accuracy: s.Accuracy}
		if s.Kind == KindArbitrate {
			// On a gold item too: the reviewer cannot tell it apart, and RecordChunk scores their
			// answer against the known one.
			it.Arbitration = &contrib
			it.Final, it.Method = true, MethodArbitrated
			continue
		}
		if c.late(a.Item) {
			it.Late = append(it.Late, contrib)
			continue
		}
		it.Annotations = append(it.Annotations, contrib)
		c.settle(a.Item)
	}
	return SubmitResult{SuiteID: req.SuiteID, Accepted: len(req.Answers)}, nil
}

// settle makes item i final when its answers so far settle it; otherwise it waits for more
// answers or a reviewer.
func (c *chunk) settle(i int) {
	it := &c.st.Items[i]
	n := c.in.Settings.AnnotatorsPerItem
	switch {
	case c.isGold(i) && len(it.Annotations) == n:
		// Gold items are scored against their known answer. Agreeing answers settle them;
		// disputed ones wait for a reviewer, whose answer is then scored as well. Before
		// accuracy-aware assignment no gold item was arbitrated.
		if !c.accuracyAware || c.unanimous(it.Annotations) {
			it.Final, it.Method = true, MethodGold
		}
	case c.overlapModel && len(it.Annotations) >= n:
		c.settleWithModel(it, n)
	case c.accuracyAware && c.in.Settings.Overlap.Mode == "dynamic" && len(it.Annotations) == n && c.unanimous(it.Annotations):
		// Agreement settles the item only if the agreeing people are accurate enough to reach
		// the target; otherwise one more annotator is asked (wanted), as after a disagreement.
		if _, ok := c.overlapSettles(it.Annotations); ok {
			it.Final, it.Method = true, MethodAgreed
		}
	case len(it.Annotations) == n && c.unanimous(it.Annotations):
		it.Final, it.Method = true, MethodAgreed
	case len(it.Annotations) > n:
		// Dynamic overlap: settle once the best answer is sure enough.
		if settled, ok := c.overlapSettles(it.Annotations); ok {
			it.Final, it.Method, it.Settled = true, MethodOverlap, settled
		}
	}
}

// settleWithModel makes a single-label item final once the project's model settles it from its
// answers (crowd_model.go): as agreed when its first n answers agree on the label decided,
// otherwise as settled by overlap. Unsettled, it waits for one more annotator, or a reviewer: at
// max_annotations, or sooner when the rule sends it to one (Review).
func (c *chunk) settleWithModel(it *ItemState, n int) {
	decided, step := c.modelStep(it.Annotations)
	switch {
	case step == aggregate.Review:
		it.Review = true
	case step != aggregate.Stop:
	case len(it.Annotations) == n && c.unanimous(it.Annotations) && label.Agree(c.typ, decided, it.Annotations[0].Answer, 0):
		it.Final, it.Method = true, MethodAgreed
	default:
		it.Final, it.Method, it.Settled = true, MethodOverlap, decided
	}
}

// overlapSettles groups the answers by agreement and, when the largest group's answer has a
// posterior at or above the target (each annotator right with their estimated accuracy, or the
// default one), returns the group's merged answer.
func (c *chunk) overlapSettles(as []Contribution) (label.Answer, bool) {
	best, bestGroup := 0.0, []label.Answer(nil)
	k := len(c.in.Settings.Taxonomy)
	if c.in.Settings.AnnotationType != label.SingleLabelName || k < 2 {
		k = 2
	}
	for i := range as {
		var group []label.Answer
		var votes []quality.Vote
		for _, b := range as {
			class := string(b.Answer)
			if label.Agree(c.typ, as[i].Answer, b.Answer, 0) {
				class = "chosen"
				group = append(group, b.Answer)
			}
			votes = append(votes, quality.Vote{Class: class, Accuracy: c.annotatorAccuracy(b)})
		}
		if p := quality.Posterior("chosen", votes, k); p > best {
			best, bestGroup = p, group
		}
	}
	if best >= c.in.Settings.Overlap.ConfidenceTarget {
		return c.typ.Consolidate(bestGroup), true
	}
	return nil, false
}

// annotatorAccuracy is the accuracy an answer weighs with: the annotator's estimate when they
// claimed, or the default when it was unknown (0) or the run predates accuracy-aware assignment.
func (c *chunk) annotatorAccuracy(a Contribution) float64 {
	if c.accuracyAware && a.Accuracy > 0 {
		return a.Accuracy
	}
	return quality.DefaultAnnotatorAccuracy
}

func (c *chunk) unanimous(as []Contribution) bool {
	for _, a := range as[1:] {
		if !label.Agree(c.typ, as[0].Answer, a.Answer, 0) {
			return false
		}
	}
	return true
}
