package payout

import (
	"context"
	"encoding/csv"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/payout/payouttest"
	"github.com/labelflow/labelflow/internal/payoutdetails"
)

var (
	debtor = Debtor{Name: "LabelFlow Ltd", IBAN: "GB33BUKB20201555555555", BIC: "BUKBGB22"}
	filed  = time.Date(2026, 11, 30, 17, 4, 5, 0, time.UTC)
)

// bankBook has a person for each kind of bank account, and mobile-money people.
var bankBook = bookOf{
	"hans":     {Person: "hans", Holder: "Hans Müller", IBAN: "DE89370400440532013000"},
	"grace":    {Person: "grace", Holder: "Grace Okafor & Sons", AccountNumber: "0123456789", BankCode: "058", BIC: "GTBINGLA"},
	"kato":     {Person: "kato", Holder: "Kato <Isaac>", AccountNumber: "9900112233", BIC: "SBICUGKX"},
	"amina":    {Person: "amina", Holder: "Amina Wanjiru", MSISDN: "+254712345678", Operator: "mpesa"},
	"musa":     {Person: "musa", Holder: "=HYPERLINK(\"http://x\")", MSISDN: "+256772123456", Operator: "mtn-momo"},
	"mismatch": {Person: "mismatch", Holder: "M", MSISDN: "+254700000001", Operator: "mpesa"},
}

func batchOf(month string) []Payout {
	p := func(worker, cur string, amount int64, method string) Payout {
		return Payout{IdempotencyKey: month + "/" + worker + "/" + cur + "/after-0", Worker: worker, Month: month, Currency: cur, Amount: amount, Method: method}
	}
	return []Payout{
		p("hans", "EUR", 12345, payoutdetails.BankTransfer),
		p("grace", "NGN", 980000, payoutdetails.BankTransfer),
		p("kato", "UGX", 150000, payoutdetails.BankTransfer),
		p("amina", "KES", 155220, payoutdetails.MobileMoney),
		p("musa", "UGX", 20000, payoutdetails.MobileMoney),
		p("nodetails", "KES", 500, payoutdetails.MobileMoney),
		p("mismatch", "KES", 700, payoutdetails.BankTransfer),
	}
}

// painFile is what a test reads back from a pain.001 file.
type painFile struct {
	Header struct {
		Count int    `xml:"NbOfTxs"`
		Sum   string `xml:"CtrlSum"`
	} `xml:"CstmrCdtTrfInitn>GrpHdr"`
	Payments []struct {
		Sum       string `xml:"CtrlSum"`
		Transfers []struct {
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
		} `xml:"CdtTrfTxInf"`
	} `xml:"CstmrCdtTrfInitn>PmtInf"`
}

func TestPain001FileValidatesAgainstTheISOSchema(t *testing.T) {
	var batch []payable
	for _, p := range batchOf("2026-11")[:3] {
		batch = append(batch, payable{Payout: p, to: bankBook[p.Worker]})
	}
	for _, d := range []Debtor{debtor, {Name: "LabelFlow Ltd", IBAN: debtor.IBAN}} {
		data, err := pain001(d, "LF-2026-11-0123456789abcdef", filed, "2026-11", batch)
		if err != nil {
			t.Fatal(err)
		}
		payouttest.ValidatePain001(t, data)
		var f painFile
		if err := xml.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		// One payment block per currency, sorted; amounts in each currency's own minor units.
		if f.Header.Count != 3 || f.Header.Sum != "159923.45" || len(f.Payments) != 3 || f.Payments[0].Sum != "123.45" {
			t.Fatalf("header %+v, %d payment blocks", f.Header, len(f.Payments))
		}
		eur, ngn, ugx := f.Payments[0].Transfers[0], f.Payments[1].Transfers[0], f.Payments[2].Transfers[0]
		if eur.IBAN != "DE89370400440532013000" || eur.BIC != "" || eur.Name != "Hans Müller" || eur.Amount.Value != "123.45" || eur.Amount.Currency != "EUR" ||
			eur.EndToEndID != batch[0].Reference() {
			t.Errorf("EUR transfer %+v", eur)
		}
		if ngn.Account != "0123456789" || ngn.BIC != "GTBINGLA" || ngn.Member != "058" || ngn.Amount.Value != "9800.00" || ngn.Name != "Grace Okafor & Sons" {
			t.Errorf("NGN transfer %+v", ngn)
		}
		if ugx.Account != "9900112233" || ugx.BIC != "SBICUGKX" || ugx.Amount.Value != "150000" || ugx.Name != "Kato <Isaac>" {
			t.Errorf("UGX transfer %+v", ugx)
		}
	}
}

func TestFileProviderWritesFilesABankAndAnOperatorTakeAndHoldsTheRest(t *testing.T) {
	env := devstacktest.Start(t)
	ctx := context.Background()
	p := &FileProvider{Store: env.Store, Details: bankBook, Debtor: debtor, Now: func() time.Time { return filed }}
	payouts := batchOf("2026-11")
	out, err := p.Pay(ctx, "2026-11", payouts)
	if err != nil {
		t.Fatal(err)
	}
	batches, held := map[string]bool{}, map[string]string{}
	for _, o := range out {
		if o.Held != "" {
			held[o.Worker] = o.Held
			continue
		}
		batches[o.BatchKey] = true
	}
	if len(held) != 2 || !strings.Contains(held["nodetails"], "no payout details on file") || !strings.Contains(held["mismatch"], "payout details are for mobile-money") {
		t.Fatalf("held %v", held)
	}
	xmlKey := BatchKey("2026-11", payoutdetails.BankTransfer, batchHash(payouts[:3]), "xml")
	csvKey := BatchKey("2026-11", payoutdetails.MobileMoney, batchHash(payouts[3:5]), "csv")
	if len(batches) != 2 || !batches[xmlKey] || !batches[csvKey] {
		t.Fatalf("batches %v, want %s and %s", batches, xmlKey, csvKey)
	}
	data, err := env.Store.Get(ctx, xmlKey)
	if err != nil {
		t.Fatal(err)
	}
	payouttest.ValidatePain001(t, data)
	mobile, err := env.Store.Get(ctx, csvKey)
	if err != nil {
		t.Fatal(err)
	}
	checkMobileMoneyFile(t, mobile, payouts[3], payouts[4])

	// Held payouts are in no intent: once their reason is gone, they are paid in a batch of their own.
	batched, _, err := p.Batched(ctx, "2026-11")
	if err != nil || len(batched) != 5 {
		t.Fatalf("batched %v, %v: want the 5 payouts paid", batched, err)
	}
	for _, w := range []int{5, 6} {
		if _, ok := batched[payouts[w].IdempotencyKey]; ok {
			t.Fatalf("a held payout is in a batch")
		}
	}
	again, err := p.Pay(ctx, "2026-11", payouts)
	if err != nil {
		t.Fatal(err)
	}
	paid := 0
	for _, o := range again {
		if o.AlreadyPaid {
			paid++
		} else if o.Held == "" {
			t.Fatalf("paid twice: %+v", o)
		}
	}
	if paid != 5 {
		t.Fatalf("%d payouts already paid on the second call, want 5", paid)
	}
	bankBook["nodetails"] = payoutdetails.Details{Person: "nodetails", Holder: "N", MSISDN: "+254700000002", Operator: "mpesa"}
	defer delete(bankBook, "nodetails")
	late, err := p.Pay(ctx, "2026-11", payouts[5:6])
	if err != nil || len(late) != 1 || late[0].Held != "" || late[0].BatchKey == csvKey || late[0].AlreadyPaid {
		t.Fatalf("late payout %+v, %v", late, err)
	}
}

func TestFileProviderHoldsBankTransfersWithoutAnAccountToPayFrom(t *testing.T) {
	env := devstacktest.Start(t)
	p := &FileProvider{Store: env.Store, Details: bankBook}
	out, err := p.Pay(context.Background(), "2026-10", batchOf("2026-10")[:1])
	if err != nil || len(out) != 1 || !strings.Contains(out[0].Held, "LABELFLOW_PAYOUT_DEBTOR") {
		t.Fatalf("outcomes %+v, %v", out, err)
	}
	none, err := (&FileProvider{Store: env.Store}).Pay(context.Background(), "2026-10", batchOf("2026-10")[3:4])
	if err != nil || len(none) != 1 || none[0].Held == "" {
		t.Fatalf("a provider without details paid: %+v, %v", none, err)
	}
}

func checkMobileMoneyFile(t *testing.T, data []byte, amina, musa Payout) {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		MobileMoneyColumns,
		{amina.Reference(), "mpesa", "254712345678", "1552.20", "KES", "Amina Wanjiru", "LabelFlow pay 2026-11"},
		{musa.Reference(), "mtn-momo", "256772123456", "20000", "UGX", "'=HYPERLINK(\"http://x\")", "LabelFlow pay 2026-11"},
	}
	if strings.Join(flatten(rows), "|") != strings.Join(flatten(want), "|") {
		t.Fatalf("mobile-money file:\n%s\nwant rows %q", data, want)
	}
}

func flatten(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, strings.Join(r, ","))
	}
	return out
}

// batchHash is the hash a batch of payouts is filed under.
func batchHash(payouts []Payout) string {
	var batch []payable
	for _, p := range payouts {
		batch = append(batch, payable{Payout: p})
	}
	return hashOf(batch)
}
