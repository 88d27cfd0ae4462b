package main

import (
	"slices"
	"strings"
	"testing"
)

// TestLatePaymentEndToEnd: over HTTP, a bank transfer dated 15 February and
// recorded after the sweep of 5 March posted February's interest on the
// whole principal. The posting stays, a correction of its own sits beside
// it, the webhook event and the audit trail say so, and the invoice PDF and
// the statement print the corrected figures.
func TestLatePaymentEndToEnd(t *testing.T) {
	s := MustRunMain(t, pinned("2026-01-01"))
	id := s.overdueInvoice("EUR", 100000, "2026-01-01", map[string]any{"payment_terms": "net_30", "interest": map[string]any{"annual_rate": "12"}})
	s.setDay("2026-03-05")
	s.sweep()
	if got := s.chargeList(id); !slices.Equal(got, []string{"interest:2026-02 2026-03-01 921"}) {
		t.Fatalf("before the late payment: %v", got)
	}
	pay := s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/payments", Body: map[string]any{
		"amount": 50000, "paid_on": "2026-02-15", "method": "bank_transfer", "reference": "SEPA 15 Feb"}})
	if alloc := pay["allocation"].(map[string]any); num(alloc, "principal") != 50000 || num(alloc, "interest") != 0 {
		t.Fatalf("allocation %v", alloc)
	}
	want := []string{"interest:2026-02 2026-03-01 921", "interest:2026-02:adj:1 2026-03-05 -214"}
	if got := s.chargeList(id); !slices.Equal(got, want) {
		t.Fatalf("charges %v, want %v", got, want)
	}
	inv := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})
	if num(inv, "charges_total") != 707 || num(inv, "balance_due") != 50707 {
		t.Fatalf("invoice %v", inv)
	}
	quote := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id + "/accrual?as_of=2026-03-31"})
	if num(quote, "payoff") != 51217 {
		t.Fatalf("payoff on 31 March %v, want 512.17", quote)
	}
	var types []string
	for _, e := range s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id + "/events"})["data"].([]any) {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	if !slices.Contains(types, "charge.adjusted") {
		t.Fatalf("events %v lack charge.adjusted", types)
	}
	text := pdfText(t, s.getPDF("/v1/invoices/"+id+"/pdf", nil).Body)
	for _, w := range []string{"9.21", "−2.14", "Correction of 9.21 EUR to 7.07 EUR after dated payments or refunds"} {
		if !strings.Contains(text, w) {
			t.Errorf("invoice PDF lacks %q:\n%s", w, text)
		}
	}
}
