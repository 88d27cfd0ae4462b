package main

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/remit/remit/billing"
	"github.com/remit/remit/domain"
	"github.com/remit/remit/internal/testdb"
	"github.com/remit/remit/store"
)

// setDay moves the service clock to noon UTC of day.
func (s *testServer) setDay(day string) {
	s.tb.Helper()
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		s.tb.Fatal(err)
	}
	s.SetNow(t.Add(12 * time.Hour))
}

// sweep runs the enforcement sweep over HTTP and returns the run.
func (s *testServer) sweep() map[string]any {
	s.tb.Helper()
	return s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
}

// chargeList is an invoice's charges as "key posted_on amount" lines.
func (s *testServer) chargeList(invoiceID string) []string {
	s.tb.Helper()
	var out []string
	for _, c := range s.must(200, request{Method: "GET", Path: "/v1/invoices/" + invoiceID + "/charges"})["data"].([]any) {
		ch := c.(map[string]any)
		out = append(out, fmt.Sprintf("%s %s %d", ch["key"], ch["posted_on"], num(ch, "amount")))
	}
	return out
}

// overdueInvoice creates a client with the agreement and issues one invoice
// of total minor units on issued.
func (s *testServer) overdueInvoice(currency string, total int64, issued string, agreement map[string]any) string {
	s.tb.Helper()
	cli := s.mustClient(fmt.Sprintf("Client %s %d", currency, total), currency, "UTC")
	agreement["effective_from"] = "2025-01-01"
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: agreement})
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "issue_date": issued,
		"lines": []map[string]any{{"description": "Services", "unit_amount": total}}}})
	return inv["id"].(string)
}

// TestWorkedExample1 is ENFORCEMENT.md 10.1: a net-30 invoice and a one-time fee.
func TestWorkedExample1(t *testing.T) {
	s := MustRunMain(t, pinned("2026-01-01"))
	id := s.overdueInvoice("EUR", 100000, "2026-01-01", map[string]any{"payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500, "percent": "1.5"}})
	if inv := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id}); inv["due_date"] != "2026-01-31" {
		t.Fatalf("due %v", inv["due_date"])
	}
	s.setDay("2026-01-31")
	s.sweep()
	if got := s.chargeList(id); len(got) != 0 {
		t.Fatalf("charges on the due date: %v", got)
	}
	s.setDay("2026-02-01")
	run := s.sweep()
	if run["posted"].(map[string]any)["late_fee"] != 1.0 {
		t.Fatalf("run %v", run)
	}
	s.sweep()
	s.setDay("2026-02-20")
	s.sweep()
	if got, want := s.chargeList(id), []string{"late_fee:1 2026-02-01 4000"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("charges %v, want %v", got, want)
	}
	inv := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})
	if num(inv, "balance_due") != 104000 || num(inv, "charges_total") != 4000 || inv["days_overdue"] != 20.0 {
		t.Fatalf("invoice %v", inv)
	}
}

// TestWorkedExamples2And3 are ENFORCEMENT.md 10.2 and 10.3: simple interest
// 12 % act/365 on 1,000.00 due 2026-01-31, without and with a payment.
func TestWorkedExamples2And3(t *testing.T) {
	s := MustRunMain(t, pinned("2025-12-01"))
	interest := map[string]any{"annual_rate": "12"}
	unpaid := s.overdueInvoice("EUR", 100000, "2026-01-01", map[string]any{"payment_terms": "net_30", "interest": interest})
	partial := s.overdueInvoice("EUR", 100000, "2026-01-01", map[string]any{"payment_terms": "net_30", "interest": interest, "allocation": "principal_first"})

	for day := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC); !day.After(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)); day = day.AddDate(0, 0, 1) {
		s.setDay(day.Format(time.DateOnly))
		if day.Format(time.DateOnly) == "2026-02-10" {
			s.must(201, request{Method: "POST", Path: "/v1/invoices/" + partial + "/payments", Body: map[string]any{"amount": 40000, "paid_on": "2026-02-10"}})
		}
		s.sweep()
	}
	if got, want := s.chargeList(unpaid), []string{"interest:2026-02 2026-03-01 921", "interest:2026-03 2026-04-01 1019"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("example 2: %v, want %v", got, want)
	}
	// The posting's breakdown: one span of 28 days, its exact interest a
	// fraction of minor units (100000 x 12 % x 28 / 365 = 67200/73).
	feb := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + unpaid + "/charges"})["data"].([]any)[0].(map[string]any)
	wantSpan := []any{map[string]any{"from": "2026-02-01", "to": "2026-02-28", "days": 28.0, "base": 100000.0, "annual_rate": "12",
		"day_count": "act/365", "amount_exact": "67200/73", "amount_minor": 921.0}}
	if !reflect.DeepEqual(feb["breakdown"], wantSpan) {
		t.Fatalf("breakdown %v, want %v", feb["breakdown"], wantSpan)
	}
	if got := s.chargeList(partial); len(got) == 0 || got[0] != "interest:2026-02 2026-03-01 684" {
		t.Fatalf("example 3: %v", got)
	}
	q := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + unpaid + "/accrual?as_of=2026-04-01"})
	if num(q, "principal_outstanding") != 100000 || num(q, "interest_posted_outstanding") != 1940 || num(q, "payoff") != 101940+num(q, "interest_accrued_unposted") {
		t.Fatalf("quote %v", q)
	}
}

// TestCatchUpEqualsDailySweeps: a service down for 40 days posts what those
// days owe, as if it had swept every day.
func TestCatchUpEqualsDailySweeps(t *testing.T) {
	agreement := func() map[string]any {
		return map[string]any{"payment_terms": "net_15", "late_fee": map[string]any{"flat": 1000, "percent": "2", "repeat_every_days": 7, "max_count": 4},
			"interest": map[string]any{"annual_rate": "9.5", "day_count": "act/360"}}
	}
	daily := MustRunMain(t, pinned("2026-01-10"))
	gap := MustRunMain(t, pinned("2026-01-10"))
	a := daily.overdueInvoice("EUR", 250000, "2026-01-10", agreement())
	b := gap.overdueInvoice("EUR", 250000, "2026-01-10", agreement())
	start := time.Date(2026, 1, 26, 0, 0, 0, 0, time.UTC)
	for i := range 40 {
		daily.setDay(start.AddDate(0, 0, i).Format(time.DateOnly))
		daily.sweep()
	}
	gap.setDay(start.AddDate(0, 0, 39).Format(time.DateOnly))
	gap.sweep()
	got, want := gap.chargeList(b), daily.chargeList(a)
	if len(want) < 5 || !reflect.DeepEqual(got, want) {
		t.Fatalf("catch-up %v\ndaily    %v", got, want)
	}
}

// TestWaivedFeeIsNeverReposted: a waiver stands across later sweeps.
func TestWaivedFeeIsNeverReposted(t *testing.T) {
	s := MustRunMain(t, pinned("2026-01-01"))
	id := s.overdueInvoice("EUR", 100000, "2026-01-01", map[string]any{"payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500}})
	s.setDay("2026-02-01")
	s.sweep()
	charges := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id + "/charges"})["data"].([]any)
	chID := charges[0].(map[string]any)["id"].(string)
	if r := s.do(request{Method: "POST", Path: "/v1/invoices/" + id + "/charges/" + chID + "/waive", Key: testAdminKey, Body: map[string]any{}}); r.Status != 400 {
		t.Fatalf("waive without a reason: %d", r.Status)
	}
	w := s.must(200, request{Method: "POST", Path: "/v1/invoices/" + id + "/charges/" + chID + "/waive", Body: map[string]any{"reason": "first time, goodwill"}})
	if w["waived"] != true || num(w, "waived_amount") != 2500 {
		t.Fatalf("waived %v", w)
	}
	for _, d := range []string{"2026-02-01", "2026-02-02", "2026-03-01"} {
		s.setDay(d)
		s.sweep()
	}
	if got := s.chargeList(id); len(got) != 1 {
		t.Fatalf("charges after waiver %v", got)
	}
	inv := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})
	if num(inv, "charges_total") != 0 || num(inv, "balance_due") != 100000 {
		t.Fatalf("invoice after waiver %v", inv)
	}
}

// TestOverdueInEachClientsTimeZone: the same due date goes overdue on the
// client's own calendar day, and DST never moves a date.
func TestOverdueInEachClientsTimeZone(t *testing.T) {
	s := MustRunMain(t, pinned("2026-01-01"))
	terms := map[string]any{"effective_from": "2025-01-01", "payment_terms": "net_30", "late_fee": map[string]any{"flat": 1000}}
	ids := map[string]string{}
	for _, tz := range []string{"Pacific/Auckland", "America/Los_Angeles"} {
		cli := s.mustClient("Client in "+tz, "USD", tz)
		s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: terms})
		inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "issue_date": "2026-01-01",
			"lines": []map[string]any{{"description": "W", "unit_amount": 50000}}}})
		if inv["due_date"] != "2026-01-31" {
			t.Fatalf("%s due %v", tz, inv["due_date"])
		}
		ids[tz] = inv["id"].(string)
	}
	// 2026-01-31T12:00Z is 1 February 01:00 in Auckland, 31 January 04:00 in Los Angeles.
	s.SetNow(time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC))
	s.sweep()
	if len(s.chargeList(ids["Pacific/Auckland"])) != 1 || len(s.chargeList(ids["America/Los_Angeles"])) != 0 {
		t.Fatalf("Auckland %v, Los Angeles %v", s.chargeList(ids["Pacific/Auckland"]), s.chargeList(ids["America/Los_Angeles"]))
	}
	s.SetNow(time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)) // 1 February 00:00 in Los Angeles
	s.sweep()
	if got := s.chargeList(ids["America/Los_Angeles"]); len(got) != 1 || got[0] != "late_fee:1 2026-02-01 1000" {
		t.Fatalf("Los Angeles %v", got)
	}

	// Across the spring DST change (8 March in Los Angeles): net_15 from 1 March is due 16 March.
	cli := s.mustClient("DST client", "USD", "America/Los_Angeles")
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{"effective_from": "2025-01-01", "payment_terms": "net_15", "late_fee": map[string]any{"flat": 1000}}})
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "issue_date": "2026-03-01",
		"lines": []map[string]any{{"description": "W", "unit_amount": 50000}}}})
	if inv["due_date"] != "2026-03-16" {
		t.Fatalf("DST due date %v", inv["due_date"])
	}
	id := inv["id"].(string)
	s.SetNow(time.Date(2026, 3, 17, 6, 59, 0, 0, time.UTC)) // 16 March 23:59 PDT
	s.sweep()
	if len(s.chargeList(id)) != 0 {
		t.Fatal("fee before day 1 overdue")
	}
	s.SetNow(time.Date(2026, 3, 17, 7, 0, 0, 0, time.UTC)) // 17 March 00:00 PDT
	s.sweep()
	if got := s.chargeList(id); len(got) != 1 || got[0] != "late_fee:1 2026-03-17 1000" {
		t.Fatalf("DST fee %v", got)
	}
}

// TestRemindersSuspensionAndReinstatement: reminders once each, a warning
// before suspension, suspension, and reinstatement on full payment; all in
// the outbox for webhooks.
func TestRemindersSuspensionAndReinstatement(t *testing.T) {
	s := MustRunMain(t, pinned("2026-01-01"))
	id := s.overdueInvoice("EUR", 100000, "2026-01-01", map[string]any{"payment_terms": "net_30",
		"reminder_offsets": []int{-3, 0, 7}, "suspension": map[string]any{"after_days": 14, "warning_days": 5}})
	cli := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})["client_id"].(string)
	for day := time.Date(2026, 1, 26, 0, 0, 0, 0, time.UTC); !day.After(time.Date(2026, 2, 16, 0, 0, 0, 0, time.UTC)); day = day.AddDate(0, 0, 1) {
		s.setDay(day.Format(time.DateOnly))
		s.sweep()
		s.sweep()
	}
	outbox := func(typ string) int {
		var n int
		if err := s.DB.SQL().QueryRow("SELECT COUNT(*) FROM outbox WHERE type = ? AND client_id = ?", typ, cli).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if outbox("invoice.reminder") != 3 || outbox("invoice.overdue") != 1 || outbox("client.suspension_warning") != 1 || outbox("client.suspended") != 1 {
		t.Fatalf("reminders %d overdue %d warnings %d suspended %d", outbox("invoice.reminder"), outbox("invoice.overdue"), outbox("client.suspension_warning"), outbox("client.suspended"))
	}
	if c := s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli}); c["status"] != "suspended" {
		t.Fatalf("client %v", c["status"])
	}
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/payments", Body: map[string]any{"amount": 100000, "paid_on": "2026-02-16"}})
	if c := s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli}); c["status"] != "active" || outbox("client.reinstated") != 1 {
		t.Fatalf("after payment: client %v, reinstated %d", c["status"], outbox("client.reinstated"))
	}
}

// TestSweepCrashHalfWayThenRerun: a sweep cancelled between pages, then run
// again, leaves exactly what one clean run leaves.
func TestSweepCrashHalfWayThenRerun(t *testing.T) {
	build := func() *testServer {
		s := MustRunMain(t, pinned("2026-01-01"))
		for i := range 12 {
			s.overdueInvoice("EUR", int64(10000*(i+1)), "2026-01-01", map[string]any{"payment_terms": "net_30",
				"late_fee": map[string]any{"flat": 500, "percent": "1"}, "interest": map[string]any{"annual_rate": "8"}})
		}
		s.setDay("2026-03-02")
		return s
	}
	ledger := func(s *testServer) []string {
		rows, err := s.DB.SQL().Query("SELECT i.number, c.key, c.amount FROM charges c JOIN invoices i ON i.id = c.invoice_id ORDER BY i.number, c.key")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var n, k string
			var a int64
			_ = rows.Scan(&n, &k, &a)
			out = append(out, fmt.Sprintf("%s %s %d", n, k, a))
		}
		return out
	}
	clean := build()
	clean.sweep()

	crashed := build()
	ctx, cancel := context.WithCancel(context.Background())
	var pages int
	sw := &billing.Sweeper{Store: cancelAfter{SweepService: store.NewSweepService(crashed.DB), pages: &pages, after: 1, cancel: cancel},
		Now: crashed.Now, Logger: crashed.Logger, PageSize: 5}
	if _, err := sw.Sweep(ctx, "test"); err == nil {
		t.Fatal("the interrupted sweep reported no error")
	}
	if half := ledger(crashed); len(half) == 0 || len(half) >= len(ledger(clean)) {
		t.Fatalf("the interruption did not stop half way: %d of %d charges", len(half), len(ledger(clean)))
	}
	crashed.sweep()
	if got, want := ledger(crashed), ledger(clean); !reflect.DeepEqual(got, want) {
		t.Fatalf("after rerun\n%v\nclean\n%v", got, want)
	}
}

// cancelAfter cancels the sweep's context after a number of pages, as a
// crash between pages would stop it.
type cancelAfter struct {
	*store.SweepService
	pages  *int
	after  int
	cancel context.CancelFunc
}

func (c cancelAfter) SweepPage(ctx context.Context, now time.Time, after string, limit int) (string, domain.SweepReport, error) {
	last, r, err := c.SweepService.SweepPage(ctx, now, after, limit)
	*c.pages++
	if *c.pages == c.after {
		c.cancel()
	}
	return last, r, err
}

// TestConcurrentSweepersOnPostgres: three sweepers on one PostgreSQL
// database post each charge once.
func TestConcurrentSweepersOnPostgres(t *testing.T) {
	url := testdb.PostgresURL(t)
	s := MustRunMain(t, pinned("2026-01-01"), func(c *Config) { c.DatabaseURL = url })
	for i := range 30 {
		s.overdueInvoice("EUR", int64(5000*(i+1)), "2026-01-01", map[string]any{"payment_terms": "net_30",
			"late_fee": map[string]any{"flat": 700}, "interest": map[string]any{"annual_rate": "10"}})
	}
	now := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	var examined [3]int
	for i := range 3 {
		db, err := store.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		db.Now = func() time.Time { return now }
		sw := &billing.Sweeper{Store: store.NewSweepService(db), Now: db.Now, Logger: s.Logger, PageSize: 4}
		wg.Go(func() {
			run, err := sw.Sweep(context.Background(), "test")
			if err != nil {
				t.Error(err)
				return
			}
			examined[i] = run.InvoicesExamined
		})
	}
	wg.Wait()
	// The sweepers share the invoices (each page locks its own and passes
	// over the others'): together they examine each once.
	if examined[0]+examined[1]+examined[2] != 30 {
		t.Errorf("the sweepers examined %v invoices; want 30 in all", examined)
	}
	t.Logf("invoices examined by each sweeper: %v", examined)
	var charges, events, distinct int
	q := s.DB.SQL()
	_ = q.QueryRow("SELECT COUNT(*) FROM charges").Scan(&charges)
	_ = q.QueryRow("SELECT COUNT(*) FROM outbox WHERE type = 'charge.posted'").Scan(&events)
	_ = q.QueryRow("SELECT COUNT(*) FROM (SELECT DISTINCT invoice_id, key FROM charges) x").Scan(&distinct)
	// Each invoice: one fee (1 Feb) and February's interest (posted 1 March).
	if charges != 60 || distinct != 60 || events != 60 {
		t.Fatalf("charges %d, distinct %d, charge.posted events %d; want 60 each", charges, distinct, events)
	}
}

// putRates loads a reference rate series through the API.
func (s *testServer) putRates(series string, rows ...[2]string) {
	s.tb.Helper()
	var rates []map[string]string
	for _, r := range rows {
		rates = append(rates, map[string]string{"effective_from": r[0], "rate": r[1]})
	}
	s.must(200, request{Method: "PUT", Path: "/v1/reference_rates/" + series, Body: map[string]any{"rates": rates}})
}

// payInFull pays an invoice's payoff on day and returns the paid invoice.
func (s *testServer) payInFull(id, day string) map[string]any {
	s.tb.Helper()
	s.setDay(day)
	q := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id + "/accrual?as_of=" + day})
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/payments", Body: map[string]any{"amount": num(q, "payoff"), "paid_on": day}})
	inv := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})
	if inv["status"] != "paid" || num(inv, "balance_due") != 0 {
		s.tb.Fatalf("paying the payoff %d did not settle %s: %v", num(q, "payoff"), id, inv)
	}
	return inv
}

// TestWorkedExample4EUPreset is ENFORCEMENT.md 10.4.
func TestWorkedExample4EUPreset(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"))
	s.putRates("ECB_MRO", [2]string{"2025-06-11", "2.15"}, [2]string{"2026-06-15", "2.00"})
	id := s.overdueInvoice("EUR", 500000, "2026-03-01", map[string]any{"payment_terms": "net_30", "interest": map[string]any{"preset": "eu_late_payment"}})
	for _, d := range []string{"2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01", "2026-08-01"} {
		s.setDay(d)
		s.sweep()
	}
	s.payInFull(id, "2026-08-15")
	want := []string{"compensation 2026-04-01 4000", "interest:2026-04 2026-05-01 4171", "interest:2026-05 2026-06-01 4310",
		"interest:2026-06 2026-07-01 4171", "interest:2026-07 2026-08-01 4247", "interest:2026-08 2026-08-15 2055"}
	if got := s.chargeList(id); !reflect.DeepEqual(got, want) {
		t.Fatalf("charges\n%v\nwant\n%v", got, want)
	}
}

// TestWorkedExample5UKPreset is ENFORCEMENT.md 10.5.
func TestWorkedExample5UKPreset(t *testing.T) {
	s := MustRunMain(t, pinned("2026-01-29"))
	s.putRates("BOE_BASE", [2]string{"2025-08-07", "4.00"})
	id := s.overdueInvoice("GBP", 250000, "2026-01-29", map[string]any{"payment_terms": "net_30", "interest": map[string]any{"preset": "uk_late_payment"}})
	if inv := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id}); inv["due_date"] != "2026-02-28" {
		t.Fatalf("due %v", inv["due_date"])
	}
	for _, d := range []string{"2026-03-01", "2026-04-01"} {
		s.setDay(d)
		s.sweep()
	}
	s.payInFull(id, "2026-04-10")
	want := []string{"compensation 2026-03-01 7000", "interest:2026-03 2026-04-01 2548", "interest:2026-04 2026-04-10 822"}
	if got := s.chargeList(id); !reflect.DeepEqual(got, want) {
		t.Fatalf("charges\n%v\nwant\n%v", got, want)
	}
}

// TestWorkedExample6Article395 is ENFORCEMENT.md 10.6, and a sweep that
// lacks a rate skips the invoice and says which rate.
func TestWorkedExample6Article395(t *testing.T) {
	s := MustRunMain(t, pinned("2025-12-16"))
	id := s.overdueInvoice("RUB", 10000000, "2025-12-16", map[string]any{"payment_terms": "net_30", "interest": map[string]any{"preset": "ru_civil_code_395"}})
	s.setDay("2026-02-01")
	run := s.sweep()
	skipped := fmt.Sprint(run["skipped"])
	if len(s.chargeList(id)) != 0 || !strings.Contains(skipped, "CBR_KEY") || !strings.Contains(skipped, id) {
		t.Fatalf("without CBR_KEY the sweep must skip and say so: %v", run)
	}
	s.putRates("CBR_KEY", [2]string{"2025-10-27", "16.5"}, [2]string{"2026-02-14", "16.0"})
	for _, d := range []string{"2026-02-01", "2026-03-01"} {
		s.setDay(d)
		s.sweep()
	}
	want := []string{"interest:2026-01 2026-02-01 72329", "interest:2026-02 2026-03-01 124521"}
	if got := s.chargeList(id); !reflect.DeepEqual(got, want) {
		t.Fatalf("charges\n%v\nwant\n%v", got, want)
	}
	runs := s.must(200, request{Method: "GET", Path: "/v1/billing/runs"})
	if len(runs["data"].([]any)) != 3 {
		t.Fatalf("billing runs %v", runs)
	}
}

// TestProcessingAndDisputePauseEnforcement: a payment in processing, and a
// dispute, hold fees, interest and reminders until they resolve.
func TestProcessingAndDisputePauseEnforcement(t *testing.T) {
	s := MustRunMain(t, pinned("2026-01-01"), withStripe("http://127.0.0.1:9"))
	terms := map[string]any{"payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500}, "reminder_offsets": []int{0, 7}}
	processing := s.overdueInvoice("EUR", 100000, "2026-01-01", terms)
	disputed := s.overdueInvoice("EUR", 80000, "2026-01-01", terms)
	day := time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC)
	pi := func(id, inv, status string, amount int64) map[string]any {
		return map[string]any{"id": id, "object": "payment_intent", "amount": amount, "amount_received": amount, "currency": "eur",
			"status": status, "metadata": map[string]any{"remit_invoice_id": inv}}
	}
	for _, ev := range [][]byte{
		stripeEvent("evt_p1", "payment_intent.processing", day, pi("pi_p1", processing, "processing", 100000)),
		// A partial card payment on the other invoice, then a dispute of it.
		stripeEvent("evt_d1", "payment_intent.succeeded", day, pi("pi_d1", disputed, "succeeded", 10000)),
		stripeEvent("evt_d2", "charge.dispute.created", day.Add(time.Hour), map[string]any{"id": "dp_d1", "object": "dispute",
			"charge": "ch_d1", "payment_intent": "pi_d1", "amount": 10000, "currency": "eur", "status": "needs_response"}),
	} {
		if r := s.webhook(ev); r.Status != 200 {
			t.Fatalf("webhook %d %s", r.Status, r.Body)
		}
	}
	for _, d := range []string{"2026-01-31", "2026-02-01", "2026-02-07"} {
		s.setDay(d)
		run := s.sweep()
		if !strings.Contains(fmt.Sprint(run["skipped"]), "paused") {
			t.Fatalf("run on %s skipped nothing: %v", d, run)
		}
	}
	if len(s.chargeList(processing)) != 0 || len(s.chargeList(disputed)) != 0 {
		t.Fatalf("charges while paused: %v %v", s.chargeList(processing), s.chargeList(disputed))
	}
	if n := s.count("outbox", "type = 'invoice.reminder'"); n != 0 {
		t.Fatalf("%d reminders while paused", n)
	}
	// The card payment fails and the dispute is won: enforcement resumes and catches up.
	for _, ev := range [][]byte{
		stripeEvent("evt_p2", "payment_intent.payment_failed", day.Add(2*time.Hour), pi("pi_p1", processing, "requires_payment_method", 100000)),
		stripeEvent("evt_d3", "charge.dispute.closed", day.Add(3*time.Hour), map[string]any{"id": "dp_d1", "object": "dispute",
			"charge": "ch_d1", "payment_intent": "pi_d1", "amount": 10000, "currency": "eur", "status": "won"}),
	} {
		if r := s.webhook(ev); r.Status != 200 {
			t.Fatalf("webhook %d %s", r.Status, r.Body)
		}
	}
	s.sweep()
	if got := s.chargeList(processing); len(got) != 1 || got[0] != "late_fee:1 2026-02-01 2500" {
		t.Fatalf("after the failure: %v", got)
	}
	if got := s.chargeList(disputed); len(got) != 1 || got[0] != "late_fee:1 2026-02-01 2500" {
		t.Fatalf("after the dispute closed: %v", got)
	}
}

// TestSweepPagesPassOverMovedInvoices: pages follow (next_action_on, id), so
// an invoice whose next action day the page moves to tomorrow (a daily fee)
// comes round again in the same sweep while tomorrow has already begun in
// the latest time zone; it is passed over, counted once and charged once.
func TestSweepPagesPassOverMovedInvoices(t *testing.T) {
	s := MustRunMain(t, pinned("2026-01-01"))
	var ids []string
	for i := range 3 {
		ids = append(ids, s.overdueInvoice("EUR", int64(10000*(i+1)), "2026-01-01", map[string]any{"payment_terms": "net_30",
			"late_fee": map[string]any{"flat": 100, "repeat_every_days": 1, "max_count": 5}}))
	}
	s.setDay("2026-02-01") // noon UTC: 2 February has begun at UTC+14
	var pages int
	sw := &billing.Sweeper{Store: countPages{SweepService: store.NewSweepService(s.DB), pages: &pages}, Now: s.Now, Logger: s.Logger, PageSize: 1}
	run, err := sw.Sweep(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	// Three pages of work, three pages that find the same invoices moved to
	// 2 February and pass over them, and the empty page that ends the sweep.
	if run.InvoicesExamined != 3 || run.Posted[domain.ChargeLateFee] != 3 || pages != 7 {
		t.Fatalf("examined %d, posted %v, pages %d", run.InvoicesExamined, run.Posted, pages)
	}
	for _, id := range ids {
		if got := s.chargeList(id); len(got) != 1 || got[0] != "late_fee:1 2026-02-01 100" {
			t.Fatalf("%s: %v", id, got)
		}
	}
	s.setDay("2026-02-02")
	if run, err = sw.Sweep(context.Background(), "test"); err != nil || run.InvoicesExamined != 3 || run.Posted[domain.ChargeLateFee] != 3 {
		t.Fatalf("next day: %+v %v", run, err)
	}
}

// countPages counts the pages a sweep asks for.
type countPages struct {
	*store.SweepService
	pages *int
}

func (c countPages) SweepPage(ctx context.Context, now time.Time, after string, limit int) (string, domain.SweepReport, error) {
	*c.pages++
	return c.SweepService.SweepPage(ctx, now, after, limit)
}
