package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/internal/ledgercheck"
	"github.com/remit/remit/internal/testdb"
	"github.com/remit/remit/store"
)

// recurringFixture is a client in Europe/Berlin on net_14 terms, the
// recurring and invoice services, and a movable clock.
type recurringFixture struct {
	t         *testing.T
	clock     *atomic.Int64
	client    *domain.Client
	recurring *store.RecurringService
	invoices  *store.InvoiceService
}

func newRecurringFixture(t *testing.T, db *store.DB) *recurringFixture {
	t.Helper()
	f := &recurringFixture{t: t, clock: &atomic.Int64{}, recurring: store.NewRecurringService(db), invoices: store.NewInvoiceService(db)}
	f.at(time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC))
	db.Now = func() time.Time { return time.Unix(0, f.clock.Load()).UTC() }
	ctx := context.Background()
	f.client = newClient("Acme GmbH")
	if err := store.NewClientService(db).CreateClient(ctx, f.client); err != nil {
		t.Fatal(err)
	}
	_, err := store.NewAgreementService(db, domain.Business{NoticeDays: 30}).CreateAgreement(ctx, f.client.ID, domain.Agreement{
		EffectiveFrom: domain.NewDate(2026, 1, 1), PaymentTerms: "net_14"})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *recurringFixture) at(t time.Time) { f.clock.Store(t.UnixNano()) }

func (f *recurringFixture) now() time.Time { return time.Unix(0, f.clock.Load()).UTC() }

// retainer creates a monthly retainer of 1,500.00 from 2026-01-31.
func (f *recurringFixture) retainer(s domain.Schedule) *domain.RecurringInvoice {
	f.t.Helper()
	if s.Interval == "" {
		s = domain.Schedule{Interval: domain.IntervalMonthly, IntervalCount: 1, StartDate: domain.NewDate(2026, 1, 31)}
	}
	r, err := f.recurring.CreateRecurringInvoice(context.Background(), domain.RecurringInput{ClientID: f.client.ID,
		Lines: []domain.LineInput{{Description: "Retainer, {period}", UnitAmount: 150000}}, Schedule: s})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// sweep runs the recurring step at the clock's time and returns how many it issued.
func (f *recurringFixture) sweep(recurring *store.RecurringService) int {
	f.t.Helper()
	n, err := recurring.IssueRecurringInvoices(context.Background(), f.now())
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// issued lists the client's invoices as "issue_date due_date description | memo's first line", by issue date.
func (f *recurringFixture) issued() []string {
	f.t.Helper()
	page, err := f.invoices.FindInvoices(context.Background(), domain.InvoiceFilter{ClientID: f.client.ID, Page: domain.PageParams{Limit: 100}})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, inv := range page.Data {
		out = append(out, fmt.Sprintf("%s %s %s %s %d | %s", inv.IssueDate, inv.DueDate, inv.Status, inv.Lines[0].Description, inv.Total,
			strings.SplitN(inv.Memo, "\n", 2)[0]))
	}
	sort.Strings(out)
	return out
}

func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRecurringIssuesEachPeriodOnce: a monthly retainer from 31 January
// issues on 31 Jan and 28 Feb while the sweep runs daily; a service down
// from 10 March to 20 May issues 31 March and 30 April once each, with
// their own dates, when it comes back; sweeps after that issue nothing.
func TestRecurringIssuesEachPeriodOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		f := newRecurringFixture(t, db)
		r := f.retainer(domain.Schedule{})
		if r.NextIssueDate != domain.NewDate(2026, 1, 31) || r.Status != domain.RecurringActive {
			t.Fatalf("created %+v", r)
		}
		total := 0
		for day := time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC); day.Before(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)); day = day.AddDate(0, 0, 1) {
			f.at(day)
			total += f.sweep(f.recurring) + f.sweep(f.recurring) // a repeated sweep issues nothing more
		}
		if total != 2 {
			t.Errorf("issued %d invoices by 9 March, want 2", total)
		}
		// Down from 10 March to 20 May.
		f.at(time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC))
		if n := f.sweep(f.recurring); n != 2 {
			t.Errorf("after the downtime issued %d, want 2", n)
		}
		if n := f.sweep(f.recurring); n != 0 {
			t.Errorf("a second sweep issued %d", n)
		}
		sameLines(t, f.issued(), []string{
			"2026-01-31 2026-02-14 open Retainer, January 2026 150000 | Period 1: 2026-01-31 to 2026-02-27.",
			"2026-02-28 2026-03-14 open Retainer, February 2026 150000 | Period 2: 2026-02-28 to 2026-03-30.",
			"2026-03-31 2026-04-14 open Retainer, March 2026 150000 | Period 3: 2026-03-31 to 2026-04-29.",
			"2026-04-30 2026-05-14 open Retainer, April 2026 150000 | Period 4: 2026-04-30 to 2026-05-30.",
		})
		got, err := f.recurring.FindRecurringInvoiceByID(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.InvoicesIssued != 4 || got.LastPeriod != 3 || got.NextIssueDate != domain.NewDate(2026, 5, 31) {
			t.Errorf("template after catch-up: issued %d, last %d, next %s", got.InvoicesIssued, got.LastPeriod, got.NextIssueDate)
		}
		// 31 May begins at 22:00 UTC on 30 May in Berlin (CEST).
		f.at(time.Date(2026, 5, 30, 21, 59, 0, 0, time.UTC))
		if n := f.sweep(f.recurring); n != 0 {
			t.Errorf("issued %d before 31 May in Berlin", n)
		}
		f.at(time.Date(2026, 5, 30, 22, 1, 0, 0, time.UTC))
		if n := f.sweep(f.recurring); n != 1 {
			t.Errorf("issued %d just after midnight of 31 May in Berlin, want 1", n)
		}
	})
}

// TestRecurringPauseSkipsAndCountEnds: periods due while paused are not
// caught up on resume; a template with a number of invoices ends after the
// last, announced once.
func TestRecurringPauseSkipsAndCountEnds(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newRecurringFixture(t, db)
		r := f.retainer(domain.Schedule{Interval: domain.IntervalMonthly, IntervalCount: 1, StartDate: domain.NewDate(2026, 1, 31), Count: 2})
		f.at(time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC))
		if n := f.sweep(f.recurring); n != 1 {
			t.Fatalf("issued %d", n)
		}
		if _, err := f.recurring.PauseRecurringInvoice(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.recurring.PauseRecurringInvoice(ctx, r.ID); domain.ErrorCode(err) != domain.ERECURRINGSTATE {
			t.Errorf("pausing twice: %v", err)
		}
		f.at(time.Date(2026, 4, 15, 9, 0, 0, 0, time.UTC))
		if n := f.sweep(f.recurring); n != 0 {
			t.Errorf("a paused template issued %d", n)
		}
		resumed, err := f.recurring.ResumeRecurringInvoice(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if resumed.NextIssueDate != domain.NewDate(2026, 4, 30) {
			t.Errorf("next issue after resume %s, want 2026-04-30 (28 Feb and 31 Mar skipped)", resumed.NextIssueDate)
		}
		preview, err := f.recurring.PreviewRecurringInvoice(ctx, r.ID, 12)
		if err != nil {
			t.Fatal(err)
		}
		// Count 2 invoices: January issued, February and March skipped (not invoices), April the last.
		if len(preview) != 1 || preview[0].IssueOn != domain.NewDate(2026, 4, 30) || preview[0].DueDate != domain.NewDate(2026, 5, 14) {
			t.Errorf("preview %+v", preview)
		}
		if n := f.sweep(f.recurring); n != 0 {
			t.Errorf("resume caught up %d periods", n)
		}
		f.at(time.Date(2026, 4, 30, 9, 0, 0, 0, time.UTC))
		if n := f.sweep(f.recurring); n != 1 {
			t.Errorf("issued %d on 30 April", n)
		}
		got, err := f.recurring.FindRecurringInvoiceByID(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != domain.RecurringEnded || !got.NextIssueDate.IsZero() || got.InvoicesIssued != 2 {
			t.Errorf("after the last period: %+v", got)
		}
		if _, err := f.recurring.ResumeRecurringInvoice(ctx, r.ID); domain.ErrorCode(err) != domain.ERECURRINGSTATE {
			t.Errorf("resuming an ended template: %v", err)
		}
		sameLines(t, f.issued(), []string{
			"2026-01-31 2026-02-14 open Retainer, January 2026 150000 | Period 1: 2026-01-31 to 2026-02-27.",
			"2026-04-30 2026-05-14 open Retainer, April 2026 150000 | Period 4: 2026-04-30 to 2026-05-30.",
		})
	})
}

// TestRecurringUpdateAppliesToNextPeriod: a change of lines shows on the
// invoices issued after it, not on those before.
func TestRecurringUpdateAppliesToNextPeriod(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newRecurringFixture(t, db)
		r := f.retainer(domain.Schedule{})
		f.at(time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC))
		f.sweep(f.recurring)
		lines := []domain.LineInput{{Description: "Retainer (extended), {period}", UnitAmount: 200000}}
		if _, err := f.recurring.UpdateRecurringInvoice(ctx, r.ID, domain.RecurringUpdate{Lines: &lines}); err != nil {
			t.Fatal(err)
		}
		bad := []domain.LineInput{{Description: "x", UnitAmount: -1}}
		_, err := f.recurring.UpdateRecurringInvoice(ctx, r.ID, domain.RecurringUpdate{Lines: &bad})
		if de := (*domain.Error)(nil); domain.ErrorCode(err) != domain.EINVALID || !asDomain(err, &de) || de.Fields["lines[0].unit_amount"] == "" {
			t.Errorf("bad lines: %v", err)
		}
		f.at(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		f.sweep(f.recurring)
		sameLines(t, f.issued(), []string{
			"2026-01-31 2026-02-14 open Retainer, January 2026 150000 | Period 1: 2026-01-31 to 2026-02-27.",
			"2026-02-28 2026-03-14 open Retainer (extended), February 2026 200000 | Period 2: 2026-02-28 to 2026-03-30.",
		})
		if _, err := f.recurring.CancelRecurringInvoice(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		f.at(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
		if n := f.sweep(f.recurring); n != 0 {
			t.Errorf("a cancelled template issued %d", n)
		}
	})
}

// TestRecurringReplicasIssueOnce: two store handles on one database (two
// replicas) sweep at once, many times; every period is issued once and the
// invoice numbers are gapless.
func TestRecurringReplicasIssueOnce(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			url := testdb.URL(t, dialect)
			var handles []*store.DB
			for range 2 {
				db, err := store.Open(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				handles = append(handles, db)
			}
			if err := handles[0].Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			f := newRecurringFixture(t, handles[0])
			handles[1].Now = handles[0].Now
			for range 5 {
				f.retainer(domain.Schedule{})
			}
			f.at(time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC))
			var wg sync.WaitGroup
			var issued atomic.Int64
			for _, db := range handles {
				svc := store.NewRecurringService(db)
				for range 3 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						n, err := svc.IssueRecurringInvoices(ctx, f.now())
						if err != nil {
							t.Error(err)
						}
						issued.Add(int64(n))
					}()
				}
			}
			wg.Wait()
			// 31 Jan, 28 Feb, 31 Mar, 30 Apr, 31 May for each of 5 templates.
			if issued.Load() != 25 {
				t.Errorf("issued %d, want 25", issued.Load())
			}
			page, err := f.invoices.FindInvoices(ctx, domain.InvoiceFilter{ClientID: f.client.ID, Page: domain.PageParams{Limit: 100}})
			if err != nil {
				t.Fatal(err)
			}
			numbers := map[string]bool{}
			for _, inv := range page.Data {
				numbers[inv.Number] = true
			}
			if len(page.Data) != 25 || len(numbers) != 25 || !numbers["INV-2026-0025"] {
				t.Errorf("%d invoices, %d numbers", len(page.Data), len(numbers))
			}
			for _, check := range []func(*sql.DB) error{ledgercheck.Check, ledgercheck.Gapless, ledgercheck.Credit} {
				if err := check(handles[0].SQL()); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func asDomain(err error, target **domain.Error) bool { return errors.As(err, target) }

// TestRecurringOffboardedClient: the sweep issues nothing more for an
// offboarded client: the template is cancelled and recurring_invoice.ended
// (reason client_offboarded) is sent once.
func TestRecurringOffboardedClient(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newRecurringFixture(t, db)
		r := f.retainer(domain.Schedule{})
		f.at(time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC))
		f.sweep(f.recurring)
		off := store.NewOffboardService(db, f.invoices, store.NewProjectService(db))
		if _, err := off.Offboard(ctx, f.client.ID, domain.OffboardInput{Reason: "other"}); err != nil {
			t.Fatal(err)
		}
		f.at(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		if n := f.sweep(f.recurring); n != 0 {
			t.Errorf("issued %d for an offboarded client", n)
		}
		f.sweep(f.recurring)
		got, err := f.recurring.FindRecurringInvoiceByID(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != domain.RecurringCancelled || !got.NextIssueDate.IsZero() {
			t.Errorf("template of an offboarded client: %+v", got)
		}
		var ended int
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM events WHERE type = "+placeholder(db, 1)+" AND client_id = "+placeholder(db, 2),
			domain.EventRecurringInvoiceEnded, f.client.ID).Scan(&ended); err != nil {
			t.Fatal(err)
		}
		if ended != 1 {
			t.Errorf("%d recurring_invoice.ended events, want 1", ended)
		}
	})
}
