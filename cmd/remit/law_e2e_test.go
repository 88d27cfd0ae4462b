package main

import (
	"fmt"
	"reflect"
	"testing"
)

// lawInvoice creates a client (with the extra client fields) and an
// agreement in force from 2015-01-01, and issues one invoice of total minor
// units on issued; it returns the invoice.
func (s *testServer) lawInvoice(currency string, total int64, issued string, client, agreement map[string]any) map[string]any {
	s.tb.Helper()
	body := map[string]any{"name": fmt.Sprintf("Client %s %d %s", currency, total, issued), "email": "ap@client.example",
		"currency": currency, "timezone": "UTC"}
	for k, v := range client {
		body[k] = v
	}
	cli := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: body})["id"].(string)
	agreement["effective_from"] = "2015-01-01"
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: agreement})
	return s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "issue_date": issued,
		"lines": []map[string]any{{"description": "Services", "unit_amount": total}}}})
}

// The worked examples M onwards of docs/RULES.md, over HTTP.

// TestRulesExampleMUKDebtOnDayOne: the UK fixed sum follows the debt on day 1.
func TestRulesExampleMUKDebtOnDayOne(t *testing.T) {
	s := MustRunMain(t, pinned("2026-01-29"))
	s.putRates("BOE_BASE", [2]string{"2025-08-07", "4.00"})
	id := s.overdueInvoice("GBP", 150000, "2026-01-29", map[string]any{"payment_terms": "net_30", "interest": map[string]any{"preset": "uk_late_payment"}})
	s.setDay("2026-02-20")
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/payments", Body: map[string]any{"amount": 60000, "paid_on": "2026-02-20"}})
	for _, d := range []string{"2026-03-01", "2026-04-01"} {
		s.setDay(d)
		s.sweep()
	}
	want := []string{"compensation 2026-03-01 4000", "interest:2026-03 2026-04-01 917"}
	if got := s.chargeList(id); !reflect.DeepEqual(got, want) {
		t.Fatalf("charges\n%v\nwant\n%v", got, want)
	}
}

// TestRulesExampleNRUPrincipalFirst: art. 395 interest is repaid after the
// principal by default.
func TestRulesExampleNRUPrincipalFirst(t *testing.T) {
	s := MustRunMain(t, pinned("2024-01-11"))
	s.putRates("CBR_KEY", [2]string{"2023-12-18", "16.00"})
	id := s.lawInvoice("RUB", 10000000, "2024-01-11", nil, map[string]any{"payment_terms": "net_30",
		"interest": map[string]any{"preset": "ru_civil_code_395"}})["id"].(string)
	s.setDay("2024-03-01")
	s.sweep()
	s.setDay("2024-03-05")
	p := s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/payments", Body: map[string]any{"amount": 5000000, "paid_on": "2024-03-05"}})
	if a := p["allocation"].(map[string]any); num(a, "principal") != 5000000 || num(a, "interest") != 0 {
		t.Fatalf("allocation %v", a)
	}
	s.setDay("2024-04-01")
	s.sweep()
	want := []string{"interest:2024-02 2024-03-01 83060", "interest:2024-03 2024-04-01 78689"}
	if got := s.chargeList(id); !reflect.DeepEqual(got, want) {
		t.Fatalf("charges\n%v\nwant\n%v", got, want)
	}
}

// TestRulesExampleODayCount30E360: the published 30/360 example, 350.00.
func TestRulesExampleODayCount30E360(t *testing.T) {
	s := MustRunMain(t, pinned("2015-12-01"))
	id := s.lawInvoice("EUR", 1000000, "2015-12-01", nil, map[string]any{"payment_terms": "net_30",
		"interest": map[string]any{"annual_rate": "6", "day_count": "30e/360"}})["id"].(string)
	for _, d := range []string{"2016-02-01", "2016-03-01", "2016-04-01", "2016-05-01", "2016-06-01", "2016-07-01"} {
		s.setDay(d)
		s.sweep()
	}
	inv := s.payInFull(id, "2016-07-30")
	want := []string{"interest:2016-01 2016-02-01 5000", "interest:2016-02 2016-03-01 5000", "interest:2016-03 2016-04-01 5000",
		"interest:2016-04 2016-05-01 5000", "interest:2016-05 2016-06-01 5000", "interest:2016-06 2016-07-01 5000",
		"interest:2016-07 2016-07-30 5000"}
	if got := s.chargeList(id); !reflect.DeepEqual(got, want) {
		t.Fatalf("charges\n%v\nwant\n%v", got, want)
	}
	if num(inv, "charges_total") != 35000 {
		t.Fatalf("interest in all %d, want 35000", num(inv, "charges_total"))
	}
	feb := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id + "/charges"})["data"].([]any)[1].(map[string]any)
	span := feb["breakdown"].([]any)[0].(map[string]any)
	if num(span, "days") != 29 || num(span, "counted_days") != 30 || span["day_count"] != "30e/360" {
		t.Fatalf("February 2016 span %v", span)
	}
}
