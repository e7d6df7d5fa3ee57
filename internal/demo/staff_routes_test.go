package demo

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/audit"
	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// staffTokens are fresh tokens of the demo's finance and ops people and of an annotator.
func staffTokens(ctx context.Context, t *testing.T) (finance, ops, annotator string) {
	t.Helper()
	var err error
	if finance, err = StaffToken(ctx, env.App, FinanceDemo); err != nil {
		t.Fatal(err)
	}
	if ops, err = StaffToken(ctx, env.App, OpsDemo); err != nil {
		t.Fatal(err)
	}
	return finance, ops, crowdToken(ctx, t)
}

func TestFinanceReadsPayrollAndRejections(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const month = "2019-07"
	if err := SeedFinanceTables(ctx, env.App.Store, month); err != nil {
		t.Fatal(err)
	}
	if err := env.App.RunPayroll(ctx, month, false); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.AwaitPayrollStage(ctx, month, workflows.PayrollAwaitingApproval); err != nil {
		t.Fatal(err)
	}
	finance, ops, annotator := staffTokens(ctx, t)
	for _, path := range []string{"/v1/payroll", "/v1/payroll/" + month, "/v1/rejections"} {
		call(t, annotator, http.MethodGet, env.GatewayURL+path, nil, http.StatusForbidden, "forbidden")
		call(t, ops, http.MethodGet, env.GatewayURL+path, nil, http.StatusForbidden, "forbidden")
	}

	var list struct{ Months []gateway.PayrollMonth }
	mustJSON(t, call(t, finance, http.MethodGet, env.GatewayURL+"/v1/payroll", nil, http.StatusOK, ""), &list)
	var months []string
	for _, m := range list.Months {
		months = append(months, m.Month)
	}
	if !slices.IsSortedFunc(months, func(a, b string) int { return strings.Compare(b, a) }) || len(slices.Compact(slices.Clone(months))) != len(months) {
		t.Fatalf("months not newest first, each once: %v", months)
	}
	i := slices.Index(months, month)
	if i < 0 || list.Months[i].Stage != workflows.PayrollAwaitingApproval || list.Months[i].Held == nil {
		t.Fatalf("payroll list %+v lacks %s awaiting approval", list.Months, month)
	}

	var one struct {
		Payroll gateway.PayrollMonth
		Summary *struct {
			Month  string
			People int
		}
	}
	mustJSON(t, call(t, finance, http.MethodGet, env.GatewayURL+"/v1/payroll/"+month, nil, http.StatusOK, ""), &one)
	if one.Payroll.Month != month || one.Payroll.Stage != workflows.PayrollAwaitingApproval || one.Summary == nil || one.Summary.Month != month {
		t.Fatalf("payroll of %s: %+v, summary %+v", month, one.Payroll, one.Summary)
	}
	call(t, finance, http.MethodGet, env.GatewayURL+"/v1/payroll/2001-01", nil, http.StatusNotFound, "not_found")
	call(t, finance, http.MethodGet, env.GatewayURL+"/v1/payroll/2001-13", nil, http.StatusBadRequest, "invalid_request")

	var rejections struct{ Rejections []map[string]any }
	body := call(t, finance, http.MethodGet, env.GatewayURL+"/v1/rejections", nil, http.StatusOK, "")
	mustJSON(t, body, &rejections)
	if rejections.Rejections == nil {
		t.Fatalf("rejections: %s, want a list", body)
	}
}

func TestOpsReadProjectsWithTheirProgress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const project = "it-ops-board"
	if _, _, err := LaunchProject(ctx, env, RunOptions{ProjectID: project, Items: 20, Seed: 21, ChunkSize: 10}); err != nil {
		t.Fatal(err)
	}
	awaitRunning(ctx, t, project)
	finance, ops, annotator := staffTokens(ctx, t)
	for _, path := range []string{"/v1/ops/projects", "/v1/ops/projects/" + project} {
		call(t, annotator, http.MethodGet, env.GatewayURL+path, nil, http.StatusForbidden, "forbidden")
		call(t, finance, http.MethodGet, env.GatewayURL+path, nil, http.StatusForbidden, "forbidden")
	}

	board := awaitOnBoard(ctx, t, ops, project)
	if board.Status != "Running" || board.Items != 20 || board.Chunks != 2 || board.ChunksStarted < 1 || board.Paused ||
		board.Delivered != 0 || board.Problems == nil || board.Client == "" {
		t.Fatalf("board line of %s: %+v", project, board)
	}

	var detail struct {
		Project gateway.OpsProjectDetail
		Quality *quality.Report
	}
	mustJSON(t, call(t, ops, http.MethodGet, env.GatewayURL+"/v1/ops/projects/"+project, nil, http.StatusOK, ""), &detail)
	if detail.Project.ID != project || detail.Project.Items != 20 || len(detail.Project.Live) == 0 || detail.Quality != nil {
		t.Fatalf("page of %s: %+v, quality %+v", project, detail.Project, detail.Quality)
	}
	// Once its delivery completes a project has a quality report, and its page shows it.
	if err := env.App.Store.PutJSON(ctx, layout.QualityReportKey(project), quality.Report{Project: project, Items: 20}); err != nil {
		t.Fatal(err)
	}
	mustJSON(t, call(t, ops, http.MethodGet, env.GatewayURL+"/v1/ops/projects/"+project, nil, http.StatusOK, ""), &detail)
	if detail.Quality == nil || detail.Quality.Project != project || detail.Quality.Items != 20 {
		t.Fatalf("quality of %s: %+v", project, detail.Quality)
	}
	call(t, ops, http.MethodGet, env.GatewayURL+"/v1/ops/projects/it-never-launched", nil, http.StatusNotFound, "not_found")
}

// awaitOnBoard waits until the ops board lists project (visibility and the board's cache lag a
// little behind a launch) and returns its line.
func awaitOnBoard(ctx context.Context, t *testing.T, token, project string) gateway.OpsProject {
	t.Helper()
	for {
		var board struct{ Projects []gateway.OpsProject }
		mustJSON(t, call(t, token, http.MethodGet, env.GatewayURL+"/v1/ops/projects", nil, http.StatusOK, ""), &board)
		if i := slices.IndexFunc(board.Projects, func(p gateway.OpsProject) bool { return p.ID == project }); i >= 0 && board.Projects[i].Items > 0 {
			return board.Projects[i]
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the ops board never listed %s with its progress", project)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func TestOpsDeactivateAndReissueThroughTheGateway(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kim := workforce.Person{ID: "it-roster-kim", Name: "Kim N.", Country: "KE", Role: role.Annotator, Languages: []string{"en"}, PayoutMethod: "mobile-money"}
	if err := env.App.Roster.Save(ctx, []workforce.Person{kim}); err != nil {
		t.Fatal(err)
	}
	kimToken, err := env.App.Roster.GiveToken(ctx, kim.ID)
	if err != nil {
		t.Fatal(err)
	}
	finance, ops, _ := staffTokens(ctx, t)
	me := env.GatewayURL + "/v1/me"
	call(t, kimToken, http.MethodGet, me, nil, http.StatusOK, "")

	// Only ops read the roster, and it never shows a token.
	call(t, kimToken, http.MethodGet, env.GatewayURL+"/v1/roster", nil, http.StatusForbidden, "forbidden")
	call(t, finance, http.MethodGet, env.GatewayURL+"/v1/roster", nil, http.StatusForbidden, "forbidden")
	if p := rosterEntry(t, ops, kim.ID); !p.HasToken || !p.Active || p.Currency != "KES" || p.Role != role.Annotator {
		t.Fatalf("kim in the roster: %+v", p)
	}

	// Only ops deactivate, with a reason, never themselves.
	deactivate := env.GatewayURL + "/v1/roster/" + kim.ID + "/deactivate"
	call(t, kimToken, http.MethodPost, deactivate, gateway.DeactivateBody{Reason: "me"}, http.StatusForbidden, "forbidden")
	call(t, ops, http.MethodPost, deactivate, gateway.DeactivateBody{}, http.StatusUnprocessableEntity, "refused")
	call(t, ops, http.MethodPost, env.GatewayURL+"/v1/roster/"+OpsDemo.ID+"/deactivate", gateway.DeactivateBody{Reason: "x"}, http.StatusUnprocessableEntity, "refused")
	call(t, ops, http.MethodPost, env.GatewayURL+"/v1/roster/it-nobody/deactivate", gateway.DeactivateBody{Reason: "x"}, http.StatusNotFound, "not_found")
	out, err := gateway.NewClient(env.GatewayURL, ops).Deactivate(ctx, kim.ID, "left the programme")
	if err != nil || out.ID != kim.ID || out.Active {
		t.Fatalf("deactivate = %+v, %v", out, err)
	}
	awaitSignInRefused(ctx, t, kimToken)
	if p := rosterEntry(t, ops, kim.ID); p.HasToken || p.Active {
		t.Fatalf("kim after deactivation: %+v", p)
	}
	stored, err := env.App.Roster.Get(ctx, kim.ID)
	if err != nil || !stored.Inactive || stored.Name != kim.Name {
		t.Fatalf("kim stays in the roster, inactive: %+v, %v", stored, err)
	}

	// A roster import giving kim a token does not let them back in.
	imported := fixedToken("it-roster-kim-imported")
	entries, err := parseRoster("id,name,country,role,token\nit-roster-kim,Kim N.,KE,annotator," + imported + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Roster.Import(ctx, entries); err != nil {
		t.Fatal(err)
	}
	call(t, imported, http.MethodGet, me, nil, http.StatusUnauthorized, "unauthorized")

	// A token from ops lets kim in again; ops give none to finance or ops people.
	tokenURL := env.GatewayURL + "/v1/roster/" + kim.ID + "/token"
	call(t, kimToken, http.MethodPost, tokenURL, nil, http.StatusUnauthorized, "unauthorized")
	call(t, finance, http.MethodPost, tokenURL, nil, http.StatusForbidden, "forbidden")
	call(t, ops, http.MethodPost, env.GatewayURL+"/v1/roster/"+FinanceDemo.ID+"/token", nil, http.StatusForbidden, "forbidden")
	var issued gateway.TokenAnswer
	mustJSON(t, call(t, ops, http.MethodPost, tokenURL, nil, http.StatusOK, ""), &issued)
	if issued.ID != kim.ID || workforce.CheckToken(issued.Token) != nil {
		t.Fatalf("issued %+v", issued)
	}
	call(t, issued.Token, http.MethodGet, me, nil, http.StatusOK, "")
	call(t, imported, http.MethodGet, me, nil, http.StatusUnauthorized, "unauthorized")
	if p := rosterEntry(t, ops, kim.ID); !p.HasToken || !p.Active {
		t.Fatalf("kim after a new token: %+v", p)
	}

	// Every action left its record, refused or done; the token is in none.
	recs := auditRecords(ctx, t, "deactivate", kim.ID)
	if outcomes := auditOutcomes(recs); outcomes != "refused,refused,done" || recs[2].Person != OpsDemo.ID || recs[2].Details["reason"] != "left the programme" {
		t.Fatalf("audit of deactivate: %s %+v", outcomes, recs)
	}
	recs = auditRecords(ctx, t, "issue-token", kim.ID)
	if outcomes := auditOutcomes(recs); outcomes != "refused,done" || recs[1].Details["reactivated"] != "true" {
		t.Fatalf("audit of issue-token: %s %+v", outcomes, recs)
	}
	for _, r := range recs {
		for _, v := range r.Details {
			if strings.Contains(v, issued.Token) {
				t.Fatalf("an audit record holds the token: %+v", r)
			}
		}
	}
}

// rosterEntry is a person as GET /v1/roster shows them.
func rosterEntry(t *testing.T, token, id string) gateway.RosterPerson {
	t.Helper()
	body := call(t, token, http.MethodGet, env.GatewayURL+"/v1/roster", nil, http.StatusOK, "")
	if strings.Contains(string(body), "token_hash") {
		t.Fatalf("the roster shows token hashes: %.300s", body)
	}
	var roster struct{ People []gateway.RosterPerson }
	mustJSON(t, body, &roster)
	i := slices.IndexFunc(roster.People, func(p gateway.RosterPerson) bool { return p.ID == id })
	if i < 0 {
		t.Fatalf("%s is not in the roster", id)
	}
	return roster.People[i]
}

// awaitSignInRefused waits until token no longer signs in: at once on the gateway that took it
// away, within its token cache's TTL (a second in these tests) on any other.
func awaitSignInRefused(ctx context.Context, t *testing.T, token string) {
	t.Helper()
	deadline := time.Now().Add(env.Cfg.GatewayTokenCacheTTL + 2*time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, env.GatewayURL+"/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a deactivated person's token still signs in (HTTP %d)", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func auditOutcomes(recs []audit.Record) string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Outcome)
	}
	return strings.Join(out, ",")
}
