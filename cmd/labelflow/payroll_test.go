package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/workforce"
)

// A month whose rates lack the people's payout currency stops before approval. payroll run says
// so in plain words, and names the missing rate once for all the people it concerns.
func TestPayrollRunReportsAMissingRateOnce(t *testing.T) {
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.BinDir, cfg.DataDir = devstacktest.Binaries(t), t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e, err := demo.Start(ctx, cfg, demo.StackOptions{DataDir: t.TempDir(), Headless: true}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	const month = "2026-09"
	seedMonthWithoutEUR(ctx, t, e, month, 6)

	var out, errOut bytes.Buffer
	code := execute(ctx, &env{cfg: &e.Cfg, log: zerolog.Nop(), stderr: &errOut}, []string{"payroll", "run", "--month", month, "--force"}, &out, &errOut)
	if code != exitFailed {
		t.Fatalf("payroll run exited %d, want %d:\n%s%s", code, exitFailed, out.String(), errOut.String())
	}
	got := errOut.String()
	if n := strings.Count(got, "no exchange rate USD→EUR"); n != 1 {
		t.Errorf("the missing rate is reported %d times, want once:\n%s", n, got)
	}
	if !strings.Contains(got, "(6 times: p-00, p-01, p-02 and 3 more)") {
		t.Errorf("the report does not count the people the missing rate concerns:\n%s", got)
	}
	for _, internal := range []string{"retryable", "(type:", "workflowID"} {
		if strings.Contains(got, internal) {
			t.Errorf("the report shows Temporal's %q:\n%s", internal, got)
		}
	}
}

// seedMonthWithoutEUR stores people paid in EUR, one ledger entry each in USD, and the demo's
// minimum wages and rates, which have no EUR.
func seedMonthWithoutEUR(ctx context.Context, t *testing.T, e *demo.Env, month string, people int) {
	t.Helper()
	var roster []workforce.Person
	var entries bytes.Buffer
	enc := json.NewEncoder(&entries)
	for i := range people {
		p := workforce.Person{ID: fmt.Sprintf("p-%02d", i), Name: "p", Country: "KE", Role: "annotator", PayoutMethod: "bank-transfer", PayoutCurrency: "EUR"}
		roster = append(roster, p)
		if err := enc.Encode(ledger.Entry{ID: fmt.Sprintf("acme/000000/i%d/annotation/%s", i, p.ID), Worker: p.ID, Project: "acme",
			Chunk: 0, Item: fmt.Sprintf("i%d", i), Role: "annotation", Amount: 4, Currency: "USD", Month: month,
			AcceptedAt: time.Date(2026, 9, 15, 0, 0, 0, 0, time.UTC), Seconds: 30}); err != nil {
			t.Fatal(err)
		}
	}
	s := e.App.Store
	if err := (workforce.Roster{Store: s}).Save(ctx, roster); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, layout.LedgerKey(month, "acme", 0), entries.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedFinanceTables(ctx, s, month); err != nil {
		t.Fatal(err)
	}
}
