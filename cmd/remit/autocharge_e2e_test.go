package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/remit/remit/internal/testdb"
)

// TestRecurringAutoCharge: a client saves a card through a setup Checkout
// Session (stripe-mock); a recurring invoice with auto_charge issues
// invoices whose balance is charged off-session on the due date with the
// idempotency key (invoice, attempt), each attempt once; success settles
// through the signed webhook; requires_action sends the client
// invoice.auto_charge_failed with a pay link, enforcement goes on, and the
// card is tried again on days 3 and 7 after the due date, then no more.
func TestRecurringAutoCharge(t *testing.T) {
	proxy := newStripeProxy(t, startStripeMock(t))
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			url := testdb.URL(t, dialect)
			s := MustRunMain(t, func(c *Config) { c.DatabaseURL, c.Now = url, time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC) }, withStripe(proxy.URL))
			cli := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{
				"name": "Card GmbH", "email": "ap@card.example", "currency": "EUR", "timezone": "Europe/Berlin"}})["id"].(string)
			s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{
				"effective_from": "2026-01-01", "payment_terms": "net_14", "late_fee": map[string]any{"flat": 4000}}})

			setup := s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/payment_methods/setup"})
			sent := proxy.sent("POST", "/v1/checkout/sessions")
			last := sent[len(sent)-1].Form
			if setup["client_id"] != cli || !strings.HasPrefix(setup["url"].(string), "https://") || last.Get("mode") != "setup" ||
				last.Get("customer") != setup["customer_id"] || last.Get("payment_method_types[0]") != "card" {
				t.Fatalf("setup session %v, sent %v", setup, last)
			}
			s.refusedSaying(404, "not_found", request{Method: "POST", Path: "/v1/clients/cli_nope/payment_methods/setup"}, "cli_nope")
			// A client can say auto_charge too (every invoice issued from then on); on and off again here.
			if c := s.must(200, request{Method: "PATCH", Path: "/v1/clients/" + cli, Body: map[string]any{"auto_charge": true}}); c["auto_charge"] != true {
				t.Fatalf("client %v", c)
			}
			if c := s.must(200, request{Method: "PATCH", Path: "/v1/clients/" + cli, Body: map[string]any{"auto_charge": false}}); c["auto_charge"] != false {
				t.Fatalf("client %v", c)
			}

			rec := s.must(201, request{Method: "POST", Path: "/v1/recurring_invoices", Body: map[string]any{
				"client_id": cli, "lines": []any{map[string]any{"description": "Hosting, {period}", "unit_amount": 150000}},
				"interval": "monthly", "start_date": "2026-01-31", "count": 2, "auto_charge": true}})
			if rec["auto_charge"] != true {
				t.Fatalf("created %v", rec)
			}
			invoiceOn := func(issued string) string {
				for _, v := range s.must(200, request{Method: "GET", Path: "/v1/invoices?client_id=" + cli})["data"].([]any) {
					if inv := v.(map[string]any); inv["issue_date"] == issued {
						return inv["id"].(string)
					}
				}
				t.Fatalf("no invoice issued on %s", issued)
				return ""
			}
			intents := func(inv string) []stripeRequest {
				var out []stripeRequest
				for _, r := range proxy.sent("POST", "/v1/payment_intents") {
					if r.Form.Get("metadata[remit_invoice_id]") == inv {
						out = append(out, r)
					}
				}
				return out
			}
			run := func(day string) {
				d, _ := time.Parse(time.DateOnly, day)
				s.SetNow(d.Add(9 * time.Hour))
				s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
				s.must(200, request{Method: "POST", Path: "/v1/billing/run"}) // a repeated run makes no attempt twice
			}

			// January's invoice: charged on its due date, 14 February; Stripe takes it.
			run("2026-01-31")
			jan := invoiceOn("2026-01-31")
			run("2026-02-13")
			if n := len(intents(jan)); n != 0 {
				t.Fatalf("%d charges before the due date", n)
			}
			proxy.answer("POST", "/v1/payment_intents", []byte(`{"id": "pi_auto_jan", "object": "payment_intent", "status": "succeeded",
				"amount": 150000, "currency": "eur"}`))
			run("2026-02-14")
			pis := intents(jan)
			if len(pis) != 1 || pis[0].IdempotencyKey != "remit-autocharge-"+jan+"-0" || pis[0].Form.Get("off_session") != "true" ||
				pis[0].Form.Get("confirm") != "true" || pis[0].Form.Get("amount") != "150000" || pis[0].Form.Get("customer") != setup["customer_id"] ||
				!strings.HasPrefix(pis[0].Form.Get("payment_method"), "pm_") {
				t.Fatalf("charges of January's invoice %+v", pis)
			}
			ev := stripeEvent("evt_auto_jan_"+dialect, "payment_intent.succeeded", time.Now(), map[string]any{"id": "pi_auto_jan_" + dialect,
				"object": "payment_intent", "amount": 150000, "amount_received": 150000, "currency": "eur", "status": "succeeded",
				"metadata": map[string]any{"remit_invoice_id": jan}})
			if r := s.webhook(ev); r.Status != 200 {
				t.Fatalf("webhook %d %s", r.Status, r.Body)
			}
			if got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + jan}); got["status"] != "paid" {
				t.Fatalf("January's invoice after the webhook: %v", got)
			}
			run("2026-02-17")
			if n := len(intents(jan)); n != 1 {
				t.Errorf("a paid invoice was charged again: %d attempts", n)
			}

			// February's invoice, due 14 March: the card needs its holder.
			run("2026-02-28")
			feb := invoiceOn("2026-02-28")
			proxy.answer("POST", "/v1/payment_intents", []byte(`{"id": "pi_auto_feb", "object": "payment_intent", "status": "requires_action",
				"amount": 150000, "currency": "eur"}`))
			run("2026-03-14")
			run("2026-03-15")
			run("2026-03-17")
			run("2026-03-20")
			run("2026-03-21")
			run("2026-04-10")
			var keys []string
			for _, r := range intents(feb) {
				keys = append(keys, strings.TrimPrefix(r.IdempotencyKey, "remit-autocharge-"+feb))
			}
			if strings.Join(keys, " ") != "-0 -1 -2" {
				t.Errorf("attempts on February's invoice %v, want -0 -1 -2 (days 0, 3, 7)", keys)
			}
			evs := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + feb + "/events?limit=100"})["data"].([]any)
			var failed []string
			for _, e := range evs {
				e := e.(map[string]any)
				if e["type"] == "invoice.auto_charge_failed" {
					d := e["data"].(map[string]any)
					if d["reason"] != "requires_action" || !strings.HasPrefix(d["pay_url"].(string), "https://") {
						t.Errorf("failure event %v", d)
					}
					next, _ := d["next_attempt_on"].(string)
					failed = append(failed, next)
				}
			}
			if strings.Join(failed, ",") != "2026-03-17,2026-03-21," {
				t.Errorf("failure events' next attempts %q", failed)
			}
			got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + feb})
			if got["status"] != "open" || num(got, "charges_total") != 4000 {
				t.Errorf("February's invoice is still enforced: %v", got)
			}

			// A second template's invoice, declined by the card (Stripe's 402 card_error).
			s.must(201, request{Method: "POST", Path: "/v1/recurring_invoices", Body: map[string]any{
				"client_id": cli, "lines": []any{map[string]any{"description": "Support, {period}", "unit_amount": 30000}},
				"interval": "monthly", "start_date": "2026-04-15", "count": 1, "auto_charge": true}})
			proxy.answerStatus("POST", "/v1/payment_intents", 402, []byte(`{"error": {"type": "card_error", "code": "card_declined",
				"decline_code": "insufficient_funds", "message": "Your card has insufficient funds.",
				"payment_intent": {"id": "pi_declined", "object": "payment_intent", "status": "requires_payment_method"}}}`))
			run("2026-04-15")
			apr := invoiceOn("2026-04-15")
			run("2026-04-29")
			if n := len(intents(apr)); n != 1 {
				t.Fatalf("%d charges of the declined invoice on its due date", n)
			}
			declined := ""
			for _, e := range s.must(200, request{Method: "GET", Path: "/v1/invoices/" + apr + "/events?limit=100"})["data"].([]any) {
				if e := e.(map[string]any); e["type"] == "invoice.auto_charge_failed" {
					d := e["data"].(map[string]any)
					declined = fmt.Sprint(d["reason"], " ", d["payment_intent_id"], " ", d["next_attempt_on"])
				}
			}
			if declined != "card_declined pi_declined 2026-05-02" {
				t.Errorf("the decline was recorded as %q", declined)
			}
		})
	}
}
