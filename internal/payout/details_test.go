package payout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/payoutdetails"
)

// bookOf is a DetailsSource from a map: people missing from it have no details on file.
type bookOf map[string]payoutdetails.Details

func (b bookOf) PayoutDetails(_ context.Context, person, _ string) (payoutdetails.Details, error) {
	d, ok := b[person]
	if !ok {
		return d, payoutdetails.ErrNoDetails
	}
	return d, nil
}

// failingSource fails every look-up, as a store that is down does.
type failingSource struct{}

func (failingSource) PayoutDetails(context.Context, string, string) (payoutdetails.Details, error) {
	return payoutdetails.Details{}, errors.New("store unreachable")
}

func TestReferenceIsShortStableAndNamesOneKey(t *testing.T) {
	a := Payout{IdempotencyKey: "2026-11/sim-a-very-long-project-name-for-a-simulated-crowd-a-01/KES/after-0/retry-2"}
	b := Payout{IdempotencyKey: "2026-11/sim-a-very-long-project-name-for-a-simulated-crowd-a-01/KES/after-0/retry-3"}
	again := Payout{IdempotencyKey: a.IdempotencyKey}
	if !regexp.MustCompile(`^LF[A-Z2-7]{18}$`).MatchString(a.Reference()) || a.Reference() != again.Reference() || a.Reference() == b.Reference() {
		t.Fatalf("references %s and %s", a.Reference(), b.Reference())
	}
}

func TestHTTPProviderNamesTheAccountAndTheReferenceTheFileWouldCarry(t *testing.T) {
	api := &PaymentAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	book := bookOf{
		"amina": {Person: "amina", Holder: "Amina Wanjiru", MSISDN: "+254712345678", Operator: "mpesa"},
		"grace": {Person: "grace", Holder: "Grace Okafor", MSISDN: "+2348031234567", Operator: "mtn-momo"},
	}
	p := &HTTPProvider{URL: srv.URL, Details: book}
	out, err := p.Pay(context.Background(), "2026-11", payouts())
	if err != nil {
		t.Fatal(err)
	}
	// amina is paid to her number; grace's details are mobile money but the roster pays her by
	// bank transfer, so she is held and nothing is sent for her.
	paid := api.Payments()
	if len(paid) != 1 || paid[0].Recipient != "amina" || paid[0].Account == nil || paid[0].Account.MSISDN != "+254712345678" ||
		paid[0].Account.Holder != "Amina Wanjiru" || paid[0].EndToEndID != payouts()[0].Reference() {
		t.Fatalf("the API was asked for %+v", paid)
	}
	if len(out) != 2 || out[0].Worker != "grace" || !strings.Contains(out[0].Held, "payout details are for mobile-money") || out[1].Held != "" {
		t.Fatalf("outcomes %+v", out)
	}
	// Without details on file, nothing is sent and the reason says what to do.
	delete(book, "amina")
	api2 := &PaymentAPI{}
	srv2 := httptest.NewServer(api2)
	defer srv2.Close()
	out, err = (&HTTPProvider{URL: srv2.URL, Details: book}).Pay(context.Background(), "2026-11", payouts()[:1])
	if err != nil || len(out) != 1 || !strings.Contains(out[0].Held, "payout-details import") || api2.Requests != 0 {
		t.Fatalf("outcomes %+v, error %v, %d requests", out, err, api2.Requests)
	}
	// A look-up that fails is an error to retry, not a hold.
	if _, err := (&HTTPProvider{URL: srv2.URL, Details: failingSource{}}).Pay(context.Background(), "2026-11", payouts()); err == nil {
		t.Fatal("a failed look-up was not an error")
	}
}

func TestParseDebtor(t *testing.T) {
	d, err := ParseDebtor("LabelFlow Ltd; GB33 BUKB 2020 1555 5555 55;BUKBGB22")
	if err != nil || d.Name != "LabelFlow Ltd" || d.IBAN != "GB33BUKB20201555555555" || d.BIC != "BUKBGB22" {
		t.Fatalf("%+v, %v", d, err)
	}
	if d, err := ParseDebtor(""); err != nil || d.IBAN != "" {
		t.Fatalf("no debtor: %+v, %v", d, err)
	}
	for _, bad := range []string{"LabelFlow Ltd;GB33BUKB20201555555556;", "LabelFlow;GB33BUKB20201555555555", ";GB33BUKB20201555555555;"} {
		if _, err := ParseDebtor(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestARefusalThatRepeatsTheAccountIsReportedMasked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req PayoutRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		http.Error(w, fmt.Sprintf(`{"error":"msisdn %s (%s) is not registered with %s"}`, req.Account.MSISDN, req.Account.Holder, req.Account.Operator),
			http.StatusUnprocessableEntity)
	}))
	defer srv.Close()
	book := bookOf{"amina": {Person: "amina", Holder: "Amina Wanjiru", MSISDN: "+254712345678", Operator: "mpesa"}}
	out, err := (&HTTPProvider{URL: srv.URL, Details: book}).Pay(context.Background(), "2026-11", payouts()[:1])
	if err != nil || len(out) != 1 {
		t.Fatalf("outcomes %+v, %v", out, err)
	}
	if r := out[0].Rejected; !strings.Contains(r, "****5678") || strings.Contains(r, "712345678") || strings.Contains(r, "Wanjiru") {
		t.Fatalf("refusal shows the account: %s", r)
	}
}
