package main

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/remit/remit/internal/ledgercheck"
)

// lawInvoice creates a client (with the extra client fields) and an
// agreement in force from the issue date, and issues one invoice of total minor
// units on issued; it returns the invoice.
func (s *testServer) lawInvoice(currency string, total int64, issued string, client, agreement map[string]any) map[string]any {
	s.tb.Helper()
	body := map[string]any{"name": fmt.Sprintf("Client %s %d %s", currency, total, issued), "email": "ap@client.example",
		"currency": currency, "timezone": "UTC"}
	for k, v := range client {
		body[k] = v
	}
	cli := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: body})["id"].(string)
	agreement["effective_from"] = issued
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

// TestRulesExamplePGermanBGB288: a business and a consumer client under
// de_bgb_288; the statement and the invoice PDF name the law and the rate.
func TestRulesExamplePGermanBGB288(t *testing.T) {
	s := MustRunMain(t, pinned("2026-05-21"))
	s.putRates("DE_BASE", [2]string{"2026-01-01", "1.27"}, [2]string{"2026-07-01", "1.00"})
	terms := func() map[string]any {
		return map[string]any{"payment_terms": "net_30", "interest": map[string]any{"preset": "de_bgb_288"}}
	}
	business := s.lawInvoice("EUR", 1000000, "2026-05-21", nil, terms())
	consumer := s.lawInvoice("EUR", 1000000, "2026-05-21", map[string]any{"kind": "consumer"}, terms())
	for _, d := range []string{"2026-06-21", "2026-07-01", "2026-08-01"} {
		s.setDay(d)
		s.sweep()
	}
	want := []string{"compensation 2026-06-21 4000", "interest:2026-06 2026-07-01 2814", "interest:2026-07 2026-08-01 8493"}
	if got := s.chargeList(business["id"].(string)); !reflect.DeepEqual(got, want) {
		t.Fatalf("business charges\n%v\nwant\n%v", got, want)
	}
	want = []string{"interest:2026-06 2026-07-01 1718", "interest:2026-07 2026-08-01 5096"}
	if got := s.chargeList(consumer["id"].(string)); !reflect.DeepEqual(got, want) {
		t.Fatalf("consumer charges\n%v\nwant\n%v", got, want)
	}
	st := s.must(200, request{Method: "GET", Path: "/v1/clients/" + consumer["client_id"].(string) + "/statement?as_of=2026-08-01"})
	basis := st["invoices"].([]any)[0].(map[string]any)["legal_basis"].(string)
	if basis != "German Civil Code (BGB), section 288: Bundesbank base rate + 5 percentage points (a consumer debtor), "+
		"fixed for each half-year at the rate in force on 1 January and on 1 July" {
		t.Fatalf("legal basis %q", basis)
	}
	doc := s.getPDF("/v1/invoices/"+business["id"].(string)+"/pdf", nil)
	mustContain(t, pdfText(t, doc.Body), "section 288(5)", "Bundesbank base rate + 9 percentage points")
}

// TestRulesExampleQFrenchCodeAndRateFixing: fr_code_commerce with the
// half-year fixing and with the rate fixed at the due date.
func TestRulesExampleQFrenchCodeAndRateFixing(t *testing.T) {
	s := MustRunMain(t, pinned("2026-05-26"))
	s.putRates("ECB_MRO", [2]string{"2025-06-11", "2.15"}, [2]string{"2026-03-18", "1.90"})
	half := s.lawInvoice("EUR", 500000, "2026-05-26", nil, map[string]any{"payment_terms": "net_30",
		"interest": map[string]any{"preset": "fr_code_commerce"}})["id"].(string)
	due := s.lawInvoice("EUR", 500000, "2026-05-26", nil, map[string]any{"payment_terms": "net_30",
		"interest": map[string]any{"preset": "fr_code_commerce", "rate_fixing": "at_due_date"}})["id"].(string)
	for _, d := range []string{"2026-06-26", "2026-07-01", "2026-08-01"} {
		s.setDay(d)
		s.sweep()
	}
	want := []string{"compensation 2026-06-26 4000", "interest:2026-06 2026-07-01 832", "interest:2026-07 2026-08-01 5053"}
	if got := s.chargeList(half); !reflect.DeepEqual(got, want) {
		t.Fatalf("half-year charges\n%v\nwant\n%v", got, want)
	}
	want = []string{"compensation 2026-06-26 4000", "interest:2026-06 2026-07-01 832", "interest:2026-07 2026-08-01 5160"}
	if got := s.chargeList(due); !reflect.DeepEqual(got, want) {
		t.Fatalf("at_due_date charges\n%v\nwant\n%v", got, want)
	}
	mustContain(t, pdfText(t, s.getPDF("/v1/invoices/"+due+"/pdf", nil).Body), "L441-10",
		"half-year in which payment fell overdue")
	if r := s.do(request{Method: "POST", Path: "/v1/clients/" + s.mustClient("Bad Fixing", "EUR", "UTC") + "/agreements", Key: testAdminKey,
		Body: map[string]any{"effective_from": "2026-06-01", "interest": map[string]any{"preset": "de_bgb_288", "rate_fixing": "at_due_date"}}}); r.Status != 400 || !strings.Contains(string(r.Body), "interest.rate_fixing") {
		t.Fatalf("rate_fixing on de_bgb_288: %d %s", r.Status, r.Body)
	}
	if r := s.do(request{Method: "POST", Path: "/v1/clients", Key: testAdminKey, Body: map[string]any{"name": "Kind", "email": "k@k.example",
		"currency": "EUR", "kind": "household"}}); r.Status != 400 || !strings.Contains(string(r.Body), `"kind"`) {
		t.Fatalf("a bad kind: %d %s", r.Status, r.Body)
	}
}

// TestRulesExampleRCreditNotes: credit notes reduce the principal from
// their dates, the excess becomes client credit, and voiding an issued
// invoice issues a full credit note; numbers are gapless per year.
func TestRulesExampleRCreditNotes(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"))
	inv := s.lawInvoice("EUR", 200000, "2026-03-01", nil, map[string]any{"payment_terms": "net_30", "allocation": "principal_first",
		"interest": map[string]any{"annual_rate": "9"}})
	id, cli := inv["id"].(string), inv["client_id"].(string)
	s.setDay("2026-04-10")
	cn1 := s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/credit_notes", Body: map[string]any{
		"reason": "Discount agreed for the late delivery", "lines": []map[string]any{{"description": "Discount", "unit_amount": 50000}}}})
	if cn1["number"] != "CN-2026-0001" || cn1["invoice_number"] != inv["number"] || num(cn1, "amount") != 50000 ||
		num(cn1, "applied_to_invoice") != 50000 || cn1["issue_date"] != "2026-04-10" {
		t.Fatalf("first credit note %v", cn1)
	}
	s.setDay("2026-05-01")
	s.sweep()
	s.setDay("2026-05-02")
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/payments", Body: map[string]any{"amount": 100000, "paid_on": "2026-05-02"}})
	s.setDay("2026-05-05")
	cn2 := s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/credit_notes", Body: map[string]any{
		"reason": "Module B was cancelled", "amount": 100000}})
	if cn2["number"] != "CN-2026-0002" || num(cn2, "applied_to_invoice") != 50000 || num(cn2, "credit_created") != 50000 {
		t.Fatalf("second credit note %v", cn2)
	}
	want := []string{"interest:2026-04 2026-05-01 1233", "interest:2026-05 2026-05-05 111"}
	if got := s.chargeList(id); !reflect.DeepEqual(got, want) {
		t.Fatalf("charges\n%v\nwant\n%v", got, want)
	}
	got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})
	if num(got, "credited") != 100000 || num(got, "balance_due") != 1344 || got["status"] != "open" {
		t.Fatalf("invoice %v", got)
	}
	if c := s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli}); num(c, "credit_balance") != 50000 {
		t.Fatalf("client credit %v", c["credit_balance"])
	}
	if r := s.do(request{Method: "POST", Path: "/v1/invoices/" + id + "/credit_notes", Key: testAdminKey,
		Body: map[string]any{"reason": "too much", "amount": 50001}}); r.Status != 400 || !strings.Contains(string(r.Body), `"amount"`) {
		t.Fatalf("crediting more than the total: %d %s", r.Status, r.Body)
	}
	if r := s.do(request{Method: "POST", Path: "/v1/invoices/" + id + "/credit_notes", Key: testAdminKey,
		Body: map[string]any{"amount": 100}}); r.Status != 400 || !strings.Contains(string(r.Body), `"reason"`) {
		t.Fatalf("no reason: %d %s", r.Status, r.Body)
	}
	list := s.must(200, request{Method: "GET", Path: "/v1/credit_notes?invoice_id=" + id + "&issued_from=2026-05-01"})
	if data := list["data"].([]any); len(data) != 1 || data[0].(map[string]any)["number"] != "CN-2026-0002" {
		t.Fatalf("list %v", list)
	}
	mustContain(t, pdfText(t, s.getPDF("/v1/credit_notes/"+cn2["id"].(string)+"/pdf", nil).Body), "CREDIT NOTE", "CN-2026-0002",
		inv["number"].(string), "Module B was cancelled")
	mustContain(t, pdfText(t, s.getPDF("/v1/invoices/"+id+"/pdf", nil).Body), "CN-2026-0001", "CN-2026-0002")

	st := s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli + "/statement?as_of=2026-05-05"})
	if line := st["invoices"].([]any)[0].(map[string]any); num(line, "credited") != 100000 || num(line, "balance_due") != 1344 {
		t.Fatalf("statement line %v", line)
	}
	if notes := st["invoices"].([]any)[0].(map[string]any)["credit_notes"].([]any); len(notes) != 2 {
		t.Fatalf("statement credit notes %v", notes)
	}
	mustContain(t, pdfText(t, s.getPDF("/v1/clients/"+cli+"/statement.pdf?as_of=2026-05-05", nil).Body), "CN-2026-0001, taken off the principal", "CN-2026-0002")

	other := s.lawInvoice("EUR", 30000, "2026-05-05", nil, map[string]any{"payment_terms": "net_30"})
	s.must(200, request{Method: "POST", Path: "/v1/invoices/" + other["id"].(string) + "/void"})
	cn3 := s.must(200, request{Method: "GET", Path: "/v1/credit_notes?invoice_id=" + other["id"].(string)})["data"].([]any)[0].(map[string]any)
	if cn3["number"] != "CN-2026-0003" || num(cn3, "amount") != 30000 {
		t.Fatalf("void credit note %v", cn3)
	}
	if err := ledgercheck.Check(s.DB.SQL()); err != nil {
		t.Fatal(err)
	}
	if err := ledgercheck.Credit(s.DB.SQL()); err != nil {
		t.Fatal(err)
	}
}

// TestInvoiceTaxIDsSupplyAndReverseCharge: the invoice PDF shows both tax
// identifiers, the supply period and, under the reverse charge, the legal
// note with VAT at zero.
func TestInvoiceTaxIDsSupplyAndReverseCharge(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"), withHostedPages, func(c *Config) { c.Business.TaxID = "DE123456789" })
	cli := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{"name": "Agence Lumière", "email": "ap@lumiere.example",
		"currency": "EUR", "tax_id": "FR40303265045"}})["id"].(string)
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true,
		"supply_date": "2026-02-01", "supply_end_date": "2026-02-28", "reverse_charge": true,
		"lines": []map[string]any{{"description": "Consulting, February", "unit_amount": 500000, "tax_rate": "0"}}}})
	if inv["reverse_charge"] != true || inv["supply_date"] != "2026-02-01" || inv["supply_end_date"] != "2026-02-28" || num(inv, "tax") != 0 {
		t.Fatalf("invoice %v", inv)
	}
	mustContain(t, pdfText(t, s.getPDF("/v1/invoices/"+inv["id"].(string)+"/pdf", nil).Body), "VAT ID DE123456789",
		"Tax ID: FR40303265045", "Supplied from 1 February 2026", "Supplied to 28 February 2026", "2006/112/EC", "article 196", "No VAT is charged")
	// The hosted page shows the same.
	page := s.open("GET", inv["hosted_invoice_url"].(string), nil)
	mustContain(t, string(page.Body), "VAT number: DE123456789", "VAT number: FR40303265045", "Period of supply",
		"1 February 2026 – 28 February 2026", "Directive 2006/112/EC, article 196")
	if r := s.do(request{Method: "POST", Path: "/v1/invoices", Key: testAdminKey, Body: map[string]any{"client_id": cli, "reverse_charge": true,
		"lines": []map[string]any{{"description": "x", "unit_amount": 100, "tax_rate": "20"}}}}); r.Status != 400 || !strings.Contains(string(r.Body), "lines[0].tax_rate") {
		t.Fatalf("VAT under the reverse charge: %d %s", r.Status, r.Body)
	}
	home := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{"name": "Berliner GmbH", "email": "ap@berlin.example",
		"currency": "EUR", "tax_id": "DE811907980"}})["id"].(string)
	if r := s.do(request{Method: "POST", Path: "/v1/invoices", Key: testAdminKey, Body: map[string]any{"client_id": home, "reverse_charge": true,
		"lines": []map[string]any{{"description": "x", "unit_amount": 100}}}}); r.Status != 400 || !strings.Contains(string(r.Body), "across borders") {
		t.Fatalf("reverse charge within Germany: %d %s", r.Status, r.Body)
	}
	plain := s.mustClient("No VAT Number", "EUR", "UTC")
	if r := s.do(request{Method: "POST", Path: "/v1/invoices", Key: testAdminKey, Body: map[string]any{"client_id": plain, "reverse_charge": true,
		"lines": []map[string]any{{"description": "x", "unit_amount": 100}}}}); r.Status != 400 || !strings.Contains(string(r.Body), `"reverse_charge"`) {
		t.Fatalf("reverse charge without a client tax_id: %d %s", r.Status, r.Body)
	}
	draft := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli,
		"lines": []map[string]any{{"description": "Audit", "unit_amount": 100000, "tax_rate": "20"}}}})["id"].(string)
	if r := s.do(request{Method: "PATCH", Path: "/v1/invoices/" + draft, Key: testAdminKey, Body: map[string]any{"reverse_charge": true}}); r.Status != 400 ||
		!strings.Contains(string(r.Body), "lines[0].tax_rate") {
		t.Fatalf("a draft with VAT turned to the reverse charge: %d %s", r.Status, r.Body)
	}
	patched := s.must(200, request{Method: "PATCH", Path: "/v1/invoices/" + draft, Body: map[string]any{"reverse_charge": true,
		"supply_date": "2026-02-10", "lines": []map[string]any{{"description": "Audit", "unit_amount": 100000, "tax_rate": "0"}}}})
	if patched["reverse_charge"] != true || patched["supply_date"] != "2026-02-10" || num(patched, "tax") != 0 {
		t.Fatalf("patched draft %v", patched)
	}
	single := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": plain, "issue": true, "supply_date": "2026-02-20",
		"lines": []map[string]any{{"description": "Workshop", "unit_amount": 100000}}}})
	mustContain(t, pdfText(t, s.getPDF("/v1/invoices/"+single["id"].(string)+"/pdf", nil).Body), "Supply date", "20 February 2026")
}

// TestCorrectedClientKindCorrectsTheLedger: a consumer client found to be a
// business owes the business rate and the flat sum from day 1, as
// corrections posted at the sweep's next look.
func TestCorrectedClientKindCorrectsTheLedger(t *testing.T) {
	s := MustRunMain(t, pinned("2026-05-21"))
	s.putRates("DE_BASE", [2]string{"2026-01-01", "1.27"}, [2]string{"2026-07-01", "1.00"})
	inv := s.lawInvoice("EUR", 1000000, "2026-05-21", map[string]any{"kind": "consumer"}, map[string]any{"payment_terms": "net_30",
		"interest": map[string]any{"preset": "de_bgb_288"}})
	id := inv["id"].(string)
	s.setDay("2026-07-01")
	s.sweep()
	s.must(200, request{Method: "PATCH", Path: "/v1/clients/" + inv["client_id"].(string), Body: map[string]any{"kind": "business"}})
	s.setDay("2026-08-01")
	s.sweep()
	want := []string{"interest:2026-06 2026-07-01 1718", "compensation 2026-08-01 4000", "interest:2026-06:adj:1 2026-08-01 1096",
		"interest:2026-07 2026-08-01 8493"}
	got := s.chargeList(id)
	var sum int64
	for _, c := range s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id + "/charges"})["data"].([]any) {
		sum += num(c.(map[string]any), "amount")
	}
	if sum != 4000+2814+8493 {
		t.Fatalf("charges %v, sum %d, want %v", got, sum, want)
	}
}
