package workflows

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Assignment: the claim Update leases a suite of items to a person. Annotators annotate,
// reviewers arbitrate disputes, people below the project's accuracy threshold get gold items
// only, and disputes go to the most accurate reviewers at work.

// validateClaim refuses, before it enters history, a claim that would get nothing.
func (c *chunk) validateClaim(ctx workflow.Context, req ClaimRequest) error {
	if err := verifySeal(ctx, UpdateClaim, req); err != nil {
		return err
	}
	if c.finished {
		return appErr(ErrNoWork, "chunk %d is complete", c.in.Chunk)
	}
	if !c.ready {
		return appErr(ErrNoWork, "chunk %d is being prepared", c.in.Chunk)
	}
	if err := c.qualified(req.Worker); err != nil {
		return err
	}
	now := workflow.Now(ctx)
	if s := c.activeSuiteOf(req.Worker.ID, now); s != nil {
		// A repeated claim gets the suite already leased, by rejection: a rejected Update leaves
		// no event in history, so a person (or a script) claiming in a loop costs nothing.
		return temporal.NewApplicationError(fmt.Sprintf("suite %s is already leased to %s", s.ID, req.Worker.ID), ErrAlreadyHeld, *s)
	}
	if c.st.Paused {
		return c.pausedErr()
	}
	if _, items, outranked, _ := c.pick(req.Worker, now); len(items) == 0 {
		return c.noWork(req.Worker, outranked, now)
	}
	return nil
}

// noWork tells w why a claim gets nothing, when the reason is about them rather than the chunk;
// otherwise it tells what the chunk still has for others, so that the gateway stops sending
// claims to a chunk with nothing left for anyone (a rejection leaves no history).
func (c *chunk) noWork(w Worker, outranked bool, now time.Time) error {
	if c.belowThreshold(w) {
		return appErr(ErrTrainingOnly, "your estimated accuracy for %s is %.2f, below this project's %.2f: you get gold (training) items only, and none is open right now",
			c.in.Settings.AnnotationType, w.Accuracy, c.in.Settings.MinAccuracy)
	}
	if outranked {
		return temporal.NewApplicationError(fmt.Sprintf("more accurate reviewers are taking the open disputes of chunk %d right now; claim again later: more reviewers are brought in when disputes pile up",
			c.in.Chunk), ErrNoWork, NoWorkDetail{Reason: NoWorkOutranked})
	}
	open := c.openings(now)
	return temporal.NewApplicationError(fmt.Sprintf("no work for %s in chunk %d right now", w.ID, c.in.Chunk), ErrNoWork,
		NoWorkDetail{Openings: &open})
}

// ChunkOpenings is the work a chunk has for people it has not involved yet: items open to one
// more annotator and open disputes. It counts items, not suites.
type ChunkOpenings struct {
	Annotate  int `json:"annotate"`
	Arbitrate int `json:"arbitrate"`
}

// NoWorkOpenings returns the openings an ErrNoWork rejection carries, when its cause was the
// chunk rather than the person.
func NoWorkOpenings(err error) (ChunkOpenings, bool) {
	var ae *temporal.ApplicationError
	var d NoWorkDetail
	if !errors.As(err, &ae) || ae.Type() != ErrNoWork || !ae.HasDetails() || ae.Details(&d) != nil || d.Openings == nil {
		return ChunkOpenings{}, false
	}
	return *d.Openings, true
}

// openings counts the work the chunk has for a newcomer now, counting the items of holders gone
// silent as free, as a claim that finds nothing else does.
func (c *chunk) openings(now time.Time) ChunkOpenings {
	expired := c.expiredAt(now)
	if c.reofferSilent {
		expired = c.goneAt(now)
	}
	var o ChunkOpenings
	for i := range c.st.Items {
		if c.annotatable(i, "", expired) {
			o.Annotate++
		}
		if c.awaitsReviewer(i, expired) {
			o.Arbitrate++
		}
	}
	return o
}

// submitThenClaim serves a submission and, when the submitter asks, leases their next suite in
// the same Update: one message per suite instead of two. The answer also tells what the chunk
// has left for others, so that the gateway stops sending claims to a chunk with nothing left
// without a claim being refused first. Runs started before versionNextForEveryone serve only
// annotators of projects that do not weigh accuracy so; since it, the gateway sends reviewers'
// and weighed annotators' submissions with their accuracy, as it does their claims. The next
// suite depends only on the recorded request and state, and no command is added, so histories
// replay alike with or without it.
func (c *chunk) submitThenClaim(ctx workflow.Context, req SubmitRequest) (SubmitResult, error) {
	res, err := c.submit(ctx, req)
	if err != nil || !req.ClaimNext {
		return res, err
	}
	res.Next = c.leaseNext(ctx, req.Worker)
	open := c.openings(workflow.Now(ctx))
	res.Openings = &open
	return res, nil
}

// leaseNext leases w a suite as a claim would, or returns nil when the chunk has none for them.
func (c *chunk) leaseNext(ctx workflow.Context, w Worker) *Suite {
	weighed := w.Role != RoleAnnotator || c.in.Settings.MinAccuracy > 0 || c.in.Settings.Overlap.Mode == "dynamic"
	if weighed && !c.nextForEveryone {
		return nil
	}
	now := workflow.Now(ctx)
	c.expireLeases(now)
	c.takePauses()
	if c.finished || !c.ready || c.st.Paused || c.qualified(w) != nil {
		return nil
	}
	s, err := c.leaseFor(w, now)
	if err != nil {
		return nil
	}
	return s
}

// belowThreshold reports a person whose estimated accuracy is under the project's minimum.
func (c *chunk) belowThreshold(w Worker) bool {
	return c.in.Settings.MinAccuracy > 0 && w.Accuracy < c.in.Settings.MinAccuracy
}

func (c *chunk) claim(ctx workflow.Context, req ClaimRequest) (Suite, error) {
	c.updates++
	s, err := c.leaseFor(req.Worker, workflow.Now(ctx))
	if err != nil {
		return Suite{}, err
	}
	return *s, nil
}

// leaseFor serves a claim, or the claim a submission carries: the suite w already holds, else a
// new one, else why there is none.
func (c *chunk) leaseFor(w Worker, now time.Time) (*Suite, error) {
	c.expireLeases(now)
	if c.accuracyAware && w.Role == RoleReviewer {
		c.sawReviewer(w, now)
	}
	if s := c.activeSuiteOf(w.ID, now); s != nil {
		return s, nil
	}
	// A pause signal that came with this message is not applied yet: the validator could not see it.
	c.takePauses()
	if c.st.Paused {
		return nil, c.pausedErr()
	}
	kind, items, _, reoffered := c.pick(w, now)
	if len(items) == 0 {
		return nil, appErr(ErrNoWork, "no work for %s in chunk %d right now", w.ID, c.in.Chunk)
	}
	if reoffered && kind == KindArbitrate {
		c.endSilentArbitrations(items, now)
	}
	s := c.lease(w, kind, items, now)
	c.st.Suites = append(c.st.Suites, s)
	return s, nil
}

// lease makes the next suite of kind for w out of items, and marks w as their holder.
func (c *chunk) lease(w Worker, kind string, items []int, now time.Time) *Suite {
	s := &Suite{
		ID:        SuiteID(c.in.Chunk, c.st.NextSuite),
		Chunk:     c.in.Chunk,
		Kind:      kind,
		Worker:    w.ID,
		ClaimedAt: now,
		ExpiresAt: now.Add(c.in.Settings.Lease),
	}
	if c.accuracyAware {
		s.Accuracy = w.Accuracy
	}
	c.st.NextSuite++
	for _, i := range items {
		it := &c.st.Items[i]
		it.Holders = append(it.Holders, w.ID)
		task := SuiteTask{Item: i}
		if i < len(c.st.Facts) {
			// Zero for items without an image: the fields are then left out.
			task.Width, task.Height = c.st.Facts[i].Width, c.st.Facts[i].Height
		}
		if kind == KindArbitrate {
			// Shown unattributed: the reviewer judges the answers, not the people.
			for _, a := range it.Annotations {
				task.Answers = append(task.Answers, a.Answer)
			}
		}
		s.Tasks = append(s.Tasks, task)
	}
	return s
}

func (c *chunk) qualified(w Worker) error {
	if w.ID == "" {
		return appErr(ErrInvalidRequest, "worker id is required")
	}
	if w.Role != RoleAnnotator && w.Role != RoleReviewer {
		return appErr(ErrNotQualified, "role %q may not annotate", w.Role)
	}
	for _, s := range c.in.Settings.RequiredSkills {
		if !slices.Contains(w.Skills, s) {
			return appErr(ErrNotQualified, "%s lacks the skill %q this project requires", w.ID, s)
		}
	}
	if len(c.in.Settings.Languages) > 0 && !slices.ContainsFunc(c.in.Settings.Languages, func(l string) bool { return slices.Contains(w.Languages, l) }) {
		return appErr(ErrNotQualified, "%s speaks none of the project's languages %v", w.ID, c.in.Settings.Languages)
	}
	return nil
}

func (c *chunk) activeSuiteOf(worker string, now time.Time) *Suite {
	for _, s := range c.st.Suites {
		if s.Worker == worker && now.Before(s.ExpiresAt) {
			return s
		}
	}
	return nil
}

// pickKind chooses the work for w: reviewers arbitrate, annotators annotate. Reviewers never
// annotate: two reviewers who had both annotated an item could leave nobody to arbitrate it.
// Items already half-annotated go first so that items finish, and chunks with them. outranked
// reports a reviewer left without the open disputes because more accurate reviewers are around
// to take them. expired lists the holders who count as gone: leases that ran out, and when
// nothing else is left (pick), holders gone silent.
func (c *chunk) pickKind(w Worker, now time.Time, expired expiredLeases) (kind string, items []int, outranked bool) {
	if c.belowThreshold(w) {
		kind, items = c.pickTraining(w, expired)
		return kind, items, false
	}
	if w.Role == RoleReviewer {
		return c.pickDisputes(w, now, expired)
	}
	return KindAnnotate, c.collect(w.ID, expired, c.annotatable), false
}

// pickTraining is the work of a person below the accuracy threshold: gold items only, training
// that scores them and their way back. Arbitration goes to reviewers at or above the threshold,
// so a reviewer below it gets disputed gold items, and before accuracy-aware assignment nothing.
func (c *chunk) pickTraining(w Worker, expired expiredLeases) (kind string, items []int) {
	if w.Role != RoleReviewer {
		return KindAnnotate, c.collect(w.ID, expired, c.goldOnly(c.annotatable))
	}
	if !c.accuracyAware {
		return KindArbitrate, nil
	}
	return KindArbitrate, c.collect(w.ID, expired, c.goldOnly(c.arbitrable))
}

// pickDisputes is a reviewer's work: the open disputes, unless more accurate reviewers at work
// are to take them. Before reviewers-only-arbitrate, a reviewer with no dispute open annotated.
func (c *chunk) pickDisputes(w Worker, now time.Time, expired expiredLeases) (kind string, items []int, outranked bool) {
	items = c.collect(w.ID, expired, c.arbitrable)
	if len(items) > 0 && c.accuracyAware && c.outranked(w, now, expired) {
		return KindArbitrate, nil, true
	}
	if len(items) == 0 && !c.reviewersOnlyArbitrate {
		return KindAnnotate, c.collect(w.ID, expired, c.annotatable), false
	}
	return KindArbitrate, items, false
}

// --- reviewers at work, ranked by accuracy ---

// sawReviewer notes that reviewer w is at work now, with their current estimated accuracy, and
// forgets reviewers not seen for a lease: they no longer count in the ranking.
func (c *chunk) sawReviewer(w Worker, now time.Time) {
	c.st.Reviewers = slices.DeleteFunc(c.st.Reviewers, func(r ReviewerSeen) bool {
		return r.ID == w.ID || !c.recentlySeen(r, now)
	})
	c.st.Reviewers = append(c.st.Reviewers, ReviewerSeen{ID: w.ID, Accuracy: w.Accuracy, LastSeen: now})
}

// reviewerSubmitted refreshes when a known reviewer was last seen; their accuracy stays as claimed.
func (c *chunk) reviewerSubmitted(id string, now time.Time) {
	for i := range c.st.Reviewers {
		if c.st.Reviewers[i].ID == id {
			c.st.Reviewers[i].LastSeen = now
		}
	}
}

func (c *chunk) recentlySeen(r ReviewerSeen, now time.Time) bool {
	return now.Sub(r.LastSeen) < c.in.Settings.Lease
}

// outranked reports whether at least K other reviewers rank above w by accuracy (ties by id)
// and could take the open disputes now: seen within a lease, holding no unexpired suite, and
// with something here they may arbitrate. K is the number of suites the open, unleased disputes
// fill (at least 1), so a short queue goes to the best reviewers alone and a backlog brings in
// more; a top reviewer who went away stops counting after one lease.
func (c *chunk) outranked(w Worker, now time.Time, expired expiredLeases) bool {
	suite := max(1, c.in.Settings.SuiteSize)
	k := max(1, (c.openDisputes(expired)+suite-1)/suite)
	above := 0
	for _, r := range c.st.Reviewers {
		if c.ranksAbove(r, w) && c.free(r, now, expired) {
			above++
		}
	}
	return above >= k
}

// openDisputes counts the disputes no one holds.
func (c *chunk) openDisputes(expired expiredLeases) int {
	open := 0
	for i := range c.st.Items {
		if c.awaitsReviewer(i, expired) {
			open++
		}
	}
	return open
}

// ranksAbove reports another reviewer r more accurate than w, or as accurate with a smaller id.
func (c *chunk) ranksAbove(r ReviewerSeen, w Worker) bool {
	if r.ID == w.ID {
		return false
	}
	return !(r.Accuracy < w.Accuracy || (r.Accuracy == w.Accuracy && r.ID > w.ID))
}

// free reports a reviewer at work now who holds no suite and may take an open dispute. A rival
// who may not (below the threshold, or excluded from them after letting a lease expire) must
// not hold the disputes back from others.
func (c *chunk) free(r ReviewerSeen, now time.Time, expired expiredLeases) bool {
	if !c.recentlySeen(r, now) || c.activeSuiteOf(r.ID, now) != nil {
		return false
	}
	if c.belowThreshold(Worker{Accuracy: r.Accuracy}) {
		return false
	}
	return len(c.collect(r.ID, expired, c.arbitrable)) > 0
}

// --- which items a person may take ---

// eligible reports whether worker may be offered item i, given the leases that ran out.
type eligible func(i int, worker string, expired expiredLeases) bool

// goldOnly narrows ok to the chunk's gold items.
func (c *chunk) goldOnly(ok eligible) eligible {
	return func(i int, worker string, expired expiredLeases) bool {
		return c.isGold(i) && ok(i, worker, expired)
	}
}

// collect picks up to a suite of the items ok offers worker: half-annotated ones first.
func (c *chunk) collect(worker string, expired expiredLeases, ok eligible) []int {
	var half, fresh []int
	for i := range c.st.Items {
		if !ok(i, worker, expired) {
			continue
		}
		if len(c.st.Items[i].Annotations) > 0 {
			half = append(half, i)
		} else {
			fresh = append(fresh, i)
		}
	}
	if c.in.Gold > 0 {
		// Gold items sit at the end of the chunk: shuffle deterministically so that they fall
		// among the others, in suites and within a suite.
		c.mix(fresh)
	}
	out := append(half, fresh...)
	if len(out) > c.in.Settings.SuiteSize {
		out = out[:c.in.Settings.SuiteSize]
	}
	if c.in.Gold > 0 {
		c.mix(out)
	} else {
		sort.Ints(out)
	}
	return out
}

// mix orders item indices by a hash of chunk and index: the same order on every replay.
func (c *chunk) mix(items []int) {
	// splitmix64 of (chunk, index): a fixed pseudo-random order.
	key := func(i int) uint64 {
		z := uint64(c.in.Chunk)<<32 ^ uint64(i) + 0x9e3779b97f4a7c15
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	sort.Slice(items, func(a, b int) bool { return key(items[a]) < key(items[b]) })
}

// wanted is how many annotations item it needs now: the usual number, or, under dynamic
// overlap after a disagreement, one more than it has, up to the maximum, unless the stopping
// rule has sent it to a reviewer.
func (c *chunk) wanted(i int) int {
	it := &c.st.Items[i]
	n, o := c.in.Settings.AnnotatorsPerItem, c.in.Settings.Overlap
	if it.Final || it.Arbitration != nil {
		return 0
	}
	if len(it.Annotations) < n {
		return n
	}
	if c.isGold(i) || it.Review {
		return len(it.Annotations)
	}
	if o.Mode == "dynamic" && len(it.Annotations) < o.MaxAnnotations {
		return len(it.Annotations) + 1
	}
	return len(it.Annotations)
}

// annotatable reports an item that needs another answer, not already promised to live holders,
// that worker has not answered, held or abandoned.
func (c *chunk) annotatable(i int, worker string, expired expiredLeases) bool {
	it := &c.st.Items[i]
	want := c.wanted(i)
	if len(it.Annotations) >= want {
		return false
	}
	live := c.liveHolders(i, expired)
	if len(it.Annotations)+len(live) >= want {
		return false
	}
	return !c.involved(it, worker, live)
}

// isGold reports whether item i is one of the gold items at the end of the chunk.
func (c *chunk) isGold(i int) bool {
	return c.in.Gold > 0 && i >= len(c.st.Items)-c.in.Gold
}

// awaitsReviewer reports an item whose answers are all in without settling it, and that no one
// holds: an open dispute.
func (c *chunk) awaitsReviewer(i int, expired expiredLeases) bool {
	it := &c.st.Items[i]
	if it.Final || len(it.Annotations) < c.in.Settings.AnnotatorsPerItem || c.wanted(i) > len(it.Annotations) {
		return false
	}
	// Before accuracy-aware assignment, gold items were final with their answers and never
	// reached a reviewer.
	if c.isGold(i) && !c.accuracyAware {
		return false
	}
	live := c.liveHolders(i, expired)
	if c.reofferSilent {
		live = c.arbiters(i, live)
	}
	return len(live) == 0
}

// arbitrable reports an open dispute that worker took no part in.
func (c *chunk) arbitrable(i int, worker string, expired expiredLeases) bool {
	return c.awaitsReviewer(i, expired) && !c.involved(&c.st.Items[i], worker, nil)
}

// involved reports whether worker already answered, holds, or abandoned item it.
func (c *chunk) involved(it *ItemState, worker string, live []string) bool {
	if slices.Contains(live, worker) || slices.Contains(it.Excluded, worker) {
		return true
	}
	return slices.ContainsFunc(it.Annotations, func(a Contribution) bool { return a.Worker == worker })
}
