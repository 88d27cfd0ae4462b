package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/internal/ledgercheck"
	"github.com/remit/remit/store"
)

// TestCreditNotes: a credit note gets the next number of its year's series,
// reduces the principal from its date (a late one corrects posted interest),
// turns what exceeds the principal into client credit, and voiding an
// issued invoice issues a full one; on both databases.
func TestCreditNotes(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return clock }
		clients, invoices, agreements := store.NewClientService(db), store.NewInvoiceService(db), store.NewAgreementService(db, domain.Business{})
		notes := store.NewCreditNoteService(db)
		c := newClient("Credited GmbH")
		if err := clients.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := agreements.CreateAgreement(ctx, c.ID, domain.Agreement{EffectiveFrom: domain.MustParseDate("2026-03-01"),
			PaymentTerms: "net_30", Allocation: "principal_first", Interest: &domain.InterestTerms{AnnualRate: "9"}}); err != nil {
			t.Fatal(err)
		}
		inv, err := invoices.CreateInvoice(ctx, domain.InvoiceDraft{ClientID: c.ID, Issue: true, IssueDate: domain.MustParseDate("2026-03-01"),
			Lines: []domain.LineInput{{Description: "work", UnitAmount: 200000}}})
		if err != nil {
			t.Fatal(err)
		}
		// April's interest is posted on the whole principal before the
		// credit note of 10 April is recorded.
		clock = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		if _, _, err := store.NewSweepService(db).SweepPage(ctx, clock, "", 100); err != nil {
			t.Fatal(err)
		}
		cn, err := notes.IssueCreditNote(ctx, inv.ID, domain.CreditNoteInput{Amount: 50000, Reason: "discount", IssueDate: domain.MustParseDate("2026-04-10")})
		if err != nil {
			t.Fatal(err)
		}
		if cn.Number != "CN-2026-0001" || cn.InvoiceNumber != inv.Number || cn.AppliedToInvoice != 50000 {
			t.Fatalf("credit note %+v", cn)
		}
		charges, err := invoices.FindCharges(ctx, inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		var april int64
		for _, ch := range charges {
			if domain.AdjustedKey(ch.Key) == "interest:2026-04" {
				april += ch.Amount
			}
		}
		if april != 1233 {
			t.Fatalf("April after the late credit note: %d, want 1233 (%+v)", april, charges)
		}
		if _, err := invoices.RecordPayment(ctx, inv.ID, domain.PaymentInput{Amount: 150000 + 1233, Method: "bank_transfer",
			Source: domain.PaymentManual, Key: "pay", PaidOn: domain.MustParseDate("2026-05-01")}); err != nil {
			t.Fatal(err)
		}
		clock = time.Date(2026, 5, 2, 12, 0, 0, 0, time.UTC)
		cn2, err := notes.IssueCreditNote(ctx, inv.ID, domain.CreditNoteInput{Amount: 30000, Reason: "refund of module B"})
		if err != nil {
			t.Fatal(err)
		}
		if cn2.Number != "CN-2026-0002" || cn2.AppliedToInvoice != 0 || cn2.CreditCreated != 30000 {
			t.Fatalf("credit note on a paid invoice %+v", cn2)
		}
		if got, _ := clients.FindClientByID(ctx, c.ID); *got.CreditBalance != 30000 {
			t.Fatalf("client credit %d", *got.CreditBalance)
		}
		if _, err := notes.IssueCreditNote(ctx, inv.ID, domain.CreditNoteInput{Amount: 120001, Reason: "too much"}); domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("more than the total: %v", err)
		}
		open, err := invoices.CreateInvoice(ctx, domain.InvoiceDraft{ClientID: c.ID, Issue: true,
			Lines: []domain.LineInput{{Description: "more work", UnitAmount: 70000}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := invoices.VoidInvoice(ctx, open.ID); err != nil {
			t.Fatal(err)
		}
		page, err := notes.FindCreditNotes(ctx, domain.CreditNoteFilter{InvoiceID: open.ID, Page: domain.PageParams{Limit: 10}})
		// The 300.00 of credit applied at issue goes back to the client, and
		// the credit note cancels the whole 700.00.
		if err != nil || len(page.Data) != 1 || page.Data[0].Number != "CN-2026-0003" || page.Data[0].Amount != 70000 {
			t.Fatalf("void credit note %+v %v", page, err)
		}
		if err := ledgercheck.Check(db.SQL()); err != nil {
			t.Fatal(err)
		}
		if err := ledgercheck.Credit(db.SQL()); err != nil {
			t.Fatal(err)
		}
	})
}
