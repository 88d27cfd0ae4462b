package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

// TestAutoChargeAttempts: an auto-charged invoice's attempts fall due on
// days 0, 3 and 7 after its due date in the client's time zone; after
// downtime only the latest due is made (the earlier are skipped); each is
// claimed once, even by concurrent sweeps; one given back (Stripe down) is
// due again; none is due once the invoice is paid.
func TestAutoChargeAttempts(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newRecurringFixture(t, db)
		r, err := f.recurring.CreateRecurringInvoice(ctx, domain.RecurringInput{ClientID: f.client.ID, AutoCharge: true,
			Lines:    []domain.LineInput{{Description: "Hosting, {period}", UnitAmount: 5000}},
			Schedule: domain.Schedule{Interval: domain.IntervalMonthly, IntervalCount: 1, StartDate: domain.NewDate(2026, 1, 31), Count: 2}})
		if err != nil || !r.AutoCharge {
			t.Fatal(r, err)
		}
		f.at(time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC))
		f.sweep(f.recurring)
		ac := store.NewAutoChargeService(db)
		due := func(at time.Time) []domain.AutoChargeAttempt {
			t.Helper()
			got, err := ac.DueAutoCharges(ctx, at, 100)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		// Due 14 February: in Berlin that day starts at 23:00 UTC on the 13th.
		if got := due(time.Date(2026, 2, 13, 22, 30, 0, 0, time.UTC)); len(got) != 0 {
			t.Fatalf("due before the due date: %+v", got)
		}
		if got := due(time.Date(2026, 2, 13, 23, 30, 0, 0, time.UTC)); len(got) != 1 || got[0].Attempt != 0 || got[0].Amount != 5000 {
			t.Fatalf("on the due date: %+v", got)
		}
		// Down until 22 February: attempts 0 (14th), 1 (17th) and 2 (21st) are all due; only 2 is made.
		later := time.Date(2026, 2, 22, 9, 0, 0, 0, time.UTC)
		got := due(later)
		if len(got) != 1 || got[0].Attempt != 2 || got[0].ChargeOn != domain.NewDate(2026, 2, 21) {
			t.Fatalf("after downtime: %+v", got)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := ac.ClaimAutoCharge(ctx, got[0])
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d claims of one attempt", wins.Load())
		}
		if left := due(later); len(left) != 0 {
			t.Fatalf("due after the claim: %+v", left)
		}
		// Stripe could not be reached: the attempt is given back and due again.
		if err := ac.RecordAutoCharge(ctx, got[0], nil); err != nil {
			t.Fatal(err)
		}
		if again := due(later); len(again) != 1 || again[0].Attempt != 2 {
			t.Fatalf("after giving it back: %+v", again)
		}
		if ok, err := ac.ClaimAutoCharge(ctx, got[0]); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if err := ac.RecordAutoCharge(ctx, got[0], &domain.AutoChargeResult{Status: domain.AutoChargeFailed, Reason: "card_declined",
			PaymentIntentID: "pi_x", PayURL: "https://pay.example/x"}); err != nil {
			t.Fatal(err)
		}
		events, err := f.invoices.FindEvents(ctx, got[0].InvoiceID, domain.PageParams{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		failed := 0
		for _, e := range events.Data {
			if e.Type == domain.EventInvoiceAutoChargeFailed {
				failed++
			}
		}
		if failed != 1 {
			t.Errorf("%d failure events, want 1", failed)
		}
		// The next period's invoice, paid before its due date, is never charged.
		f.at(time.Date(2026, 2, 28, 9, 0, 0, 0, time.UTC))
		f.sweep(f.recurring)
		page, err := f.invoices.FindInvoices(ctx, domain.InvoiceFilter{ClientID: f.client.ID, IssuedFrom: domain.NewDate(2026, 2, 28), Page: domain.PageParams{Limit: 10}})
		if err != nil || len(page.Data) != 1 {
			t.Fatal(page, err)
		}
		if _, err := f.invoices.RecordPayment(ctx, page.Data[0].ID, domain.PaymentInput{Amount: 5000, Method: "bank_transfer", Key: "k1"}); err != nil {
			t.Fatal(err)
		}
		if left := due(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)); len(left) != 0 {
			t.Errorf("due for a paid invoice: %+v", left)
		}
	})
}

// TestClientAutoCharge: a client with auto_charge has every invoice issued
// from the day it was turned on charged on its due date; invoices issued
// before are not, nor any once it is turned off.
func TestClientAutoCharge(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newRecurringFixture(t, db)
		clients, ac := store.NewClientService(db), store.NewAutoChargeService(db)
		issue := func(amount int64) string {
			t.Helper()
			inv, err := f.invoices.CreateInvoice(ctx, domain.InvoiceDraft{ClientID: f.client.ID, Issue: true,
				Lines: []domain.LineInput{{Description: "Work", UnitAmount: amount}}})
			if err != nil {
				t.Fatal(err)
			}
			return inv.ID
		}
		f.at(time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC))
		before := issue(1000)
		f.at(time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC))
		on := true
		c, err := clients.UpdateClient(ctx, f.client.ID, domain.ClientUpdate{AutoCharge: &on})
		if err != nil || !c.AutoCharge {
			t.Fatal(c, err)
		}
		after := issue(2000) // net_14: due 16 February
		got, err := ac.DueAutoCharges(ctx, time.Date(2026, 2, 16, 9, 0, 0, 0, time.UTC), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].InvoiceID != after || got[0].Attempt != 0 || got[0].Amount != 2000 {
			t.Errorf("due %+v, want the invoice issued after auto-charge was turned on (not %s)", got, before)
		}
		read, err := clients.FindClientByID(ctx, f.client.ID)
		if err != nil || !read.AutoCharge {
			t.Fatalf("client read back %+v %v", read, err)
		}
		off := false
		if _, err := clients.UpdateClient(ctx, f.client.ID, domain.ClientUpdate{AutoCharge: &off}); err != nil {
			t.Fatal(err)
		}
		third := issue(3000)
		got, err = ac.DueAutoCharges(ctx, time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range got {
			if a.InvoiceID == third || a.InvoiceID == before {
				t.Errorf("charged %+v", a)
			}
		}
	})
}
