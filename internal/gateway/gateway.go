// Package gateway is the HTTP API annotators and reviewers work through. It keeps no state of its
// own: it authenticates a bearer token against the roster, turns claims and submissions into
// Temporal Updates on the chunk workflow that owns the work, and fills suites with item content
// read from the platform store.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/manifest"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/web"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// Gateway serves the work API.
type Gateway struct {
	app *app.App
	log zerolog.Logger

	limits limits

	mu      sync.Mutex
	specs   *lru[string, spec.Project]
	chunks  *lru[string, []manifest.Item]
	running *lru[string, runningCache]

	tokens   *tokenCache
	sessions *sessionCache
	// claims is what the chunks' answers taught about where work is (claimbook.go).
	claims *claimBook
	// crowd counts the people at work per project, reported as name (crowd.go).
	crowd *crowdWatch
	name  string
	// stuck paces the resets of stalled workflows' stickiness, and gates bounds the Updates in
	// flight at each workflow (unstick.go).
	stuck *unsticker
	gates *updateGates
	// stateFills are held while a project's status is queried (projectState), by project hash.
	stateFills [64]sync.Mutex

	// feedIDs are the projects open for work, as last listed (at feedAt).
	feedIDs  []string
	feedAt   time.Time
	feedFill sync.Mutex // held while the open projects are listed
	rates    cachedRates
	earned   earningsCache
	// sweptAt is when expired sessions were last swept (sweepSessionsNow).
	sweptAt time.Time
	ready   readiness
}

// cacheCap is how many projects the spec and open-chunks caches hold. Only projects that exist
// are cached, and ids are checked first, yet the caps keep memory bounded in any case.
const cacheCap = 1024

// chunkCacheCap is how many chunk files the gateway keeps; a chunk file holds hundreds of items.
const chunkCacheCap = 256

type runningCache struct {
	status workflows.ProjectStatus
	at     time.Time
}

// New builds a gateway with the request limits of a.Cfg.
func New(a *app.App) (*Gateway, error) {
	// The gateway vouches for people to the workflows and checks their tokens: without the keys
	// for both it could do neither.
	if a.Grants == nil {
		return nil, fmt.Errorf("gateway: %w", config.Require("LABELFLOW_GRANT_KEYS", a.Cfg.GrantKeys))
	}
	if err := config.Require("LABELFLOW_TOKEN_PEPPER", a.Cfg.TokenPepper); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	l, err := newLimits(a.Cfg)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if a.Cfg.GatewayReadTimeout <= 0 {
		return nil, fmt.Errorf("gateway: LABELFLOW_GATEWAY_READ_TIMEOUT must be above 0, got %s", a.Cfg.GatewayReadTimeout)
	}
	if a.Cfg.GatewayTokenCacheTTL <= 0 {
		return nil, fmt.Errorf("gateway: LABELFLOW_GATEWAY_TOKEN_CACHE_TTL must be above 0, got %s", a.Cfg.GatewayTokenCacheTTL)
	}
	return &Gateway{app: a, log: a.Log.With().Str("component", "gateway").Logger(), limits: l,
		specs: newLRU[string, spec.Project](cacheCap), chunks: newLRU[string, []manifest.Item](chunkCacheCap), running: newLRU[string, runningCache](cacheCap),
		tokens: newTokenCache(a.Cfg.GatewayTokenCacheTTL), sessions: newSessionCache(), claims: newClaimBook(), stuck: newUnsticker(), gates: newUpdateGates(),
		crowd: newCrowdWatch(), name: gatewayName()}, nil
}

// Handler routes the API, every route behind the per-address limit and the body cap.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	requests, scrape := metricsHandler()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	mux.HandleFunc("GET /readyz", g.readyz)
	mux.Handle("GET /metrics", scrape)
	mux.HandleFunc("GET /v1/me", g.auth(g.me))
	mux.HandleFunc("GET /v1/me/statements", g.auth(g.statements))
	mux.HandleFunc("GET /v1/me/statements/{month}", g.auth(g.statement))
	mux.HandleFunc("GET /v1/me/statements/{month}/items", g.auth(g.statementItems))
	mux.HandleFunc("GET /v1/projects/{project}", g.auth(g.project))
	mux.HandleFunc("POST /v1/projects/{project}/claim", g.auth(g.claim))
	mux.HandleFunc("POST /v1/projects/{project}/suites/{suite}/submit", g.auth(g.submit))
	mux.HandleFunc("POST /v1/projects/{project}/suites/{suite}/release", g.auth(g.releaseSuite))
	g.sessionRoutes(mux)
	g.feedRoutes(mux)
	g.actionRoutes(mux)
	g.staffRoutes(mux)
	g.pauseRoutes(mux)
	g.leaseRoutes(mux)
	ui := web.Handler()
	mux.Handle("GET /{$}", ui)
	mux.Handle("GET /ui/", ui)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return g.observed(requests, g.guard(mux))
}

type handler func(w http.ResponseWriter, r *http.Request, p workforce.Person)

// auth serves h to the person the request's token names; while the roster cannot be read, people
// checked recently keep working (staleLimit).
func (g *Gateway) auth(h handler) http.HandlerFunc { return g.authenticated(h, true) }

// authenticated serves h to the person the request's token names, checked against the roster
// within the token cache's TTL, or within staleLimit while the roster cannot be read if stale.
func (g *Gateway) authenticated(h handler, stale bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := checkPathIDs(r); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		if !g.signInAllowed(w, r) {
			return
		}
		p, ctx, ok := g.identify(w, r, stale)
		if !ok {
			return
		}
		notePerson(ctx, p.ID)
		r = r.WithContext(ctx)
		if !g.allowPerson(w, p.ID) {
			return
		}
		h(w, r, p)
	}
}

// identify establishes who sends r: from the bearer token, or else from the session cookie, in
// which case a state-changing request must also carry the session's CSRF token. It answers the
// request itself when it fails.
func (g *Gateway) identify(w http.ResponseWriter, r *http.Request, stale bool) (workforce.Person, context.Context, bool) {
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && token != "" {
		p, err := g.person(r.Context(), token, stale)
		if !g.identified(w, r, err) {
			return p, nil, false
		}
		return p, withCredential(r.Context(), app.Fingerprint(token), nil), true
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		g.failedSignIn(r)
		writeError(w, http.StatusUnauthorized, "unauthorized", "sign in, or send your token as: Authorization: Bearer <token>")
		return workforce.Person{}, nil, false
	}
	p, rec, err := g.sessionPerson(r.Context(), c.Value, stale)
	if !g.identified(w, r, err) {
		return p, nil, false
	}
	if !checkCSRF(r, rec) {
		writeError(w, http.StatusForbidden, "csrf", "this request must carry the session's "+csrfHeader+" header")
		return p, nil, false
	}
	return p, withCredential(r.Context(), sessionFingerprint(c.Value), &rec), true
}

// identified answers a request whose credential could not be resolved.
func (g *Gateway) identified(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, workforce.ErrUnknownToken):
		g.failedSignIn(r)
		writeError(w, http.StatusUnauthorized, "unauthorized", "unknown token")
	case errors.Is(err, errNoSession):
		writeError(w, http.StatusUnauthorized, "unauthorized", "your session has ended: sign in again")
	default:
		g.fail(w, err)
	}
	return false
}

// Me is what a person sees of their own roster entry.
type Me struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Country      string   `json:"country"`
	Role         string   `json:"role"`
	Skills       []string `json:"skills,omitempty"`
	Languages    []string `json:"languages,omitempty"`
	PayoutMethod string   `json:"payout_method"`
	Currency     string   `json:"currency,omitempty"`
}

func meOf(p workforce.Person) Me {
	return Me{ID: p.ID, Name: p.Name, Country: p.Country, Role: p.Role, Skills: p.Skills, Languages: p.Languages,
		PayoutMethod: p.PayoutMethod, Currency: p.Currency()}
}

func (g *Gateway) me(w http.ResponseWriter, _ *http.Request, p workforce.Person) {
	writeJSON(w, http.StatusOK, meOf(p))
}

// StatementRef points at one month's statement.
type StatementRef struct {
	Month  string           `json:"month"`
	Totals map[string]int64 `json:"totals"` // currency → minor units
}

// statements lists the months a person has a statement for, newest first, with their totals.
func (g *Gateway) statements(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	months, err := payroll.StatementMonths(r.Context(), g.app.Store, p.ID)
	if err != nil {
		g.fail(w, err)
		return
	}
	out := make([]StatementRef, len(months))
	for i, m := range months {
		out[i] = StatementRef{Month: m.Month, Totals: m.Totals}
	}
	writeJSON(w, http.StatusOK, map[string]any{"statements": out})
}

// statement returns one month's statement: every line with its project, kind of work, count,
// rate total and time.
func (g *Gateway) statement(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	month := r.PathValue("month") // checked by auth (checkPathIDs)
	st, err := payroll.ReadStatement(r.Context(), g.app.Store, month, p.ID)
	if err != nil {
		g.failStatement(w, month, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// StatementItem is one ledger entry behind a statement: paid, paid as an adjustment of an earlier
// month, or set aside under a rejection.
type StatementItem = payroll.StatementItem

// statementItems lists every ledger entry behind a person's statement (payroll.StatementItems):
// each item of each project they are paid for, with the kind of work, the amount and the time,
// and the items set aside under a rejection with its reason.
func (g *Gateway) statementItems(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	month := r.PathValue("month") // checked by auth (checkPathIDs)
	items, err := payroll.StatementItems(r.Context(), g.app.Store, month, p.ID)
	if err != nil {
		g.failStatement(w, month, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"month": month, "items": items})
}

// failStatement answers a statement that could not be read: not found when the person has none
// for the month.
func (g *Gateway) failStatement(w http.ResponseWriter, month string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no statement for "+month+" yet")
		return
	}
	g.fail(w, err)
}

// ProjectBrief is what a worker sees of a project.
type ProjectBrief struct {
	ID             string   `json:"id"`
	Stage          string   `json:"stage"`
	AnnotationType string   `json:"annotation_type"`
	Taxonomy       []string `json:"taxonomy"`
	Instructions   string   `json:"instructions"`
	Open           bool     `json:"open"` // work may still be offered
}

func (g *Gateway) project(w http.ResponseWriter, r *http.Request, _ workforce.Person) {
	id := r.PathValue("project")
	sp, err := g.spec(r.Context(), id)
	if err != nil {
		g.fail(w, err)
		return
	}
	_, stage, err := g.runningChunks(r.Context(), id)
	if err != nil {
		g.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ProjectBrief{ID: id, Stage: stage, AnnotationType: sp.Annotation.Type, Taxonomy: sp.Annotation.Taxonomy,
		Instructions: sp.Annotation.Instructions, Open: open(stage)})
}

func open(stage string) bool {
	return stage == workflows.StageChunking || stage == workflows.StageAnnotating
}

// TaskView is one task as a worker sees it. The client's item id is not shown: gold items must
// look like any other.
type TaskView struct {
	Item      int            `json:"item"`
	Source    string         `json:"source,omitempty"`
	SourceRef string         `json:"source_ref,omitempty"`
	Answers   []label.Answer `json:"answers,omitempty"` // arbitration only: the two answers, unattributed
	// MediaURL is the item's image, served by the gateway to the suite's holder only.
	MediaURL string `json:"media_url,omitempty"`
	Width    int    `json:"width,omitempty"`
	Height   int    `json:"height,omitempty"`
}

// SuiteView is a leased suite as a worker sees it.
type SuiteView struct {
	ID             string     `json:"id"`
	Kind           string     `json:"kind"`
	ExpiresAt      time.Time  `json:"expires_at"`
	AnnotationType string     `json:"annotation_type"`
	Taxonomy       []string   `json:"taxonomy"`
	Instructions   string     `json:"instructions"`
	Tasks          []TaskView `json:"tasks"`
}

// ClaimResponse carries a suite, or none with the reason.
type ClaimResponse struct {
	Suite        *SuiteView `json:"suite"`
	ProjectStage string     `json:"project_stage"`
	ProjectOpen  bool       `json:"project_open"`
	RetryAfter   int        `json:"retry_after_seconds,omitempty"`
	// Reason says why no work was offered when it is about the person (training only, or
	// disputes left to more accurate reviewers).
	Reason string `json:"reason,omitempty"`
}

func (g *Gateway) claim(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	// However many chunks are tried, the answer comes within the server's write timeout.
	ctx, cancel := context.WithTimeout(r.Context(), handlingTime)
	defer cancel()
	// Finding work has claimBudget, however slow Temporal or a chunk is; showing the suite found
	// has the rest of the handling time.
	find, cancelFind := context.WithTimeout(ctx, claimBudget)
	defer cancelFind()
	project := r.PathValue("project")
	st, err := g.projectState(find, project)
	if err != nil {
		g.fail(w, err)
		return
	}
	running, stage := st.Running, st.Stage
	if paused(st) {
		// The chunks refuse claims too; asking them would only cost an Update each.
		writeJSON(w, http.StatusOK, ClaimResponse{ProjectStage: stage, ProjectOpen: true, RetryAfter: feedRetry, Reason: workflows.NoWorkPaused})
		return
	}
	if len(running) == 0 {
		writeJSON(w, http.StatusOK, ClaimResponse{ProjectStage: stage, ProjectOpen: open(stage), RetryAfter: 5})
		return
	}
	sp, err := g.spec(find, project)
	if err != nil {
		g.fail(w, err)
		return
	}
	if s, ok := g.claims.heldBy(project, p.ID, time.Now()); ok {
		// A repeated claim: the suite a chunk leased moments ago, without asking it again.
		g.answerSuite(ctx, w, sp, s, stage)
		return
	}
	g.atWork(project, p.ID)
	req := claimRequest(p)
	if err := g.weigh(find, sp, p, &req.Worker); err != nil {
		g.fail(w, err)
		return
	}
	g.claimFromChunks(ctx, find, w, sp, st, req)
}

// needsAccuracy reports whether a claim must carry the person's estimated accuracy: always for
// reviewers, whom chunks rank by it for arbitration; for annotators when the project gates work
// on it or weighs their answers with it (dynamic overlap).
func needsAccuracy(sp spec.Project, role string) bool {
	if role == workflows.RoleReviewer {
		return true
	}
	return sp.Quality.MinAccuracy > 0 || sp.Quality.Overlap.Mode == "dynamic"
}

func (g *Gateway) submit(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	ctx := r.Context()
	project, suiteID := r.PathValue("project"), r.PathValue("suite")
	chunk, err := workflows.ParseSuiteID(suiteID)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "suite: "+err.Error())
		return
	}
	var body SubmitBody
	if !decodeJSON(w, r, maxBodyBytes, &body) {
		return
	}
	req := submitRequest(p, suiteID, body)
	if body.Next {
		req.ClaimNext = g.nextClaim(ctx, project, p, &req.Worker)
	}
	var res workflows.SubmitResult
	err = g.sealedUpdate(ctx, workflows.ChunkWorkflowID(project, chunk), workflows.UpdateSubmit, req, &res)
	if again, ok := workflows.SubmittedResult(err); ok {
		res, err = again, nil // a repeated submit by its author: the original answer, again
	}
	if err != nil {
		if k := workflows.ErrorKind(err); k == workflows.ErrLeaseExpired || k == workflows.ErrUnknownSuite {
			g.claims.done(project, p.ID, suiteID, chunk, false) // not theirs any more: a claim asks again
		}
		g.submitUnanswered(ctx, w, project, suiteID, p, err)
		return
	}
	g.claims.done(project, p.ID, suiteID, chunk, false)
	g.atWork(project, p.ID)
	writeJSON(w, http.StatusOK, g.submitted(ctx, project, p, res))
}

// updateTimeout bounds one Update round trip, so that a closing workflow never holds a request.
const updateTimeout = 15 * time.Second

func (g *Gateway) update(ctx context.Context, workflowID, name string, arg, result any) error {
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	leave, err := g.gates.enter(ctx, workflowID)
	if err != nil {
		return err
	}
	defer leave()
	defer g.watchStall(workflowID)()
	h, err := g.app.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return h.Get(ctx, result)
}

func (g *Gateway) view(ctx context.Context, sp spec.Project, s workflows.Suite) (SuiteView, error) {
	items, err := g.chunkItems(ctx, sp.ID, s.Chunk)
	if err != nil {
		return SuiteView{}, err
	}
	return suiteView(sp, s, items, func(t *TaskView, it manifest.Item) { g.taskMedia(sp, s, t, it) })
}

func (g *Gateway) spec(ctx context.Context, project string) (spec.Project, error) {
	g.mu.Lock()
	sp, ok := g.specs.get(project)
	g.mu.Unlock()
	if ok {
		return sp, nil
	}
	sp, err := spec.Load(ctx, g.app.Store, project)
	if err != nil {
		return sp, err
	}
	g.mu.Lock()
	g.specs.put(project, sp)
	g.mu.Unlock()
	return sp, nil
}

// chunkItems caches chunk files: they never change once written.
func (g *Gateway) chunkItems(ctx context.Context, project string, chunk int) ([]manifest.Item, error) {
	key := layout.ChunkKey(project, chunk)
	g.mu.Lock()
	items, ok := g.chunks.get(key)
	g.mu.Unlock()
	if ok {
		return items, nil
	}
	data, err := g.app.Store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	if items, err = manifest.ReadChunk(data); err != nil {
		return nil, err
	}
	g.mu.Lock()
	g.chunks.put(key, items)
	g.mu.Unlock()
	return items, nil
}

func (g *Gateway) runningChunks(ctx context.Context, project string) ([]int, string, error) {
	st, err := g.projectState(ctx, project)
	return st.Running, st.Stage, err
}

// projectState is the project's status as its workflow last told it, at most the status cache's
// TTL ago: claims and feeds ask for it far more often than it changes. One Query at a time per
// project refreshes it; the requests that came meanwhile take its answer.
func (g *Gateway) projectState(ctx context.Context, project string) (workflows.ProjectStatus, error) {
	if st, ok := g.freshState(project); ok {
		return st, nil
	}
	fill := &g.stateFills[fnvHash(project)%uint32(len(g.stateFills))]
	fill.Lock()
	defer fill.Unlock()
	if st, ok := g.freshState(project); ok {
		return st, nil
	}
	if err := ctx.Err(); err != nil {
		// The time was spent waiting behind another request's lookup, which failed.
		return workflows.ProjectStatus{}, err
	}
	st, err := g.app.ProjectState(ctx, project)
	if err != nil {
		return st, err
	}
	g.mu.Lock()
	g.running.put(project, runningCache{status: st, at: time.Now()})
	g.mu.Unlock()
	return st, nil
}

// freshState is the project's cached status while it is younger than the status cache's TTL.
func (g *Gateway) freshState(project string) (workflows.ProjectStatus, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.running.get(project)
	return c.status, ok && time.Since(c.at) < g.app.Cfg.StatusCacheTTL
}

// isTimeout reports an Update that did not complete in time.
func isTimeout(err error) bool {
	var dl *serviceerror.DeadlineExceeded
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &dl)
}

// isGone reports an Update sent to a chunk that has closed or never existed.
func isGone(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf) || (err != nil && strings.Contains(err.Error(), "workflow execution already completed"))
}

var statusOfKind = map[string]int{
	workflows.ErrNotQualified:   http.StatusForbidden,
	workflows.ErrWrongPerson:    http.StatusForbidden,
	workflows.ErrUnknownSuite:   http.StatusNotFound,
	workflows.ErrLeaseExpired:   http.StatusGone,
	workflows.ErrRepeated:       http.StatusConflict,
	workflows.ErrWrongStage:     http.StatusConflict,
	workflows.ErrInvalidAnswer:  http.StatusUnprocessableEntity,
	workflows.ErrInvalidRequest: http.StatusBadRequest,
	workflows.ErrNoWork:         http.StatusNotFound,
}

func (g *Gateway) fail(w http.ResponseWriter, err error) {
	if kind := workflows.ErrorKind(err); kind != "" {
		if status, ok := statusOfKind[kind]; ok {
			writeError(w, status, snake(kind), message(err))
			return
		}
	}
	if errors.Is(err, app.ErrNotFound) || errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", err.Error())
		return
	}
	if part := outage(err); part != "" {
		g.log.Warn().Err(err).Msg("request refused: " + part + " is not answering")
		writeUnavailable(w, part)
		return
	}
	g.log.Error().Err(err).Msg("request failed")
	writeError(w, http.StatusInternalServerError, "internal", "the request could not be completed; try again")
}

// message strips the SDK's wrapping from an Update rejection.
func message(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil || workflows.ErrorKind(u) == "" {
			break
		}
		err = u
	}
	s := err.Error()
	if i := strings.Index(s, " (type: "); i > 0 {
		s = s[:i]
	}
	return s
}

func snake(kind string) string {
	var b strings.Builder
	for i, r := range kind {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ErrorBody is every error the gateway returns.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b ErrorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
