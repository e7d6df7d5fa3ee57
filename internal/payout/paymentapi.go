package payout

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// PaymentAPI is a local payment API for tests and the dev stack: it pays each idempotency key
// once, answers a repeated key with the original payout (200, Idempotent-Replayed: true), and can
// be told to time out or fail on chosen requests, like a real payment provider does.
type PaymentAPI struct {
	mu       sync.Mutex
	byKey    map[string]PayoutResponse
	Paid     []PayoutRequest // every payout actually made
	Requests int
	// Fault, when set, is asked before each request: it may delay (to cause a client timeout),
	// answer a status (5xx), or let the request through. It is given the 1-based request number.
	Fault func(n int, key string) (delay time.Duration, status int)
	// DelayAfterPaying makes the API pay and then answer slowly: the client times out although
	// the payout was made, the case idempotency keys exist for.
	DelayAfterPaying func(n int) time.Duration
}

// ServeHTTP implements the API.
func (api *PaymentAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	api.mu.Lock()
	api.Requests++
	n := api.Requests
	if api.byKey == nil {
		api.byKey = map[string]PayoutResponse{}
	}
	api.mu.Unlock()
	if api.Fault != nil {
		delay, status := api.Fault(n, key)
		time.Sleep(delay)
		if status != 0 {
			http.Error(w, `{"error":"injected"}`, status)
			return
		}
	}
	if key == "" {
		http.Error(w, `{"error":"Idempotency-Key is required"}`, http.StatusBadRequest)
		return
	}
	var req PayoutRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Amount <= 0 || req.Recipient == "" {
		http.Error(w, `{"error":"invalid payout"}`, http.StatusUnprocessableEntity)
		return
	}
	if req.Account == nil || req.Account.Holder == "" || req.EndToEndID == "" {
		http.Error(w, `{"error":"a payout names the account it goes to and its end-to-end reference"}`, http.StatusUnprocessableEntity)
		return
	}
	api.mu.Lock()
	prev, replay := api.byKey[key]
	if !replay {
		prev = PayoutResponse{ID: fmt.Sprintf("po_%06d", len(api.Paid)+1), Status: "paid"}
		api.byKey[key] = prev
		api.Paid = append(api.Paid, req)
	}
	api.mu.Unlock()
	if api.DelayAfterPaying != nil {
		time.Sleep(api.DelayAfterPaying(n))
	}
	w.Header().Set("Content-Type", "application/json")
	if replay {
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(http.StatusOK)
	} else {
		w.WriteHeader(http.StatusCreated)
	}
	_ = json.NewEncoder(w).Encode(prev)
}

// Payments returns a copy of every payout the API made, in the order it made them; repeated keys
// are not in it. Safe to call while requests are being served.
func (api *PaymentAPI) Payments() []PayoutRequest {
	api.mu.Lock()
	defer api.mu.Unlock()
	return append([]PayoutRequest(nil), api.Paid...)
}

// PaidTotal sums what the API paid, per recipient and currency.
func (api *PaymentAPI) PaidTotal() map[string]int64 {
	api.mu.Lock()
	defer api.mu.Unlock()
	out := map[string]int64{}
	for _, p := range api.Paid {
		out[p.Recipient+"/"+p.Currency] += p.Amount
	}
	return out
}
