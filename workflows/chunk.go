package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/internal/aggregate"
	"github.com/labelflow/labelflow/internal/grant"
	"github.com/labelflow/labelflow/internal/label"
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
	// Seal proves the chunk's project started it with this input (checked on a first run).
	Seal *grant.Seal `json:",omitempty"`
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
	// Review is set when dynamic overlap's stopping rule sent the item to a reviewer before
	// max_annotations (ChunkSettings.ReviewCost): it wants no more annotators.
	Review bool `json:",omitempty"`
	// Spilled is set once the item's result is stored (StoreSettled): its answers are dropped
	// from the state, their authors and times kept.
	Spilled bool `json:",omitempty"`
	// Late are annotations that came after the item had every answer it waited for, from holders
	// who had gone silent while someone else answered (chunk_presence.go): paid like any answer,
	// never deciding the label.
	Late []Contribution `json:",omitempty"`
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
	// Accepted is how many answers each submitted suite had accepted (suite id → count), so that
	// a repeated submit gets its original result. Suites submitted before it was kept have none.
	Accepted map[string]int `json:",omitempty"`
	// Paused is set while the project is paused: no claim gets a suite. PauseSeq is the
	// project's count of pauses and resumes in the last signal applied.
	Paused   bool `json:",omitempty"`
	PauseSeq int  `json:",omitempty"`
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
	in            ChunkInput
	st            *ChunkState
	typ           label.Type
	updates       int
	finished      bool
	ready         bool // what validation needs of the items is known
	chunkVersions      // the behaviour changes this run has (versions.go)
	// overlapModel: single-label dynamic overlap decides with Settings.CrowdModel
	// (versionOverlapModel); posteriors computes with it, each annotator's skill found once per
	// run (a memo of a pure function: replay finds the same).
	overlapModel bool
	posteriors   *aggregate.Posteriors
	// pauses receives the project's pause signals (pause.go).
	pauses workflow.ReceiveChannel
	// reportsDrained: this run tells its project when it has nothing left for a newcomer, once
	// (drainReported); see window.go.
	reportsDrained, drainReported bool
}

// maxRunHistoryBytes makes a run continue as new early when large answers fill its history,
// well before the 50 MB limit.
const maxRunHistoryBytes = 8 << 20

// ChunkWorkflow owns the annotation of one chunk: it leases task suites to annotators and
// reviewers through Updates, collects two independent answers per item, sends disagreements to
// arbitration, then records, pays and delivers the chunk's results.
func ChunkWorkflow(ctx workflow.Context, in ChunkInput) (ChunkSummary, error) {
	c, err := newChunk(in)
	if err != nil {
		return ChunkSummary{}, err
	}
	c.chunkVersions = readChunkVersions(ctx)
	c.reportsDrained = versionDrainedChunks.enabled(ctx)
	c.overlapModel = c.decidesWithModel(ctx)
	if err := checkChunkStart(ctx, in); err != nil {
		return ChunkSummary{}, err
	}
	// Handlers first: an Update that arrives before its handler exists is refused as unknown.
	if err := c.registerHandlers(ctx); err != nil {
		return ChunkSummary{}, err
	}
	if err := c.loadFacts(ctx); err != nil {
		return ChunkSummary{}, err
	}
	if err := c.annotate(ctx); err != nil {
		return ChunkSummary{}, err
	}
	c.finished = true
	// Let in-flight Update handlers finish before the chunk's results are written.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return ChunkSummary{}, err
	}
	return c.finish(ctx)
}

// checkChunkStart refuses a chunk started from outside its project: its input, which may carry
// a whole state of answers to record and pay, must be the one the project sealed. Runs the chunk
// continued itself carry an input already checked.
func checkChunkStart(ctx workflow.Context, in ChunkInput) error {
	if workflow.GetInfo(ctx).ContinuedExecutionRunID != "" || !versionChunkSeal.enabled(ctx) {
		return nil
	}
	return checkStart(ctx, "chunk start", in)
}

// newChunk starts a run from its input: the state carried over by continue-as-new, or a fresh
// one for the chunk's items.
func newChunk(in ChunkInput) (*chunk, error) {
	// The type registry is filled at program start and never changes afterwards.
	typ, err := label.Lookup(in.Settings.AnnotationType) //workflowcheck:ignore
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidRequest, nil)
	}
	c := &chunk{in: in, st: in.State, typ: typ}
	if c.st == nil {
		c.st = &ChunkState{Items: make([]ItemState, in.Items), Submitted: map[string]string{}}
	}
	if c.in.Settings.MaxUpdatesPerRun <= 0 {
		c.in.Settings.MaxUpdatesPerRun = DefaultMaxUpdatesPerRun
	}
	return c, nil
}

// annotate serves claims and submissions until every item is final and no holder still at work
// may send a late answer (done). It wakes on each accepted Update, when a lease or an exclusion
// runs out or a holder falls silent, and on a pause signal (which it applies); it returns a
// continue-as-new error when the run has taken enough.
func (c *chunk) annotate(ctx workflow.Context) error {
	var timer expiryTimer
	for !c.done(workflow.Now(ctx)) {
		if c.runIsFull(ctx) {
			return c.continueAsNew(ctx)
		}
		timer.watch(ctx, c.nextExpiry())
		seen, final := c.updates, c.allFinal()
		if err := workflow.Await(ctx, func() bool {
			return c.updates != seen || (!final && c.allFinal()) || timer.fired() || c.pauseWaiting()
		}); err != nil {
			return err
		}
		c.takePauses()
		timer.clearIfFired()
		c.expireLeases(workflow.Now(ctx))
		c.reportDrained(ctx)
		if c.spill && !c.allFinal() {
			if err := c.spillSettled(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// runIsFull reports a run that should hand its state to a new one: it took its share of
// Updates, the server suggests it, or large answers are filling its history.
func (c *chunk) runIsFull(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return c.updates >= c.in.Settings.MaxUpdatesPerRun || info.GetContinueAsNewSuggested() ||
		(c.spill && info.GetCurrentHistorySize() > maxRunHistoryBytes)
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

// registerHandlers serves the status Query and the claim, submit, release and heartbeat Updates,
// and opens the channel of the paused signal. Registering a handler adds no command to history,
// and histories recorded before the release or heartbeat Update or the paused signal existed hold
// none of them, so they replay unchanged without a version marker.
func (c *chunk) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (ChunkStatus, error) { return c.status(), nil }); err != nil {
		return err
	}
	c.pauses = workflow.GetSignalChannel(ctx, SignalPaused)
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateClaim, c.claim,
		workflow.UpdateHandlerOptions{Validator: c.validateClaim}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateSubmit, c.submitThenClaim,
		workflow.UpdateHandlerOptions{Validator: c.validateSubmit}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateReleaseSuite, c.releaseSuite,
		workflow.UpdateHandlerOptions{Validator: c.validateRelease}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateHeartbeat, c.heartbeat,
		workflow.UpdateHandlerOptions{Validator: c.validateHeartbeat})
}

// continueAsNew hands the chunk's state to a new run once the Updates in flight are done.
func (c *chunk) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	c.takePauses()
	workflow.GetLogger(ctx).Info("Chunk continues as new", "Chunk", c.in.Chunk, "Updates", c.updates,
		"HistoryBytes", workflow.GetInfo(ctx).GetCurrentHistorySize(), "ActiveLeases", len(c.st.Suites))
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
