package payout

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func payouts() []Payout {
	return []Payout{
		{IdempotencyKey: "2026-11/amina/KES/after-0", Worker: "amina", Month: "2026-11", Currency: "KES", Amount: 155220, Method: "mobile-money"},
		{IdempotencyKey: "2026-11/grace/NGN/after-0", Worker: "grace", Month: "2026-11", Currency: "NGN", Amount: 980000, Method: "bank-transfer"},
	}
}

// pay retries like the payroll activity does: the same payouts, with the same keys, until done.
func pay(t *testing.T, p *HTTPProvider) []Outcome {
	t.Helper()
	for attempt := 1; ; attempt++ {
		out, err := p.Pay(context.Background(), "2026-11", payouts())
		if err == nil {
			return out
		}
		if attempt == 10 {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
	}
}

func TestHTTPProviderPaysEachKeyOnceThroughTimeoutsAndFailures(t *testing.T) {
	api := &PaymentAPI{
		// Request 1 pays amina but answers too late for the client; request 3 fails with 503.
		DelayAfterPaying: func(n int) time.Duration {
			if n == 1 {
				return 300 * time.Millisecond
			}
			return 0
		},
		Fault: func(n int, _ string) (time.Duration, int) {
			if n == 3 {
				return 0, http.StatusServiceUnavailable
			}
			return 0, 0
		},
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	p := &HTTPProvider{URL: srv.URL, Client: &http.Client{Timeout: 100 * time.Millisecond}, Details: InventedDetails{}}
	out := pay(t, p)
	if len(out) != 2 {
		t.Fatalf("outcomes = %+v", out)
	}
	paid := api.PaidTotal()
	if len(api.Paid) != 2 || paid["amina/KES"] != 155220 || paid["grace/NGN"] != 980000 {
		t.Fatalf("the API paid %+v after %d requests", api.Paid, api.Requests)
	}
	if !out[0].AlreadyPaid {
		t.Errorf("amina's payout, paid before the timeout, should come back as a replay: %+v", out[0])
	}
	// Running the whole batch again pays nobody twice.
	again := pay(t, p)
	for _, o := range again {
		if !o.AlreadyPaid {
			t.Fatalf("paid again: %+v", o)
		}
	}
	if len(api.Paid) != 2 {
		t.Fatalf("the API paid %d payouts, want 2", len(api.Paid))
	}
}

func TestHTTPProviderReportsARejectedPayoutAndGoesOn(t *testing.T) {
	api := &PaymentAPI{Fault: func(n int, key string) (time.Duration, int) {
		if key == "2026-11/grace/NGN/after-0" {
			return 0, http.StatusUnprocessableEntity
		}
		return 0, 0
	}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	p := &HTTPProvider{URL: srv.URL, Details: InventedDetails{}}
	out, err := p.Pay(context.Background(), "2026-11", append(payouts()[1:], payouts()[0]))
	if err != nil || len(out) != 2 || out[0].Rejected == "" || out[1].Rejected != "" || len(api.Paid) != 1 || api.Paid[0].Recipient != "amina" {
		t.Fatalf("outcomes %+v, error %v, paid %+v", out, err, api.Paid)
	}
}

func TestPaymentAPIPaymentsListsEachKeyOnceInOrder(t *testing.T) {
	api := &PaymentAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	p := &HTTPProvider{URL: srv.URL, Details: InventedDetails{}}
	first := payouts()
	for _, batch := range [][]Payout{first[:1], first, first} {
		if _, err := p.Pay(context.Background(), "2026-11", batch); err != nil {
			t.Fatal(err)
		}
	}
	got := api.Payments()
	if api.Requests != 5 || len(got) != 2 || got[0].Recipient != "amina" || got[1].Recipient != "grace" || got[1].Amount != 980000 {
		t.Fatalf("after %d requests, payments = %+v", api.Requests, got)
	}
	// The copy is the caller's: changing it leaves the API's record alone.
	got[0].Amount = 1
	if api.Payments()[0].Amount != 155220 {
		t.Fatal("Payments returned the API's own slice")
	}
}
