package workforce

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/payoutdetails"
)

const detailsRoster = "id,name,country,role,payout_method,account_holder,msisdn,operator,iban,account_number,bank_code\n" +
	"amina,Amina W.,KE,annotator,,Amina Wanjiru,+254 712 345 678,mpesa,,,\n" +
	"hans,Hans M.,DE,reviewer,,Hans Müller,,,DE89 3704 0044 0532 0130 00,,\n" +
	"grace,Grace O.,NG,annotator,bank-transfer,Grace Okafor,,,,0123456789,058\n" +
	"kofi,Kofi M.,GH,annotator,mobile-money,,,,,,\n"

func TestParseCSVReadsPayoutDetailsAndTheMethodTheyImply(t *testing.T) {
	entries, err := ParseCSV("roster.csv", strings.NewReader(detailsRoster))
	if err != nil {
		t.Fatal(err)
	}
	amina, hans, grace, kofi := entries[0], entries[1], entries[2], entries[3]
	if amina.Person.PayoutMethod != payoutdetails.MobileMoney || amina.PayoutDetails == nil || amina.PayoutDetails.MSISDN != "+254712345678" ||
		amina.PayoutDetails.Person != "amina" {
		t.Errorf("amina = %+v, %v", amina.Person, amina.PayoutDetails)
	}
	if hans.Person.PayoutMethod != payoutdetails.BankTransfer || hans.PayoutDetails.IBAN != "DE89370400440532013000" {
		t.Errorf("hans = %+v, %v", hans.Person, hans.PayoutDetails)
	}
	if grace.PayoutDetails.AccountNumber != "0123456789" || grace.PayoutDetails.BankCode != "058" {
		t.Errorf("grace = %v", grace.PayoutDetails)
	}
	if kofi.PayoutDetails != nil || kofi.Person.PayoutMethod != payoutdetails.MobileMoney {
		t.Errorf("kofi gave no details: %+v, %v", kofi.Person, kofi.PayoutDetails)
	}
	// The person, as the roster stores and shows it, holds none of the details.
	js, _ := json.Marshal(amina.Person)
	if bytes.Contains(js, []byte("712345678")) || bytes.Contains(js, []byte("Wanjiru")) {
		t.Errorf("the roster record holds payout details: %s", js)
	}
}

func TestParseCSVNamesBadPayoutDetailsByLineAndField(t *testing.T) {
	data := "id,name,country,role,payout_method,account_holder,msisdn,operator,iban\n" +
		"amina,Amina W.,KE,annotator,bank-transfer,Amina Wanjiru,+254712345678,mpesa,\n" +
		"hans,Hans M.,DE,reviewer,,Hans Müller,,,DE89370400440532013001\n" +
		"kofi,Kofi M.,GH,annotator,,,0244123456,,\n"
	_, err := ParseCSV("roster.csv", strings.NewReader(data))
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("accepted: %v", err)
	}
	for _, want := range []string{"roster.csv:2: payout_method: is bank-transfer, but the line gives mobile-money details",
		"roster.csv:3: iban: the check digits do not match", "roster.csv:4: account_holder: is required", "roster.csv:4: msisdn: ", "roster.csv:4: operator: "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "0244123456") || strings.Contains(err.Error(), "532013001") {
		t.Errorf("the error repeats an account: %v", err)
	}
}

func TestImportKeepsPayoutDetailsSealedAndNeedsTheKey(t *testing.T) {
	r, ctx := rosterEnv(t)
	entries, err := ParseCSV("roster.csv", strings.NewReader(detailsRoster))
	if err != nil {
		t.Fatal(err)
	}
	// Without the key nothing is imported, people included.
	if _, err := r.Import(ctx, entries); !errors.Is(err, payoutdetails.ErrNoKey) || !strings.Contains(err.Error(), "roster.csv:2") {
		t.Fatalf("import without a key: %v", err)
	}
	if _, err := r.Get(ctx, "amina"); err == nil {
		t.Fatal("amina was imported although her details could not be kept")
	}
	if r.Details, err = payoutdetails.NewVault(r.Store, "k1:a-secret-of-at-least-thirty-two-bytes-for-tests"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Import(ctx, entries); err != nil {
		t.Fatal(err)
	}
	d, err := r.Details.Get(ctx, "hans")
	if err != nil || d.IBAN != "DE89370400440532013000" || d.Holder != "Hans Müller" {
		t.Fatalf("hans's details: %v, %v", d, err)
	}
	raw, err := r.Store.Get(ctx, payoutdetails.Key("hans"))
	if err != nil || bytes.Contains(raw, []byte("DE89")) || bytes.Contains(raw, []byte("Müller")) {
		t.Fatalf("hans's details are not sealed: %s, %v", raw, err)
	}
	if _, err := r.Details.Get(ctx, "kofi"); !errors.Is(err, payoutdetails.ErrNoDetails) {
		t.Fatalf("kofi gave none: %v", err)
	}
}

func TestImportPayoutDetailsChecksEveryLineAgainstTheRoster(t *testing.T) {
	r, ctx := rosterEnv(t)
	var err error
	if r.Details, err = payoutdetails.NewVault(r.Store, "k1:a-secret-of-at-least-thirty-two-bytes-for-tests"); err != nil {
		t.Fatal(err)
	}
	if _, err := importCSV(ctx, r, "id,name,country,role,payout_method\namina,Amina W.,KE,annotator,mobile-money\n"+
		"grace,Grace O.,NG,annotator,bank-transfer\nkofi,Kofi M.,GH,annotator,mobile-money\n"); err != nil {
		t.Fatal(err)
	}
	parse := func(data string) []payoutdetails.Entry {
		entries, err := payoutdetails.ParseCSV("details.csv", strings.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return entries
	}
	bad := parse("id,account_holder,msisdn,operator,account_number,bank_code\n" +
		"amina,Amina Wanjiru,+254712345678,mpesa,,\n" +
		"grace,Grace Okafor,+2348031234567,mtn-momo,,\n" +
		"zed,Zed,,,0123,01\n")
	err = r.ImportPayoutDetails(ctx, bad)
	var ie *payoutdetails.ImportError
	if !errors.As(err, &ie) || len(ie.Lines) != 2 || !strings.Contains(err.Error(), "details.csv:3: msisdn: these are mobile-money details, but the roster pays grace by bank-transfer") ||
		!strings.Contains(err.Error(), `details.csv:4: id: "zed" is not in the roster`) {
		t.Fatalf("import: %v", err)
	}
	if _, err := r.Details.Get(ctx, "amina"); !errors.Is(err, payoutdetails.ErrNoDetails) {
		t.Fatalf("a bad file imported amina's line: %v", err)
	}
	good := parse("id,account_holder,msisdn,operator,account_number,bank_code\n" +
		"amina,Amina Wanjiru,+254712345678,mpesa,,\n" +
		"grace,Grace Okafor,,,0123456789,058\n")
	if err := r.ImportPayoutDetails(ctx, good); err != nil {
		t.Fatal(err)
	}
	shown, err := r.ShowPayoutDetails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(shown)
	want := `[{"person":"amina","method":"mobile-money","account":"mobile-money mpesa ****5678"},` +
		`{"person":"grace","method":"bank-transfer","account":"bank-transfer ****6789"},` +
		`{"person":"kofi","method":"mobile-money","problem":"no payout details on file"}]`
	if string(js) != want {
		t.Fatalf("shown:\n%s\nwant\n%s", js, want)
	}
}
