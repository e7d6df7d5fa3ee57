package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/pseudonym"
	"github.com/labelflow/labelflow/internal/spec"
)

// A person submits a suite while the worker is down (SIGKILL): the gateway answers 503 with
// Retry-After, or 200 if the chunk took the answer after all. Once a worker is back, the same
// submission answers 200 with the suite's result as a first acceptance gives it, never 404 or
// 409, and again after the chunk has closed. The delivery and the ledger hold the suite's
// answers exactly once.
func TestSubmitWhileTheWorkerIsDownIsAcceptedOnceOnRetry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ks := startKillStack(ctx, t, buildLabelflow(ctx, t))
	const id = "it-submit-worker-down"
	data, _ := Dataset(4, 17)
	p := launchThrough(ctx, t, ks.Env, id, data, ks.Cfg.StoreEndpoint, 10)
	if _, err := ks.App.Roster.Import(ctx, roster(t)); err != nil {
		t.Fatal(err)
	}
	base := ks.GatewayURL + "/v1/projects/" + id
	s := claimSuite(t, tokAmina, base)
	submitURL, body := base+"/suites/"+s.ID+"/submit", s.answers("positive")
	want := gateway.SubmitAnswer{SuiteID: s.ID, Accepted: len(s.Tasks)}

	if err := ks.KillWorker(); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	st, retryAfter, first := postJSON(t, tokAmina, submitURL, body)
	switch {
	case st == http.StatusServiceUnavailable && retryAfter != "":
		t.Logf("submit with the worker down: HTTP 503, Retry-After %s, after %s", retryAfter, time.Since(sent).Round(100*time.Millisecond))
	case st == http.StatusOK:
		t.Logf("submit with the worker down: HTTP 200 %s after %s", first, time.Since(sent).Round(100*time.Millisecond))
		checkSubmitAnswer(t, "the submit with the worker down", first, want)
	default:
		t.Fatalf("submit with the worker down: HTTP %d (Retry-After %q) %s, want 503 with Retry-After or 200", st, retryAfter, first)
	}

	// A claim that no chunk answers is not left hanging: within the claim's budget (2 s) the
	// person hears 503 with Retry-After, or when to claim again.
	sent = time.Now()
	st, retryAfter, claimed := postJSON(t, tokGrace, base+"/claim", map[string]any{})
	took := time.Since(sent)
	t.Logf("claim with the worker down: HTTP %d, Retry-After %q, after %s", st, retryAfter, took.Round(100*time.Millisecond))
	if took > 3*time.Second || retryAfter == "" || (st != http.StatusServiceUnavailable && st != http.StatusOK) {
		t.Fatalf("claim with the worker down: HTTP %d (Retry-After %q) %s after %s, want 503 or 200 with Retry-After within 3 s", st, retryAfter, claimed, took)
	}

	if err := ks.StartWorker(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	checkSubmitAnswer(t, "the submit repeated once the worker is back", retrySubmit(ctx, t, tokAmina, submitURL, body), want)
	t.Logf("recovery: worker SIGKILL before a submit: restart → the repeated submit answered 200 in %s", time.Since(restarted).Round(100*time.Millisecond))

	g := claimSuite(t, tokGrace, base)
	call(t, tokGrace, "POST", base+"/suites/"+g.ID+"/submit", g.answers("positive"), 200, "")
	v, err := ks.App.WaitProject(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Done.Delivered != len(s.Tasks) {
		t.Fatalf("delivered %d items, want the suite's %d", v.Done.Delivered, len(s.Tasks))
	}
	checkSubmitAnswer(t, "the submit repeated after the chunk closed", call(t, tokAmina, "POST", submitURL, body, 200, ""), want)
	deliveredOnce(ctx, t, ks.Env, p, "amina", len(s.Tasks))
	ledgerOnce(ctx, t, ks.Env, id, "amina", len(s.Tasks))
}

// postJSON posts body with token and returns the status, the Retry-After header and the body.
func postJSON(t *testing.T, token, url string, body any) (int, string, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), data
}

// retrySubmit repeats a submission as a client does: again after Retry-After while the gateway
// answers 503, until it answers otherwise; anything but 200 fails t.
func retrySubmit(ctx context.Context, t *testing.T, token, url string, body any) []byte {
	t.Helper()
	for {
		st, retryAfter, data := postJSON(t, token, url, body)
		switch {
		case st == http.StatusOK:
			return data
		case st != http.StatusServiceUnavailable || retryAfter == "":
			t.Fatalf("repeated submit: HTTP %d (Retry-After %q) %s, want 200", st, retryAfter, data)
		}
		wait, err := time.ParseDuration(retryAfter + "s")
		if err != nil {
			t.Fatalf("Retry-After %q: %v", retryAfter, err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the gateway still answers 503 (%s): %v", data, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// checkSubmitAnswer fails t unless data is the answer want.
func checkSubmitAnswer(t *testing.T, what string, data []byte, want gateway.SubmitAnswer) {
	t.Helper()
	var got gateway.SubmitAnswer
	mustJSON(t, data, &got)
	if got != want {
		t.Fatalf("%s answered %+v, want %+v", what, got, want)
	}
}

// deliveredOnce checks that the project's single chunk is delivered with items lines, each
// naming person (under their pseudonym for the client) exactly once among its annotators.
func deliveredOnce(ctx context.Context, t *testing.T, e *Env, p spec.Project, person string, items int) {
	t.Helper()
	if _, _, err := VerifyDelivery(ctx, e.App, p); err != nil {
		t.Fatal(err)
	}
	b, err := e.App.Targets.Open(ctx, p.Delivery)
	if err != nil {
		t.Fatal(err)
	}
	data, err := b.Get(ctx, layout.DeliveredChunkKey(p.Delivery.Prefix, p.ID, 0))
	if err != nil {
		t.Fatal(err)
	}
	names, err := pseudonym.New(e.Cfg.PseudonymKey)
	if err != nil {
		t.Fatal(err)
	}
	alias := names.Of(p.Client, person)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	lines := 0
	for sc.Scan() {
		var l deliveredLine
		mustJSON(t, sc.Bytes(), &l)
		n := 0
		for _, a := range l.Metadata.Annotators {
			if a == alias {
				n++
			}
		}
		if n != 1 || len(l.Metadata.Annotators) != 2 {
			t.Fatalf("item %s delivered with annotators %v: want %s's answer once among two", l.ID, l.Metadata.Annotators, person)
		}
		lines++
	}
	if lines != items {
		t.Fatalf("%d lines delivered, want %d", lines, items)
	}
}

// ledgerOnce checks that the ledger pays person exactly one annotation of each of items items
// of the project.
func ledgerOnce(ctx context.Context, t *testing.T, e *Env, project, person string, items int) {
	t.Helper()
	paid := map[string]int{}
	err := e.App.Store.List(ctx, "ledger/", func(key string, _ int64) error {
		if !strings.Contains(key, "/"+project+"/") {
			return nil
		}
		entries, err := ledger.Read(ctx, e.App.Store, key)
		for _, en := range entries {
			if en.Worker == person {
				paid[en.Item+" "+en.Role]++
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(paid) != items {
		t.Fatalf("the ledger pays %s for %v, want one annotation of each of %d items", person, paid, items)
	}
	for what, n := range paid {
		if n != 1 || !strings.HasSuffix(what, " "+ledger.Annotation) {
			t.Fatalf("the ledger pays %s for %v, want each item's annotation once", person, paid)
		}
	}
}
