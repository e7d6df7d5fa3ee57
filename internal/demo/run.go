package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
}

// Run uploads the demo dataset, launches the project, lets the simulated crowd work through the
// gateway, waits for the delivery, verifies it, then runs and approves payroll for the month.
func Run(ctx context.Context, e *Env, o RunOptions) (Summary, error) {
	start := time.Now()
	sum := Summary{Project: o.ProjectID}
	a := e.App
	p, launched, err := LaunchProject(ctx, e, o)
	if err != nil {
		return sum, err
	}
	simOpts := simulate.Options{GatewayURL: e.GatewayURL, Project: p.ID, Annotators: o.Annotators, Reviewers: o.Reviewers,
		Accuracy: o.Accuracy, ReviewerAccuracy: 0.95, Abandon: o.Abandon, Seed: o.Seed, Languages: []string{"en"}, Idle: 50 * time.Millisecond}
	permit, err := simulate.Allow(a.Cfg, false)
	if err != nil {
		return sum, err
	}
	crowd, err := simulate.Crowd(simOpts)
	if err != nil {
		return sum, err
	}
	if err := simulate.Register(ctx, permit, a.Roster, crowd); err != nil {
		return sum, err
	}
	sum.Simulated = crowd
	// A crowd that fails ends the wait at once rather than leaving the project waiting for people.
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	simDone := make(chan error, 1)
	go func() {
		st, err := simulate.Run(runCtx, simOpts, a.Store, crowd)
		sum.Crowd = st
		if err != nil {
			err = fmt.Errorf("simulator: %w", err)
			cancel(err)
		}
		simDone <- err
	}()
	status, err := a.WaitProject(runCtx, p.ID, o.Progress)
	sum.ProjectTime = time.Since(launched)
	if err != nil {
		if cause := context.Cause(runCtx); cause != nil && cause != err {
			return sum, cause
		}
		return sum, err
	}
	if err := <-simDone; err != nil {
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

	loc, _ := time.LoadLocation(a.Cfg.MonthTimeZone)
	sum.Month = time.Now().In(loc).Format("2006-01")
	finance, err := SignIn(ctx, a, FinanceDemo)
	if err != nil {
		return sum, err
	}
	if err := SeedFinanceTables(ctx, a.Store, sum.Month); err != nil {
		return sum, err
	}
	pay, err := RunAndApprovePayroll(ctx, a, sum.Month, finance)
	if err != nil {
		return sum, err
	}
	sum.PayrollTotal, sum.PaidThisRun, sum.People = pay.Summary.Totals, pay.Payout.Paid, pay.Summary.People
	sum.Elapsed = time.Since(start)
	return sum, nil
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
		obj, err := b.Get(ctx, o.Key)
		if err != nil {
			return m, 0, err
		}
		sum := sha256.Sum256(obj)
		if hex.EncodeToString(sum[:]) != o.SHA256 || int64(len(obj)) != o.Size {
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
