package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

// BenchmarkIssueAndPay is the store side of issue 3's measurement: create
// and issue a 10-line invoice, then record its payment, on SQLite.
func BenchmarkIssueAndPay(b *testing.B) {
	db := MustOpenDB(b, "sqlite")
	ctx := context.Background()
	c := newClient("Bench")
	if err := store.NewClientService(db).CreateClient(ctx, c); err != nil {
		b.Fatal(err)
	}
	invoices := store.NewInvoiceService(db)
	lines := make([]domain.LineInput, 10)
	for i := range lines {
		lines[i] = domain.LineInput{Description: fmt.Sprintf("Design, day %d", i+1), Quantity: "1.5", UnitAmount: int64(6000 + i), TaxRate: "20"}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		inv, err := invoices.CreateInvoice(ctx, domain.InvoiceDraft{ClientID: c.ID, Issue: true, Lines: lines})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := invoices.RecordPayment(ctx, inv.ID, domain.PaymentInput{Amount: inv.Total, PaidOn: inv.IssueDate, Method: "bank_transfer",
			Source: domain.PaymentManual, Key: fmt.Sprintf("bench-%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
}
