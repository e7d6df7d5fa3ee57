package demo

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/payout"
	"github.com/labelflow/labelflow/internal/payout/payouttest"
	"github.com/labelflow/labelflow/internal/payoutdetails"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// payoutFilesMonth is a month that is over and that no other test pays.
const payoutFilesMonth = "2026-04"

// payoutsRoster has people of the roster with their payout details, and one without.
const payoutsRoster = "id,name,country,role,payout_method,account_holder,account_number,bank_code,bic,msisdn,operator\n" +
	"ngozi,Ngozi A.,NG,annotator,,Ngozi Adeyemi,0123456789,058,GTBINGLA,,\n" +
	"wanjiru,Wanjiru K.,KE,annotator,,Wanjiru Kamau,,,,+254 711 000 111,mpesa\n" +
	"tesfaye,Tesfaye B.,ET,annotator,bank-transfer,,,,,,\n"

// The payroll of a month pays its people with files a bank and an operator take: a pain.001 that
// the ISO 20022 schema accepts, naming each bank account and holder, and a mobile-money file with
// each number, operator and amount. The references are the payouts' own. Someone without payout
// details is held with the reason, and paid by a later run once their details are imported. No
// account reaches the workflow's history, the statements or the audit records.
func TestPayrollPaysWithFilesABankAndAnOperatorTake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	a := env.App
	roster := a.Roster
	var err error
	if roster.Details, err = payoutdetails.NewVault(a.Store, a.Cfg.PayoutDetailsKey); err != nil {
		t.Fatal(err)
	}
	entries, err := parseRoster(payoutsRoster)
	if err != nil {
		t.Fatal(err)
	}
	people, err := roster.Import(ctx, entries)
	if err != nil {
		t.Fatal(err)
	}
	crowd := registerCrowd(ctx, t, a, simulate.Options{Project: "it-payout-files", Annotators: 5, Reviewers: 2})
	workers := append([]simulate.Person(nil), crowd...)
	for _, p := range people {
		workers = append(workers, simulate.Person{Person: p})
	}
	if err := writeCrowdLedger(ctx, a.Store, "it-payout-files", payoutFilesMonth, workers); err != nil {
		t.Fatal(err)
	}
	if err := SeedFinanceTables(ctx, a.Store, payoutFilesMonth); err != nil {
		t.Fatal(err)
	}
	finance := signIn(ctx, t, a, FinanceDemo)
	st, err := RunAndApprovePayroll(ctx, a, payoutFilesMonth, finance)
	if err != nil {
		t.Fatal(err)
	}
	if st.Payout.Payouts != len(workers)-1 || len(st.Payout.Held) != 1 || !strings.HasPrefix(st.Payout.Held[0], "tesfaye: no payout details on file") {
		t.Fatalf("payouts %d of %d people, held %q", st.Payout.Payouts, len(workers), st.Payout.Held)
	}

	bank, mobile := payoutFiles(ctx, t)
	if len(bank) != 1 || len(mobile) != 1 {
		t.Fatalf("%d pain.001 files and %d mobile-money files, want one of each", len(bank), len(mobile))
	}
	payouttest.ValidatePain001(t, bank[0])
	transfers, rows := readPain001(t, bank[0]), readMobileMoney(t, mobile[0])
	for _, w := range workers {
		if w.ID == "tesfaye" {
			continue
		}
		checkPaidInFiles(ctx, t, w.Person, transfers, rows)
	}
	if len(transfers)+len(rows) != len(workers)-1 {
		t.Fatalf("%d transfers and %d mobile-money rows for %d payees", len(transfers), len(rows), len(workers)-1)
	}
	ngozi, wanjiru := transfers[reference(ctx, t, "ngozi")], rows[reference(ctx, t, "wanjiru")]
	if ngozi.Account != "0123456789" || ngozi.Member != "058" || ngozi.BIC != "GTBINGLA" || ngozi.Name != "Ngozi Adeyemi" {
		t.Errorf("ngozi's transfer %+v", ngozi)
	}
	if wanjiru[1] != "mpesa" || wanjiru[2] != "254711000111" || wanjiru[5] != "Wanjiru Kamau" {
		t.Errorf("wanjiru's row %q", wanjiru)
	}
	checkNoAccountOutsideTheFiles(ctx, t, "0123456789", "711000111", "Adeyemi", "Wanjiru Kamau")

	// Once tesfaye's details are imported, the next run of the month pays him, and only him.
	details, err := payoutdetails.ParseCSV("details.csv", strings.NewReader("id,account_holder,account_number,bic\ntesfaye,Tesfaye Bekele,1000123456789,CBETETAA\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := roster.ImportPayoutDetails(ctx, details); err != nil {
		t.Fatal(err)
	}
	again, err := RunAndApprovePayroll(ctx, a, payoutFilesMonth, finance)
	if err != nil {
		t.Fatal(err)
	}
	if again.Payout.Payouts != 1 || len(again.Payout.Held) != 0 || again.Payout.AlreadyPaid != len(workers)-1 {
		t.Fatalf("second run: %+v", again.Payout)
	}
	bank, _ = payoutFiles(ctx, t)
	if len(bank) != 2 {
		t.Fatalf("%d pain.001 files after tesfaye's payout, want 2", len(bank))
	}
	for _, f := range bank {
		payouttest.ValidatePain001(t, f)
		if tr, ok := readPain001(t, f)[reference(ctx, t, "tesfaye")]; ok && (tr.Account != "1000123456789" || tr.Name != "Tesfaye Bekele") {
			t.Fatalf("tesfaye's transfer %+v", tr)
		}
	}
}

// painTransfer is one credit transfer of a pain.001 file, as a test reads it.
type painTransfer struct {
	EndToEndID string `xml:"PmtId>EndToEndId"`
	Amount     struct {
		Currency string `xml:"Ccy,attr"`
		Value    string `xml:",chardata"`
	} `xml:"Amt>InstdAmt"`
	Name    string `xml:"Cdtr>Nm"`
	IBAN    string `xml:"CdtrAcct>Id>IBAN"`
	Account string `xml:"CdtrAcct>Id>Othr>Id"`
	BIC     string `xml:"CdtrAgt>FinInstnId>BICFI"`
	Member  string `xml:"CdtrAgt>FinInstnId>ClrSysMmbId>MmbId"`
}

// payoutFiles reads the month's batch files: pain.001 files and mobile-money files.
func payoutFiles(ctx context.Context, t *testing.T) (bank, mobile [][]byte) {
	t.Helper()
	err := env.App.Store.List(ctx, "finance/payouts/"+payoutFilesMonth+"/", func(key string, _ int64) error {
		data, err := env.App.Store.Get(ctx, key)
		switch {
		case err != nil:
			return err
		case strings.HasSuffix(key, ".xml"):
			bank = append(bank, data)
		case strings.HasSuffix(key, ".csv"):
			mobile = append(mobile, data)
		default:
			t.Errorf("payout file %s is neither pain.001 nor mobile-money", key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return bank, mobile
}

// readPain001 returns a pain.001 file's transfers by end-to-end reference.
func readPain001(t *testing.T, data []byte) map[string]painTransfer {
	t.Helper()
	var doc struct {
		Transfers []painTransfer `xml:"CstmrCdtTrfInitn>PmtInf>CdtTrfTxInf"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]painTransfer{}
	for _, tr := range doc.Transfers {
		out[tr.EndToEndID] = tr
	}
	return out
}

// readMobileMoney returns a mobile-money file's rows by reference, checking its header.
func readMobileMoney(t *testing.T, data []byte) map[string][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(payout.MobileMoneyColumns, ",") {
		t.Fatalf("mobile-money file header %q", rows)
	}
	out := map[string][]string{}
	for _, r := range rows[1:] {
		out[r[0]] = r
	}
	return out
}

// checkPaidInFiles checks that p is paid their statement's total, in the file of their payout
// method, to the account their details name.
func checkPaidInFiles(ctx context.Context, t *testing.T, p workforce.Person, transfers map[string]painTransfer, rows map[string][]string) {
	t.Helper()
	var st payroll.Statement
	if err := env.App.Store.GetJSON(ctx, layout.StatementKey(payoutFilesMonth, p.ID), &st); err != nil {
		t.Fatal(err)
	}
	ref, amount := reference(ctx, t, p.ID), earnings.FormatMinor(st.Pay.Total, st.Pay.PayoutCurrency)
	if p.PayoutMethod == payoutdetails.MobileMoney {
		r, ok := rows[ref]
		if !ok || r[3] != amount || r[4] != st.Pay.PayoutCurrency || r[2] == "" || strings.HasPrefix(r[2], "+") || r[1] == "" || r[5] == "" {
			t.Errorf("%s (mobile money, %s %s): row %q", p.ID, amount, st.Pay.PayoutCurrency, r)
		}
		return
	}
	tr, ok := transfers[ref]
	if !ok || tr.Amount.Value != amount || tr.Amount.Currency != st.Pay.PayoutCurrency || tr.Name == "" || tr.IBAN+tr.Account == "" {
		t.Errorf("%s (bank transfer, %s %s): transfer %+v", p.ID, amount, st.Pay.PayoutCurrency, tr)
	}
}

// reference is the end-to-end reference of a person's first payout of the month: the reference of
// its idempotency key, as PayPayroll makes it.
func reference(ctx context.Context, t *testing.T, person string) string {
	t.Helper()
	var st payroll.Statement
	if err := env.App.Store.GetJSON(ctx, layout.StatementKey(payoutFilesMonth, person), &st); err != nil {
		t.Fatal(err)
	}
	return payout.Payout{IdempotencyKey: payoutFilesMonth + "/" + person + "/" + st.Pay.PayoutCurrency + "/after-0"}.Reference()
}

// checkNoAccountOutsideTheFiles looks for accounts and holders' names in the payroll workflow's
// history, the month's finance records and the audit records.
func checkNoAccountOutsideTheFiles(ctx context.Context, t *testing.T, secrets ...string) {
	t.Helper()
	hist, err := historyIter{env.App.Temporal.GetWorkflowHistory(ctx, workflows.PayrollWorkflowID(payoutFilesMonth), "", false, 0)}.collect()
	if err != nil {
		t.Fatal(err)
	}
	js, err := protojson.Marshal(hist)
	if err != nil {
		t.Fatal(err)
	}
	places := map[string][]byte{"the payroll workflow's history": js}
	for _, prefix := range []string{layout.PayrollPrefix(payoutFilesMonth), layout.AuditPrefix} {
		err := env.App.Store.List(ctx, prefix, func(key string, _ int64) error {
			data, err := env.App.Store.Get(ctx, key)
			places[key] = data
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for where, data := range places {
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s holds %q", where, s)
			}
		}
	}
}
