package layout_test

import (
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/spec"
)

// Stored objects outlive the code: every key must stay byte for byte what earlier versions wrote,
// or running projects and closed months lose their data.
func TestKeysAreTheDocumentedOnes(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 8, time.FixedZone("x", 3600))
	for got, want := range map[string]string{
		layout.SpecKey("p1"):                                    "projects/p1/spec.json",
		layout.ChunkKey("p1", 7):                                "projects/p1/chunks/chunk-000007.jsonl",
		layout.RejectsKey("p1"):                                 "projects/p1/rejects.jsonl",
		layout.SettledPartKey("p1", 7, 3):                       "projects/p1/settled/chunk-000007/part-0003.json",
		layout.ResultsKey("p1", 7):                              "projects/p1/results/chunk-000007.jsonl",
		layout.ResultsPrefix("p1"):                              "projects/p1/results/",
		layout.ReceiptKey("p1", 7):                              "projects/p1/deliveries/chunk-000007.json",
		layout.ReceiptPrefix("p1"):                              "projects/p1/deliveries/",
		layout.RedeliveryReceiptKey("p1", "ab12", 7):            "projects/p1/redeliveries/ab12/chunk-000007.json",
		layout.StatsKey("p1", 7):                                "projects/p1/stats/chunk-000007.json",
		layout.SuitesKey("p1", 7):                               "projects/p1/suites/chunk-000007.json",
		layout.QualityReportKey("p1"):                           "projects/p1/quality-report.json",
		layout.ScoreKey("single-label", "ann-1", "p1"):          "quality/scores/single-label/ann-1/p1.json",
		layout.PersonKey("ann-1"):                               "workforce/people/ann-1.json",
		layout.TokenKey("abc"):                                  "workforce/tokens/abc.json",
		layout.LedgerKey("2026-03", "p1", 7):                    "ledger/2026-03/p1/chunk-000007.jsonl",
		layout.BonusKey("2026-03", "p1"):                        "ledger/2026-03/p1/bonus.jsonl",
		layout.LedgerPrefix("2026-03"):                          "ledger/2026-03/",
		layout.WageTableKey:                                     "finance/tables/minimum-wage.csv",
		layout.RatesKey("2026-03"):                              "finance/rates/2026-03.csv",
		layout.PayrollSummaryKey("2026-03"):                     "finance/payroll/2026-03/summary.json",
		layout.StatementKey("2026-03", "ann-1"):                 "finance/payroll/2026-03/statements/ann-1.json",
		layout.PaidKey("2026-03", "ann-1"):                      "finance/payroll/2026-03/paid/ann-1.json",
		layout.RejectedKey("2026-03", "r1"):                     "finance/payroll/2026-03/rejected/r1.jsonl",
		layout.ClosureKey("2026-03"):                            "finance/closures/2026-03.json",
		layout.RejectionKey("r1"):                               "finance/rejections/r1.json",
		layout.PayoutBatchKey("2026-03", "bank-transfer", "ff"): "finance/payouts/2026-03/bank-transfer-ff.jsonl",
		layout.PayoutMarkerKey("ee"):                            "payouts/keys/ee.json",
		layout.AuditKey(at, "approve", "0a"):                    "audit/2026-03-04/040607.000000008-approve-0a.json",
		layout.DeliveredChunkKey("out", "p1", 7):                "out/p1/labels/chunk-000007.jsonl",
		layout.DeliveredRejectsKey("out/", "p1"):                "out/p1/rejects.jsonl",
		layout.DeliveredQualityReportKey("", "p1"):              "p1/quality/report.json",
		layout.ManifestKey("out/", "p1"):                        "out/p1/manifest.json",
		layout.CompletionKey("out/", "p1"):                      "out/p1/_COMPLETE",
		layout.ProbeKey("out/", "p1"):                           "out/p1/.labelflow-write-check",
		layout.GroundTruthResponsesKey("out/", "p1", 7):         "out/p1/annotations/worker-response/iteration-1/chunk-000007.json",
		layout.GroundTruthConsolidatedKey("out/", "p1", 7):      "out/p1/annotations/consolidated-annotation/consolidation-response/iteration-1/chunk-000007.json",
		layout.FormatKey("out/", "p1", spec.FormatGroundTruth):  "out/p1/manifests/output/output.manifest",
		layout.FormatKey("out/", "p1", spec.FormatCSV):          "out/p1/formats/labels.csv",
		layout.FormatKey("out/", "p1", spec.FormatLabelStudio):  "out/p1/formats/labelstudio.json",
		layout.FormatKey("out/", "p1", spec.FormatCOCO):         "out/p1/formats/coco.json",
		layout.FormatKey("out/", "p1", spec.FormatJSONL):        "",
	} {
		if got != want {
			t.Errorf("key %q, want %q", got, want)
		}
	}
	if m := layout.ClosureMonth(layout.ClosureKey("2026-03")); m != "2026-03" {
		t.Errorf("ClosureMonth = %q", m)
	}
}

// A format added to the spec without an object of its own would be delivered nowhere.
func TestEveryFormatHasAKey(t *testing.T) {
	for _, f := range spec.Formats {
		if f != spec.FormatJSONL && layout.FormatKey("", "p", f) == "" {
			t.Errorf("format %s has no key", f)
		}
	}
}

func TestParseLedgerKeyTakesOnlyWhatTheLedgerWrites(t *testing.T) {
	for _, c := range []struct {
		key  string
		want layout.LedgerFile
	}{
		{layout.LedgerKey("2026-12", "acme-reviews", 0), layout.LedgerFile{Month: "2026-12", Project: "acme-reviews", Chunk: 0}},
		{layout.LedgerKey("2026-01", "p1", 123456), layout.LedgerFile{Month: "2026-01", Project: "p1", Chunk: 123456}},
		{layout.LedgerKey("2026-01", "p1", 1234567), layout.LedgerFile{Month: "2026-01", Project: "p1", Chunk: 1234567}},
		{layout.BonusKey("2026-12", "acme-reviews"), layout.LedgerFile{Month: "2026-12", Project: "acme-reviews", Chunk: -1, Bonus: true}},
	} {
		got, ok := layout.ParseLedgerKey(c.key)
		if !ok || got != c.want {
			t.Errorf("ParseLedgerKey(%s) = %+v, %v; want %+v", c.key, got, ok, c.want)
		}
	}
	for _, key := range []string{
		"ledger/2026-12/x/evil.jsonl",
		"ledger/2026-12/labels/chunk-000000.json",
		"ledger/2026-12/acme/labels/chunk-000000.jsonl", // a delivery under prefix ledger/2026-12/
		"ledger/2026-12/chunk-000000.jsonl",
		"ledger/2026-12/acme/chunk-1.jsonl",
		"ledger/2026-12/acme/chunk-0000001.jsonl", // LedgerKey writes chunk 1 as chunk-000001
		"ledger/2026-13/acme/chunk-000001.jsonl",
		"ledger/26-12/acme/chunk-000001.jsonl",
		"ledger/2026-12/Acme/chunk-000001.jsonl",
		"ledger/2026-12/-acme/chunk-000001.jsonl",
		"ledger/2026-12/acme/chunk-000001.jsonl.bak",
		"ledger/2026-12/acme/bonus.jsonl/x",
		"xledger/2026-12/acme/chunk-000001.jsonl",
		"ledger/2026-12/../acme/chunk-000001.jsonl",
	} {
		if f, ok := layout.ParseLedgerKey(key); ok {
			t.Errorf("ParseLedgerKey(%s) accepted it as %+v", key, f)
		}
	}
}

func TestParseRejectedKey(t *testing.T) {
	month, id, ok := layout.ParseRejectedKey(layout.RejectedKey("2026-03", "r-20260301-ab"))
	if !ok || month != "2026-03" || id != "r-20260301-ab" {
		t.Errorf("ParseRejectedKey = %q, %q, %v", month, id, ok)
	}
	for _, key := range []string{
		layout.LedgerKey("2026-03", "p1", 0),
		layout.StatementKey("2026-03", "ann-1"),
		"finance/payroll/2026-03/rejected/.jsonl",
		"finance/payroll/2026-03/rejected/a/b.jsonl",
		"finance/payroll/x/2026-03/rejected/r1.jsonl",
		"finance/payroll/2026-03/rejected/r1.json",
	} {
		if _, _, ok := layout.ParseRejectedKey(key); ok {
			t.Errorf("ParseRejectedKey(%s) accepted it", key)
		}
	}
}
