package main

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// benchWebhooks sends the signed events body(i) to the webhook endpoint
// from 32 goroutines and reports events per second. Every event goes the
// whole way: signature check, JSON decoding, the event id's insert and what
// the event does, in one transaction.
func benchWebhooks(b *testing.B, s *testServer, body func(int64) []byte, wantDuplicate bool) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: time.Minute}
	// Idle connections would hold up the server's shutdown.
	defer client.CloseIdleConnections()
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16) // 32 in flight on 2 cores
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			status, dup, err := postWebhook(client, s.URL(), body(n.Add(1)))
			if err != nil || status != 200 || dup != wantDuplicate {
				b.Errorf("status %d duplicate %t: %v", status, dup, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	// CPU time of the whole process (server and the signing client) per
	// event: the figure that holds when other work shares the machine.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/event")
}

// benchInvoices creates n open invoices of 1,000,000.00 EUR, large enough
// that the benchmark's small payments never settle them.
func benchInvoices(b *testing.B, s *testServer, n int) []string {
	cli := s.mustClient("Bench payer", "EUR", "UTC")
	ids := make([]string, n)
	for i := range ids {
		ids[i] = s.mustInvoice(cli, 100_000_000)["id"].(string)
	}
	return ids
}

// BenchmarkStripeWebhookPayment records a new payment per event
// (payment_intent.succeeded, each its own PaymentIntent) on SQLite.
func BenchmarkStripeWebhookPayment(b *testing.B) {
	s := MustRunMain(b, pinned("2026-03-01"), withStripe("http://127.0.0.1:9"))
	ids := benchInvoices(b, s, 200)
	created := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	benchWebhooks(b, s, func(i int64) []byte {
		return stripeEvent(fmt.Sprintf("evt_bench_%d", i), "payment_intent.succeeded", created, map[string]any{
			"id": fmt.Sprintf("pi_bench_%d", i), "object": "payment_intent", "amount": 100, "amount_received": 100, "currency": "eur",
			"metadata": map[string]any{"remit_invoice_id": ids[int(i)%len(ids)]}})
	}, false)
}

// BenchmarkStripeWebhookMixed cycles through the life of a payment:
// processing, succeeded (recorded), the session event of the same payment
// (no second payment), a late failure (ignored), and a refund.
func BenchmarkStripeWebhookMixed(b *testing.B) {
	s := MustRunMain(b, pinned("2026-03-01"), withStripe("http://127.0.0.1:9"))
	ids := benchInvoices(b, s, 200)
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	benchWebhooks(b, s, func(i int64) []byte {
		k, step := i/5, i%5
		inv, pi := ids[int(k)%len(ids)], fmt.Sprintf("pi_mix_%d", k)
		intent := map[string]any{"id": pi, "object": "payment_intent", "amount": 100, "amount_received": 100, "currency": "eur",
			"metadata": map[string]any{"remit_invoice_id": inv}}
		id := fmt.Sprintf("evt_mix_%d", i)
		switch step {
		case 0:
			return stripeEvent(id, "payment_intent.processing", base, intent)
		case 1:
			return stripeEvent(id, "payment_intent.succeeded", base.Add(time.Minute), intent)
		case 2:
			return stripeEvent(id, "checkout.session.completed", base.Add(time.Minute), map[string]any{"id": "cs_" + pi, "object": "checkout.session",
				"payment_intent": pi, "amount_total": 100, "currency": "eur", "payment_status": "paid", "metadata": map[string]any{"remit_invoice_id": inv}})
		case 3:
			return stripeEvent(id, "payment_intent.payment_failed", base.Add(2*time.Minute), intent)
		}
		return stripeEvent(id, "charge.refunded", base.Add(3*time.Minute), map[string]any{"id": "ch_" + pi, "object": "charge",
			"payment_intent": pi, "amount": 100, "amount_refunded": 40, "currency": "eur"})
	}, false)
}

// BenchmarkStripeWebhookDuplicate redelivers one event: signature check,
// decoding and the event id's lookup only.
func BenchmarkStripeWebhookDuplicate(b *testing.B) {
	s := MustRunMain(b, pinned("2026-03-01"), withStripe("http://127.0.0.1:9"))
	ids := benchInvoices(b, s, 1)
	event := stripeEvent("evt_dup", "payment_intent.processing", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), map[string]any{
		"id": "pi_dup", "object": "payment_intent", "amount": 100, "currency": "eur", "metadata": map[string]any{"remit_invoice_id": ids[0]}})
	if r := s.webhook(event); r.Status != 200 {
		b.Fatalf("first delivery: %d %s", r.Status, r.Body)
	}
	benchWebhooks(b, s, func(int64) []byte { return event }, true)
}
