package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/remit/remit/billing"
	"github.com/remit/remit/domain"
	"github.com/remit/remit/internal/ledgercheck"
	"github.com/remit/remit/internal/testdb"
	"github.com/remit/remit/store"
)

// exec runs SQL straight on the database, bypassing the API (to plant rows
// the API would refuse).
func (s *testServer) exec(query string) {
	s.tb.Helper()
	if _, err := s.DB.SQL().Exec(query); err != nil {
		s.tb.Fatalf("%s: %v", query, err)
	}
}

// skippedBy returns the run's skipped invoices as "kind reason" by invoice id.
func skippedBy(run map[string]any) map[string]string {
	out := map[string]string{}
	list, _ := run["skipped"].([]any)
	for _, v := range list {
		sk := v.(map[string]any)
		out[sk["invoice_id"].(string)] = fmt.Sprint(sk["kind"], " ", sk["reason"])
	}
	return out
}

// TestSweepIsolatesBadInvoices: invoices the sweep cannot process (rows
// planted with SQL: an absurd due date, unreadable terms, an unknown time
// zone, charges the database refuses) are skipped, named with their error
// in the run log and counted in a metric; every other invoice is swept, and
// the bad ones are tried again next run (issue 14, item 4).
func TestSweepIsolatesBadInvoices(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			s := MustRunMain(t, pinned("2026-01-01"), func(c *Config) { c.DatabaseURL = testdb.URL(t, dialect) })
			invoice := func(total int64) string {
				return s.overdueInvoice("EUR", total, "2026-01-01", map[string]any{"payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500}})
			}
			var good []string
			for i := range 3 {
				good = append(good, invoice(int64(10000*(i+1))))
			}
			dueDate, terms, zone, refused := invoice(50001), invoice(50002), invoice(50003), invoice(50004)
			good = append(good, invoice(60000))
			// Due on 1 January of year 1 with a fee every day: 739,000 fees.
			ancient := s.overdueInvoice("EUR", 50005, "2026-01-01", map[string]any{"payment_terms": "net_30",
				"late_fee": map[string]any{"flat": 100, "repeat_every_days": 1}})
			s.exec("UPDATE invoices SET due_date = '0001-01-01', next_action_on = '0001-01-02' WHERE id = '" + ancient + "'")
			s.exec("UPDATE invoices SET due_date = '10000-01-30' WHERE id = '" + dueDate + "'")
			s.exec("UPDATE invoices SET agreement = '{\"late_fee\": 12' WHERE id = '" + terms + "'")
			s.exec("UPDATE invoices SET timezone = 'Mars/Olympus_Mons' WHERE id = '" + zone + "'")
			// The database refuses the invoice's events, which are written
			// after its charges: the charges must be rolled back with them.
			if dialect == "postgres" {
				s.exec(`CREATE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
					IF NEW.invoice_id = '` + refused + `' THEN RAISE EXCEPTION 'planted: events refused'; END IF; RETURN NEW; END $$`)
				s.exec("CREATE TRIGGER refuse_events BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_events()")
			} else {
				s.exec("CREATE TRIGGER refuse_events BEFORE INSERT ON events WHEN NEW.invoice_id = '" + refused +
					"' BEGIN SELECT RAISE(ABORT, 'planted: events refused'); END")
			}

			s.setDay("2026-02-01")
			start := time.Now()
			run := s.sweep()
			t.Logf("the sweep took %v", time.Since(start)) // measured, not asserted: no timed assertions in tests
			if run["error"] != "" {
				t.Fatalf("the run failed: %v", run)
			}
			for _, id := range good {
				if got := s.chargeList(id); len(got) != 1 || got[0] != "late_fee:1 2026-02-01 2500" {
					t.Fatalf("good invoice %s: %v (run %v)", id, got, run)
				}
			}
			skipped := skippedBy(run)
			for id, want := range map[string]string{dueDate: "failed", terms: "failed", zone: "Mars/Olympus_Mons", refused: "planted: events refused",
				ancient: "0001-01-01"} {
				if !strings.HasPrefix(skipped[id], "failed ") || !strings.Contains(skipped[id], want) {
					t.Errorf("%s skipped as %q, want failed naming %q", id, skipped[id], want)
				}
				if got := s.chargeList(id); len(got) != 0 {
					t.Errorf("bad invoice %s got charges %v", id, got)
				}
			}
			if len(skipped) != 5 || num(run, "invoices_examined") != 9 || s.count("outbox", "type = 'charge.posted'") != 4 {
				t.Fatalf("skipped %v, run %v", skipped, run)
			}
			_, lines := scrape(t, s.URL()+"/metrics", testAdminKey)
			requireLines(t, lines, `remit_sweep_invoices_skipped_total{kind="failed"} 5`)

			// Once the database takes its rows, the next run sweeps it.
			s.exec("DROP TRIGGER refuse_events" + map[bool]string{true: " ON events", false: ""}[dialect == "postgres"])
			run = s.sweep()
			if got := s.chargeList(refused); len(got) != 1 || got[0] != "late_fee:1 2026-02-01 2500" {
				t.Fatalf("the refused invoice next run: %v (run %v)", got, run)
			}
			if skipped := skippedBy(run); len(skipped) != 4 || skipped[refused] != "" {
				t.Fatalf("second run skipped %v", skipped)
			}
			_, lines = scrape(t, s.URL()+"/metrics", testAdminKey)
			requireLines(t, lines, `remit_sweep_invoices_skipped_total{kind="failed"} 9`)
		})
	}
}

// TestOverflowStopsTheInvoice: compound interest at 1000 % on the largest
// amount outgrows int64 within the date bounds; the sweep stops that invoice
// with amount_overflow (named in the run, never a wrapped negative total),
// a quote answers 422, and the other invoices are swept. A stored total
// that a new charge would push past int64 stops its invoice the same way.
func TestOverflowStopsTheInvoice(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			s := MustRunMain(t, pinned("2026-12-03"), func(c *Config) { c.DatabaseURL = testdb.URL(t, dialect) })
			cli := s.mustClient("Huge Debts Ltd", "EUR", "UTC")
			s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{"effective_from": "2016-12-03",
				"payment_terms": "net_30", "interest": map[string]any{"annual_rate": "1000", "compound": true}}})
			huge := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "issue_date": "2016-12-03",
				"lines": []map[string]any{{"description": "Everything", "unit_amount": 1_000_000_000_000_000}}}})["id"].(string)
			good := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "issue_date": "2026-10-01",
				"lines": []map[string]any{{"description": "Work", "unit_amount": 100000}}}})["id"].(string)
			full := s.overdueInvoice("EUR", 70000, "2026-10-01", map[string]any{"payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500}})
			s.exec("UPDATE invoices SET charges_total = 9223372036854775000, balance_due = 9223372036854775000 WHERE id = '" + full + "'")

			run := s.sweep()
			skipped := skippedBy(run)
			if !strings.HasPrefix(skipped[huge], "failed amount_overflow: ") || !strings.HasPrefix(skipped[full], "failed amount_overflow: ") || len(skipped) != 2 {
				t.Fatalf("skipped %v", skipped)
			}
			if got := s.chargeList(good); len(got) != 1 || got[0] != "interest:2026-11 2026-12-01 82192" {
				t.Fatalf("the good invoice: %v", got)
			}
			for _, id := range []string{huge, full} {
				if got := s.chargeList(id); len(got) != 0 {
					t.Fatalf("%s got charges %v", id, got)
				}
			}
			inv := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + huge})
			if num(inv, "charges_total") != 0 || num(inv, "balance_due") != 1_000_000_000_000_000 {
				t.Fatalf("the huge invoice after the sweep: %v", inv)
			}
			s.refused(422, "amount_overflow", "", request{Method: "GET", Path: "/v1/invoices/" + huge + "/accrual"})
		})
	}
}

// pageLog records what each page of a sweep posted and how long it held
// its transaction.
type pageLog struct {
	*store.SweepService
	posted *[]int
	took   *[]time.Duration
}

func (p pageLog) SweepPage(ctx context.Context, now time.Time, after string, limit int) (string, domain.SweepReport, error) {
	start := time.Now()
	last, r, err := p.SweepService.SweepPage(ctx, now, after, limit)
	n := 0
	for _, c := range r.ChargesPosted {
		n += c
	}
	*p.posted, *p.took = append(*p.posted, n), append(*p.took, time.Since(start))
	return last, r, err
}

// TestSweepWorksABacklogInBoundedPieces: a fee repeating daily for ten
// years (the oldest an invoice can be) is a backlog of thousands of
// charges; the sweep posts it in pages of bounded size, each its own
// short transaction, and ends with exactly the charges the rules say, as
// a daily sweep would have posted them (issue 14, item 4).
func TestSweepWorksABacklogInBoundedPieces(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			s := MustRunMain(t, pinned("2026-12-03"), func(c *Config) { c.DatabaseURL = testdb.URL(t, dialect) })
			cli := s.mustClient("Backlog GmbH", "EUR", "UTC")
			s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{"effective_from": "2016-12-03",
				"payment_terms": "net_30", "late_fee": map[string]any{"flat": 100, "repeat_every_days": 1}, "interest": map[string]any{"annual_rate": "8"}}})
			backlog := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "issue_date": "2016-12-03",
				"lines": []map[string]any{{"description": "Work", "unit_amount": 1000000}}}})["id"].(string)
			var others []string
			for i := range 3 {
				others = append(others, s.overdueInvoice("EUR", int64(20000+i), "2026-10-01", map[string]any{"payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500}}))
			}
			var posted []int
			var took []time.Duration
			sw := &billing.Sweeper{Store: pageLog{SweepService: store.NewSweepService(s.DB), posted: &posted, took: &took}, Now: s.Now, Logger: s.Logger, PageSize: 500}
			// Writes go on while the sweep works: none waits long on it.
			stop := make(chan struct{})
			var slowest time.Duration
			var writes int
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
					}
					start := time.Now()
					r := s.do(request{Method: "POST", Path: "/v1/clients", Key: testAdminKey, Body: map[string]any{
						"name": fmt.Sprintf("Busy %d", i), "email": "ap@busy.example", "currency": "EUR"}})
					if r.Status != 201 {
						t.Errorf("a write during the sweep: %d %s", r.Status, r.Body)
						return
					}
					slowest, writes = max(slowest, time.Since(start)), writes+1
				}
			}()
			run, err := sw.Sweep(context.Background(), "test")
			close(stop)
			<-done
			if err != nil || run.Error != "" || len(run.Skipped) != 0 {
				t.Fatalf("run %+v: %v", run, err)
			}
			// Timings are reported, not asserted (the machine may be loaded):
			// what bounds the sweep's transactions is the page cap checked below.
			t.Logf("%d writes during the sweep, the slowest took %v", writes, slowest)
			// 2017-01-03 to 2026-12-03 is 3622 days: a fee on each, and
			// interest for each month from January 2017 to November 2026.
			fees, interest := 3622, 119
			if run.Posted[domain.ChargeLateFee] != fees+3 || run.Posted[domain.ChargeInterest] != interest || run.InvoicesExamined != 4 {
				t.Fatalf("posted %v, examined %d", run.Posted, run.InvoicesExamined)
			}
			if len(posted) < 4 {
				t.Fatalf("the backlog went in %d pages: %v", len(posted), posted)
			}
			for i, n := range posted {
				if n > store.SweepChargesPerPage {
					t.Fatalf("page %d posted %d charges, more than %d: %v", i, n, store.SweepChargesPerPage, posted)
				}
			}
			t.Logf("pages posted %v in %v", posted, took)
			charges := s.chargeList(backlog)
			if len(charges) != fees+interest || charges[0] != "late_fee:1 2017-01-03 100" || charges[len(charges)-1] != "late_fee:3622 2026-12-03 100" {
				t.Fatalf("%d charges, first %v", len(charges), charges[:1])
			}
			// Each month's interest, worked out here: 8 % act/365 on 10,000.00
			// for the month's overdue days, rounded half up once.
			var wantInterest, gotInterest []string
			for m := time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC); m.Before(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)); m = m.AddDate(0, 1, 0) {
				days := int64(m.AddDate(0, 1, -1).Day())
				if m.Year() == 2017 && m.Month() == 1 {
					days -= 2 // from day 1 overdue, 3 January
				}
				num, den := 1000000*8*days, int64(36500)
				wantInterest = append(wantInterest, fmt.Sprintf("interest:%s %s %d", m.Format("2006-01"), m.AddDate(0, 1, 0).Format(time.DateOnly), (2*num+den)/(2*den)))
			}
			for _, c := range charges {
				if strings.HasPrefix(c, "interest:") {
					gotInterest = append(gotInterest, c)
				}
			}
			if fmt.Sprint(gotInterest) != fmt.Sprint(wantInterest) {
				t.Fatalf("interest\n%v\nwant\n%v", gotInterest, wantInterest)
			}
			inv := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + backlog})
			q := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + backlog + "/accrual"})
			if num(inv, "charges_total") != num(q, "fees_outstanding")+num(q, "interest_posted_outstanding") ||
				num(q, "fees_outstanding") != int64(fees)*100 {
				t.Fatalf("invoice %v, quote %v", inv, q)
			}
			for _, id := range others {
				if got := s.chargeList(id); len(got) != 1 {
					t.Fatalf("%s: %v", id, got)
				}
			}
			// A second sweep finds nothing left.
			if run, err = sw.Sweep(context.Background(), "test"); err != nil || run.ChargesPosted() != 0 {
				t.Fatalf("second sweep %+v %v", run.Posted, err)
			}
			if err := ledgercheck.Check(s.DB.SQL()); err != nil {
				t.Fatal(err)
			}
		})
	}
}
