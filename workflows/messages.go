// Package workflows holds LabelFlow's durable processes: one project workflow per client project,
// chunk workflows that own the annotation of one chunk each, and one payroll workflow per month.
// Workflows carry keys, counts and small answers; items, results and the ledger live in the
// platform object store.
package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/internal/aggregate"
	"github.com/labelflow/labelflow/internal/grant"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/results"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/spec"
)

// Names of messages and search attributes. They are part of the public surface (CLI, gateway,
// Temporal UI), so they never change meaning.
const (
	QueryStatus = "status"

	UpdateClaim   = "claim"
	UpdateSubmit  = "submit"
	UpdateApprove = "approve"
	// UpdateReleaseSuite gives a leased suite back to its chunk. It shares its name with the
	// payroll's release of a held payout (UpdateRelease): each workflow type has its own.
	UpdateReleaseSuite = "release"
	// UpdateHeartbeat tells a chunk that the holder of a suite is still at work: it extends the
	// lease (chunk_presence.go).
	UpdateHeartbeat = "heartbeat"

	SignalChunkFinished = "chunk-finished"

	SearchAttrProject = "LabelFlowProject"
	SearchAttrClient  = "LabelFlowClient"
	SearchAttrStage   = "LabelFlowStage"
)

// Project stages, in order.
const (
	StageChunking   = "chunking"
	StageAnnotating = "annotating"
	StageDelivering = "delivering"
	StageCompleted  = "completed"
)

// Work kinds a suite can hold.
const (
	KindAnnotate  = "annotate"
	KindArbitrate = "arbitrate"
)

// Roles of people in the workforce.
const (
	RoleAnnotator = role.Annotator
	RoleReviewer  = role.Reviewer
)

// How a final label was reached: the results package owns the names, which reach clients.
const (
	MethodAgreed     = results.MethodAgreed
	MethodArbitrated = results.MethodArbitrated
	MethodOverlap    = results.MethodOverlap
	MethodGold       = "gold" // a gold item: scored against its known answer, never delivered
)

// Error types carried by rejected Updates; the gateway maps them to HTTP status codes.
const (
	ErrNoWork         = "NoWork"
	ErrNotQualified   = "NotQualified"
	ErrUnknownSuite   = "UnknownSuite"
	ErrWrongPerson    = "WrongAnnotator"
	ErrLeaseExpired   = "LeaseExpired"
	ErrRepeated       = "RepeatedSubmission"
	ErrInvalidAnswer  = "InvalidAnswer"
	ErrInvalidRequest = "InvalidRequest"
	ErrWrongStage     = "WrongStage"
	ErrTrainingOnly   = "TrainingOnly" // below the project's accuracy threshold and no gold work left
	ErrAlreadyHeld    = "AlreadyHeld"  // a repeated claim: the details carry the suite already leased
	// ErrAlreadySubmitted is a repeated submit by the person who submitted: the details carry
	// the original SubmitResult, so that a retry after a lost answer gets the same answer.
	ErrAlreadySubmitted = "AlreadySubmitted"
	// ErrLeaseCurrent refuses a heartbeat that came soon after the last sign of its holder: the
	// details carry the lease as it stands (a HeartbeatResult), so that the holder is answered
	// without the heartbeat entering history.
	ErrLeaseCurrent = "LeaseCurrent"
)

// SubmittedResult returns the original result an ErrAlreadySubmitted rejection carries.
func SubmittedResult(err error) (SubmitResult, bool) {
	var ae *temporal.ApplicationError
	var r SubmitResult
	if !errors.As(err, &ae) || ae.Type() != ErrAlreadySubmitted || !ae.HasDetails() || ae.Details(&r) != nil {
		return SubmitResult{}, false
	}
	return r, true
}

// HeldSuite returns the suite an ErrAlreadyHeld rejection carries.
func HeldSuite(err error) (Suite, bool) {
	var ae *temporal.ApplicationError
	var s Suite
	if !errors.As(err, &ae) || ae.Type() != ErrAlreadyHeld || !ae.HasDetails() || ae.Details(&s) != nil {
		return Suite{}, false
	}
	return s, true
}

// CurrentLease returns the lease an ErrLeaseCurrent rejection carries.
func CurrentLease(err error) (HeartbeatResult, bool) {
	var ae *temporal.ApplicationError
	var r HeartbeatResult
	if !errors.As(err, &ae) || ae.Type() != ErrLeaseCurrent || !ae.HasDetails() || ae.Details(&r) != nil {
		return HeartbeatResult{}, false
	}
	return r, true
}

// NoWorkDetail travels with an ErrNoWork rejection whose cause is about the person rather than
// the chunk, so that the gateway can tell them why instead of only "no work".
type NoWorkDetail struct {
	Reason string `json:"reason"`
	// Openings is what the chunk has for anyone not yet involved, when the cause is not about
	// the person: the gateway stops sending claims to a chunk with none for a while.
	Openings *ChunkOpenings `json:"openings,omitempty"`
}

// NoWorkOutranked: open disputes are left to more accurate reviewers who are at work.
const NoWorkOutranked = "outranked"

// NoWorkReason returns the reason an ErrNoWork rejection carries about the person, or "".
func NoWorkReason(err error) string {
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != ErrNoWork || !ae.HasDetails() {
		return ""
	}
	var d NoWorkDetail
	if ae.Details(&d) != nil {
		return ""
	}
	return d.Reason
}

// ProjectWorkflowID is the workflow id of a project; launching the same id twice is refused.
func ProjectWorkflowID(project string) string { return "project-" + project }

// ChunkWorkflowID is the workflow id of one chunk of a project.
func ChunkWorkflowID(project string, chunk int) string {
	return fmt.Sprintf("project-%s-chunk-%06d", project, chunk)
}

// PayrollWorkflowID is the workflow id of a month's payroll.
func PayrollWorkflowID(month string) string { return "payroll-" + month }

// SuiteID names a suite so that the gateway can route its submission to the owning chunk.
func SuiteID(chunk, seq int) string { return fmt.Sprintf("c%06d-s%05d", chunk, seq) }

// ParseSuiteID returns the chunk a suite belongs to.
func ParseSuiteID(id string) (chunk int, err error) {
	var seq int
	if n, err := fmt.Sscanf(id, "c%06d-s%05d", &chunk, &seq); err != nil || n != 2 || SuiteID(chunk, seq) != id {
		return 0, fmt.Errorf("suite id %q is not of the form c000000-s00000", id)
	}
	return chunk, nil
}

// ChunkSettings is what a chunk workflow needs of the project spec.
type ChunkSettings struct {
	ProjectID         string
	Client            string
	AnnotationType    string
	Taxonomy          []string
	SuiteSize         int
	AnnotatorsPerItem int
	Lease             time.Duration
	RequiredSkills    []string
	Languages         []string
	ActivityTaskQueue string
	// Webhook is true when the project has a webhook to notify on each delivered chunk.
	Webhook bool
	// Overlap is what happens on disagreement: a reviewer decides (the default), or more
	// annotators are asked until the answer is sure enough.
	Overlap spec.Overlap
	// CrowdModel is the project's model of its crowd (FitOverlapModel, crowd_model.go):
	// single-label dynamic overlap decides with it, and the chunk's delivered confidence is its
	// posterior. Projects set it since versionOverlapModel; its JSON key is the one it had
	// before the Go name changed. OverlapMinGain is the dynamic stopping rule's
	// aggregate.StopRule.MinGain.
	CrowdModel     *aggregate.Snapshot `json:"OverlapModel,omitempty"`
	OverlapMinGain float64             `json:",omitempty"`
	// ReviewCost, when above 0, makes a reviewer one of the dynamic stopping rule's choices
	// (quality.overlap.early_review): the price of an arbitration in annotations.
	ReviewCost float64 `json:",omitempty"`
	// MinAccuracy, when above 0, is the estimated accuracy below which a person only gets gold
	// items, and a reviewer no arbitration.
	MinAccuracy float64
	// MaxUpdatesPerRun bounds the Updates one run accepts before it continues as new,
	// far below the server's 2,000 per run.
	MaxUpdatesPerRun int
	// SpillBytes is how many bytes of settled answers the chunk holds before storing them
	// (0: DefaultSpillBytes).
	SpillBytes int `json:",omitempty"`
	// Gold is the project's calibration on gold of the chunks finished before this one: the
	// chunk's delivered confidence is recalibrated on it (RecordChunkInput.Gold).
	Gold *quality.CalibrationBins `json:",omitempty"`
}

// Worker is the identity the gateway establishes from the roster on each claim and submission,
// sealed with the request so that no caller can make one up.
type Worker struct {
	ID        string   `json:"id"`
	Role      string   `json:"role"`
	Skills    []string `json:"skills,omitempty"`
	Languages []string `json:"languages,omitempty"`
	// Accuracy is the person's estimated accuracy for the project's annotation type, from their
	// record on earlier projects (0 when the gateway did not look it up). The gateway sends it on
	// every reviewer's claim, and on annotators' claims when the project has a minimum accuracy or
	// dynamic overlap.
	Accuracy float64 `json:"accuracy,omitempty"`
}

// ClaimRequest asks a chunk for a suite of work.
type ClaimRequest struct {
	Worker Worker `json:"worker"`
	// Seal proves the gateway established Worker from the roster (see internal/grant).
	Seal *grant.Seal `json:"seal,omitempty"`
}

// SuiteTask is one item of a suite. Answers are shown only in arbitration suites, unattributed.
type SuiteTask struct {
	Item    int            `json:"item"`
	Answers []label.Answer `json:"answers,omitempty"`
	// Width and Height are the item's image size in pixels, for the types with images.
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
}

// Suite is a leased batch of tasks of one chunk.
type Suite struct {
	ID        string      `json:"id"`
	Chunk     int         `json:"chunk"`
	Kind      string      `json:"kind"`
	Worker    string      `json:"worker"`
	Tasks     []SuiteTask `json:"tasks"`
	ClaimedAt time.Time   `json:"claimed_at"`
	ExpiresAt time.Time   `json:"expires_at"`
	// Accuracy is the claimer's estimated accuracy when they claimed (0: unknown); their answers
	// weigh with it in dynamic overlap.
	Accuracy float64 `json:"accuracy,omitempty"`
	// SeenAt is the holder's last sign of work: the claim or their last heartbeat (zero in
	// suites leased before heartbeats: the claim then counts).
	SeenAt time.Time `json:"seen_at,omitzero"`
}

// TaskAnswer answers one task of a suite.
type TaskAnswer struct {
	Item   int          `json:"item"`
	Answer label.Answer `json:"answer"`
}

// SubmitRequest answers a whole suite.
type SubmitRequest struct {
	Worker  Worker       `json:"worker"`
	SuiteID string       `json:"suite_id"`
	Answers []TaskAnswer `json:"answers"`
	// ClaimNext asks the chunk to lease the submitter's next suite in the same Update (an
	// annotator of a project that does not weigh accuracy; see submitThenClaim).
	ClaimNext bool        `json:"claim_next,omitempty"`
	Seal      *grant.Seal `json:"seal,omitempty"`
}

// SubmitResult acknowledges a submission; Next is the suite leased with it, when asked for and
// the chunk had work for the submitter, and Openings what the chunk had left for others then.
type SubmitResult struct {
	SuiteID  string         `json:"suite_id"`
	Accepted int            `json:"accepted"`
	Next     *Suite         `json:"next,omitempty"`
	Openings *ChunkOpenings `json:"openings,omitempty"`
}

// ReleaseRequest gives back a suite its holder will not finish: its items are offered again at
// once instead of when the lease runs out.
type ReleaseRequest struct {
	Worker  Worker      `json:"worker"`
	SuiteID string      `json:"suite_id"`
	Seal    *grant.Seal `json:"seal,omitempty"`
}

// ReleaseResult acknowledges a release.
type ReleaseResult struct {
	SuiteID  string `json:"suite_id"`
	Released bool   `json:"released"`
}

// HeartbeatRequest says that the holder of a suite is still at work on it.
type HeartbeatRequest struct {
	Worker  Worker      `json:"worker"`
	SuiteID string      `json:"suite_id"`
	Seal    *grant.Seal `json:"seal,omitempty"`
}

// HeartbeatResult is a suite's lease after a heartbeat.
type HeartbeatResult struct {
	SuiteID   string    `json:"suite_id"`
	ExpiresAt time.Time `json:"expires_at"`
	// Limit is the latest the lease can run to, however long its holder works (LeaseLimit leases
	// after the claim).
	Limit time.Time `json:"limit"`
	// Items are the suite's items, for links that last as long as the lease.
	Items []int `json:"items"`
}

// ChunkCounts are what a finished chunk reports in numbers, and what a project adds up.
type ChunkCounts struct {
	Items         int // the chunk's items, gold items not counted
	Annotations   int
	Agreed        int
	Arbitrated    int
	Overlap       int
	LeasesExpired int
	Delivered     int
}

func (c *ChunkCounts) add(o ChunkCounts) {
	c.Items += o.Items
	c.Annotations += o.Annotations
	c.Agreed += o.Agreed
	c.Arbitrated += o.Arbitrated
	c.Overlap += o.Overlap
	c.LeasesExpired += o.LeasesExpired
	c.Delivered += o.Delivered
}

// ChunkSummary is what a finished chunk reports to its project (the chunk-finished signal).
type ChunkSummary struct {
	Chunk int
	ChunkCounts
	DeliveredKey string
	Webhook      activities.WebhookResult
	// Gold is the chunk's calibration on gold of the model's confidence, which later chunks are
	// recalibrated on; nil without gold.
	Gold *quality.CalibrationBins `json:",omitempty"`
}

// MarshalJSON writes the summary with the key Arbitrations, which summaries carried beside
// Arbitrated and always equal to it, for readers that still expect it.
func (s ChunkSummary) MarshalJSON() ([]byte, error) {
	type fields ChunkSummary // the same fields without this method
	return json.Marshal(struct {
		fields
		Arbitrations int
	}{fields(s), s.Arbitrated})
}

// ChunkStatus is the live view of a chunk.
type ChunkStatus struct {
	Chunk               int     `json:"chunk"`
	Items               int     `json:"items"`
	Annotations         int     `json:"annotations"`
	DoublyAnnotated     int     `json:"doubly_annotated"`
	Agreed              int     `json:"agreed"`
	Arbitrated          int     `json:"arbitrated"`
	Overlap             int     `json:"settled_by_overlap"`
	Gold                int     `json:"gold_answered"`        // gold items settled: all answers in, arbitrated if disputed
	AwaitingArbitration int     `json:"awaiting_arbitration"` // disputed gold items included
	Final               int     `json:"final"`
	ActiveLeases        int     `json:"active_leases"`
	LeasesExpired       int     `json:"leases_expired"`
	Agreement           float64 `json:"agreement"`
	Finishing           bool    `json:"finishing"`
	Paused              bool    `json:"paused,omitempty"` // its project is paused: no claim gets work
}
