package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/delivery"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// RunOptions shape a scripted run.
type RunOptions struct {
	ProjectID  string
	Items      int
	Annotators int
	Reviewers  int
	Accuracy   float64
	Abandon    float64
	Seed       uint64
	ChunkSize  int           // default 100
	Lease      time.Duration // default 2m
	// WebhookURL and WebhookSecret (a secret's name in the delivery profiles) add a webhook.
	WebhookURL, WebhookSecret string
	Progress                  func(app.ProjectView)
	// Floor runs the floor project (FloorProject) beside the main one: slow people at a low
	// rate, whom payroll tops up to the earnings floor.
	Floor bool
}

// Summary is what a scripted run reports.
type Summary struct {
	Project       string            `json:"project"`
	LinesIn       int               `json:"lines_in"`
	ValidItems    int               `json:"valid_items"`
	Delivered     int               `json:"delivered"`
	Rejected      int               `json:"rejected"`
	Agreement     float64           `json:"agreement"`
	Arbitrated    int               `json:"arbitrated"`
	Annotations   int               `json:"annotations"`
	LeasesExpired int               `json:"leases_expired"`
	Month         string            `json:"month"`
	PayrollTotal  map[string]int64  `json:"payroll_total"`
	PaidThisRun   map[string]int64  `json:"paid"`
	People        int               `json:"people_paid"`
	DeliveryURI   string            `json:"delivery_uri"`
	ManifestKey   string            `json:"manifest_key"`
	Verified      int               `json:"objects_verified"`
	Crowd         simulate.Stats    `json:"crowd"`
	Elapsed       time.Duration     `json:"elapsed"`
	ProjectTime   time.Duration     `json:"project_time"` // launch to completed delivery
	Status        app.ProjectView   `json:"-"`
	Manifest      delivery.Manifest `json:"-"`
	// Simulated is the crowd, tokens included; it stays in the roster until the demo ends.
	Simulated []simulate.Person `json:"-"`
	// TopUps are the people payroll lifted to the earnings floor.
	TopUps []TopUpLine `json:"top_ups"`
}

// Run uploads the demo dataset, launches the project, lets the simulated crowd work through the
// gateway, waits for the delivery, verifies it, then imports the month's finance tables as finance
// would and runs and approves payroll for the month. With o.Floor the floor project runs too.
func Run(ctx context.Context, e *Env, o RunOptions) (Summary, error) {
	start := time.Now()
	sum := Summary{Project: o.ProjectID}
	a := e.App
	p, launched, err := LaunchProject(ctx, e, o)
	if err != nil {
		return sum, err
	}
	// A crowd that fails ends the waits at once rather than leaving a project waiting for people.
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	crowds := &crowds{ctx: runCtx, cancel: cancel, app: a}
	err = crowds.start(simulate.Options{GatewayURL: e.GatewayURL, Project: p.ID, Annotators: o.Annotators, Reviewers: o.Reviewers,
		Accuracy: o.Accuracy, ReviewerAccuracy: 0.95, Abandon: o.Abandon, Seed: o.Seed, Languages: []string{"en"}, Idle: 50 * time.Millisecond})
	if err != nil {
		return sum, err
	}
	if o.Floor {
		if err := startFloorProject(runCtx, e, crowds, o.Seed); err != nil {
			return sum, err
		}
	}
	status, err := crowds.wait(p.ID, o.Progress)
	sum.ProjectTime = time.Since(launched)
	sum.Simulated = crowds.people
	if err != nil {
		return sum, err
	}
	if o.Floor {
		if _, err := crowds.wait(FloorProject, nil); err != nil {
			return sum, err
		}
	}
	stats, err := crowds.done()
	sum.Crowd = stats[0]
	if err != nil {
		return sum, err
	}
	sum.Status = status
	sum.LinesIn, sum.ValidItems, sum.Rejected = status.Lines, status.Items, status.Rejects
	sum.Delivered, sum.Arbitrated, sum.Annotations = status.Done.Delivered, status.Done.Arbitrated, status.Done.Annotations
	sum.LeasesExpired = status.Done.LeasesExpired
	sum.Agreement = status.Agreement
	sum.DeliveryURI, sum.ManifestKey = status.DeliveryURI, status.ManifestKey

	if sum.Manifest, sum.Verified, err = VerifyDelivery(ctx, a, p); err != nil {
		return sum, err
	}
	if err := payMonth(ctx, a, &sum); err != nil {
		return sum, err
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// payMonth imports the month's finance tables, runs and approves its payroll, and reads the
// statements of the people it topped up.
func payMonth(ctx context.Context, a *app.App, sum *Summary) error {
	loc, _ := time.LoadLocation(a.Cfg.MonthTimeZone)
	now := time.Now().In(loc)
	sum.Month = now.Format("2006-01")
	finance, err := SignIn(ctx, a, FinanceDemo)
	if err != nil {
		return err
	}
	if err := ImportFinanceTables(ctx, a.Store, sum.Month, now); err != nil {
		return err
	}
	pay, err := RunAndApprovePayroll(ctx, a, sum.Month, finance)
	if err != nil {
		return err
	}
	sum.PayrollTotal, sum.PaidThisRun, sum.People = pay.Summary.Totals, pay.Payout.Paid, pay.Summary.People
	sum.TopUps, err = topUpLines(ctx, a, sum.Month, pay.Summary.TopUps)
	return err
}

// startFloorProject launches the floor project and sets its slow crowd to work.
func startFloorProject(ctx context.Context, e *Env, crowds *crowds, seed uint64) error {
	ops, err := SignIn(ctx, e.App, OpsDemo)
	if err != nil {
		return err
	}
	if _, err := launchFloorProject(ctx, e, ops); err != nil {
		return err
	}
	return crowds.start(floorCrowd(e.GatewayURL, seed))
}

// crowds are the simulated crowds of a run, each working on its own project. The first to fail
// cancels the run's context with its error.
type crowds struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc
	app     *app.App
	people  []simulate.Person
	results []chan crowdResult
}

type crowdResult struct {
	stats simulate.Stats
	err   error
}

// start registers a crowd for o.Project and sets it to work until the project needs no more.
func (c *crowds) start(o simulate.Options) error {
	permit, err := simulate.Allow(c.app.Cfg, false)
	if err != nil {
		return err
	}
	crowd, err := simulate.Crowd(o)
	if err != nil {
		return err
	}
	if err := simulate.Register(c.ctx, permit, c.app.Roster, crowd); err != nil {
		return err
	}
	c.people = append(c.people, crowd...)
	result := make(chan crowdResult, 1)
	c.results = append(c.results, result)
	go func() {
		st, err := simulate.Run(c.ctx, o, c.app.Store, crowd)
		if err != nil {
			err = fmt.Errorf("simulator on %s: %w", o.Project, err)
			c.cancel(err)
		}
		result <- crowdResult{stats: st, err: err}
	}()
	return nil
}

// wait waits for a project to complete; a crowd's failure ends the wait with that failure.
func (c *crowds) wait(project string, progress func(app.ProjectView)) (app.ProjectView, error) {
	status, err := c.app.WaitProject(c.ctx, project, progress)
	if err != nil {
		if cause := context.Cause(c.ctx); cause != nil && cause != err {
			return status, cause
		}
	}
	return status, err
}

// done waits for every crowd to stop, and returns what each did, in the order they started, and
// the first failure.
func (c *crowds) done() ([]simulate.Stats, error) {
	stats := make([]simulate.Stats, len(c.results))
	var first error
	for i, ch := range c.results {
		r := <-ch
		stats[i] = r.stats
		if r.err != nil && first == nil {
			first = r.err
		}
	}
	return stats, first
}

// LaunchProject uploads the demo dataset of o.Items reviews and launches the demo project
// o.ProjectID on it with o's chunk size, lease and webhook. It returns the project and the time
// its launch began.
func LaunchProject(ctx context.Context, e *Env, o RunOptions) (spec.Project, time.Time, error) {
	data, _ := Dataset(o.Items, o.Seed)
	if err := e.App.Store.PutIn(ctx, IntakeBucket, "acme/reviews.manifest", data); err != nil {
		return spec.Project{}, time.Time{}, err
	}
	if o.ChunkSize == 0 {
		o.ChunkSize = 100
	}
	if o.Lease == 0 {
		o.Lease = 2 * time.Minute
	}
	p, err := spec.Parse("demo-project.yaml", []byte(SpecYAML(o.ProjectID, e.Cfg.StoreEndpoint, o.ChunkSize, o.Lease, o.WebhookURL, o.WebhookSecret)))
	if err != nil {
		return p, time.Time{}, err
	}
	ops, err := SignIn(ctx, e.App, OpsDemo)
	if err != nil {
		return p, time.Time{}, err
	}
	launched := time.Now()
	_, err = e.App.Launch(ctx, ops, p)
	return p, launched, err
}

// FinanceDemo is the finance person who approves the demo's payroll, with a token issued for
// each run (SignIn).
var FinanceDemo = workforce.Person{ID: "finance-demo", Name: "Finance (demo)", Country: "KE", Role: role.Finance,
	PayoutMethod: "bank-transfer"}

// VerifyDelivery reads the manifest from the client's bucket the way a client would and checks
// every object it names against its size and SHA-256.
func VerifyDelivery(ctx context.Context, a *app.App, p spec.Project) (delivery.Manifest, int, error) {
	var m delivery.Manifest
	b, err := a.Targets.Open(ctx, p.Delivery)
	if err != nil {
		return m, 0, err
	}
	data, err := b.Get(ctx, layout.ManifestKey(p.Delivery.Prefix, p.ID))
	if err != nil {
		return m, 0, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, 0, fmt.Errorf("manifest: %w", err)
	}
	for _, o := range m.Objects {
		sum, size, err := b.Digest(ctx, o.Key)
		if err != nil {
			return m, 0, err
		}
		if sum != o.SHA256 || size != o.Size {
			return m, 0, fmt.Errorf("delivered object %s does not match the manifest", o.Key)
		}
	}
	return m, len(m.Objects), nil
}

// RunAndApprovePayroll runs a month's payroll, approves it once statements are ready, and waits
// for the payouts.
func RunAndApprovePayroll(ctx context.Context, a *app.App, month string, approver app.Actor) (workflows.PayrollStatus, error) {
	// The demo pays the month it runs in, before the month is over.
	if err := a.RunPayroll(ctx, month, true); err != nil {
		return workflows.PayrollStatus{}, err
	}
	if _, err := a.AwaitPayrollStage(ctx, month, workflows.PayrollAwaitingApproval); err != nil {
		return workflows.PayrollStatus{}, err
	}
	if _, err := a.ApprovePayroll(ctx, approver, month, ""); err != nil {
		return workflows.PayrollStatus{}, err
	}
	return a.WaitPayroll(ctx, month)
}

// WorkbenchProject is the small project the demo leaves open for people to try the workbench.
const WorkbenchProject = "acme-workbench"

// Demo people who sign in to the workbench, besides FinanceDemo and OpsDemo.
var (
	AnnotatorDemo = workforce.Person{ID: "annotator-demo", Name: "Amina (demo)", Country: "KE", Role: role.Annotator,
		Languages: []string{"en", "sw"}, PayoutMethod: "mobile-money"}
	ReviewerDemo = workforce.Person{ID: "reviewer-demo", Name: "Kwame (demo)", Country: "KE", Role: role.Reviewer,
		Languages: []string{"en"}, PayoutMethod: "bank-transfer"}
)

// Login is a demo person and the token they sign in with.
type Login struct {
	Person workforce.Person
	Token  string
}

// Workbench is what the demo offers in the browser: where, which project, who can sign in.
type Workbench struct {
	URL     string
	Project string
	Items   int
	Logins  []Login // annotator, reviewer, finance, ops
}

// OpenWorkbench launches a small single-label project and gives a fresh token to a demo
// annotator, reviewer, finance and ops person, so that people can work in the browser.
func OpenWorkbench(ctx context.Context, e *Env, items int) (Workbench, error) {
	w := Workbench{URL: e.GatewayURL + "/", Project: WorkbenchProject, Items: items}
	for _, p := range []workforce.Person{AnnotatorDemo, ReviewerDemo, FinanceDemo, OpsDemo} {
		token, err := StaffToken(ctx, e.App, p)
		if err != nil {
			return w, err
		}
		w.Logins = append(w.Logins, Login{Person: p, Token: token})
	}
	data, _ := Dataset(items, 7)
	// The dataset ends with bad lines for chunking to refuse; the workbench needs only the items.
	lines := bytes.SplitAfterN(data, []byte{'\n'}, items+1)
	key := "acme/" + WorkbenchProject + ".manifest"
	if err := e.App.Store.PutIn(ctx, IntakeBucket, key, bytes.Join(lines[:items], nil)); err != nil {
		return w, err
	}
	p, err := spec.Parse(WorkbenchProject+".yaml", []byte(workbenchSpecYAML(key, e.Cfg.StoreEndpoint, items)))
	if err != nil {
		return w, err
	}
	ops, err := e.App.Authenticate(ctx, w.Logins[3].Token)
	if err != nil {
		return w, err
	}
	_, err = e.App.Launch(ctx, ops, p)
	return w, err
}

// workbenchSpecYAML is the workbench project's spec: suites of five, a lease long enough for a
// person reading the instructions first.
func workbenchSpecYAML(key, endpoint string, items int) string {
	return fmt.Sprintf(`id: %s
client: acme
source: s3://%s/%s
annotation:
  type: single-label
  taxonomy: [positive, negative, neutral]
  instructions: |
    Read the product review and choose the sentiment it expresses about the product.
chunk_size: %d
suite_size: 5
lease: 10m
languages: [en]
delivery:
  bucket: %s
  prefix: labelflow/
  region: us-east-1
  endpoint: %s
  credentials: dev
  formats: [jsonl, csv]
pay:
  currency: USD
  per_annotation: "0.04"
  per_arbitration: "0.10"
`, WorkbenchProject, IntakeBucket, key, max(1, items), ClientBucket, endpoint)
}
