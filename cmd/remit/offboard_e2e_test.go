package main

import (
	"reflect"
	"testing"
	"time"
)

// TestOffboardingEndToEnd ends two relationships over HTTP: one whose
// deposit was paid by bank transfer (refunded as owed) and one paid through
// Stripe (refunded through Stripe, on a real stripe-mock). A dry run
// changes nothing; a second call refunds nothing again; the client becomes
// read-only, reminders stop, and open invoices stay collectable.
func TestOffboardingEndToEnd(t *testing.T) {
	mock := startStripeMock(t)
	s := MustRunMain(t, pinned("2026-03-02"), withStripe(mock))
	refundable := map[string]any{"effective_from": "2025-01-01", "payment_terms": "net_15",
		"milestones": map[string]any{"gate_next_on_payment": true, "deposit_refundable": true}}

	project := func(cli string) map[string]any {
		return s.must(201, request{Method: "POST", Path: "/v1/projects", Body: map[string]any{"client_id": cli, "name": "Relaunch",
			"milestones": []map[string]any{
				{"name": "Deposit", "amount": 100000, "deposit": true},
				{"name": "Design", "amount": 200000, "planned_date": "2026-03-20"},
				{"name": "Build", "amount": 300000, "planned_date": "2026-04-30"},
			}}})
	}

	// A client who paid the deposit by bank transfer and owes an older invoice.
	bank := s.mustClient("Too Close Ltd", "EUR", "UTC")
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + bank + "/agreements", Body: refundable})
	old := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": bank, "issue": true, "issue_date": "2026-01-05",
		"lines": []map[string]any{{"description": "Audit", "unit_amount": 50000}}}})
	p := project(bank)
	dep := invoiceOf(milestone(p, 0))
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + dep["id"].(string) + "/payments", Body: map[string]any{"amount": 100000, "paid_on": "2026-03-02"}})

	before := s.snapshot()
	dry := s.must(200, request{Method: "POST", Path: "/v1/clients/" + bank + "/offboard", Body: map[string]any{"reason": "too_close", "note": "family friend", "dry_run": true}})
	if after := s.snapshot(); !reflect.DeepEqual(before, after) {
		t.Fatal("a dry run changed the database")
	}
	refunds := dry["deposit_refunds"].([]any)
	if dry["dry_run"] != true || len(dry["cancelled_milestones"].([]any)) != 2 || len(refunds) != 1 ||
		refunds[0].(map[string]any)["via"] != "owed" || num(refunds[0].(map[string]any), "amount") != 100000 ||
		len(dry["open_invoices"].([]any)) != 1 {
		t.Fatalf("dry run plan %v", dry)
	}

	done := s.must(200, request{Method: "POST", Path: "/v1/clients/" + bank + "/offboard", Body: map[string]any{"reason": "too_close", "note": "family friend"}})
	again := s.must(200, request{Method: "POST", Path: "/v1/clients/" + bank + "/offboard", Body: map[string]any{"reason": "too_close", "note": "family friend"}})
	if done["dry_run"] != false || done["offboarded_at"] == nil || !reflect.DeepEqual(done, again) {
		t.Fatalf("offboard %v\nagain %v", done, again)
	}
	if n := s.count("refunds", "invoice_id = ?", dep["id"]); n != 1 {
		t.Fatalf("%d refunds of the deposit", n)
	}
	if inv := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + dep["id"].(string)}); inv["status"] != "void" || num(inv, "amount_paid") != 0 {
		t.Fatalf("deposit invoice %v", inv)
	}
	if c := s.must(200, request{Method: "GET", Path: "/v1/clients/" + bank}); c["status"] != "offboarded" {
		t.Fatalf("client %v", c["status"])
	}
	if st := s.must(200, request{Method: "GET", Path: "/v1/projects/" + p["id"].(string)}); milestone(st, 1)["status"] != "cancelled" || milestone(st, 2)["status"] != "cancelled" {
		t.Fatalf("project %v", st)
	}
	for _, r := range []request{
		{Method: "PATCH", Path: "/v1/clients/" + bank, Key: testAdminKey, Body: map[string]any{"name": "X"}},
		{Method: "POST", Path: "/v1/invoices", Key: testAdminKey, Body: map[string]any{"client_id": bank, "lines": []map[string]any{{"description": "W", "unit_amount": 100}}}},
		{Method: "POST", Path: "/v1/clients/" + bank + "/agreements", Key: testAdminKey, Body: refundable},
	} {
		if resp := s.do(r); resp.Status != 409 || resp.ErrorCode() != "client_offboarded" {
			t.Fatalf("%s %s on an offboarded client: %d %s", r.Method, r.Path, resp.Status, resp.Body)
		}
	}
	// No more reminders, but the old invoice is still collectable and still accrues what the terms say.
	reminders := s.count("outbox", "type = 'invoice.reminder' AND client_id = ?", bank)
	s.setDay("2026-03-25")
	s.sweep()
	if n := s.count("outbox", "type = 'invoice.reminder' AND client_id = ?", bank); n != reminders {
		t.Fatalf("reminders after offboarding: %d, before %d", n, reminders)
	}
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + old["id"].(string) + "/payments", Body: map[string]any{"amount": 50000, "paid_on": "2026-03-25"}})
	if n := s.count("outbox", "type = 'client.offboarded' AND client_id = ?", bank); n != 1 {
		t.Fatalf("client.offboarded events: %d", n)
	}

	// A client whose deposit was paid through Stripe: the refund goes through Stripe.
	s.setDay("2026-03-02")
	card := s.mustClient("Not Core GmbH", "EUR", "UTC")
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + card + "/agreements", Body: refundable})
	p2 := project(card)
	dep2 := invoiceOf(milestone(p2, 0))
	paid := stripeEvent("evt_offboard_dep", "payment_intent.succeeded", time.Now(), map[string]any{"id": "pi_offboard_dep", "object": "payment_intent",
		"amount": 100000, "amount_received": 100000, "currency": "eur", "status": "succeeded", "metadata": map[string]string{"remit_invoice_id": dep2["id"].(string)}})
	if r := s.webhook(paid); r.Status != 200 {
		t.Fatalf("webhook %d %s", r.Status, r.Body)
	}
	off := s.must(200, request{Method: "POST", Path: "/v1/clients/" + card + "/offboard", Body: map[string]any{"reason": "not_core_work"}})
	r := off["deposit_refunds"].([]any)
	if len(r) != 1 || r[0].(map[string]any)["via"] != "stripe" || r[0].(map[string]any)["refund_id"] == "" {
		t.Fatalf("stripe offboarding %v", off)
	}
	s.must(200, request{Method: "POST", Path: "/v1/clients/" + card + "/offboard", Body: map[string]any{"reason": "not_core_work"}})
	if n := s.count("refunds", "invoice_id = ? AND external_key LIKE 'stripe:refund:%'", dep2["id"]); n != 1 {
		t.Fatalf("%d Stripe refunds recorded", n)
	}

	if r := s.do(request{Method: "POST", Path: "/v1/clients/" + card + "/offboard", Key: testAdminKey, Body: map[string]any{"reason": "bored"}}); r.Status != 400 || r.ErrorCode() != "invalid" {
		t.Fatalf("bad reason: %d %s", r.Status, r.Body)
	}
}
