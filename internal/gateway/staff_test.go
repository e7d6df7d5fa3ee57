package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// staffGateway is a gateway that knows people only from its token cache: enough for the checks
// made before a handler reaches the store or Temporal.
func staffGateway(t *testing.T, people map[string]workforce.Person) (*Gateway, http.Handler) {
	t.Helper()
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	l, err := newLimits(cfg)
	if err != nil {
		t.Fatal(err)
	}
	roster := workforce.Roster{Pepper: []byte("staff-test-pepper-0123456789-0123")}
	g := &Gateway{app: &app.App{Cfg: cfg, Roster: roster}, limits: l, tokens: newTokenCache(time.Hour)}
	for token, p := range people {
		g.tokens.put(roster.TokenHash(token), p)
	}
	mux := http.NewServeMux()
	g.staffRoutes(mux)
	return g, mux
}

func staffPerson(id, r string) workforce.Person {
	return workforce.Person{ID: id, Name: id, Country: "KE", Role: r, PayoutMethod: "bank-transfer"}
}

func ask(h http.Handler, method, path, token string) (int, ErrorBody) {
	req := httptest.NewRequest(method, path, strings.NewReader(`{"reason":"x"}`))
	req.RemoteAddr = "192.0.2.1:1234"
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var e ErrorBody
	_ = json.Unmarshal(rec.Body.Bytes(), &e)
	return rec.Code, e
}

func TestStaffReadsAreForTheirRoleOnly(t *testing.T) {
	annotator, _ := workforce.NewToken()
	finance, _ := workforce.NewToken()
	ops, _ := workforce.NewToken()
	_, h := staffGateway(t, map[string]workforce.Person{
		annotator: staffPerson("amina", role.Annotator), finance: staffPerson("fatuma", role.Finance), ops: staffPerson("otieno", role.Ops),
	})
	financeRoutes := []string{"/v1/payroll", "/v1/payroll/2026-11", "/v1/rejections"}
	opsRoutes := []string{"/v1/ops/projects", "/v1/ops/projects/p1", "/v1/roster"}
	for _, c := range []struct {
		who    string
		token  string
		routes []string
	}{
		{"an annotator", annotator, append(financeRoutes, opsRoutes...)},
		{"finance", finance, opsRoutes},
		{"ops", ops, financeRoutes},
	} {
		for _, path := range c.routes {
			if status, e := ask(h, http.MethodGet, path, c.token); status != http.StatusForbidden || e.Error.Code != "forbidden" {
				t.Errorf("%s reading %s: %d %+v, want 403 forbidden", c.who, path, status, e)
			}
		}
	}
	if status, _ := ask(h, http.MethodGet, "/v1/roster", ""); status != http.StatusUnauthorized {
		t.Errorf("reading the roster without a token: %d, want 401", status)
	}
}

func TestStaffRoutesRefuseMalformedIDsFirst(t *testing.T) {
	_, h := staffGateway(t, nil)
	for _, path := range []string{
		"/v1/roster/..%2Fpeople%2Fx/deactivate", "/v1/roster/Amina/token", "/v1/roster/" + strings.Repeat("a", 129) + "/token",
	} {
		if status, e := ask(h, http.MethodPost, path, ""); status != http.StatusBadRequest || !strings.HasPrefix(e.Error.Message, "person:") {
			t.Errorf("POST %s: %d %+v, want 400 naming the person", path, status, e)
		}
	}
	for _, path := range []string{"/v1/ops/projects/No_Such", "/v1/payroll/2026-13"} {
		if status, _ := ask(h, http.MethodGet, path, ""); status != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", path, status)
		}
	}
}

func TestCheckPathIDsOfPeopleAndRejections(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/p/{person}", func(w http.ResponseWriter, r *http.Request) {
		if err := checkPathIDs(r); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.HandleFunc("/r/{id}", func(w http.ResponseWriter, r *http.Request) {
		if err := checkPathIDs(r); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	for path, ok := range map[string]bool{
		"/p/amina": true, "/p/sim-a-0001.x_y": true, "/p/" + strings.Repeat("a", 128): true,
		"/p/Amina": false, "/p/-amina": false, "/p/..%2Fx": false, "/p/" + strings.Repeat("a", 129): false, "/p/am%20ina": false,
		"/r/it-reject-grace-20261103T101010Z": true, "/r/..%2Fclosures%2F2026-11": false, "/r/.hidden": false,
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if (rec.Code == http.StatusOK) != ok {
			t.Errorf("%s: %d %s, want accepted=%v", path, rec.Code, rec.Body, ok)
		}
	}
}

func TestPayrollMonthsNewestFirstEachOnce(t *testing.T) {
	got := newestFirst(map[string]bool{"2026-10": true, "2026-11": true}, []string{"2025-12", "2026-10", "2026-09"})
	if strings.Join(got, ",") != "2026-11,2026-10,2026-09,2025-12" {
		t.Fatalf("newestFirst = %v", got)
	}
	if got := newestFirst(nil, nil); len(got) != 0 {
		t.Fatalf("no months: %v", got)
	}
}

func TestMonthOfPayrollID(t *testing.T) {
	for id, want := range map[string]string{"payroll-2026-11": "2026-11", "payroll-scheduled": "", "payroll-2026-13": "", "project-x": ""} {
		m, ok := monthOfPayrollID(id)
		if ok != (want != "") || (ok && m != want) {
			t.Errorf("monthOfPayrollID(%q) = %q, %v; want %q", id, m, ok, want)
		}
	}
}

func TestPayrollMonthAlwaysListsHolds(t *testing.T) {
	m := payrollMonthOfStatus(workflows.PayrollStatus{Month: "2026-11", Stage: workflows.PayrollAwaitingApproval})
	data, _ := json.Marshal(m)
	if !strings.Contains(string(data), `"held":[]`) || !strings.Contains(string(data), `"holds":[]`) || !strings.Contains(string(data), `"approver":""`) {
		t.Fatalf("a month without holds: %s", data)
	}
	m = payrollMonthOfStatus(workflows.PayrollStatus{Month: "2026-11", Stage: workflows.PayrollHolding, Approver: "fatuma",
		Holds: []workflows.Hold{{Person: "amina", Reason: "missing bank details", By: "fatuma"}}})
	if len(m.Held) != 1 || m.Held[0] != "amina" || m.Holds[0].Reason != "missing bank details" || m.Approver != "fatuma" {
		t.Fatalf("a month with a hold: %+v", m)
	}
}

func TestOpsProjectOfAView(t *testing.T) {
	var v app.ProjectView
	v.ID, v.Client, v.Stage, v.Items, v.Chunks, v.ChunksStarted, v.Rejects = "p1", "acme", workflows.StageAnnotating, 100, 10, 4, 3
	v.Done.Items, v.Done.Delivered = 20, 20
	v.Annotated, v.Final, v.Arbitrated, v.Agreement = 35, 30, 4, 0.9
	v.Problems = []string{"chunk 3: delivery failing"}
	p := opsProjectOf(v)
	if p.Delivered != 20 || p.Annotated != 35 || p.Final != 30 || p.Arbitrated != 4 || p.Rejects != 3 || p.ChunksStarted != 4 ||
		p.Status != runningStatus || len(p.Problems) != 1 || p.Client != "acme" {
		t.Fatalf("running project: %+v", p)
	}
	v.Closed, v.Error = true, "project workflow Failed"
	p = opsProjectOf(v)
	if p.Status != "Failed" || len(p.Problems) != 2 || p.Problems[1] != v.Error {
		t.Fatalf("failed project: %+v", p)
	}
	v.Error = ""
	if p := opsProjectOf(v); p.Status != "Completed" {
		t.Fatalf("completed project: %+v", p)
	}
	data, _ := json.Marshal(opsProjectDetailOf(v))
	for _, field := range []string{`"live_chunks":[]`, `"delivered":20`, `"problems":["chunk 3: delivery failing"]`, `"paused":false`} {
		if !strings.Contains(string(data), field) {
			t.Errorf("detail %s lacks %s", data, field)
		}
	}
}

func TestStatusProblemNamesAnOutage(t *testing.T) {
	if got := statusProblem(errors.New("status of p1: boom")); got != "status of p1: boom" {
		t.Errorf("statusProblem = %q", got)
	}
	if got := statusProblem(fmt.Errorf("status of p1: %w", context.DeadlineExceeded)); !strings.Contains(got, "not answering") {
		t.Errorf("statusProblem of a timeout = %q", got)
	}
}

func TestRosterPersonShowsNoTokenHash(t *testing.T) {
	p := staffPerson("amina", role.Annotator)
	p.TokenHash, p.Inactive = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", true
	rp := rosterPersonOf(p)
	data, _ := json.Marshal(rp)
	if strings.Contains(string(data), p.TokenHash) || strings.Contains(string(data), "token_hash") {
		t.Fatalf("the roster shows a token hash: %s", data)
	}
	if !rp.HasToken || rp.Active || rp.Currency != "KES" || rp.Skills == nil || rp.Languages == nil {
		t.Fatalf("roster person = %+v", rp)
	}
}

func TestForgetPersonForgetsEveryTokenOfThePerson(t *testing.T) {
	c := newTokenCache(time.Hour)
	c.put("h1", staffPerson("amina", role.Annotator))
	c.put("h2", staffPerson("amina", role.Annotator))
	c.put("h3", staffPerson("brian", role.Annotator))
	c.forgetPerson("amina")
	_, h1 := c.get("h1")
	_, h2 := c.get("h2")
	_, h3 := c.get("h3")
	if h1 || h2 || !h3 {
		t.Fatalf("after forgetting amina: h1 %v h2 %v h3 %v", h1, h2, h3)
	}
}
