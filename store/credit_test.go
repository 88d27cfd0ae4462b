package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

// TestClientCredit: a client shows its credit balance, and its credit
// entries (overpayment, applied, released, refund) list newest first in
// cursor pages (issue 14, item 5).
func TestClientCredit(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tick := now
		db.Now = func() time.Time { tick = tick.Add(time.Second); return tick }
		clients, invoices := store.NewClientService(db), store.NewInvoiceService(db)
		c, other := newClient("Credit GmbH"), newClient("Other GmbH")
		for _, cl := range []*domain.Client{c, other} {
			if err := clients.CreateClient(ctx, cl); err != nil {
				t.Fatal(err)
			}
		}
		issue := func(client string, amount int64) *domain.Invoice {
			t.Helper()
			inv, err := invoices.CreateInvoice(ctx, domain.InvoiceDraft{ClientID: client, Issue: true,
				Lines: []domain.LineInput{{Description: "work", UnitAmount: amount}}})
			if err != nil {
				t.Fatal(err)
			}
			return inv
		}
		balance := func() int64 {
			t.Helper()
			got, err := clients.FindClientByID(ctx, c.ID)
			if err != nil || got.CreditBalance == nil {
				t.Fatalf("client %+v, %v", got, err)
			}
			return *got.CreditBalance
		}
		if b := balance(); b != 0 {
			t.Fatalf("a new client has credit %d", b)
		}
		a := issue(c.ID, 10000)
		pay, err := invoices.RecordPayment(ctx, a.ID, domain.PaymentInput{Amount: 15000, Method: "bank_transfer", Source: domain.PaymentManual, Key: "k1"})
		if err != nil {
			t.Fatal(err)
		}
		if b := balance(); b != 5000 {
			t.Fatalf("after overpaying by 50.00: %d", b)
		}
		b := issue(c.ID, 8000)
		if bal := balance(); bal != 0 {
			t.Fatalf("after 50.00 applied to an invoice of 80.00: %d", bal)
		}
		if _, err := invoices.VoidInvoice(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if bal := balance(); bal != 5000 {
			t.Fatalf("after the void released it: %d", bal)
		}
		if _, err := invoices.RefundPayment(ctx, pay.ID, domain.RefundInput{Amount: 1000, Key: "r1"}); err != nil {
			t.Fatal(err)
		}
		if bal := balance(); bal != 4000 {
			t.Fatalf("after refunding 10.00 of the credit: %d", bal)
		}
		issue(other.ID, 1000) // another client's ledger stays apart

		all, err := clients.FindCredits(ctx, c.ID, domain.PageParams{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		type entry struct {
			kind      string
			amount    int64
			invoiceID string
			paymentID string
		}
		var got []entry
		for _, e := range all.Data {
			if e.ClientID != c.ID || e.Currency != "EUR" || e.CreatedAt.IsZero() || e.ID == "" {
				t.Fatalf("entry %+v", e)
			}
			got = append(got, entry{e.Kind, e.Amount, e.InvoiceID, e.PaymentID})
		}
		want := []entry{{"refund", -1000, a.ID, pay.ID}, {"released", 5000, b.ID, ""}, {"applied", -5000, b.ID, ""}, {"overpayment", 5000, a.ID, pay.ID}}
		if len(got) != len(want) || all.HasMore {
			t.Fatalf("entries %+v (has_more %v), want %+v", got, all.HasMore, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("entry %d: %+v, want %+v", i, got[i], want[i])
			}
		}
		first, err := clients.FindCredits(ctx, c.ID, domain.PageParams{Limit: 3})
		if err != nil || len(first.Data) != 3 || !first.HasMore || first.Data[0].ID != all.Data[0].ID {
			t.Fatalf("first page %+v %v", first, err)
		}
		rest, err := clients.FindCredits(ctx, c.ID, domain.PageParams{Limit: 3, StartingAfter: first.Data[2].ID})
		if err != nil || len(rest.Data) != 1 || rest.HasMore || rest.Data[0].ID != all.Data[3].ID {
			t.Fatalf("second page %+v %v", rest, err)
		}
		if _, err := clients.FindCredits(ctx, "cli_nope", domain.PageParams{Limit: 3}); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("unknown client: %v", err)
		}
		list, err := clients.FindClients(ctx, domain.ClientFilter{Page: domain.PageParams{Limit: 10}})
		if err != nil || len(list.Data) != 2 {
			t.Fatalf("list %+v %v", list, err)
		}
		for _, cl := range list.Data {
			want := map[string]int64{c.ID: 4000, other.ID: 0}[cl.ID]
			if cl.CreditBalance == nil || *cl.CreditBalance != want {
				t.Fatalf("listed %s with credit %v, want %d", cl.ID, cl.CreditBalance, want)
			}
		}
		checkLedger(t, db, "credit")
	})
}
