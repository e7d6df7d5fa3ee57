package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Work counts what a worker's activities complete: items chunked, recorded (annotated and
// arbitrated) and delivered, ledger entries, payouts and webhook notifications.
//
// Each count is added once an activity's work is done and written, so an attempt that fails and
// is retried counts once, by the attempt that completes. Payouts are counted from the payment
// records each run writes, so a payout counts once however the attempts went. What remains is an
// attempt whose work was written but whose completion Temporal never recorded (its worker lost
// Temporal after the last write, or the attempt ran past its timeout): the retry does the work
// again and counts it again. A worker killed before it reported loses its counts with it, and
// the retry elsewhere counts them, so the sum over live workers stays right.
//
// A nil *Work counts nothing.
type Work struct {
	chunked     prometheus.Counter
	rejected    prometheus.Counter
	annotated   prometheus.Counter
	arbitrated  prometheus.Counter
	delivered   prometheus.Counter
	redelivered prometheus.Counter
	ledger      *prometheus.CounterVec
	payouts     prometheus.Counter
	paid        *prometheus.CounterVec
	refused     prometheus.Counter
	webhooks    *prometheus.CounterVec
	webhookFail *prometheus.CounterVec
}

// NewWork registers the work counters in r; call it once per registry.
func NewWork(r *Registry) *Work {
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
		r.reg.MustRegister(c)
		return c
	}
	vec := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
		r.reg.MustRegister(c)
		return c
	}
	return &Work{
		chunked:     counter("items_chunked_total", "Valid manifest items split into chunks."),
		rejected:    counter("manifest_lines_rejected_total", "Manifest lines set aside as invalid when chunking."),
		annotated:   counter("items_annotated_total", "Items (gold items aside) whose final label was recorded."),
		arbitrated:  counter("items_arbitrated_total", "Items (gold items aside) whose final label a reviewer's arbitration decided."),
		delivered:   counter("items_delivered_total", "Items delivered to clients' buckets by first deliveries."),
		redelivered: counter("items_redelivered_total", "Items delivered again by re-deliveries."),
		ledger:      vec("ledger_entries_total", "Ledger entries written, one per accepted answer, by role (annotation, arbitration, gold).", "role"),
		payouts:     counter("payouts_total", "Payouts the payout provider made."),
		paid:        vec("paid_minor_units_total", "Amounts paid out, in minor units of the currency.", "currency"),
		refused:     counter("payouts_rejected_total", "Payouts the provider refused or payroll could not decide (settled by hand)."),
		webhooks:    vec("webhooks_sent_total", "Webhook notifications the client's endpoint accepted, by event.", "event"),
		webhookFail: vec("webhook_failures_total", "Webhook notifications that failed after their retries, by event.", "event"),
	}
}

// Chunked counts a manifest split: its valid items and its rejected lines.
func (w *Work) Chunked(items, rejects int) {
	if w == nil {
		return
	}
	w.chunked.Add(float64(items))
	w.rejected.Add(float64(rejects))
}

// Recorded counts a chunk recorded: its items with a final label, those a reviewer decided, and
// its ledger entries by role.
func (w *Work) Recorded(items, arbitrated int, entries map[string]int) {
	if w == nil {
		return
	}
	w.annotated.Add(float64(items))
	w.arbitrated.Add(float64(arbitrated))
	for role, n := range entries {
		w.ledger.WithLabelValues(role).Add(float64(n))
	}
}

// Delivered counts the items of a chunk delivered, by a first delivery or a re-delivery.
func (w *Work) Delivered(items int, redelivery bool) {
	if w == nil {
		return
	}
	if redelivery {
		w.redelivered.Add(float64(items))
		return
	}
	w.delivered.Add(float64(items))
}

// Paid counts the payouts a payroll run recorded, the amounts per currency, and the payouts it
// could not make.
func (w *Work) Paid(payouts int, paid map[string]int64, rejected int) {
	if w == nil {
		return
	}
	w.payouts.Add(float64(payouts))
	for currency, amount := range paid {
		w.paid.WithLabelValues(currency).Add(float64(amount))
	}
	w.refused.Add(float64(rejected))
}

// Webhook counts one notification's outcome.
func (w *Work) Webhook(event string, sent bool) {
	if w == nil {
		return
	}
	if sent {
		w.webhooks.WithLabelValues(event).Inc()
		return
	}
	w.webhookFail.WithLabelValues(event).Inc()
}
