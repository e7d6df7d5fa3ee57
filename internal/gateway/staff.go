package gateway

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// Finance and ops read what they act on through these routes: payroll months and their
// summaries, rejections, projects with their progress, and the roster; ops deactivate people and
// give them tokens.

// staffDesk serves the finance and ops routes, with the ops board's cache.
type staffDesk struct {
	g     *Gateway
	board *opsBoard
}

func (g *Gateway) staffRoutes(mux *http.ServeMux) {
	d := &staffDesk{g: g, board: newOpsBoard(g.app.Cfg.StatusCacheTTL)}
	mux.HandleFunc("GET /v1/payroll", g.staffRead(app.RoleFinance, d.payrollMonths))
	mux.HandleFunc("GET /v1/payroll/{month}", g.staffRead(app.RoleFinance, d.payrollMonth))
	mux.HandleFunc("GET /v1/rejections", g.staffRead(app.RoleFinance, d.rejections))
	mux.HandleFunc("GET /v1/ops/projects", g.staffRead(app.RoleOps, d.opsProjects))
	mux.HandleFunc("GET /v1/ops/projects/{project}", g.staffRead(app.RoleOps, d.opsProject))
	mux.HandleFunc("GET /v1/roster", g.staffRead(app.RoleOps, d.roster))
	mux.HandleFunc("POST /v1/roster/{person}/deactivate", g.action(d.deactivate))
	mux.HandleFunc("POST /v1/roster/{person}/token", g.action(d.issueToken))
}

// staffRead serves a finance or ops read to people of that role only. Reads are not audited,
// unlike actions: they change nothing, and the audit log is the record of what was done to
// payroll, projects and people, not of who looked. Like actions, they are not served to a
// remembered person while the roster cannot be read: what they show (pay, people) is for the
// role's current holders.
func (g *Gateway) staffRead(role string, h handler) http.HandlerFunc {
	return g.authenticated(func(w http.ResponseWriter, r *http.Request, p workforce.Person) {
		if p.Role != role {
			writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("%s has the role %q; only %s may read this", p.ID, p.Role, role))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), actionTime)
		defer cancel()
		h(w, r.WithContext(ctx), p)
	}, false)
}

// Payroll

// PayrollMonth is a month's payroll as finance sees it.
type PayrollMonth struct {
	Month    string           `json:"month"`
	Stage    string           `json:"stage"`
	Approver string           `json:"approver"`
	Held     []string         `json:"held"`  // the people whose payout is held
	Holds    []workflows.Hold `json:"holds"` // the same, with who held them, when and why
	// Error says why a run stopped (stage stopped).
	Error string `json:"error,omitempty"`
}

// Stages of a month beyond the payroll workflow's own.
const (
	// payrollClosed: the month's ledger closed and its statements are in the store, but its run
	// is no longer on record in Temporal (past the namespace's retention).
	payrollClosed = "closed"
	// payrollStopped: the run ended without paying (an activity failed for good); Error says why.
	payrollStopped = "stopped"
)

// payrollReadWidth is how many months' runs are read side by side.
const payrollReadWidth = 4

// payrollMonths lists the months with a payroll, newest first: those with a run on record in
// Temporal, and those whose ledger closed (the store keeps them for good).
func (d *staffDesk) payrollMonths(w http.ResponseWriter, r *http.Request, _ workforce.Person) {
	ctx := r.Context()
	runs, err := d.payrollRuns(ctx)
	if err != nil {
		d.g.fail(w, err)
		return
	}
	closed, err := payroll.ClosedMonths(ctx, d.g.app.Store)
	if err != nil {
		d.g.fail(w, err)
		return
	}
	months := newestFirst(runs, closed)
	out := make([]PayrollMonth, len(months))
	err = store.Parallel(len(months), payrollReadWidth, func(i int) error {
		var err error
		out[i], err = d.payrollOf(ctx, months[i], runs[months[i]])
		return err
	})
	if err != nil {
		d.g.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"months": out})
}

// newestFirst is every month of runs and closed, each once, newest first.
func newestFirst(runs map[string]bool, closed []string) []string {
	months := append(slices.Collect(maps.Keys(runs)), closed...)
	slices.Sort(months)
	months = slices.Compact(months)
	slices.Reverse(months)
	return months
}

// payrollRuns names the months with a payroll run on record in Temporal's visibility.
func (d *staffDesk) payrollRuns(ctx context.Context) (map[string]bool, error) {
	months := map[string]bool{}
	var token []byte
	for {
		resp, err := d.g.app.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: "WorkflowType = 'PayrollWorkflow'", NextPageToken: token,
		})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetExecutions() {
			if m, ok := monthOfPayrollID(e.GetExecution().GetWorkflowId()); ok {
				months[m] = true
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return months, nil
		}
	}
}

// monthOfPayrollID is the month a payroll workflow id is of.
func monthOfPayrollID(workflowID string) (string, bool) {
	m, ok := strings.CutPrefix(workflowID, workflows.PayrollWorkflowID(""))
	return m, ok && workflows.ValidMonth(m)
}

// payrollOf reads a month's payroll: its run's status when it has one on record, else closed.
// A run that stopped is shown with why; only an outage fails the read.
func (d *staffDesk) payrollOf(ctx context.Context, month string, hasRun bool) (PayrollMonth, error) {
	if !hasRun {
		return PayrollMonth{Month: month, Stage: payrollClosed, Held: []string{}, Holds: []workflows.Hold{}}, nil
	}
	st, err := d.g.app.PayrollStatus(ctx, month)
	switch {
	case errors.Is(err, app.ErrNotFound):
		return PayrollMonth{Month: month, Stage: payrollClosed, Held: []string{}, Holds: []workflows.Hold{}}, nil
	case unavailable(err):
		return PayrollMonth{}, err
	case err != nil:
		return PayrollMonth{Month: month, Stage: payrollStopped, Held: []string{}, Holds: []workflows.Hold{}, Error: err.Error()}, nil
	}
	return payrollMonthOfStatus(st), nil
}

func payrollMonthOfStatus(st workflows.PayrollStatus) PayrollMonth {
	m := PayrollMonth{Month: st.Month, Stage: st.Stage, Approver: st.Approver, Held: []string{}, Holds: st.Holds}
	for _, h := range st.Holds {
		m.Held = append(m.Held, h.Person)
	}
	if m.Holds == nil {
		m.Holds = []workflows.Hold{}
	}
	return m
}

// PayrollMonthAnswer is a month's payroll with its finance summary: per country, top-ups and
// holds; the summary is null until the month's ledger has closed.
type PayrollMonthAnswer struct {
	Payroll PayrollMonth     `json:"payroll"`
	Summary *payroll.Summary `json:"summary"`
}

func (d *staffDesk) payrollMonth(w http.ResponseWriter, r *http.Request, _ workforce.Person) {
	ctx, month := r.Context(), r.PathValue("month") // checked by authenticated (checkPathIDs)
	var answer PayrollMonthAnswer
	sum, err := d.g.app.PayrollSummary(ctx, month)
	switch {
	case err == nil:
		answer.Summary = &sum
	case !errors.Is(err, store.ErrNotFound):
		d.g.fail(w, err)
		return
	}
	answer.Payroll, err = d.payrollOf(ctx, month, true)
	if err != nil {
		d.g.fail(w, err)
		return
	}
	if answer.Payroll.Stage == payrollClosed && answer.Summary == nil {
		writeError(w, http.StatusNotFound, "not_found", "no payroll for "+month)
		return
	}
	writeJSON(w, http.StatusOK, answer)
}

func (d *staffDesk) rejections(w http.ResponseWriter, r *http.Request, _ workforce.Person) {
	all, err := d.g.app.Rejections(r.Context())
	if err != nil {
		d.g.fail(w, err)
		return
	}
	if all == nil {
		all = []payroll.Rejection{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rejections": all})
}

// Ops: projects

// OpsProject is a project with its progress, as the ops board lists it.
type OpsProject struct {
	ID            string  `json:"id"`
	Client        string  `json:"client"`
	Stage         string  `json:"stage"`
	Status        string  `json:"status"` // of the project's workflow: Running, Completed, Failed…
	Paused        bool    `json:"paused"`
	Items         int     `json:"items"`
	Chunks        int     `json:"chunks"`
	ChunksStarted int     `json:"chunks_started"`
	Annotated     int     `json:"annotated"`  // items with all their annotations
	Final         int     `json:"final"`      // items with a final label
	Arbitrated    int     `json:"arbitrated"` // items a reviewer settled
	Delivered     int     `json:"delivered"`  // items of finished chunks, delivered
	Rejects       int     `json:"rejects"`    // manifest lines refused at chunking
	Agreement     float64 `json:"agreement"`
	// Problems hold a project up (an activity retrying, a workflow that failed), or say why its
	// progress could not be read.
	Problems []string `json:"problems"`
}

// OpsProjectDetail is one project's page: what the board shows and its running chunks.
type OpsProjectDetail struct {
	OpsProject
	Agreed      int                     `json:"agreed"`
	Leases      int                     `json:"active_leases"`
	Live        []workflows.ChunkStatus `json:"live_chunks"`
	StartedAt   time.Time               `json:"started_at"`
	Cancelled   *workflows.Cancellation `json:"cancelled"`
	DeliveryURI string                  `json:"delivery_uri"`
}

// Bounds of one listing of the ops board.
const (
	// maxOpsQueries bounds the projects whose progress one listing asks Temporal for; a project
	// costs a few calls per running chunk.
	maxOpsQueries = 50
	// opsQueryWidth is how many projects are read side by side.
	opsQueryWidth = 4
	// opsProjectTime bounds the reading of one project, so that a project whose workflow does
	// not answer does not hold up the board.
	opsProjectTime = 10 * time.Second
	// opsListTime bounds a whole listing.
	opsListTime = 20 * time.Second
	// closedCap is how many closed projects' progress the board remembers: it no longer changes.
	closedCap = 1024
)

// opsBoard is the ops listing, shared by every ops person for the status cache's TTL so that
// many open tabs do not multiply Temporal queries, and the progress of closed projects, kept for
// good.
type opsBoard struct {
	ttl  time.Duration
	fill sync.Mutex // held while listing: one listing at a time, the others wait for it

	mu     sync.Mutex
	at     time.Time
	list   []OpsProject
	closed *lru[string, OpsProject]
}

func newOpsBoard(ttl time.Duration) *opsBoard {
	return &opsBoard{ttl: ttl, closed: newLRU[string, OpsProject](closedCap)}
}

// fresh is the listing when it is younger than the TTL.
func (b *opsBoard) fresh() ([]OpsProject, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.list, !b.at.IsZero() && time.Since(b.at) < b.ttl
}

func (b *opsBoard) keep(list []OpsProject) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.list, b.at = list, time.Now()
}

func (b *opsBoard) closedProject(id string) (OpsProject, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed.get(id)
}

func (b *opsBoard) keepClosed(p OpsProject) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed.put(p.ID, p)
}

func (d *staffDesk) opsProjects(w http.ResponseWriter, r *http.Request, _ workforce.Person) {
	list, err := d.opsList(r.Context())
	if err != nil {
		d.g.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": list})
}

// opsList is every project with its progress, from the cache when fresh.
func (d *staffDesk) opsList(ctx context.Context) ([]OpsProject, error) {
	if list, ok := d.board.fresh(); ok {
		return list, nil
	}
	d.board.fill.Lock()
	defer d.board.fill.Unlock()
	if list, ok := d.board.fresh(); ok {
		return list, nil // listed while this request waited
	}
	// The listing serves every waiting tab: one of them leaving does not cut it short.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opsListTime)
	defer cancel()
	all, err := d.g.app.ListProjects(ctx)
	if err != nil {
		return nil, err
	}
	list := d.readProjects(ctx, all)
	d.board.keep(list)
	return list, nil
}

// readProjects reads the progress of at most maxOpsQueries projects, running ones first, then
// closed ones not read before; the others are listed as visibility has them, with a problem
// saying so.
func (d *staffDesk) readProjects(ctx context.Context, all []app.ProjectSummary) []OpsProject {
	out := make([]OpsProject, len(all))
	var todo []int
	for i, s := range all {
		out[i] = opsProjectOfSummary(s)
		if s.Status == runningStatus {
			todo = append(todo, i)
		}
	}
	for i, s := range all {
		if s.Status == runningStatus {
			continue
		}
		if p, ok := d.board.closedProject(s.ID); ok {
			out[i] = p
		} else {
			todo = append(todo, i)
		}
	}
	for _, i := range todo[min(len(todo), maxOpsQueries):] {
		out[i].Problems = append(out[i].Problems, fmt.Sprintf("progress not read: more than %d projects to read at once; see `labelflow project status %s`", maxOpsQueries, all[i].ID))
	}
	todo = todo[:min(len(todo), maxOpsQueries)]
	_ = store.Parallel(len(todo), opsQueryWidth, func(n int) error {
		i := todo[n]
		out[i] = d.readProject(ctx, all[i])
		return nil
	})
	return out
}

// readProject reads one project's progress; a closed project's is remembered for good.
func (d *staffDesk) readProject(ctx context.Context, s app.ProjectSummary) OpsProject {
	ctx, cancel := context.WithTimeout(ctx, opsProjectTime)
	defer cancel()
	v, err := d.g.app.ProjectStatus(ctx, s.ID)
	if err != nil {
		p := opsProjectOfSummary(s)
		p.Problems = append(p.Problems, "progress not read: "+statusProblem(err))
		return p
	}
	p := opsProjectOf(v)
	p.Client, p.Status = s.Client, s.Status
	if v.Closed {
		d.board.keepClosed(p)
	}
	return p
}

// statusProblem says why a project's status could not be read.
func statusProblem(err error) string {
	if part := outage(err); part != "" {
		return part + " is not answering"
	}
	return err.Error()
}

func opsProjectOfSummary(s app.ProjectSummary) OpsProject {
	return OpsProject{ID: s.ID, Client: s.Client, Stage: s.Stage, Status: s.Status, Problems: []string{}}
}

// opsProjectOf is a project's progress: items of finished chunks (the project's totals) and of
// running ones (their live counts, summed by ProjectStatus).
func opsProjectOf(v app.ProjectView) OpsProject {
	p := OpsProject{ID: v.ID, Client: v.Client, Stage: v.Stage, Status: workflowStatus(v), Paused: paused(v.ProjectStatus),
		Items: v.Items, Chunks: v.Chunks, ChunksStarted: v.ChunksStarted, Annotated: v.Annotated, Final: v.Final,
		Arbitrated: v.Arbitrated, Delivered: v.Done.Delivered, Rejects: v.Rejects, Agreement: v.Agreement,
		Problems: append([]string{}, v.Problems...)}
	if v.Error != "" {
		p.Problems = append(p.Problems, v.Error)
	}
	return p
}

// workflowStatus names the project workflow's status as visibility does.
func workflowStatus(v app.ProjectView) string {
	switch {
	case !v.Closed:
		return runningStatus
	case v.Error == "":
		return "Completed"
	}
	if s, ok := strings.CutPrefix(v.Error, "project workflow "); ok {
		return s
	}
	return "Closed"
}

// opsProject is one project's page: its progress and running chunks, and its quality report
// once its delivery completed (null before).
func (d *staffDesk) opsProject(w http.ResponseWriter, r *http.Request, _ workforce.Person) {
	ctx, project := r.Context(), r.PathValue("project") // checked by authenticated (checkPathIDs)
	// A project never launched has no spec: that is answered without asking Temporal.
	if ok, err := d.g.app.Store.Exists(ctx, layout.SpecKey(project)); err != nil {
		d.g.fail(w, err)
		return
	} else if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no project "+project)
		return
	}
	v, err := d.g.app.ProjectStatus(ctx, project)
	if err != nil {
		d.g.fail(w, err)
		return
	}
	var report *quality.Report
	switch r, err := d.g.app.QualityReport(ctx, project); {
	case err == nil:
		report = &r
	case !errors.Is(err, store.ErrNotFound):
		d.g.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"project": opsProjectDetailOf(v), "quality": report})
}

func opsProjectDetailOf(v app.ProjectView) OpsProjectDetail {
	live := v.Live
	if live == nil {
		live = []workflows.ChunkStatus{}
	}
	return OpsProjectDetail{OpsProject: opsProjectOf(v), Agreed: v.Agreed, Leases: v.Leases, Live: live,
		StartedAt: v.StartedAt, Cancelled: v.Cancelled, DeliveryURI: v.DeliveryURI}
}

// Ops: the roster

// RosterPerson is a person of the roster as ops see them: never their token, only whether they
// have one.
type RosterPerson struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Country   string   `json:"country"`
	Role      string   `json:"role"`
	Skills    []string `json:"skills"`
	Languages []string `json:"languages"`
	Currency  string   `json:"currency"`
	HasToken  bool     `json:"has_token"`
	Active    bool     `json:"active"`
}

func rosterPersonOf(p workforce.Person) RosterPerson {
	return RosterPerson{ID: p.ID, Name: p.Name, Country: p.Country, Role: p.Role,
		Skills: append([]string{}, p.Skills...), Languages: append([]string{}, p.Languages...),
		Currency: p.Currency(), HasToken: p.TokenHash != "", Active: !p.Inactive}
}

func (d *staffDesk) roster(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	people, err := d.g.app.ListPeople(r.Context(), actor(r, p))
	if err != nil {
		d.g.actionFailed(w, err)
		return
	}
	out := make([]RosterPerson, len(people))
	for i, person := range people {
		out[i] = rosterPersonOf(person)
	}
	writeJSON(w, http.StatusOK, map[string]any{"people": out})
}

// DeactivateBody deactivates a person.
type DeactivateBody struct {
	Reason string `json:"reason"`
}

// DeactivateAnswer is a deactivated person.
type DeactivateAnswer struct {
	ID     string `json:"id"`
	Active bool   `json:"active"`
}

// TokenAnswer carries a person's new token, shown this once.
type TokenAnswer struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

func (d *staffDesk) deactivate(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	var body DeactivateBody
	if !decodeJSON(w, r, 4<<10, &body) {
		return
	}
	person := r.PathValue("person") // checked by authenticated (checkPathIDs)
	if _, err := d.g.app.DeactivatePerson(r.Context(), actor(r, p), person, body.Reason); err != nil {
		d.g.actionFailed(w, err)
		return
	}
	// This gateway stops them at once; others within their token cache's TTL.
	d.g.tokens.forgetPerson(person)
	writeJSON(w, http.StatusOK, DeactivateAnswer{ID: person, Active: false})
}

func (d *staffDesk) issueToken(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	person := r.PathValue("person") // checked by authenticated (checkPathIDs)
	token, err := d.g.app.IssueToken(r.Context(), actor(r, p), person)
	if err != nil {
		d.g.actionFailed(w, err)
		return
	}
	d.g.tokens.forgetPerson(person) // the token they had, if any, no longer works
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, TokenAnswer{ID: person, Token: token})
}

// forgetPerson forgets every token of a person the cache remembers, so that a token taken away
// stops working on this gateway at once.
func (c *tokenCache) forgetPerson(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var hashes []string
	for hash, e := range c.byHash.items {
		if e.Value.(*lruEntry[string, cachedPerson]).value.person.ID == id {
			hashes = append(hashes, hash)
		}
	}
	for _, h := range hashes {
		c.byHash.remove(h)
	}
}

// Deactivate stops a person from signing in; they stay in the roster and their work is paid.
func (c *Client) Deactivate(ctx context.Context, person, reason string) (DeactivateAnswer, error) {
	var out DeactivateAnswer
	return out, c.post(ctx, "/v1/roster/"+url.PathEscape(person)+"/deactivate", DeactivateBody{Reason: reason}, &out)
}
