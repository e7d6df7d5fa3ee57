package payout

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labelflow/labelflow/internal/payoutdetails"
)

// HTTPProvider pays through a payment API: one POST per payout with an Idempotency-Key header.
// The API pays a key at most once and answers a repeated key with the original result, so a
// retry after a timeout or a crash never pays twice. Each request names the account to pay, from
// Details; a payout without usable details is held, and nothing is sent for it.
type HTTPProvider struct {
	URL     string // e.g. https://payments.example/v1/payouts
	Token   string // bearer token
	Client  *http.Client
	Details DetailsSource
}

// PayoutRequest is the body sent for one payout.
type PayoutRequest struct {
	Recipient string `json:"recipient"`
	Amount    int64  `json:"amount"` // minor units
	Currency  string `json:"currency"`
	Method    string `json:"method"`
	Reference string `json:"reference"` // the month
	// EndToEndID is the payout's Reference, the one its batch file would carry.
	EndToEndID string          `json:"end_to_end_id"`
	Account    *AccountRequest `json:"account,omitempty"`
}

// AccountRequest is the account a payout goes to: a bank account or a mobile-money number.
type AccountRequest struct {
	Holder        string `json:"holder"`
	IBAN          string `json:"iban,omitempty"`
	BIC           string `json:"bic,omitempty"`
	AccountNumber string `json:"account_number,omitempty"`
	BankCode      string `json:"bank_code,omitempty"`
	MSISDN        string `json:"msisdn,omitempty"`
	Operator      string `json:"operator,omitempty"`
}

// PayoutResponse is the API's answer.
type PayoutResponse struct {
	ID     string `json:"id"`
	Status string `json:"status"` // paid | pending
}

// Pay implements Provider. 200, 201 and 202 pay. Network errors, timeouts, 3xx, 408, 409, 429 and
// 5xx are returned as errors for the caller to retry with the same keys; another 4xx answer
// refuses that payout for good (Outcome.Rejected), and the others go on.
func (h *HTTPProvider) Pay(ctx context.Context, month string, payouts []Payout) ([]Outcome, error) {
	client := h.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	ok, out, err := payableOrHeld(ctx, h.Details, payouts)
	if err != nil {
		return nil, err
	}
	for _, p := range ok {
		to := p.to
		body, _ := json.Marshal(PayoutRequest{Recipient: p.Worker, Amount: p.Amount, Currency: p.Currency, Method: p.Method, Reference: month,
			EndToEndID: p.Reference(), Account: &AccountRequest{Holder: to.Holder, IBAN: to.IBAN, BIC: to.BIC,
				AccountNumber: to.AccountNumber, BankCode: to.BankCode, MSISDN: to.MSISDN, Operator: to.Operator}})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
		if err != nil {
			return out, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", p.IdempotencyKey)
		if h.Token != "" {
			req.Header.Set("Authorization", "Bearer "+h.Token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return out, fmt.Errorf("payout %s: %w", p.IdempotencyKey, err)
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusAccepted:
			var pr PayoutResponse
			if err := json.Unmarshal(data, &pr); err != nil {
				return out, fmt.Errorf("payout %s: unreadable answer: %w", p.IdempotencyKey, err)
			}
			// 200 answers a key the API had already paid: the original payout, not a new one.
			out = append(out, Outcome{Payout: p.Payout, AlreadyPaid: resp.StatusCode == http.StatusOK && resp.Header.Get("Idempotent-Replayed") == "true", BatchKey: pr.ID})
		case resp.StatusCode < 400 || resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests ||
			resp.StatusCode == http.StatusConflict || resp.StatusCode == http.StatusRequestTimeout:
			// 409: the same key is being processed right now; 408, 429, 5xx and anything not an
			// answer (3xx): asking again later with the same key is safe. Only a 4xx refuses.
			return out, fmt.Errorf("payout %s: HTTP %d: %s", p.IdempotencyKey, resp.StatusCode, scrub(data, to))
		default:
			out = append(out, Outcome{Payout: p.Payout, Rejected: fmt.Sprintf("HTTP %d: %s", resp.StatusCode, scrub(data, to))})
		}
	}
	return out, nil
}

// scrub is an API's answer as errors and payroll status may show it: an answer that repeats the
// account or its holder's name (as some APIs' validation errors do) shows them masked.
func scrub(answer []byte, to payoutdetails.Details) string {
	text := string(bytes.TrimSpace(answer))
	for _, s := range []string{to.IBAN, to.AccountNumber, to.MSISDN, strings.TrimPrefix(to.MSISDN, "+")} {
		if len(s) > 4 {
			text = strings.ReplaceAll(text, s, payoutdetails.Mask(s))
		}
	}
	if to.Holder != "" {
		text = strings.ReplaceAll(text, to.Holder, "[account holder]")
	}
	return text
}
