package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// The finance and ops screens, driven in the browser against the embedded stack: finance holds,
// releases and approves a month's payroll and rejects work; an annotator reaches none of it; ops
// pause and resume a project and manage the roster; and the French screens show no English.

// staffProject is the small project whose work the payroll of the tests' month pays.
const staffProject = "staff-pay"

// staffAnnotators answer staffProject, so that the month's payroll has statements to hold.
var staffAnnotators = []string{"staff-pay-ann-1", "staff-pay-ann-2"}

// awaiting is the month whose payroll waits for approval, arranged once for the tests that need it.
var awaiting struct {
	once  sync.Once
	month string
	err   error
}

// payrollMonth runs staffProject to delivery and starts the payroll of the current month as the
// demo does, returning the month once its payroll is awaiting approval (or, when a test already
// approved it, the month as it is).
func payrollMonth(t *testing.T) string {
	t.Helper()
	awaiting.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		awaiting.month, awaiting.err = arrangePayroll(ctx)
	})
	if awaiting.err != nil {
		t.Fatalf("arrange a payroll awaiting approval: %v", awaiting.err)
	}
	return awaiting.month
}

func arrangePayroll(ctx context.Context) (string, error) {
	id, err := stack.Launch(ctx, Launch{ID: staffProject, Type: "single-label", Taxonomy: []string{"positive", "negative"},
		Items: []Item{{Text: "Great service."}, {Text: "Never again."}}, SuiteSize: 2})
	if err != nil {
		return "", err
	}
	for _, who := range staffAnnotators {
		token, err := stack.Person(ctx, workforce.Person{ID: who, Name: who, Languages: []string{"en"}})
		if err != nil {
			return "", err
		}
		if err := answerSuite(ctx, id, token, "positive"); err != nil {
			return "", fmt.Errorf("%s: %w", who, err)
		}
	}
	if _, err := stack.WaitDelivered(ctx, id); err != nil {
		return "", err
	}
	a := stack.Env.App
	month := currentMonth()
	if err := demo.SeedFinanceTables(ctx, a.Store, month); err != nil {
		return "", err
	}
	// The demo pays the month it runs in, before the month is over; a run another test left
	// open is used as it is.
	if err := a.RunPayroll(ctx, month, true); err != nil && !strings.Contains(err.Error(), "already running") {
		return "", err
	}
	if _, err := a.AwaitPayrollStage(ctx, month, workflows.PayrollAwaitingApproval); err != nil {
		return "", err
	}
	return month, nil
}

func currentMonth() string {
	loc, err := time.LoadLocation(stack.Env.Cfg.MonthTimeZone)
	if err != nil {
		loc = time.UTC
	}
	return time.Now().In(loc).Format("2006-01")
}

// answerSuite claims the project's next suite with token, waiting while its chunk starts, and
// answers every task with answer.
func answerSuite(ctx context.Context, project, token, answer string) error {
	for ctx.Err() == nil {
		claim, err := claimSuite(ctx, project, token)
		if err != nil {
			return err
		}
		if claim.Suite == nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		var answers []map[string]any
		for _, task := range claim.Suite.Tasks {
			answers = append(answers, map[string]any{"item": task.Item, "answer": answer})
		}
		path := fmt.Sprintf("/v1/projects/%s/suites/%s/submit", project, claim.Suite.ID)
		status, body, err := apiAs(ctx, token, http.MethodPost, path, map[string]any{"answers": answers})
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("submit: %d %s", status, body)
		}
		return nil
	}
	return ctx.Err()
}

// claimAnswer is the part of a claim's answer the tests read.
type claimAnswer struct {
	Suite *struct {
		ID    string `json:"id"`
		Tasks []struct {
			Item int `json:"item"`
		} `json:"tasks"`
	} `json:"suite"`
	Reason string `json:"reason"`
}

func claimSuite(ctx context.Context, project, token string) (claimAnswer, error) {
	var c claimAnswer
	status, body, err := apiAs(ctx, token, http.MethodPost, "/v1/projects/"+project+"/claim", nil)
	if err != nil {
		return c, err
	}
	if status != http.StatusOK {
		return c, fmt.Errorf("claim: %d %s", status, body)
	}
	return c, json.Unmarshal(body, &c)
}

// apiAs calls the gateway with a bearer token and returns the status and body of its answer.
func apiAs(ctx context.Context, token, method, path string, body any) (int, []byte, error) {
	var in io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		in = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, stack.URL+path, in)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// staffPerson registers a member of staff (or another person) and returns their token.
func staffPerson(t *testing.T, id, personRole string, languages ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	token, err := stack.Person(ctx, workforce.Person{ID: id, Name: "Web " + id, Role: personRole, Languages: languages,
		PayoutMethod: "bank-transfer"})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// goTo moves the signed-in workbench to hash without reloading the page.
func goTo(b *Browser, hash string) {
	b.t.Helper()
	Eval[bool](b, fmt.Sprintf("location.hash = %q, true", hash))
}

// waitJS waits until the JavaScript expression is true in the page.
func waitJS(b *Browser, expression string) {
	b.t.Helper()
	b.Run(chromedp.Poll[chromedp.Void](expression, chromedp.WithPollingInterval(100*time.Millisecond)))
}

func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), text)
}

// TestFinanceApprovesPayroll: finance finds the month awaiting approval, holds and releases a
// payout, approves with a note after confirming, and the payroll workflow records the approval;
// then rejects a person's work and reverses the rejection.
func TestFinanceApprovesPayroll(t *testing.T) {
	month := payrollMonth(t)
	const financeID = "finance-web"
	token := staffPerson(t, financeID, role.Finance, "en")
	b := NewBrowser(t)
	b.SignIn(stack.URL, token)

	monthCard := fmt.Sprintf(`.payroll-month[data-month=%q]`, month)
	b.WaitVisible(monthCard) // finance's home is the payroll
	b.WaitVisible("#reject")
	b.Shot("payroll-months")
	b.Run(click(monthCard + " a"))
	b.WaitVisible("#approve")
	b.WaitVisible("#country-summary")
	b.Shot("payroll-month")

	held := staffAnnotators[0]
	heldRow := fmt.Sprintf(`.hold[data-person=%q]`, held)
	b.Run(typeInto(`#hold input[name="person"]`, held),
		typeInto(`#hold textarea[name="reason"]`, "Payout details being checked"),
		click("#hold button.hold"))
	b.WaitVisible(heldRow)
	b.Shot("payout-held")
	b.Run(click(heldRow+" button.release"), chromedp.WaitNotPresent(chromedp.CSS(heldRow)))

	// The release re-renders the month; a click that lands during it is lost, as a person's would
	// be, who would click again.
	waitJS(b, `(() => { if (document.querySelector('#approve-confirm')) return true;
		const a = document.querySelector('#approve'); if (a) a.click(); return false; })()`)
	b.Run(typeInto(`.approve-box textarea`, "Checked against the ledger"))
	b.Shot("approve-confirm")
	b.Run(click("#approve-confirm"))
	waitJS(b, `(() => { const f = document.querySelector('#payroll-facts');
		return !!f && f.dataset.stage !== 'awaiting-approval'; })()`)
	b.Shot("approved")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := stack.Env.App.WaitPayroll(ctx, month)
	if err != nil {
		t.Fatal(err)
	}
	if st.Approver != financeID {
		t.Fatalf("payroll %s: approver %q, stage %s; want the approval of %s", month, st.Approver, st.Stage, financeID)
	}

	b.Run(click("a#nav-finance"), chromedp.WaitVisible(chromedp.CSS("#reject")))
	b.Run(typeInto(`#reject input[name="project"]`, staffProject),
		typeInto(`#reject input[name="person"]`, held),
		typeInto(`#reject textarea[name="reason"]`, "Answers copied from another annotator"),
		click(`#reject button[type="submit"]`))
	rejection := fmt.Sprintf(`.rejection[data-rejection^="%s-%s-"][data-reversed="false"]`, staffProject, held)
	b.WaitVisible(rejection)
	b.Shot("rejected")
	b.Run(click(rejection+" button.reverse"), chromedp.WaitVisible(chromedp.CSS(rejection+" .ask button.confirm")),
		click(rejection+" .ask button.confirm"))
	b.WaitVisible(fmt.Sprintf(`.rejection[data-rejection^="%s-%s-"][data-reversed="true"]`, staffProject, held))
	b.Shot("rejection-reversed")
}

// TestFinanceClosedToAnnotator: an annotator sees no payroll link, the payroll screen says they
// are not allowed, and the finance routes refuse their session.
func TestFinanceClosedToAnnotator(t *testing.T) {
	token := staffPerson(t, "annotator-not-finance", role.Annotator, "en")
	b := NewBrowser(t)
	b.SignIn(stack.URL, token)
	for _, link := range []string{"nav-finance", "nav-ops", "nav-roster"} {
		if Eval[bool](b, fmt.Sprintf("!!document.getElementById(%q)", link)) {
			t.Errorf("an annotator sees the link #%s", link)
		}
	}
	goTo(b, "#/finance")
	b.WaitVisible("#not-allowed")
	b.Shot("finance-not-allowed")

	month := currentMonth()
	calls := map[string]string{
		"GET /v1/payroll":         `fetch('/v1/payroll')`,
		"GET /v1/payroll/{month}": fmt.Sprintf(`fetch('/v1/payroll/%s')`, month),
		"GET /v1/rejections":      `fetch('/v1/rejections')`,
		"POST /v1/payroll/{month}/approve": fmt.Sprintf(`fetch('/v1/payroll/%s/approve', {method: 'POST',
			headers: {'Content-Type': 'application/json', 'X-CSRF-Token': LF.session.csrf}, body: '{}'})`, month),
	}
	for name, call := range calls {
		if status := Eval[int](b, call+`.then(r => r.status)`); status != http.StatusForbidden {
			t.Errorf("%s from an annotator's page answered %d, want 403", name, status)
		}
	}
}

// TestOpsPausesProject: ops pause a project in the browser, an annotator is offered no work from
// it while paused, and work is offered again once ops resume it.
func TestOpsPausesProject(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	items := make([]Item, 6)
	for i := range items {
		items[i] = Item{Text: fmt.Sprintf("Review number %d.", i)}
	}
	// In Swahili, for Swahili speakers only: the other tests' annotators never see it in their feeds.
	project, err := stack.Launch(ctx, Launch{ID: "staff-pause", Type: "single-label", Taxonomy: []string{"positive", "negative"},
		Items: items, SuiteSize: 2, Languages: []string{"sw"}})
	if err != nil {
		t.Fatal(err)
	}
	first := staffPerson(t, "pause-ann-1", role.Annotator, "sw", "en")
	second := staffPerson(t, "pause-ann-2", role.Annotator, "sw", "en")
	// Work is on offer before the pause: the first annotator takes a suite (and keeps it).
	for {
		c, err := claimSuite(ctx, project, first)
		if err != nil {
			t.Fatal(err)
		}
		if c.Suite != nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the project never offered work")
		}
		time.Sleep(200 * time.Millisecond)
	}

	b := NewBrowser(t)
	b.SignIn(stack.URL, staffPerson(t, "ops-web", role.Ops, "en"))
	card := fmt.Sprintf(`.ops-project[data-project=%q]`, project)
	b.WaitVisible(card + " progress") // ops' home is the projects
	b.Shot("ops-projects")
	b.Run(click(card + " a"))
	b.WaitVisible("#pause")
	b.Run(click("#pause"), chromedp.WaitVisible(chromedp.CSS("#pause-confirm")),
		typeInto(".ask textarea", "The client is changing the guidelines"))
	b.Shot("pause-confirm")
	b.Run(click("#pause-confirm"))
	b.WaitVisible("#resume")
	b.Shot("paused")

	// The gateway may answer from its project status cache for up to its TTL.
	time.Sleep(stack.Env.Cfg.StatusCacheTTL + 500*time.Millisecond)
	c, err := claimSuite(ctx, project, second)
	if err != nil {
		t.Fatal(err)
	}
	if c.Suite != nil || c.Reason != workflows.NoWorkPaused {
		t.Fatalf("claim on a paused project: suite %v, reason %q; want none, %q", c.Suite != nil, c.Reason, workflows.NoWorkPaused)
	}
	if p, ok := feedEntry(ctx, t, second, project); ok && !p.Paused {
		t.Errorf("the feed shows %s as open while it is paused", project)
	}

	b.Run(click("#resume"), chromedp.WaitVisible(chromedp.CSS("#resume-confirm")),
		typeInto(".ask textarea", "Guidelines settled"), click("#resume-confirm"))
	b.WaitVisible("#pause")
	b.Shot("resumed")
	time.Sleep(stack.Env.Cfg.StatusCacheTTL + 500*time.Millisecond)
	if c, err = claimSuite(ctx, project, second); err != nil {
		t.Fatal(err)
	}
	if c.Suite == nil {
		t.Fatalf("claim after resume: no suite (reason %q)", c.Reason)
	}
}

// feedProject is the part of a feed entry the tests read.
type feedProject struct {
	ID     string `json:"id"`
	Paused bool   `json:"paused"`
}

// feedEntry is the project as the person's feed shows it, if it shows it.
func feedEntry(ctx context.Context, t *testing.T, token, project string) (feedProject, bool) {
	t.Helper()
	var feed struct {
		Projects []feedProject `json:"projects"`
	}
	status, body, err := apiAs(ctx, token, http.MethodGet, "/v1/projects", nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("feed: %d %s %v", status, body, err)
	}
	if err := json.Unmarshal(body, &feed); err != nil {
		t.Fatal(err)
	}
	for _, p := range feed.Projects {
		if p.ID == project {
			return p, true
		}
	}
	return feedProject{}, false
}

// TestOpsRoster: ops deactivate a person, whose token then stops working, and issue them a new
// token, shown once, which works.
func TestOpsRoster(t *testing.T) {
	const personID = "roster-web-1"
	old := staffPerson(t, personID, role.Annotator, "en")
	b := NewBrowser(t)
	b.SignIn(stack.URL, staffPerson(t, "ops-web", role.Ops, "en"))
	b.Run(click("a#nav-roster"), chromedp.WaitVisible(chromedp.CSS("#roster-filter")),
		typeInto("#roster-filter", personID))
	row := fmt.Sprintf(`.person[data-person=%q]`, personID)
	b.WaitVisible(row + `[data-active="true"]`)
	b.Shot("roster")

	b.Run(click(row+" button.deactivate"), chromedp.WaitVisible(chromedp.CSS("#deactivate-confirm")),
		typeInto(row+" textarea", "Left the programme"))
	b.Shot("deactivate-confirm")
	b.Run(click("#deactivate-confirm"))
	b.WaitVisible(row + `[data-active="false"]`)
	b.Shot("deactivated")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	awaitStatus(ctx, t, old, http.StatusUnauthorized, "the deactivated person's token")

	// A deactivated person has no token left, so a first one is issued without a question; a
	// replacement would ask first.
	b.Run(click(row+" button.issue-token"), chromedp.WaitVisible(chromedp.CSS("#new-token, #rotate-confirm")))
	if Eval[bool](b, `!!document.querySelector('#rotate-confirm')`) {
		b.Run(click("#rotate-confirm"))
	}
	b.WaitVisible("#new-token")
	b.Shot("new-token")
	token := strings.TrimSpace(b.Text("#new-token-value"))
	if !strings.HasPrefix(token, "lf_") {
		t.Fatalf("#new-token shows %q, not a token", token)
	}
	awaitStatus(ctx, t, token, http.StatusOK, "the new token")
	awaitStatus(ctx, t, old, http.StatusUnauthorized, "the old token after a new one")
}

// awaitStatus waits until GET /v1/me with token answers want, allowing for the gateway's token
// cache.
func awaitStatus(ctx context.Context, t *testing.T, token string, want int, what string) {
	t.Helper()
	for {
		status, body, err := apiAs(ctx, token, http.MethodGet, "/v1/me", nil)
		if err == nil && status == want {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("%s: GET /v1/me answered %d %s (%v), want %d", what, status, body, err, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// englishShownJS lists the visible texts of the page that are English catalogue strings (with
// their placeholders filled by anything) which the French catalogue says differently.
const englishShownJS = `(async () => {
	const [en, fr] = await Promise.all(['en', 'fr'].map(l => fetch('/ui/messages/' + l + '.json').then(r => r.json())));
	const patterns = [];
	for (const key of Object.keys(en)) {
		const text = en[key];
		if (text === fr[key] || text.replace(/\{\w+\}/g, '').replace(/[^A-Za-z]/g, '').length < 3) continue;
		const re = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\{\w+\\\}/g, '.+');
		patterns.push([key, new RegExp('^' + re + '$', 's')]);
	}
	const found = [];
	const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walk.nextNode(); n; n = walk.nextNode()) {
		const text = n.textContent.trim();
		if (!text || !n.parentElement || !n.parentElement.checkVisibility()) continue;
		const hit = patterns.find(([, re]) => re.test(text));
		if (hit) found.push(hit[0] + ': ' + text);
	}
	return found;
})()`

// TestStaffScreensInFrench walks the finance and ops screens as French-speaking staff: no
// English string shows.
func TestStaffScreensInFrench(t *testing.T) {
	month := payrollMonth(t)
	check := func(b *Browser, screen string) {
		t.Helper()
		b.Shot(screen)
		if lang := Eval[string](b, `document.documentElement.lang`); lang != "fr" {
			t.Fatalf("%s: <html lang=%q>, want fr", screen, lang)
		}
		for _, s := range Eval[[]string](b, englishShownJS) {
			t.Errorf("%s shows English: %s", screen, s)
		}
	}

	finance := NewBrowser(t)
	finance.SignIn(stack.URL, staffPerson(t, "finance-web-fr", role.Finance, "fr"))
	finance.WaitVisible(fmt.Sprintf(`.payroll-month[data-month=%q]`, month))
	finance.WaitVisible(".rejection-list p, .rejection-list ul")
	check(finance, "finance-fr")
	goTo(finance, "#/finance/"+month)
	finance.WaitVisible("#payroll-facts")
	check(finance, "finance-month-fr")

	ops := NewBrowser(t)
	ops.SignIn(stack.URL, staffPerson(t, "ops-web-fr", role.Ops, "fr"))
	ops.WaitVisible(fmt.Sprintf(`.ops-project[data-project=%q] progress`, staffProject))
	check(ops, "ops-fr")
	goTo(ops, "#/ops/"+staffProject)
	ops.WaitVisible(".project-status progress")
	ops.WaitVisible(".quality table, #no-quality")
	ops.Run(click(".raw-status summary"))
	check(ops, "ops-project-fr")
	goTo(ops, "#/roster")
	ops.WaitVisible(".person")
	check(ops, "roster-fr")

	// The same screen in English shows English: the check above can see it.
	english := NewBrowser(t)
	english.SignIn(stack.URL, staffPerson(t, "ops-web", role.Ops, "en"))
	goTo(english, "#/roster")
	english.WaitVisible(".person")
	if found := Eval[[]string](english, englishShownJS); len(found) == 0 {
		t.Error("the English roster shows no English string: the check sees nothing")
	}
}
