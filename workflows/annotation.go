package workflows

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/webhook"
)

// DefaultMaxUpdatesPerRun keeps a chunk run far below the 2,000 Updates a run may take and its
// history far below the event limits; state moves to the next run by continue-as-new.
const DefaultMaxUpdatesPerRun = 500

// ChunkInput starts (or continues) a chunk workflow.
type ChunkInput struct {
	Settings          ChunkSettings
	Chunk             int
	Items             int
	ProjectWorkflowID string
	// Gold is how many of the chunk's items, at its end, are gold items: answered like the
	// others, scored, never delivered. Since accuracy-aware assignment a disputed gold item is
	// arbitrated like any other, so that reviewers are scored too.
	Gold  int
	State *ChunkState // set when continuing as new
}

// Contribution is one person's answer to one item.
type Contribution = activities.Contribution

// ItemState is the annotation state of one item of the chunk.
type ItemState struct {
	Annotations []Contribution `json:",omitempty"`
	Arbitration *Contribution  `json:",omitempty"`
	// Holders lease the item right now; Excluded let a lease on it expire and are not offered it
	// again until ExcludedUntil (two leases after the last expiry): long enough to hand the item
	// to someone else, short enough that a small crowd who all walked away from it can still
	// finish it.
	Holders       []string   `json:",omitempty"`
	Excluded      []string   `json:",omitempty"`
	ExcludedUntil *time.Time `json:",omitempty"`
	Final         bool       `json:",omitempty"`
	Method        string     `json:",omitempty"`
	// Settled is the delivered answer of an item settled by overlap (the winning answers merged).
	Settled label.Answer `json:",omitempty"`
	// Spilled is set once the item's result is stored (StoreSettled): its answers are dropped
	// from the state, their authors and times kept.
	Spilled bool `json:",omitempty"`
}

// ChunkState is the whole state of a chunk; it moves across continue-as-new.
type ChunkState struct {
	Items         []ItemState
	Suites        []*Suite          // active leases, in the order they were claimed
	Submitted     map[string]string // suite id → worker, for refusing repeats
	NextSuite     int
	LeasesExpired int
	// Facts are what validation knows of each item (image size, text length), for the types
	// that need them; empty otherwise.
	Facts []activities.ItemFacts `json:",omitempty"`
	// Reviewers are the reviewers seen lately, for offering disputes to the most accurate.
	Reviewers []ReviewerSeen `json:",omitempty"`
	// Parts counts the parts of settled results stored so far.
	Parts int `json:",omitempty"`
}

// ReviewerSeen is a reviewer who claimed work in this chunk, as last seen.
type ReviewerSeen struct {
	ID       string
	Accuracy float64
	// LastSeen is the time of their last accepted claim or submission: both show they are at work.
	LastSeen time.Time
}

// chunk holds the running workflow's state and handlers.
type chunk struct {
	in       ChunkInput
	st       *ChunkState
	typ      label.Type
	updates  int
	finished bool
	ready    bool // what validation needs of the items is known
	// reviewersOnlyArbitrate is off only for chunks started before reviewers stopped annotating,
	// so that their histories replay as they ran.
	reviewersOnlyArbitrate bool
	// accuracyAware is off only for runs started before assignment used estimated accuracies
	// (disputed gold arbitrated, disputes to the most accurate reviewers, per-annotator accuracy
	// in dynamic overlap), so that their histories replay as they ran.
	accuracyAware bool
	// spill is off only for runs started before settled answers were stored as the chunk went.
	spill bool
	// exclusionLapses is off only for runs started before exclusions lapsed (see ItemState).
	exclusionLapses bool
}

// versionSpill is the change id of storing settled answers as the chunk goes.
const versionSpill = "spill-settled-answers"

// DefaultSpillBytes is how many bytes of settled answers a chunk holds before it stores them.
// Boxes and long transcriptions make answers of kilobytes; held until the end, a chunk's answers
// would outgrow the 2 MB a payload may carry (RecordChunk's input, the continue-as-new input).
const DefaultSpillBytes = 256 << 10

// maxRunHistoryBytes makes a run continue as new early when large answers fill its history,
// well before the 50 MB limit.
const maxRunHistoryBytes = 8 << 20

// versionAccuracyAware is the change id of accuracy-aware assignment.
const versionAccuracyAware = "accuracy-aware-assignment"

// ChunkWorkflow owns the annotation of one chunk: it leases task suites to annotators and
// reviewers through Updates, collects two independent answers per item, sends disagreements to
// arbitration, then records, pays and delivers the chunk's results.
func ChunkWorkflow(ctx workflow.Context, in ChunkInput) (ChunkSummary, error) {
	// The type registry is filled at program start and never changes afterwards.
	typ, err := label.Lookup(in.Settings.AnnotationType) //workflowcheck:ignore
	if err != nil {
		return ChunkSummary{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidRequest, nil)
	}
	c := &chunk{in: in, st: in.State, typ: typ}
	if c.st == nil {
		c.st = &ChunkState{Items: make([]ItemState, in.Items), Submitted: map[string]string{}}
	}
	if c.in.Settings.MaxUpdatesPerRun <= 0 {
		c.in.Settings.MaxUpdatesPerRun = DefaultMaxUpdatesPerRun
	}
	c.reviewersOnlyArbitrate = workflow.GetVersion(ctx, "reviewers-only-arbitrate", workflow.DefaultVersion, 1) >= 1
	c.accuracyAware = workflow.GetVersion(ctx, versionAccuracyAware, workflow.DefaultVersion, 1) >= 1
	c.spill = workflow.GetVersion(ctx, versionSpill, workflow.DefaultVersion, 1) >= 1
	c.exclusionLapses = workflow.GetVersion(ctx, "exclusion-lapses", workflow.DefaultVersion, 1) >= 1
	// Handlers first: an Update that arrives before its handler exists is refused as unknown.
	if err := c.registerHandlers(ctx); err != nil {
		return ChunkSummary{}, err
	}
	if err := c.loadFacts(ctx); err != nil {
		return ChunkSummary{}, err
	}

	// One timer at a time watches the earliest lease. Leases all last the same time, so a new
	// suite never expires before the one watched: the timer is re-armed only after it fires.
	var timer workflow.Future
	var timerAt time.Time
	for !c.allFinal() {
		info := workflow.GetInfo(ctx)
		if c.updates >= c.in.Settings.MaxUpdatesPerRun || info.GetContinueAsNewSuggested() ||
			(c.spill && info.GetCurrentHistorySize() > maxRunHistoryBytes) {
			return ChunkSummary{}, c.continueAsNew(ctx)
		}
		now := workflow.Now(ctx)
		if next := c.nextExpiry(); !next.IsZero() && (timer == nil || next.Before(timerAt)) {
			timerAt = next
			timer = workflow.NewTimer(ctx, max(next.Sub(now), time.Millisecond))
		}
		seen := c.updates
		if err := workflow.Await(ctx, func() bool {
			return c.updates != seen || c.allFinal() || (timer != nil && timer.IsReady())
		}); err != nil {
			return ChunkSummary{}, err
		}
		if timer != nil && timer.IsReady() {
			timer = nil
		}
		c.expireLeases(workflow.Now(ctx))
		if c.spill && !c.allFinal() {
			if err := c.spillSettled(ctx); err != nil {
				return ChunkSummary{}, err
			}
		}
	}
	c.finished = true
	// Let in-flight Update handlers finish before the chunk's results are written.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return ChunkSummary{}, err
	}
	return c.finish(ctx)
}

// loadFacts reads, once per chunk and before any claim, what validation needs of the items.
func (c *chunk) loadFacts(ctx workflow.Context) error {
	image, text := label.Needs(c.typ)
	if (!image && !text) || c.st.Facts != nil {
		c.ready = true
		return nil
	}
	defer func() { c.ready = c.st.Facts != nil }()
	actx := workflow.WithActivityOptions(ctx, ioActivityOptions(c.in.Settings.ActivityTaskQueue))
	var a *activities.Activities
	return workflow.ExecuteActivity(actx, a.ItemFacts, activities.ItemFactsInput{
		ProjectID: c.in.Settings.ProjectID, Chunk: c.in.Chunk, ImageSize: image, TextLength: text,
	}).Get(ctx, &c.st.Facts)
}

// item is what validation knows of item i.
func (c *chunk) item(i int) label.Item {
	it := label.Item{Taxonomy: c.in.Settings.Taxonomy}
	if i < len(c.st.Facts) {
		f := c.st.Facts[i]
		it.Width, it.Height, it.TextLen = f.Width, f.Height, f.TextLen
	}
	return it
}

func (c *chunk) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (ChunkStatus, error) { return c.status(), nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateClaim, c.claim,
		workflow.UpdateHandlerOptions{Validator: c.validateClaim}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateSubmit, c.submit,
		workflow.UpdateHandlerOptions{Validator: c.validateSubmit})
}

func (c *chunk) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	next := c.in
	next.State = c.st
	return workflow.NewContinueAsNewError(ctx, ChunkWorkflow, next)
}

func (c *chunk) allFinal() bool {
	for i := range c.st.Items {
		if !c.st.Items[i].Final {
			return false
		}
	}
	return true
}

// --- claiming ---

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
	if _, items, outranked := c.pickKind(req.Worker, now); len(items) == 0 {
		if c.belowThreshold(req.Worker) {
			return appErr(ErrTrainingOnly, "your estimated accuracy for %s is %.2f, below this project's %.2f: you get gold (training) items only, and none is open right now",
				c.in.Settings.AnnotationType, req.Worker.Accuracy, c.in.Settings.MinAccuracy)
		}
		if outranked {
			return temporal.NewApplicationError(fmt.Sprintf("more accurate reviewers are taking the open disputes of chunk %d right now; claim again later: more reviewers are brought in when disputes pile up",
				c.in.Chunk), ErrNoWork, NoWorkDetail{Reason: NoWorkOutranked})
		}
		return appErr(ErrNoWork, "no work for %s in chunk %d right now", req.Worker.ID, c.in.Chunk)
	}
	return nil
}

// belowThreshold reports a person whose estimated accuracy is under the project's minimum.
func (c *chunk) belowThreshold(w Worker) bool {
	return c.in.Settings.MinAccuracy > 0 && w.Accuracy < c.in.Settings.MinAccuracy
}

func (c *chunk) claim(ctx workflow.Context, req ClaimRequest) (Suite, error) {
	c.updates++
	now := workflow.Now(ctx)
	c.expireLeases(now)
	if c.accuracyAware && req.Worker.Role == RoleReviewer {
		c.sawReviewer(req.Worker, now)
	}
	if s := c.activeSuiteOf(req.Worker.ID, now); s != nil {
		return *s, nil
	}
	kind, items, _ := c.pickKind(req.Worker, now)
	if len(items) == 0 {
		return Suite{}, appErr(ErrNoWork, "no work for %s in chunk %d right now", req.Worker.ID, c.in.Chunk)
	}
	s := &Suite{
		ID:        SuiteID(c.in.Chunk, c.st.NextSuite),
		Chunk:     c.in.Chunk,
		Kind:      kind,
		Worker:    req.Worker.ID,
		ClaimedAt: now,
		ExpiresAt: now.Add(c.in.Settings.Lease),
	}
	if c.accuracyAware {
		s.Accuracy = req.Worker.Accuracy
	}
	c.st.NextSuite++
	for _, i := range items {
		it := &c.st.Items[i]
		it.Holders = append(it.Holders, req.Worker.ID)
		task := SuiteTask{Item: i}
		if kind == KindArbitrate {
			for _, a := range it.Annotations {
				task.Answers = append(task.Answers, a.Answer)
			}
		}
		s.Tasks = append(s.Tasks, task)
	}
	c.st.Suites = append(c.st.Suites, s)
	return *s, nil
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
// to take them.
func (c *chunk) pickKind(w Worker, now time.Time) (kind string, items []int, outranked bool) {
	expired := c.expiredHolders(now)
	if c.belowThreshold(w) {
		if w.Role == RoleReviewer {
			// Arbitration goes to reviewers at or above the threshold. Below it, a reviewer gets
			// disputed gold items only: training that scores them, and their way back.
			if !c.accuracyAware {
				return KindArbitrate, nil, false
			}
			return KindArbitrate, c.collect(w.ID, expired, func(i int, worker string, expired map[string]map[int]bool) bool {
				return c.isGold(i) && c.arbitrable(i, worker, expired)
			}), false
		}
		return KindAnnotate, c.collect(w.ID, expired, func(i int, worker string, expired map[string]map[int]bool) bool {
			return c.isGold(i) && c.annotatable(i, worker, expired)
		}), false
	}
	if w.Role == RoleReviewer {
		items := c.collect(w.ID, expired, c.arbitrable)
		if len(items) > 0 && c.accuracyAware && c.outranked(w, now, expired) {
			return KindArbitrate, nil, true
		}
		if len(items) > 0 || c.reviewersOnlyArbitrate {
			return KindArbitrate, items, false
		}
	}
	return KindAnnotate, c.collect(w.ID, expired, c.annotatable), false
}

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
func (c *chunk) outranked(w Worker, now time.Time, expired map[string]map[int]bool) bool {
	open := 0
	for i := range c.st.Items {
		if c.awaitsReviewer(i, expired) {
			open++
		}
	}
	suite := max(1, c.in.Settings.SuiteSize)
	k := max(1, (open+suite-1)/suite)
	above := 0
	for _, r := range c.st.Reviewers {
		if r.ID == w.ID || !c.recentlySeen(r, now) || c.activeSuiteOf(r.ID, now) != nil {
			continue
		}
		if r.Accuracy < w.Accuracy || (r.Accuracy == w.Accuracy && r.ID > w.ID) {
			continue
		}
		// A rival who may not take any open dispute (below the threshold, or excluded from them
		// after letting a lease expire) must not hold them back from others.
		if c.belowThreshold(Worker{Accuracy: r.Accuracy}) || len(c.collect(r.ID, expired, c.arbitrable)) == 0 {
			continue
		}
		above++
	}
	return above >= k
}

func (c *chunk) collect(worker string, expired map[string]map[int]bool, ok func(i int, worker string, expired map[string]map[int]bool) bool) []int {
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

// liveHolders counts holders of item i whose lease has not run out.
func (c *chunk) liveHolders(i int, expired map[string]map[int]bool) []string {
	var live []string
	for _, h := range c.st.Items[i].Holders {
		if !expired[h][i] {
			live = append(live, h)
		}
	}
	return live
}

// wanted is how many annotations item it needs now: the usual number, or, under dynamic
// overlap after a disagreement, one more than it has, up to the maximum.
func (c *chunk) wanted(i int) int {
	it := &c.st.Items[i]
	n, o := c.in.Settings.AnnotatorsPerItem, c.in.Settings.Overlap
	if it.Final || it.Arbitration != nil {
		return 0
	}
	if len(it.Annotations) < n {
		return n
	}
	if c.isGold(i) {
		return len(it.Annotations)
	}
	if o.Mode == "dynamic" && len(it.Annotations) < o.MaxAnnotations {
		return len(it.Annotations) + 1
	}
	return len(it.Annotations)
}

func (c *chunk) annotatable(i int, worker string, expired map[string]map[int]bool) bool {
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
func (c *chunk) awaitsReviewer(i int, expired map[string]map[int]bool) bool {
	it := &c.st.Items[i]
	if it.Final || len(it.Annotations) < c.in.Settings.AnnotatorsPerItem || c.wanted(i) > len(it.Annotations) {
		return false
	}
	// Before accuracy-aware assignment, gold items were final with their answers and never
	// reached a reviewer.
	if c.isGold(i) && !c.accuracyAware {
		return false
	}
	return len(c.liveHolders(i, expired)) == 0
}

func (c *chunk) arbitrable(i int, worker string, expired map[string]map[int]bool) bool {
	return c.awaitsReviewer(i, expired) && !c.involved(&c.st.Items[i], worker, nil)
}

// involved reports whether worker already answered, holds, or abandoned item it.
func (c *chunk) involved(it *ItemState, worker string, live []string) bool {
	if slices.Contains(live, worker) || slices.Contains(it.Excluded, worker) {
		return true
	}
	return slices.ContainsFunc(it.Annotations, func(a Contribution) bool { return a.Worker == worker })
}

// --- leases ---

// suite returns the active suite called id, or nil.
func (c *chunk) suite(id string) *Suite {
	for _, s := range c.st.Suites {
		if s.ID == id {
			return s
		}
	}
	return nil
}

func (c *chunk) dropSuite(id string) {
	c.st.Suites = slices.DeleteFunc(c.st.Suites, func(s *Suite) bool { return s.ID == id })
}

func (c *chunk) expiredHolders(now time.Time) map[string]map[int]bool {
	out := map[string]map[int]bool{}
	for _, s := range c.st.Suites {
		if now.Before(s.ExpiresAt) {
			continue
		}
		if out[s.Worker] == nil {
			out[s.Worker] = map[int]bool{}
		}
		for _, t := range s.Tasks {
			out[s.Worker][t.Item] = true
		}
	}
	return out
}

// expireLeases releases suites whose lease ran out; their items are re-offered to someone else.
func (c *chunk) expireLeases(now time.Time) {
	for _, s := range slices.Clone(c.st.Suites) {
		if now.Before(s.ExpiresAt) {
			continue
		}
		for _, t := range s.Tasks {
			it := &c.st.Items[t.Item]
			it.Holders = slices.DeleteFunc(it.Holders, func(h string) bool { return h == s.Worker })
			if !slices.Contains(it.Excluded, s.Worker) {
				it.Excluded = append(it.Excluded, s.Worker)
			}
			if c.exclusionLapses {
				until := s.ExpiresAt.Add(2 * c.in.Settings.Lease)
				it.ExcludedUntil = &until
			}
		}
		c.dropSuite(s.ID)
		c.st.LeasesExpired++
	}
	if !c.exclusionLapses {
		return
	}
	for i := range c.st.Items {
		it := &c.st.Items[i]
		if it.ExcludedUntil != nil && !now.Before(*it.ExcludedUntil) {
			it.Excluded, it.ExcludedUntil = nil, nil
		}
	}
}

// nextExpiry is when the earliest active lease or exclusion runs out, or zero without either.
func (c *chunk) nextExpiry() time.Time {
	var next time.Time
	for _, s := range c.st.Suites {
		if next.IsZero() || s.ExpiresAt.Before(next) {
			next = s.ExpiresAt
		}
	}
	for i := range c.st.Items {
		// An exclusion that lapses wakes the chunk too, so that the next claim may take the item.
		if u := c.st.Items[i].ExcludedUntil; u != nil && !c.st.Items[i].Final && (next.IsZero() || u.Before(next)) {
			next = *u
		}
	}
	return next
}

// --- submitting ---

func (c *chunk) validateSubmit(ctx workflow.Context, req SubmitRequest) error {
	if err := verifySeal(ctx, UpdateSubmit, req); err != nil {
		return err
	}
	s := c.suite(req.SuiteID)
	if s == nil {
		if who, done := c.st.Submitted[req.SuiteID]; done {
			if who != req.Worker.ID {
				return appErr(ErrWrongPerson, "suite %s was leased to someone else", req.SuiteID)
			}
			return appErr(ErrRepeated, "suite %s was already submitted", req.SuiteID)
		}
		return appErr(ErrUnknownSuite, "suite %s is not leased in chunk %d (its lease may have expired and the work gone to someone else)", req.SuiteID, c.in.Chunk)
	}
	if s.Worker != req.Worker.ID {
		return appErr(ErrWrongPerson, "suite %s was leased to someone else", req.SuiteID)
	}
	if now := workflow.Now(ctx); !now.Before(s.ExpiresAt) {
		return appErr(ErrLeaseExpired, "the lease on suite %s expired at %s", req.SuiteID, s.ExpiresAt.UTC().Format(time.RFC3339))
	}
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
	seconds := int(now.Sub(s.ClaimedAt).Seconds()) / max(1, len(s.Tasks))
	if c.accuracyAware && s.Kind == KindArbitrate {
		c.reviewerSubmitted(req.Worker.ID, now)
	}
	n := c.in.Settings.AnnotatorsPerItem
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
		it.Annotations = append(it.Annotations, contrib)
		switch {
		case c.isGold(a.Item) && len(it.Annotations) == n:
			// Gold items are scored against their known answer. Agreeing answers settle them;
			// disputed ones wait for a reviewer, whose answer is then scored as well. Before
			// accuracy-aware assignment no gold item was arbitrated.
			if !c.accuracyAware || c.unanimous(it.Annotations) {
				it.Final, it.Method = true, MethodGold
			}
		case c.accuracyAware && c.in.Settings.Overlap.Mode == "dynamic" && len(it.Annotations) == n && c.unanimous(it.Annotations):
			// Agreement settles the item only if the agreeing people are accurate enough to reach
			// the target; otherwise one more annotator is asked (wanted), as after a disagreement.
			if _, ok := c.overlapSettles(it.Annotations); ok {
				it.Final, it.Method = true, MethodAgreed
			}
		case len(it.Annotations) == n && c.unanimous(it.Annotations):
			it.Final, it.Method = true, MethodAgreed
		case len(it.Annotations) > c.in.Settings.AnnotatorsPerItem:
			// Dynamic overlap: settle once the best answer is sure enough.
			if settled, ok := c.overlapSettles(it.Annotations); ok {
				it.Final, it.Method, it.Settled = true, MethodOverlap, settled
			}
		}
	}
	return SubmitResult{SuiteID: req.SuiteID, Accepted: len(req.Answers)}, nil
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

// --- status and finish ---

func (c *chunk) status() ChunkStatus {
	st := ChunkStatus{Chunk: c.in.Chunk, Items: len(c.st.Items), ActiveLeases: len(c.st.Suites), LeasesExpired: c.st.LeasesExpired, Finishing: c.finished}
	for i := range c.st.Items {
		it := &c.st.Items[i]
		if c.isGold(i) {
			st.Items--
			switch {
			case it.Final:
				st.Gold++
			case len(it.Annotations) >= c.in.Settings.AnnotatorsPerItem:
				// A disputed gold item holds the chunk open like any other dispute.
				st.AwaitingArbitration++
			}
			continue
		}
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
	if st.DoublyAnnotated > 0 {
		st.Agreement = float64(st.Agreed) / float64(st.DoublyAnnotated)
	}
	return st
}

// result is item i's result as RecordChunk takes it.
func (c *chunk) result(i int) activities.ItemResult {
	it := &c.st.Items[i]
	r := activities.ItemResult{Item: i, Method: it.Method, Annotations: it.Annotations, Arbitration: it.Arbitration}
	if it.Arbitration != nil {
		r.Final = it.Arbitration.Answer
	} else if it.Method == MethodOverlap {
		r.Final = it.Settled
	} else if it.Method == MethodGold {
		r.Final = it.Annotations[0].Answer // not delivered: gold items are scored, not labelled
	} else {
		answers := make([]label.Answer, len(it.Annotations))
		for j, a := range it.Annotations {
			answers[j] = a.Answer
		}
		r.Final = c.typ.Consolidate(answers)
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
	var ready []int
	held := 0
	for i := range c.st.Items {
		it := &c.st.Items[i]
		if !it.Final || it.Spilled {
			continue
		}
		ready = append(ready, i)
		for _, a := range it.Annotations {
			held += len(a.Answer)
		}
		if it.Arbitration != nil {
			held += len(it.Arbitration.Answer)
		}
	}
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
		it := &c.st.Items[i]
		kept := make([]Contribution, len(it.Annotations))
		for j, a := range it.Annotations {
			a.Answer = nil
			kept[j] = a
		}
		it.Annotations = kept
		if it.Arbitration != nil {
			arb := *it.Arbitration
			arb.Answer = nil
			it.Arbitration = &arb
		}
		it.Settled, it.Spilled = nil, true
	}
	return nil
}

func (c *chunk) finish(ctx workflow.Context) (ChunkSummary, error) {
	var results []activities.ItemResult
	for i := range c.st.Items {
		if !c.st.Items[i].Spilled {
			results = append(results, c.result(i))
		}
	}
	set := c.in.Settings
	record := activities.RecordChunkInput{ProjectID: set.ProjectID, Chunk: c.in.Chunk, Results: results, Parts: c.st.Parts}
	actx := workflow.WithActivityOptions(ctx, ioActivityOptions(set.ActivityTaskQueue))
	var a *activities.Activities
	var recorded activities.RecordChunkResult
	if err := workflow.ExecuteActivity(actx, a.RecordChunk, record).Get(ctx, &recorded); err != nil {
		return ChunkSummary{}, err
	}
	st := c.status()
	var receipt activities.DeliveryReceipt
	deliver := activities.DeliverChunkInput{ProjectID: set.ProjectID, Chunk: c.in.Chunk, Agreed: st.Agreed, Arbitrated: st.Arbitrated}
	if err := workflow.ExecuteActivity(actx, a.DeliverChunk, deliver).Get(ctx, &receipt); err != nil {
		return ChunkSummary{}, err
	}
	sum := ChunkSummary{
		Chunk: c.in.Chunk, Items: st.Items, Annotations: st.Annotations, Arbitrations: st.Arbitrated,
		Agreed: st.Agreed, Arbitrated: st.Arbitrated, Overlap: st.Overlap, LeasesExpired: c.st.LeasesExpired,
		Delivered: receipt.Items, DeliveredKey: receipt.Key,
	}
	if set.Webhook {
		chunk := c.in.Chunk
		wctx := workflow.WithActivityOptions(ctx, webhookActivityOptions(set.ActivityTaskQueue))
		if err := workflow.ExecuteActivity(wctx, a.NotifyWebhook, activities.WebhookInput{
			ProjectID: set.ProjectID, Type: webhook.EventChunkDelivered, Chunk: &chunk, Items: receipt.Items, At: workflow.Now(ctx),
		}).Get(ctx, &sum.Webhook); err != nil {
			return ChunkSummary{}, err
		}
	}
	if c.in.ProjectWorkflowID != "" {
		if err := workflow.SignalExternalWorkflow(ctx, c.in.ProjectWorkflowID, "", SignalChunkFinished, sum).Get(ctx, nil); err != nil {
			return sum, fmt.Errorf("report chunk %d to its project: %w", c.in.Chunk, err)
		}
	}
	return sum, nil
}

func appErr(kind, format string, args ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, args...), kind)
}

// ErrorKind returns the LabelFlow error type carried by an Update rejection, or "".
func ErrorKind(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Type()
	}
	return ""
}
