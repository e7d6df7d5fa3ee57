package workflows

import (
	"encoding/json"
	"sort"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/internal/grant"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/manifest"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/webhook"
)

// DefaultChunksPerRun is how many chunk workflows one project run starts before it continues as
// new: each chunk costs the project about ten history events, so a run stays near 5,000 events.
const DefaultChunksPerRun = 500

// ProjectInput starts (or continues) a project workflow.
type ProjectInput struct {
	Spec              spec.Project
	Window            int // chunks annotated at once
	WorkflowTaskQueue string
	ActivityTaskQueue string
	ChunksPerRun      int
	MaxUpdatesPerRun  int // passed to chunk workflows
	SpillBytes        int `json:",omitempty"` // passed to chunk workflows
	State             *ProjectState
	// LaunchedBy is the ops person who launched the project, as the API established them.
	LaunchedBy string `json:",omitempty"`
	// Seal proves the launch came through LabelFlow's API (checked on the first run only).
	Seal *grant.Seal `json:",omitempty"`
}

// ProjectState is the project's progress; it moves across continue-as-new.
type ProjectState struct {
	Stage     string
	StartedAt time.Time
	Split     activities.SplitResult
	NextChunk int
	Running   []int
	Done      ChunkTotals
	Delivery  activities.DeliveryManifestResult
	// Cancelled is set when ops cancelled the project: no more chunks start.
	Cancelled *Cancellation `json:",omitempty"`
	// Paused is set while ops have the project paused: no chunk starts and none leases work.
	Paused *Pause `json:",omitempty"`
	// PauseSeq counts the pauses and resumes, so that chunks apply their signals in order.
	PauseSeq int `json:",omitempty"`
	// Drained are the running chunks that have nothing left for a newcomer: out of the window.
	Drained []int `json:",omitempty"`
	// CrowdModel is the model dynamic overlap decides with, as last fitted (crowd_model.go);
	// its JSON key is the one it had before the Go name changed.
	CrowdModel *CrowdModel `json:"Overlap,omitempty"`
	// Crowd is each gateway's latest count of the people at work, which sizes the window.
	Crowd []CrowdReport `json:",omitempty"`
	// Gold is the calibration on gold of the model's confidence in the chunks finished so far,
	// which the chunks started next recalibrate their delivered confidence on.
	Gold *quality.CalibrationBins `json:",omitempty"`
}

// ChunkTotals adds up finished chunks.
type ChunkTotals struct {
	Chunks int
	ChunkCounts
	Webhooks WebhookTotals
}

// MarshalJSON writes the totals with the key Arbitrations, which totals carried beside
// Arbitrated and always equal to it, for readers of status and of project state that still
// expect it.
func (t ChunkTotals) MarshalJSON() ([]byte, error) {
	type fields ChunkTotals // the same fields without this method
	return json.Marshal(struct {
		fields
		Arbitrations int
	}{fields(t), t.Arbitrated})
}

// WebhookTotals count notifications to the project's webhook.
type WebhookTotals struct {
	Sent      int    `json:"sent"`
	Failed    int    `json:"failed"`
	LastError string `json:"last_error,omitempty"`
}

func (w *WebhookTotals) add(r activities.WebhookResult) {
	switch {
	case r.Sent:
		w.Sent++
	case r.Err != "":
		w.Failed++
		w.LastError = r.Err
	}
}

func (t *ChunkTotals) add(s ChunkSummary) {
	t.Webhooks.add(s.Webhook)
	t.Chunks++
	t.ChunkCounts.add(s.ChunkCounts)
}

// ProjectStatus is what `labelflow project status` shows.
type ProjectStatus struct {
	ID            string        `json:"id"`
	Client        string        `json:"client"`
	Stage         string        `json:"stage"`
	StartedAt     time.Time     `json:"started_at"`
	Lines         int           `json:"lines"`
	Items         int           `json:"items"`
	Chunks        int           `json:"chunks"`
	Rejects       int           `json:"rejects"`
	RejectsKey    string        `json:"rejects_key,omitempty"`
	ChunksStarted int           `json:"chunks_started"`
	Running       []int         `json:"running_chunks"`
	Done          ChunkTotals   `json:"done"`
	ManifestKey   string        `json:"manifest_key,omitempty"`
	Cancelled     *Cancellation `json:"cancelled,omitempty"`
	Paused        *Pause        `json:"paused,omitempty"` // nil while the project runs
	DeliveryURI   string        `json:"delivery_uri"`
	// Window is how many chunks with open work the project keeps now (window.go).
	Window int `json:"window"`
}

// Search attribute keys the Temporal UI lists projects by.
var (
	saProject = temporal.NewSearchAttributeKeyKeyword(SearchAttrProject)
	saClient  = temporal.NewSearchAttributeKeyKeyword(SearchAttrClient)
	saStage   = temporal.NewSearchAttributeKeyKeyword(SearchAttrStage)
)

// ProjectSearchAttributes are set when a project starts.
func ProjectSearchAttributes(p spec.Project) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(saProject.ValueSet(p.ID), saClient.ValueSet(p.Client), saStage.ValueSet(StageChunking))
}

// ProjectWorkflow drives a project: chunking, a sliding window of chunk workflows (each annotating,
// arbitrating and delivering its chunk), then the final delivery manifest.
func ProjectWorkflow(ctx workflow.Context, in ProjectInput) (ProjectStatus, error) {
	p := newProject(ctx, in)
	p.drainAware = versionDrainedChunks.enabled(ctx)
	p.crowdAware = versionCrowdWindow.enabled(ctx)
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (ProjectStatus, error) { return p.status(), nil }); err != nil {
		return ProjectStatus{}, err
	}
	// Only a run the project continued itself carries over a launch already checked: a start
	// from outside is checked whatever state it brings.
	if workflow.GetInfo(ctx).ContinuedExecutionRunID == "" {
		if err := checkLaunch(ctx, in); err != nil {
			return p.status(), err
		}
	}
	if err := p.registerCancel(ctx); err != nil {
		return p.status(), err
	}
	if err := p.registerPause(ctx); err != nil {
		return p.status(), err
	}
	err := p.runStages(ctx)
	if err == nil {
		// A pause or resume still telling chunks completes before the project does.
		err = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	}
	return p.status(), err
}

// newProject starts a run from its input: the state carried over by continue-as-new, or a new
// project at its first stage.
func newProject(ctx workflow.Context, in ProjectInput) *project {
	p := &project{in: in, st: in.State}
	if p.st == nil {
		p.st = &ProjectState{Stage: StageChunking, StartedAt: workflow.Now(ctx)}
	}
	if p.in.Window < 1 {
		p.in.Window = 1
	}
	if p.in.ChunksPerRun < 1 {
		p.in.ChunksPerRun = DefaultChunksPerRun
	}
	return p
}

// checkLaunch refuses a project started straight on Temporal, with a spec nobody launched
// through the API: its pay rates and buckets would otherwise be taken on the caller's word. The
// seal is checked at the time Temporal recorded the start: a start that waited for a worker is
// not late, and a sealed input copied from a history and started again later is refused. The
// verdict is recorded as a side effect, so a replay never depends on the keys of the day.
func checkLaunch(ctx workflow.Context, in ProjectInput) error {
	if !versionLaunchGrant.enabled(ctx) {
		return nil
	}
	return checkStart(ctx, "launch", in)
}

// checkStart checks the seal of a workflow's input at the time Temporal recorded its start, and
// records the verdict as a side effect so that a replay never depends on the keys of the day.
func checkStart[T sealable[T]](ctx workflow.Context, what string, in T) error {
	info := workflow.GetInfo(ctx)
	id, started := info.WorkflowExecution.ID, info.WorkflowStartTime
	var refusal string
	err := workflow.SideEffect(ctx, func(workflow.Context) any {
		if err := checkSeal(id, ActionStart, in, started); err != nil {
			return err.Error()
		}
		return ""
	}).Get(&refusal)
	if err != nil {
		return err
	}
	if refusal != "" {
		return temporal.NewNonRetryableApplicationError(what+" refused: "+refusal, ErrUnauthenticated, nil)
	}
	return nil
}

type project struct {
	in ProjectInput
	st *ProjectState
	// drainAware: drained chunks leave the window (window.go).
	drainAware bool
	// crowdAware: the gateways' crowd reports size the window (window.go).
	crowdAware bool
}

// setStage moves the project on, where the Temporal UI lists it too.
func (p *project) setStage(ctx workflow.Context, stage string) error {
	p.st.Stage = stage
	workflow.GetLogger(ctx).Info("Project stage", "Project", p.in.Spec.ID, "Stage", stage,
		"ChunksDone", p.st.Done.Chunks, "Items", p.st.Split.Items)
	return workflow.UpsertTypedSearchAttributes(ctx, saStage.ValueSet(stage))
}

// runStages runs the stages from the one the state is at: a continued run resumes its stage.
func (p *project) runStages(ctx workflow.Context) error {
	actx := workflow.WithActivityOptions(ctx, ioActivityOptions(p.in.ActivityTaskQueue))
	if p.st.Stage == StageChunking {
		if err := p.chunk(ctx, actx); err != nil {
			return err
		}
	}
	if p.st.Stage == StageAnnotating {
		if err := p.annotate(ctx, workflow.GetSignalChannel(ctx, SignalChunkFinished)); err != nil {
			return err
		}
	}
	if p.st.Stage == StageDelivering {
		return p.deliver(ctx, actx)
	}
	return nil
}

// chunk is the project's first stage: it checks the delivery target, then splits the manifest
// into chunk files in the object store. Only counts and keys come back into history.
func (p *project) chunk(ctx, actx workflow.Context) error {
	var a *activities.Activities
	sp := p.in.Spec
	if err := workflow.ExecuteActivity(actx, a.PrepareProject, activities.PrepareProjectInput{Spec: sp}).Get(ctx, nil); err != nil {
		return err
	}
	in := activities.SplitInput{ProjectID: sp.ID, Source: sp.Source, ChunkSize: sp.ChunkSize,
		GoldSource: sp.Quality.Gold.Source, GoldPerChunk: sp.Quality.Gold.PerChunk}
	if err := workflow.ExecuteActivity(actx, a.SplitManifest, in).Get(ctx, &p.st.Split); err != nil {
		return err
	}
	return p.setStage(ctx, StageAnnotating)
}

// annotate keeps up to Window chunk workflows running until every chunk has reported back.
// Chunks report by signal rather than by child result so the project can continue as new while
// they run: a continued run picks them up again by their workflow ids.
func (p *project) annotate(ctx workflow.Context, finished workflow.ReceiveChannel) error {
	started := 0
	for {
		for p.mayStartChunk() {
			if started >= p.in.ChunksPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
				return p.continueAsNew(ctx, finished)
			}
			if err := p.startChunk(ctx, p.st.NextChunk); err != nil {
				return err
			}
			p.st.Running = append(p.st.Running, p.st.NextChunk)
			if p.st.Paused != nil {
				// Paused while the chunk was starting, after the pause told the running ones.
				p.tellChunks(ctx, []int{p.st.NextChunk})
			}
			p.st.NextChunk++
			started++
		}
		if p.allChunksDone() {
			return p.setStage(ctx, StageDelivering)
		}
		sum, ok, err := p.awaitReport(ctx, finished)
		if err != nil {
			return err
		}
		if ok {
			p.chunkFinished(sum)
		}
	}
}

// chunkFinished counts a chunk's report once.
func (p *project) chunkFinished(sum ChunkSummary) {
	for i, c := range p.st.Running {
		if c == sum.Chunk {
			p.st.Running = append(p.st.Running[:i], p.st.Running[i+1:]...)
			p.forgetDrained(c)
			p.st.Done.add(sum)
			p.addGold(sum.Gold)
			return
		}
	}
	// A report for a chunk not running is a duplicate delivery of the signal; counting it again
	// would inflate the totals.
}

// addGold adds a finished chunk's calibration on gold to the project's. Bins no chunk of the
// project could have counted (more items than its gold, confidences outside their tenth) are
// ignored: a made-up report must not bend every later chunk's confidence.
func (p *project) addGold(gold *quality.CalibrationBins) {
	if gold == nil || !gold.Valid(p.st.Split.GoldPerChunk) {
		return
	}
	if p.st.Gold == nil {
		p.st.Gold = &quality.CalibrationBins{}
	}
	p.st.Gold.Add(*gold)
}

// continueAsNew hands the project's state to a new run, with the reports already received.
func (p *project) continueAsNew(ctx workflow.Context, finished workflow.ReceiveChannel) error {
	// A resume may still be telling chunks; it completes in this run. (Nothing waits when no
	// handler runs, so runs recorded before pausing existed replay unchanged.)
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	for {
		var sum ChunkSummary
		if !finished.ReceiveAsync(&sum) {
			break
		}
		p.chunkFinished(sum)
	}
	if p.drainAware {
		p.takeDrained(workflow.GetSignalChannel(ctx, SignalChunkDrained))
	}
	if crowd := p.crowdChannel(ctx); crowd != nil {
		p.takeCrowd(ctx, crowd)
	}
	workflow.GetLogger(ctx).Info("Project continues as new", "Project", p.in.Spec.ID,
		"ChunksStarted", p.st.NextChunk, "ChunksDone", p.st.Done.Chunks, "Running", len(p.st.Running))
	next := p.in
	next.State = p.st
	return workflow.NewContinueAsNewError(ctx, ProjectWorkflow, next)
}

// startChunk starts the chunk workflow of chunk and returns once it runs.
func (p *project) startChunk(ctx workflow.Context, chunk int) error {
	sp := p.in.Spec
	info := workflow.GetInfo(ctx)
	opts := workflow.ChildWorkflowOptions{
		WorkflowID:            ChunkWorkflowID(sp.ID, chunk),
		TaskQueue:             p.in.WorkflowTaskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(saProject.ValueSet(sp.ID), saClient.ValueSet(sp.Client), saStage.ValueSet(StageAnnotating)),
	}
	in := ChunkInput{
		Chunk:             chunk,
		Items:             manifest.ChunkItems(p.st.Split.Items, sp.ChunkSize, chunk) + p.st.Split.GoldPerChunk,
		Gold:              p.st.Split.GoldPerChunk,
		ProjectWorkflowID: info.WorkflowExecution.ID,
		Settings: ChunkSettings{
			ProjectID: sp.ID, Client: sp.Client, AnnotationType: sp.Annotation.Type, Taxonomy: sp.Annotation.Taxonomy,
			SuiteSize: sp.SuiteSize, AnnotatorsPerItem: sp.AnnotatorsPerItem, Lease: sp.LeaseDuration(),
			RequiredSkills: sp.RequiredSkills, Languages: sp.Languages,
			ActivityTaskQueue: p.in.ActivityTaskQueue, MaxUpdatesPerRun: p.in.MaxUpdatesPerRun, SpillBytes: p.in.SpillBytes,
			Webhook: sp.Delivery.Webhook.URL != "", Overlap: sp.Quality.Overlap, MinAccuracy: sp.Quality.MinAccuracy,
		},
	}
	in.Settings.Gold = p.st.Gold
	if err := p.setCrowdModel(ctx, &in.Settings); err != nil {
		return err
	}
	if versionChunkSeal.enabled(ctx) {
		var err error
		if in, err = sealChunk(ctx, opts.WorkflowID, in); err != nil {
			return err
		}
	}
	child := workflow.ExecuteChildWorkflow(workflow.WithChildOptions(ctx, opts), ChunkWorkflow, in)
	// Wait for the start only: the chunk reports its end by signal.
	return child.GetChildWorkflowExecution().Get(ctx, nil)
}

// sealChunk seals a chunk's input for its start, as the gateway seals a person's request: the
// chunk refuses a start that does not carry it, so nobody can start a chunk with made-up answers
// and have them recorded and paid. The seal is made in a side effect (it depends on the keys).
func sealChunk(ctx workflow.Context, chunkID string, in ChunkInput) (ChunkInput, error) {
	now := workflow.Now(ctx)
	var seal *grant.Seal
	err := workflow.SideEffect(ctx, func(workflow.Context) any {
		keys := grantKeys.Load()
		if keys == nil {
			return (*grant.Seal)(nil)
		}
		sealed, err := Seal(keys, chunkID, ActionStart, in, now)
		if err != nil {
			return (*grant.Seal)(nil)
		}
		return sealed.Seal
	}).Get(&seal)
	if err != nil {
		return in, err
	}
	if seal == nil {
		return in, temporal.NewApplicationError("this worker cannot seal chunk starts: it has no grant keys", ErrUnauthenticated)
	}
	in.Seal = seal
	return in, nil
}

// deliver is the project's last stage. Every chunk has already delivered its labels; this writes
// the rejects report and then, last of all, the manifest that tells the client the delivery is complete.
func (p *project) deliver(ctx, actx workflow.Context) error {
	var a *activities.Activities
	in := activities.DeliveryManifestInput{
		ProjectID: p.in.Spec.ID, Chunks: p.chunksToDeliver(), CompletedAt: workflow.Now(ctx),
	}
	dctx := workflow.WithActivityOptions(actx, deliveryActivityOptions(p.in.ActivityTaskQueue))
	if err := workflow.ExecuteActivity(dctx, a.WriteDeliveryManifest, in).Get(ctx, &p.st.Delivery); err != nil {
		return err
	}
	if p.in.Spec.Delivery.Webhook.URL != "" {
		if err := p.notifyCompleted(ctx, in.CompletedAt); err != nil {
			return err
		}
	}
	return p.setStage(ctx, StageCompleted)
}

// notifyCompleted tells the project's webhook that the delivery is complete. A failing webhook
// is counted in the totals, not returned: the delivery stands.
func (p *project) notifyCompleted(ctx workflow.Context, at time.Time) error {
	var a *activities.Activities
	var res activities.WebhookResult
	wctx := workflow.WithActivityOptions(ctx, webhookActivityOptions(p.in.ActivityTaskQueue))
	if err := workflow.ExecuteActivity(wctx, a.NotifyWebhook, activities.WebhookInput{
		ProjectID: p.in.Spec.ID, Type: webhook.EventProjectCompleted, Items: p.st.Delivery.Items,
		ManifestKey: p.st.Delivery.ManifestKey, At: at,
	}).Get(ctx, &res); err != nil {
		return err
	}
	p.st.Done.Webhooks.add(res)
	return nil
}

func (p *project) status() ProjectStatus {
	sp := p.in.Spec
	running := append([]int(nil), p.st.Running...)
	sort.Ints(running)
	return ProjectStatus{
		ID: sp.ID, Client: sp.Client, Stage: p.st.Stage, StartedAt: p.st.StartedAt,
		Lines: p.st.Split.Lines, Items: p.st.Split.Items, Chunks: p.st.Split.Chunks,
		Rejects: p.st.Split.Rejects, RejectsKey: p.st.Split.RejectsKey,
		ChunksStarted: p.st.NextChunk, Running: running, Done: p.st.Done,
		ManifestKey: p.st.Delivery.ManifestKey, Cancelled: p.st.Cancelled, Paused: p.st.Paused,
		DeliveryURI: "s3://" + sp.Delivery.Bucket + "/" + layout.DeliveryPrefix(sp.Delivery.Prefix, sp.ID),
		Window:      p.window(),
	}
}
