package main

import (
	"strings"
	"testing"
	"time"

	"github.com/remit/remit/internal/testdb"
)

// TestCollectedMoneyIsNeverDropped: a signed payment_intent.succeeded for
// an unknown invoice, or in another currency than the invoice's, is kept
// as an unapplied payment: listed, announced to webhooks (payment.unapplied)
// and, with e-mail on, to the business; an admin applies it to an invoice
// of its currency or refunds it through Stripe (a real stripe-mock). On
// both databases.
func TestCollectedMoneyIsNeverDropped(t *testing.T) {
	mock := startStripeMock(t)
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			s := MustRunMain(t, pinned("2026-03-01"), withStripe(mock), allowPrivateWebhooks,
				func(c *Config) { c.DatabaseURL = testdb.URL(t, dialect) })
			recv := newReceiver(t)
			s.must(201, request{Method: "POST", Path: "/v1/webhook_endpoints", Body: map[string]any{"url": recv.URL, "enabled_events": []string{"payment.unapplied"}}})
			cli := s.mustClient("Payer", "EUR", "UTC")
			inv := s.mustInvoice(cli, 10000)["id"].(string)
			succeeded := func(evt, pi string, amount int64, currency, invoice string) []byte {
				return stripeEvent(evt, "payment_intent.succeeded", time.Now(), map[string]any{"id": pi, "object": "payment_intent",
					"amount": amount, "amount_received": amount, "currency": currency, "metadata": map[string]any{"remit_invoice_id": invoice}})
			}

			unknown := s.webhook(succeeded("evt_unknown", "pi_unknown", 5000, "eur", "inv_nope"))
			other := s.webhook(succeeded("evt_usd", "pi_usd", 7000, "usd", inv))
			for _, r := range []*response{unknown, other} {
				if r.Status != 200 || r.JSON(t)["unapplied_payment_id"] == nil {
					t.Fatalf("webhook: %d %s", r.Status, r.Body)
				}
			}
			if r := s.webhook(succeeded("evt_unknown_again", "pi_unknown", 5000, "eur", "inv_nope")); r.Status != 200 || r.JSON(t)["unapplied_payment_id"] != nil {
				t.Fatalf("another event of the same intent: %d %s", r.Status, r.Body)
			}
			list := s.must(200, request{Method: "GET", Path: "/v1/unapplied_payments"})["data"].([]any)
			if len(list) != 2 {
				t.Fatalf("unapplied payments: %v", list)
			}
			byIntent := map[string]map[string]any{}
			for _, u := range list {
				byIntent[u.(map[string]any)["payment_intent_id"].(string)] = u.(map[string]any)
			}
			usd, eur := byIntent["pi_usd"], byIntent["pi_unknown"]
			if usd["reason"] != "currency_mismatch" || usd["currency"] != "USD" || num(usd, "amount") != 7000 || usd["invoice_id"] != inv ||
				usd["client_id"] != cli || usd["status"] != "unapplied" ||
				eur["reason"] != "unknown_invoice" || eur["currency"] != "EUR" || num(eur, "amount") != 5000 || eur["invoice_id"] != "inv_nope" {
				t.Fatalf("unapplied payments: %v", list)
			}
			if got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + inv}); num(got, "amount_paid") != 0 {
				t.Fatalf("the invoice took money in another currency: %v", got)
			}
			if !strings.Contains(s.logs(), "kept as an unapplied payment") {
				t.Fatal("no log line says money was kept unapplied")
			}
			s.deliverNow()
			if n := recv.count(); n != 2 || !strings.Contains(recv.bodies[0], `"type":"payment.unapplied"`) {
				t.Fatalf("payment.unapplied webhooks: %d %v", n, recv.bodies)
			}

			// Apply: only to an invoice of the same currency, once.
			eurID, usdID := eur["id"].(string), usd["id"].(string)
			s.mustRefuseAll(t, []refusal{
				{"other currency", "POST", "/v1/unapplied_payments/" + usdID + "/apply", map[string]any{"invoice_id": inv}, 400, "invalid", "invoice_id"},
				{"no invoice", "POST", "/v1/unapplied_payments/" + eurID + "/apply", map[string]any{"invoice_id": "inv_missing"}, 400, "invalid", "invoice_id"},
				{"no invoice id", "POST", "/v1/unapplied_payments/" + eurID + "/apply", map[string]any{}, 400, "invalid", "invoice_id"},
				{"missing", "POST", "/v1/unapplied_payments/upa_missing/apply", map[string]any{"invoice_id": inv}, 404, "not_found", ""},
			})
			applied := s.must(200, request{Method: "POST", Path: "/v1/unapplied_payments/" + eurID + "/apply", Body: map[string]any{"invoice_id": inv}})
			if applied["status"] != "applied" || applied["applied_invoice_id"] != inv || applied["payment_id"] == "" || applied["resolved_at"] == nil {
				t.Fatalf("applied %v", applied)
			}
			if got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + inv}); num(got, "amount_paid") != 5000 || num(got, "balance_due") != 5000 {
				t.Fatalf("invoice after apply: %v", got)
			}
			if r := s.do(request{Method: "POST", Path: "/v1/unapplied_payments/" + eurID + "/refund", Key: testAdminKey}); r.Status != 409 || r.ErrorCode() != "unapplied_payment_resolved" {
				t.Fatalf("refund of an applied payment: %d %s", r.Status, r.Body)
			}

			// Refund through Stripe, once.
			refunded := s.must(200, request{Method: "POST", Path: "/v1/unapplied_payments/" + usdID + "/refund"})
			if refunded["status"] != "refunded" || !strings.HasPrefix(refunded["refund_id"].(string), "re_") {
				t.Fatalf("refunded %v", refunded)
			}
			for _, r := range []request{
				{Method: "POST", Path: "/v1/unapplied_payments/" + usdID + "/refund", Key: testAdminKey},
				{Method: "POST", Path: "/v1/unapplied_payments/" + usdID + "/apply", Key: testAdminKey, Body: map[string]any{"invoice_id": inv}},
				{Method: "POST", Path: "/v1/unapplied_payments/" + eurID + "/apply", Key: testAdminKey, Body: map[string]any{"invoice_id": inv}},
			} {
				if resp := s.do(r); resp.Status != 409 || resp.ErrorCode() != "unapplied_payment_resolved" {
					t.Fatalf("%s: %d %s", r.Path, resp.Status, resp.Body)
				}
			}
			if open := s.must(200, request{Method: "GET", Path: "/v1/unapplied_payments?status=unapplied"}); len(open["data"].([]any)) != 0 {
				t.Fatalf("still unapplied: %v", open)
			}
			if r := s.do(request{Method: "GET", Path: "/v1/unapplied_payments?status=lost", Key: testAdminKey}); r.Status != 400 {
				t.Fatalf("bad status filter: %d", r.Status)
			}
		})
	}
}
