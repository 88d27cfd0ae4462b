package main

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/remit/remit/internal/testdb"
)

// pinned returns a modifier that pins the service clock to day (UTC noon).
func pinned(day string) func(*Config) {
	return func(c *Config) {
		t, _ := time.Parse(time.DateOnly, day)
		c.Now = t.Add(12 * time.Hour)
	}
}

// mustClient creates a client and returns its id.
func (s *testServer) mustClient(name, currency, tz string) string {
	s.tb.Helper()
	c := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{
		"name": name, "email": "ap@" + strings.ToLower(strings.ReplaceAll(name, " ", "")) + ".example", "currency": currency, "timezone": tz}})
	return c["id"].(string)
}

// num reads a JSON number field as int64.
func num(m map[string]any, key string) int64 {
	f, _ := m[key].(float64)
	return int64(f)
}

func TestInvoiceLifecycleEndToEnd(t *testing.T) {
	s := MustRunMain(t, pinned("2026-01-01"))
	cli := s.mustClient("Acme GmbH", "EUR", "Europe/Berlin")
	ag := s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{
		"effective_from": "2026-01-01", "payment_terms": "net_30",
		"late_fee": map[string]any{"flat": 2500, "percent": "1.5"},
		"interest": map[string]any{"annual_rate": "12"}, "allocation": "charges_first",
	}})
	if ag["version"] != 1.0 {
		t.Fatalf("agreement %v", ag)
	}

	lines := []map[string]any{}
	for i := range 10 {
		lines = append(lines, map[string]any{"description": fmt.Sprintf("Design, day %d", i+1), "quantity": "1.5", "unit_amount": 6667, "tax_rate": "0"})
	}
	draft := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "lines": lines}})
	// 1.5 x 66.67 = 100.005 -> 100.01 per line, rounded once per line.
	if draft["status"] != "draft" || num(draft, "subtotal") != 100010 || num(draft, "total") != 100010 || draft["number"] != "" {
		t.Fatalf("draft %v", draft)
	}
	id := draft["id"].(string)
	if r := s.do(request{Method: "POST", Path: "/v1/invoices/" + id + "/payments", Key: testAdminKey, Body: map[string]any{"amount": 100}}); r.Status != 409 || r.ErrorCode() != "invoice_not_open" {
		t.Fatalf("payment on a draft: %d %s", r.Status, r.Body)
	}
	s.must(200, request{Method: "PATCH", Path: "/v1/invoices/" + id, Body: map[string]any{"lines": []map[string]any{
		{"description": "Website", "quantity": "1", "unit_amount": 100000, "tax_rate": "0"}}}})

	inv := s.must(200, request{Method: "POST", Path: "/v1/invoices/" + id + "/issue"})
	if inv["status"] != "open" || inv["number"] != "INV-2026-0001" || inv["issue_date"] != "2026-01-01" || inv["due_date"] != "2026-01-31" ||
		num(inv, "balance_due") != 100000 || inv["agreement"].(map[string]any)["version"] != 1.0 {
		t.Fatalf("issued %v", inv)
	}
	if r := s.do(request{Method: "POST", Path: "/v1/invoices/" + id + "/issue", Key: testAdminKey}); r.Status != 409 || r.ErrorCode() != "invoice_not_draft" {
		t.Fatalf("second issue: %d %s", r.Status, r.Body)
	}
	if r := s.do(request{Method: "PATCH", Path: "/v1/invoices/" + id, Key: testAdminKey, Body: map[string]any{"memo": "x"}}); r.Status != 409 || r.ErrorCode() != "invoice_not_draft" {
		t.Fatalf("patch issued: %d %s", r.Status, r.Body)
	}

	// A later agreement never changes the issued invoice.
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{"effective_from": "2026-01-01", "payment_terms": "net_15"}})
	again := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})
	if again["due_date"] != "2026-01-31" || again["agreement"].(map[string]any)["payment_terms"] != "net_30" {
		t.Fatalf("issued invoice changed: %v", again)
	}

	// Pay 400.00, then 700.00: 100.00 over becomes client credit.
	p1 := s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/payments", Body: map[string]any{"amount": 40000, "paid_on": "2026-01-01", "method": "bank_transfer", "reference": "SEPA 1"}})
	if p1["allocation"].(map[string]any)["principal"] != 40000.0 {
		t.Fatalf("payment 1 %v", p1)
	}
	p2 := s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/payments", Body: map[string]any{"amount": 70000, "paid_on": "2026-01-01"}})
	if p2["allocation"].(map[string]any)["credit"] != 10000.0 {
		t.Fatalf("payment 2 %v", p2)
	}
	paid := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})
	if paid["status"] != "paid" || num(paid, "balance_due") != 0 || num(paid, "amount_paid") != 100000 || num(paid, "credit_created") != 10000 || paid["paid_on"] != "2026-01-01" {
		t.Fatalf("paid %v", paid)
	}
	if r := s.do(request{Method: "POST", Path: "/v1/invoices/" + id + "/payments", Key: testAdminKey, Body: map[string]any{"amount": 100, "paid_on": "2026-01-02"}}); r.Status != 409 || r.ErrorCode() != "invoice_paid" {
		t.Fatalf("payment on paid: %d %s", r.Status, r.Body)
	}
	if r := s.do(request{Method: "POST", Path: "/v1/invoices/" + id + "/void", Key: testAdminKey}); r.Status != 409 || r.ErrorCode() != "invoice_paid" {
		t.Fatalf("void paid: %d %s", r.Status, r.Body)
	}

	// The next invoice takes the credit at issue, and shows it.
	next := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true,
		"lines": []map[string]any{{"description": "Hosting", "unit_amount": 30000}}}})
	if next["number"] != "INV-2026-0002" || num(next, "credit_applied") != 10000 || num(next, "balance_due") != 20000 || next["due_date"] != "2026-01-16" {
		t.Fatalf("next invoice %v", next)
	}

	// A partial refund of the first payment reopens the first invoice.
	ref := s.must(201, request{Method: "POST", Path: "/v1/payments/" + p1["id"].(string) + "/refunds", Body: map[string]any{"amount": 5000, "reason": "goodwill"}})
	if ref["reversal"].(map[string]any)["principal"] != 5000.0 {
		t.Fatalf("refund %v", ref)
	}
	reopened := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})
	if reopened["status"] != "open" || num(reopened, "balance_due") != 5000 || num(reopened, "amount_paid") != 95000 || reopened["paid_on"] != nil {
		t.Fatalf("after refund %v", reopened)
	}
	if r := s.do(request{Method: "POST", Path: "/v1/payments/" + p1["id"].(string) + "/refunds", Key: testAdminKey, Body: map[string]any{"amount": 40000}}); r.Status != 400 || r.ErrorCode() != "invalid" {
		t.Fatalf("refund larger than payment: %d %s", r.Status, r.Body)
	}

	// Lists, filters and the audit trail.
	list := s.must(200, request{Method: "GET", Path: "/v1/invoices?client_id=" + cli + "&status=open"})
	if got := len(list["data"].([]any)); got != 2 {
		t.Fatalf("open invoices %d", got)
	}
	events := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id + "/events"})
	var types []string
	for _, e := range events["data"].([]any) {
		ev := e.(map[string]any)
		types = append(types, ev["type"].(string))
		if ev["actor"] == "" {
			t.Fatalf("event without actor %v", ev)
		}
	}
	// payment.received: the receipt of the first, part payment.
	want := []string{"invoice.created", "invoice.updated", "invoice.issued", "payment.recorded", "payment.received", "payment.recorded", "invoice.paid", "payment.refunded"}
	if !reflect.DeepEqual(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}

	// Void an unpaid draft; mark an open one uncollectible.
	d2 := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "lines": []map[string]any{{"description": "X", "unit_amount": 100}}}})
	if v := s.must(200, request{Method: "POST", Path: "/v1/invoices/" + d2["id"].(string) + "/void"}); v["status"] != "void" || v["number"] != "" {
		t.Fatalf("void draft %v", v)
	}
	if u := s.must(200, request{Method: "POST", Path: "/v1/invoices/" + next["id"].(string) + "/mark_uncollectible"}); u["status"] != "uncollectible" {
		t.Fatalf("uncollectible %v", u)
	}
}

func TestNoticePeriod(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"))
	cli := s.mustClient("Slow Payer", "EUR", "UTC")
	// Without issued invoices a tougher version may start at once.
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{"effective_from": "2026-03-01", "payment_terms": "net_30"}})
	s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "lines": []map[string]any{{"description": "Work", "unit_amount": 100000}}}})

	before := s.snapshot()
	r := s.do(request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Key: testAdminKey, Body: map[string]any{
		"effective_from": "2026-03-15", "payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500}}})
	if r.Status != 422 || r.ErrorCode() != "notice_period" || !strings.Contains(string(r.Body), "2026-03-31") {
		t.Fatalf("too early: %d %s", r.Status, r.Body)
	}
	if after := s.snapshot(); !reflect.DeepEqual(before, after) {
		t.Fatal("a refused agreement wrote something")
	}
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{
		"effective_from": "2026-03-31", "payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500}}})
	// The notice is recorded for delivery (after the first version's terms).
	var n int
	if err := s.DB.SQL().QueryRow("SELECT COUNT(*) FROM outbox WHERE type = 'agreement.notice' AND client_id = ?", cli).Scan(&n); err != nil || n != 2 {
		t.Fatalf("notices in outbox: %d %v", n, err)
	}
	// Easing the terms needs no notice.
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{"effective_from": "2026-03-01", "payment_terms": "net_30"}})
	list := s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli + "/agreements"})
	if len(list["data"].([]any)) != 3 {
		t.Fatalf("versions %v", list)
	}
}

func TestInvoiceBadInput(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"))
	cli := s.mustClient("Acme", "EUR", "UTC")
	jpy := s.mustClient("Tokyo KK", "JPY", "Asia/Tokyo")
	open := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "lines": []map[string]any{{"description": "Work", "unit_amount": 100000}}}})
	void := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "lines": []map[string]any{{"description": "Work", "unit_amount": 100}}}})
	s.must(200, request{Method: "POST", Path: "/v1/invoices/" + void["id"].(string) + "/void"})
	pay := s.must(201, request{Method: "POST", Path: "/v1/invoices/" + open["id"].(string) + "/payments", Body: map[string]any{"amount": 1000, "paid_on": "2026-03-01"}})
	line := func(q string, unit any, tax string) map[string]any {
		return map[string]any{"client_id": cli, "lines": []map[string]any{{"description": "Work", "quantity": q, "unit_amount": unit, "tax_rate": tax}}}
	}
	inv := "/v1/invoices/" + open["id"].(string)
	cases := []refusal{
		{"negative quantity", "POST", "/v1/invoices", line("-1", 100, "0"), 400, "invalid", "lines[0].quantity"},
		{"zero quantity", "POST", "/v1/invoices", line("0", 100, "0"), 400, "invalid", "lines[0].quantity"},
		{"four decimals", "POST", "/v1/invoices", line("1.2345", 100, "0"), 400, "invalid", "lines[0].quantity"},
		{"zero amount", "POST", "/v1/invoices", line("1", 0, "0"), 400, "invalid", "lines[0].unit_amount"},
		{"negative amount", "POST", "/v1/invoices", line("1", -5, "0"), 400, "invalid", "lines[0].unit_amount"},
		{"float amount", "POST", "/v1/invoices", line("1", 10.5, "0"), 400, "invalid", "lines[0].unit_amount"},
		{"overflowing line", "POST", "/v1/invoices", line("999999999", int64(9e14), "0"), 400, "invalid", "lines[0]"},
		{"bad tax", "POST", "/v1/invoices", line("1", 100, "abc"), 400, "invalid", "lines[0].tax_rate"},
		{"no lines", "POST", "/v1/invoices", map[string]any{"client_id": cli, "lines": []any{}}, 400, "invalid", "lines"},
		{"other currency", "POST", "/v1/invoices", map[string]any{"client_id": jpy, "currency": "EUR", "lines": []map[string]any{{"description": "W", "unit_amount": 100}}}, 400, "invalid", "currency"},
		{"impossible date", "POST", "/v1/invoices", map[string]any{"client_id": cli, "issue_date": "2026-02-30", "lines": []map[string]any{{"description": "W", "unit_amount": 100}}}, 400, "invalid", "issue_date"},
		{"due before issue", "POST", "/v1/invoices", map[string]any{"client_id": cli, "issue_date": "2026-03-10", "due_date": "2026-03-01", "lines": []map[string]any{{"description": "W", "unit_amount": 100}}}, 400, "invalid", "due_date"},
		{"unknown client", "POST", "/v1/invoices", map[string]any{"client_id": "cli_nope", "lines": []map[string]any{{"description": "W", "unit_amount": 100}}}, 400, "invalid", "client_id"},
		{"unknown line field", "POST", "/v1/invoices", map[string]any{"client_id": cli, "lines": []map[string]any{{"description": "W", "unit_amount": 100, "discount": 5}}}, 400, "invalid", "lines[0].discount"},
		{"payment on void", "POST", "/v1/invoices/" + void["id"].(string) + "/payments", map[string]any{"amount": 100, "paid_on": "2026-03-01"}, 409, "invoice_void", ""},
		{"zero payment", "POST", inv + "/payments", map[string]any{"amount": 0, "paid_on": "2026-03-01"}, 400, "invalid", "amount"},
		{"future payment", "POST", inv + "/payments", map[string]any{"amount": 100, "paid_on": "2026-03-05"}, 400, "invalid", "paid_on"},
		{"bad method", "POST", inv + "/payments", map[string]any{"amount": 100, "paid_on": "2026-03-01", "method": "barter"}, 400, "invalid", "method"},
		{"refund larger than payment", "POST", "/v1/payments/" + pay["id"].(string) + "/refunds", map[string]any{"amount": 1001}, 400, "invalid", "amount"},
		{"refund unknown payment", "POST", "/v1/payments/pay_nope/refunds", map[string]any{"amount": 1}, 404, "not_found", ""},
		{"agreement bad terms", "POST", "/v1/clients/" + cli + "/agreements", map[string]any{"effective_from": "2026-04-01", "payment_terms": "net_121"}, 400, "invalid", "payment_terms"},
		{"agreement preset currency", "POST", "/v1/clients/" + jpy + "/agreements", map[string]any{"effective_from": "2026-04-01", "interest": map[string]any{"preset": "eu_late_payment"}}, 400, "invalid", "interest.preset"},
		{"agreement preset and rate", "POST", "/v1/clients/" + cli + "/agreements", map[string]any{"effective_from": "2026-04-01", "interest": map[string]any{"preset": "eu_late_payment", "annual_rate": "5"}}, 400, "invalid", "interest.preset"},
		{"agreement negative fee", "POST", "/v1/clients/" + cli + "/agreements", map[string]any{"effective_from": "2026-04-01", "late_fee": map[string]any{"flat": -1}}, 400, "invalid", "late_fee.flat"},
		{"agreement no date", "POST", "/v1/clients/" + cli + "/agreements", map[string]any{"payment_terms": "net_15"}, 400, "invalid", "effective_from"},
		{"waive without reason", "POST", inv + "/charges/chg_x/waive", map[string]any{"reason": ""}, 400, "invalid", "reason"},
		{"bad status filter", "GET", "/v1/invoices?status=late", nil, 400, "invalid", "status"},
		{"bad date filter", "GET", "/v1/invoices?due_from=yesterday", nil, 400, "invalid", "due_from"},
		{"missing invoice", "GET", "/v1/invoices/inv_nope", nil, 404, "not_found", ""},
	}
	s.mustRefuseAll(t, cases)
}

// TestConcurrentIssueNumbers issues 200 drafts at once: 200 distinct,
// consecutive numbers, on SQLite and on PostgreSQL.
func TestConcurrentIssueNumbers(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			s := MustRunMain(t, pinned("2026-05-01"), func(c *Config) { c.DatabaseURL = testdb.URL(t, dialect) })
			cli := s.mustClient("Many Invoices", "EUR", "UTC")
			ids := make([]string, 200)
			for i := range ids {
				d := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "lines": []map[string]any{{"description": "W", "unit_amount": 100}}}})
				ids[i] = d["id"].(string)
			}
			numbers := make([]string, len(ids))
			var wg sync.WaitGroup
			sem := make(chan struct{}, 32)
			for i, id := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					r := s.do(request{Method: "POST", Path: "/v1/invoices/" + id + "/issue", Key: testAdminKey})
					if r.Status != 200 {
						t.Errorf("issue %s: %d %s", id, r.Status, r.Body)
						return
					}
					numbers[i] = r.JSON(t)["number"].(string)
				}()
			}
			wg.Wait()
			sort.Strings(numbers)
			for i, n := range numbers {
				if want := fmt.Sprintf("INV-2026-%04d", i+1); n != want {
					t.Fatalf("number %d is %q, want %q", i, n, want)
				}
			}
		})
	}
}
