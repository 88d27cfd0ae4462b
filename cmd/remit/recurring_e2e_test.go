package main

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/remit/remit/internal/testdb"
)

// startAt starts the service on cfg's database with its clock pinned to at.
func startAt(t *testing.T, url string, at time.Time) *testServer {
	t.Helper()
	return MustRunMain(t, func(c *Config) { c.DatabaseURL, c.Now = url, at })
}

// recurringInvoices lists the client's invoices as "number issue_date due_date first line | memo's first line".
func recurringInvoices(s *testServer, clientID string) []string {
	s.tb.Helper()
	page := s.must(200, request{Method: "GET", Path: "/v1/invoices?limit=100&client_id=" + clientID})
	var out []string
	for _, v := range page["data"].([]any) {
		inv := v.(map[string]any)
		line := inv["lines"].([]any)[0].(map[string]any)
		out = append(out, fmt.Sprintf("%s %s %s %s | %s", inv["number"], inv["issue_date"], inv["due_date"], line["description"],
			strings.SplitN(inv["memo"].(string), "\n", 2)[0]))
	}
	sort.Strings(out)
	return out
}

// TestRecurringRetainer: a monthly retainer started on 2026-01-31 issues on
// 31 January and 28 February; the service is stopped from 10 March to 20
// May, and when it comes back one billing run issues the 31 March and 30
// April invoices once each with their own dates; they are ordinary
// invoices (numbered in the series, enforced); pause, resume and cancel.
func TestRecurringRetainer(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			url := testdb.URL(t, dialect)
			s := startAt(t, url, time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC))
			cli := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{
				"name": "Retainer GmbH", "email": "ap@retainer.example", "currency": "EUR", "timezone": "Europe/Berlin"}})["id"].(string)
			s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{
				"effective_from": "2026-01-01", "payment_terms": "net_14", "late_fee": map[string]any{"flat": 4000}}})
			s.refusedSaying(400, "invalid", request{Method: "POST", Path: "/v1/recurring_invoices", Body: map[string]any{
				"client_id": cli, "lines": []any{map[string]any{"description": "Retainer, {period}", "unit_amount": 150000}},
				"interval": "monthly", "anchor_day": 32, "start_date": "2026-01-31"}}, "anchor_day")
			rec := s.must(201, request{Method: "POST", Path: "/v1/recurring_invoices", Body: map[string]any{
				"client_id": cli, "lines": []any{map[string]any{"description": "Retainer, {period}", "unit_amount": 150000}},
				"interval": "monthly", "start_date": "2026-01-31"}})
			id := rec["id"].(string)
			if rec["next_issue_date"] != "2026-01-31" || rec["status"] != "active" {
				t.Fatalf("created %v", rec)
			}
			preview := s.must(200, request{Method: "GET", Path: "/v1/recurring_invoices/" + id + "/preview?count=4"})["data"].([]any)
			var dates []string
			for _, p := range preview {
				p := p.(map[string]any)
				dates = append(dates, fmt.Sprintf("%s/%s", p["issue_date"], p["due_date"]))
			}
			if got := strings.Join(dates, " "); got != "2026-01-31/2026-02-14 2026-02-28/2026-03-14 2026-03-31/2026-04-14 2026-04-30/2026-05-14" {
				t.Errorf("preview %s", got)
			}
			s.refusedSaying(400, "invalid", request{Method: "GET", Path: "/v1/recurring_invoices/" + id + "/preview?count=0"}, "count")

			for _, day := range []time.Time{time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC), time.Date(2026, 2, 28, 9, 0, 0, 0, time.UTC), time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)} {
				s.SetNow(day)
				s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
				s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
			}
			if got := len(recurringInvoices(s, cli)); got != 2 {
				t.Fatalf("%d invoices by 9 March, want 2", got)
			}
			// Stopped on 10 March, back on 20 May.
			s.stop()
			s = startAt(t, url, time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC))
			s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
			s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
			want := []string{
				"INV-2026-0001 2026-01-31 2026-02-14 Retainer, January 2026 | Period 1: 2026-01-31 to 2026-02-27.",
				"INV-2026-0002 2026-02-28 2026-03-14 Retainer, February 2026 | Period 2: 2026-02-28 to 2026-03-30.",
				"INV-2026-0003 2026-03-31 2026-04-14 Retainer, March 2026 | Period 3: 2026-03-31 to 2026-04-29.",
				"INV-2026-0004 2026-04-30 2026-05-14 Retainer, April 2026 | Period 4: 2026-04-30 to 2026-05-30.",
			}
			if got := recurringInvoices(s, cli); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("invoices\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			var issued []string
			for _, p := range s.must(200, request{Method: "GET", Path: "/v1/recurring_invoices/" + id + "/periods"})["data"].([]any) {
				p := p.(map[string]any)
				issued = append(issued, fmt.Sprintf("%v:%s..%s", p["index"], p["period_from"], p["period_to"]))
				if !strings.HasPrefix(p["invoice_id"].(string), "inv_") {
					t.Errorf("period %v", p)
				}
			}
			if got := strings.Join(issued, " "); got != "0:2026-01-31..2026-02-27 1:2026-02-28..2026-03-30 2:2026-03-31..2026-04-29 3:2026-04-30..2026-05-30" {
				t.Errorf("periods issued %s", got)
			}
			// Ordinary invoices: enforced like any other (the late fee of the agreement in force).
			page := s.must(200, request{Method: "GET", Path: "/v1/invoices?limit=100&client_id=" + cli})["data"].([]any)
			for _, v := range page {
				inv := v.(map[string]any)
				if inv["issue_date"] == "2026-03-31" {
					if inv["charges_total"] != float64(4000) || inv["balance_due"] != float64(154000) {
						t.Errorf("the 31 March invoice after the downtime: charges %v, balance %v", inv["charges_total"], inv["balance_due"])
					}
					evs := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + inv["id"].(string) + "/events?limit=100"})["data"].([]any)
					found := false
					for _, e := range evs {
						e := e.(map[string]any)
						if e["type"] == "recurring_invoice.issued" {
							d := e["data"].(map[string]any)
							found = d["period_from"] == "2026-03-31" && d["period_to"] == "2026-04-29" && d["recurring_invoice_id"] == id
						}
					}
					if !found {
						t.Errorf("no recurring_invoice.issued event with the period on the 31 March invoice: %v", evs)
					}
				}
			}

			// Pause on 20 May, resume on 15 July: 31 May and 30 June are skipped.
			s.must(200, request{Method: "POST", Path: "/v1/recurring_invoices/" + id + "/pause"})
			s.refusedSaying(409, "recurring_invoice_state", request{Method: "POST", Path: "/v1/recurring_invoices/" + id + "/pause"}, "active")
			s.SetNow(time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC))
			s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
			got := s.must(200, request{Method: "POST", Path: "/v1/recurring_invoices/" + id + "/resume"})
			if got["next_issue_date"] != "2026-07-31" || got["invoices_issued"] != float64(4) {
				t.Errorf("resumed %v", got)
			}
			s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
			patched := s.must(200, request{Method: "PATCH", Path: "/v1/recurring_invoices/" + id, Body: map[string]any{
				"lines": []any{map[string]any{"description": "Retainer (extended), {period}", "unit_amount": 200000}}, "count": 5}})
			if patched["count"] != float64(5) || patched["next_issue_date"] != "2026-07-31" {
				t.Errorf("patched %v", patched)
			}
			s.refusedSaying(400, "invalid", request{Method: "PATCH", Path: "/v1/recurring_invoices/" + id, Body: map[string]any{"interval": "weekly"}}, "interval")
			s.SetNow(time.Date(2026, 7, 31, 9, 0, 0, 0, time.UTC))
			s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
			got = s.must(200, request{Method: "GET", Path: "/v1/recurring_invoices/" + id})
			if got["status"] != "ended" || got["invoices_issued"] != float64(5) {
				t.Errorf("after its fifth invoice: %v", got)
			}
			list := recurringInvoices(s, cli)
			if len(list) != 5 || list[4] != "INV-2026-0005 2026-07-31 2026-08-14 Retainer (extended), July 2026 | Period 7: 2026-07-31 to 2026-08-30." {
				t.Errorf("invoices %s", strings.Join(list, "\n"))
			}
			s.refusedSaying(409, "recurring_invoice_state", request{Method: "POST", Path: "/v1/recurring_invoices/" + id + "/cancel"}, "ended")
			all := s.must(200, request{Method: "GET", Path: "/v1/recurring_invoices?status=ended&client_id=" + cli})
			if len(all["data"].([]any)) != 1 {
				t.Errorf("list %v", all)
			}
		})
	}
}

// TestRecurringTwoServersOnPostgres: two servers on one PostgreSQL database
// run billing at once, repeatedly; each period of each template is issued once.
func TestRecurringTwoServersOnPostgres(t *testing.T) {
	url := testdb.PostgresURL(t)
	a := startAt(t, url, time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC))
	cli := a.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{
		"name": "Twice GmbH", "email": "ap@twice.example", "currency": "EUR", "timezone": "Europe/Berlin"}})["id"].(string)
	for i := range 4 {
		a.must(201, request{Method: "POST", Path: "/v1/recurring_invoices", Body: map[string]any{
			"client_id": cli, "lines": []any{map[string]any{"description": fmt.Sprintf("Hosting %d, {period}", i), "unit_amount": 5000}},
			"interval": "monthly", "start_date": "2026-01-31"}})
	}
	later := time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC)
	a.SetNow(later)
	b := startAt(t, url, later)
	var wg sync.WaitGroup
	for _, s := range []*testServer{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := s.do(request{Method: "POST", Path: "/v1/billing/run", Key: testAdminKey}); r.Status != 200 {
				t.Errorf("billing run: %d %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	list := recurringInvoices(a, cli)
	seen := map[string]int{}
	for _, l := range list {
		seen[strings.SplitN(l, " | ", 2)[0][len("INV-2026-0000 "):]]++
	}
	if len(list) != 16 || len(seen) != 16 {
		t.Errorf("%d invoices, %d distinct (template, period):\n%s", len(list), len(seen), strings.Join(list, "\n"))
	}
}
