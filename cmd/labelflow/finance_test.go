package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/earnings/financetables"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/workforce"
)

// finance runs one finance command line against the store cfg names and returns its output.
func finance(ctx context.Context, cfg config.Config, args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	cmd := financeCmd(&env{cfg: &cfg, log: zerolog.Nop(), stderr: &errOut})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// Finance imports its tables by command: each is checked before it is stored, against the
// month's ledger and the roster.
func TestFinanceTablesByCommand(t *testing.T) {
	stack := devstacktest.Start(t)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.StoreEndpoint, cfg.StoreAccessKey, cfg.StoreSecretKey = stack.Stack.S3Endpoint, stack.Stack.AccessKey, stack.Stack.SecretKey
	cfg.StoreBucket, cfg.MonthTimeZone = devstacktest.PlatformBucket, "UTC"
	ctx, st := context.Background(), stack.Store
	now := time.Now().UTC()
	month, today := now.Format("2006-01"), now.Format(time.DateOnly)

	// amina, in Kenya and paid in KES, earned 0.04 USD this month.
	if err := (workforce.Roster{Store: st}).Save(ctx, []workforce.Person{{ID: "amina", Name: "Amina", Country: "KE", Role: "annotator", PayoutMethod: "mobile-money"}}); err != nil {
		t.Fatal(err)
	}
	entries, _ := ledger.Encode([]ledger.Entry{{ID: "p1/000000/i1/annotation/amina", Worker: "amina", Project: "p1", Item: "i1", Role: ledger.Annotation,
		Amount: 4, Currency: "USD", Month: month, AcceptedAt: now, Seconds: 30}})
	if err := st.Put(ctx, layout.LedgerKey(month, "p1", 0), entries); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	wages := file("wages.csv", "country,currency,hourly_minimum,effective_from,source\nNG,NGN,400.00,2026-01-01,Order\n")
	if _, _, err := finance(ctx, cfg, "minimum-wage", "import", wages); err == nil || !strings.Contains(err.Error(), "no minimum wage for KE") {
		t.Errorf("a table without Kenya: %v", err)
	}
	wages = file("wages.csv", demo.DemoMinimumWages)
	out, _, err := finance(ctx, cfg, "minimum-wage", "import", wages)
	if err != nil || !strings.Contains(out, "6 rows for 6 countries") {
		t.Fatalf("minimum-wage import: %q, %v", out, err)
	}

	noKES := file("rates.csv", "from,to,rate,source,date\nUSD,UGX,3700,Bank of Uganda,"+today+"\n")
	if _, _, err := finance(ctx, cfg, "rates", "import", noKES, "--month", month); err == nil || !strings.Contains(err.Error(), "USD→KES (amina)") ||
		!strings.Contains(err.Error(), noKES) {
		t.Errorf("rates without USD→KES: %v", err)
	}
	if ok, _ := st.Exists(ctx, layout.RatesKey(month)); ok {
		t.Fatal("refused rates were stored")
	}
	undated := file("undated.csv", "from,to,rate\nUSD,KES,129.35\n")
	if _, _, err := finance(ctx, cfg, "rates", "import", undated, "--month", month); err == nil || !strings.Contains(err.Error(), "undated.csv:1: source") {
		t.Errorf("rates without sources: %v", err)
	}
	rates := file("rates.csv", "from,to,rate,source,date\nUSD,KES,129.35,Central Bank of Kenya,"+today+"\n")
	if out, _, err = finance(ctx, cfg, "rates", "import", rates, "--month", month); err != nil || !strings.Contains(out, "stored at "+layout.RatesKey(month)+" (pairs: 1); they cover every conversion the month's ledger needs so far (1)") {
		t.Fatalf("rates import: %q, %v", out, err)
	}

	out, _, err = finance(ctx, cfg, "tables", "--month", month)
	for _, want := range []string{"KE  85.00 KES an hour from 2026-01-01", "exchange rates " + month, "USD→KES  129.35  " + today + "  Central Bank of Kenya",
		"payroll " + month + " converts currency pairs: 1; the stored rates cover them all"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("tables does not show %q: %v\n%s", want, err, out)
		}
	}
	out, _, err = finance(ctx, cfg, "tables", "--month", "2026-02", "--json")
	var o financetables.Overview
	if err != nil || json.Unmarshal([]byte(out), &o) != nil || len(o.Wages) != 6 || len(o.Rates) != 1 || o.Needs == nil || len(o.Missing) != 0 {
		t.Errorf("tables --json: %v\n%s", err, out)
	}
	if _, _, err := finance(ctx, cfg, "tables", "--month", "May 2026"); err == nil || !strings.Contains(err.Error(), "is not a month YYYY-MM") {
		t.Errorf("a month that is no month: %v", err)
	}
}
