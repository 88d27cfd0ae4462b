package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

// TestIssuedNumbersAndAnnouncement checks the numbers of invoices issued at
// creation and from a draft, on both databases: gapless in order, a number
// taken by a transaction that rolls back given back, five digits past 9999,
// and invoice.issued naming the number the invoice got (on PostgreSQL the
// number is taken by the statement that writes the invoice, last).
func TestIssuedNumbersAndAnnouncement(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClient("Numbered")
		if err := store.NewClientService(db).CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		s := store.NewInvoiceService(db)
		draft := func(issue bool) domain.InvoiceDraft {
			return domain.InvoiceDraft{ClientID: c.ID, Issue: issue,
				Lines: []domain.LineInput{{Description: "Work", Quantity: "1.5", UnitAmount: 6000, TaxRate: "20"}, {Description: "More", Quantity: "1", UnitAmount: 100}}}
		}
		issueAt := func() *domain.Invoice {
			t.Helper()
			inv, err := s.CreateInvoice(ctx, draft(true))
			if err != nil {
				t.Fatal(err)
			}
			return inv
		}
		var got []string
		got = append(got, issueAt().Number)
		// A transaction that takes a number and rolls back gives it back.
		rollback := errors.New("roll back")
		if err := db.WithinTx(ctx, func(ctx context.Context) error {
			if _, err := s.CreateInvoice(ctx, draft(true)); err != nil {
				return err
			}
			return rollback
		}); !errors.Is(err, rollback) {
			t.Fatalf("rolled back issue: %v", err)
		}
		d, err := s.CreateInvoice(ctx, draft(false))
		if err != nil || d.Number != "" {
			t.Fatalf("draft: %+v %v", d, err)
		}
		last := issueAt()
		got = append(got, last.Number)
		issued, err := s.IssueInvoice(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, issued.Number)
		if want := []string{"INV-2026-0001", "INV-2026-0002", "INV-2026-0003"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("numbers %v, want %v", got, want)
		}
		if _, err := db.SQL().Exec("UPDATE invoice_counters SET last_number = 9999 WHERE series = 'INV-2026'"); err != nil {
			t.Fatal(err)
		}
		if n := issueAt().Number; n != "INV-2026-10000" {
			t.Fatalf("past 9999: %s", n)
		}

		evs, err := s.FindEvents(ctx, last.ID, domain.PageParams{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range evs.Data {
			types = append(types, e.Type)
		}
		if fmt.Sprint(types) != "[invoice.created invoice.issued]" {
			t.Fatalf("events %v", types)
		}
		if want := `{"currency":"EUR","total":10900}`; string(evs.Data[0].Data) != want {
			t.Errorf("invoice.created data %s, want %s", evs.Data[0].Data, want)
		}
		want := fmt.Sprintf(`{"agreement_version":0,"currency":"EUR","due_date":%q,"issue_date":"2026-03-01","number":"INV-2026-0002","terms_source":"default","total":10900}`, last.DueDate)
		if string(evs.Data[1].Data) != want {
			t.Errorf("invoice.issued data %s, want %s", evs.Data[1].Data, want)
		}
		if last.Total != 10900 || last.Status != domain.InvoiceStatusOpen {
			t.Errorf("issued invoice %+v", last)
		}
		read, err := s.FindInvoiceByID(ctx, last.ID)
		if err != nil || read.Number != last.Number || read.Total != last.Total || len(read.Lines) != 2 || read.Lines[0].Amount != 9000 {
			t.Errorf("read back %+v %v", read, err)
		}
	})
}

// TestIssuedUnderTheAgreementInForce: an invoice issued at creation is
// issued under the agreement version in force on its issue date in the
// client's time zone, not a version that starts the next day (which, on
// PostgreSQL, the one read of group issuing finds first), nor one that
// starts after the issue date the draft names.
func TestIssuedUnderTheAgreementInForce(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClient("Agreed") // Europe/Berlin: 10:00 on 2026-03-01 by the pinned clock
		if err := store.NewClientService(db).CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		ags := store.NewAgreementService(db, domain.Business{})
		for _, from := range []string{"2026-01-01", "2026-03-02"} {
			if _, err := ags.CreateAgreement(ctx, c.ID, domain.Agreement{EffectiveFrom: domain.MustParseDate(from), PaymentTerms: "net_30"}); err != nil {
				t.Fatal(err)
			}
		}
		s := store.NewInvoiceService(db)
		for _, tc := range []struct {
			issueDate string
			version   int
		}{{"", 1}, {"2026-03-01", 1}, {"2026-03-02", 2}, {"2025-12-31", 0}} {
			d := domain.InvoiceDraft{ClientID: c.ID, Issue: true, Lines: []domain.LineInput{{Description: "Work", Quantity: "1", UnitAmount: 100}}}
			if tc.issueDate != "" {
				d.IssueDate = domain.MustParseDate(tc.issueDate)
			}
			inv, err := s.CreateInvoice(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			if inv.Agreement == nil || inv.Agreement.Version != tc.version {
				t.Errorf("issued on %q: agreement %+v, want version %d", tc.issueDate, inv.Agreement, tc.version)
			}
			stored, err := s.FindInvoiceByID(ctx, inv.ID)
			if err != nil || stored.Agreement == nil || stored.Agreement.Version != tc.version {
				t.Errorf("issued on %q, stored: %+v %v", tc.issueDate, stored, err)
			}
		}
	})
}
