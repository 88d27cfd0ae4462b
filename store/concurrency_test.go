package store_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/remit/remit/billing"
	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

// The tests of this file race requests that change the same client's or
// invoice's money. SQLite's single writer serialises them anyway; on
// PostgreSQL they run side by side, as on several replicas, and only the
// database's locks keep the ledger right.

// creditFixture is a client of db with the given credit in EUR, left by
// an overpayment of a 100.00 invoice.
func creditFixture(t *testing.T, db *store.DB, name string, credit int64) (clientID, paymentID string) {
	t.Helper()
	ctx := context.Background()
	c := newClient(name)
	if err := store.NewClientService(db).CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	invoices := store.NewInvoiceService(db)
	inv, err := invoices.CreateInvoice(ctx, domain.InvoiceDraft{ClientID: c.ID, Issue: true, IssueDate: domain.NewDate(2026, 1, 10),
		Lines: []domain.LineInput{{Description: "Work", Quantity: "1", UnitAmount: 10000}}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := invoices.RecordPayment(ctx, inv.ID, domain.PaymentInput{Amount: 10000 + credit, PaidOn: domain.NewDate(2026, 1, 20),
		Method: "bank_transfer", Source: domain.PaymentManual, Key: "over-" + inv.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := invoices.ClientCredit(ctx, c.ID); err != nil || got != credit {
		t.Fatalf("credit %d (%v), want %d", got, err, credit)
	}
	return c.ID, p.ID
}

// TestCreditSpentOnce issues 40 invoices at once for a client with
// 10,000.00 of credit, each in a year of its own series (so the invoice
// counters do not serialise them): together they may apply 10,000.00, no
// more.
func TestCreditSpentOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clientID, _ := creditFixture(t, db, "Credit holder", 1_000_000)
		invoices := store.NewInvoiceService(db)
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Go(func() {
				_, err := invoices.CreateInvoice(ctx, domain.InvoiceDraft{ClientID: clientID, Issue: true,
					IssueDate: domain.NewDate(2017+i%10, time.Month(1+i/10), 15),
					Lines:     []domain.LineInput{{Description: "Work", Quantity: "1", UnitAmount: 500_000}}})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var applied int64
		if err := db.SQL().QueryRow("SELECT COALESCE(SUM(credit_applied), 0) FROM invoices WHERE client_id = "+placeholder(db, 1),
			clientID).Scan(&applied); err != nil {
			t.Fatal(err)
		}
		if applied != 1_000_000 {
			t.Errorf("the invoices applied %d of credit, want 1000000", applied)
		}
		checkLedger(t, db, "40 concurrent issues")
	})
}

// TestRefundRacesCreditApply refunds an overpayment in full while an
// invoice that would apply its credit is issued: one of them gets the
// credit, never both.
func TestRefundRacesCreditApply(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		invoices := store.NewInvoiceService(db)
		for trial := range 15 {
			clientID, paymentID := creditFixture(t, db, fmt.Sprintf("Refund race %d", trial), 1_000_000)
			var wg sync.WaitGroup
			var refundErr, issueErr error
			var issued *domain.Invoice
			wg.Go(func() {
				_, refundErr = invoices.RefundPayment(ctx, paymentID, domain.RefundInput{Amount: 1_010_000, Reason: "overpaid", Key: "refund-" + paymentID})
			})
			wg.Go(func() {
				issued, issueErr = invoices.CreateInvoice(ctx, domain.InvoiceDraft{ClientID: clientID, Issue: true, IssueDate: domain.NewDate(2026, 2, 1),
					Lines: []domain.LineInput{{Description: "Work", Quantity: "1", UnitAmount: 2_000_000}}})
			})
			wg.Wait()
			if issueErr != nil {
				t.Fatalf("trial %d: issue: %v", trial, issueErr)
			}
			switch {
			case refundErr == nil && issued.CreditApplied != 0:
				t.Errorf("trial %d: the refund and the invoice (%d applied) both took the credit", trial, issued.CreditApplied)
			case refundErr != nil && (domain.ErrorCode(refundErr) != domain.EINVALID || issued.CreditApplied != 1_000_000):
				t.Errorf("trial %d: refund refused (%v) with %d of credit applied", trial, refundErr, issued.CreditApplied)
			}
			checkLedger(t, db, fmt.Sprintf("trial %d", trial))
		}
	})
}

// TestRefundsOfOnePaymentRace refunds one payment twice at once, each
// refund for more than half of it: one succeeds, the other is refused, and
// the payment is never refunded beyond its amount.
func TestRefundsOfOnePaymentRace(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		invoices := store.NewInvoiceService(db)
		for trial := range 10 {
			_, paymentID := creditFixture(t, db, fmt.Sprintf("Double refund %d", trial), 0)
			var wg sync.WaitGroup
			var errs [2]error
			for r := range 2 {
				wg.Go(func() {
					_, errs[r] = invoices.RefundPayment(ctx, paymentID, domain.RefundInput{Amount: 6000, Reason: "twice", Key: fmt.Sprintf("r%d-%s", r, paymentID)})
				})
			}
			wg.Wait()
			if (errs[0] == nil) == (errs[1] == nil) || domain.ErrorCode(errors.Join(errs[0], errs[1])) != domain.EINVALID {
				t.Errorf("trial %d: refunds answered %v and %v; want one refused", trial, errs[0], errs[1])
			}
			checkLedger(t, db, fmt.Sprintf("trial %d", trial))
		}
	})
}

// TestSweepRacesPayments pays overdue invoices in full while sweeps run:
// every payment succeeds (no deadlock reaches the caller), and every
// invoice ends paid with nothing owed, or open with something owed.
func TestSweepRacesPayments(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClient("Late payer")
		if err := store.NewClientService(db).CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		ag := domain.Agreement{EffectiveFrom: domain.NewDate(2025, 1, 1), PaymentTerms: "net_15",
			LateFee: &domain.LateFee{Flat: 1500, Percent: "2", RepeatEveryDays: 7, MaxCount: 20}, Interest: &domain.InterestTerms{AnnualRate: "12"}}
		if _, err := store.NewAgreementService(db, domain.Business{NoticeDays: 30}).CreateAgreement(ctx, c.ID, ag); err != nil {
			t.Fatal(err)
		}
		invoices := store.NewInvoiceService(db)
		sweeper := &billing.Sweeper{Store: store.NewSweepService(db), Now: db.Now, Logger: slog.New(slog.DiscardHandler), PageSize: 10}
		for round := range 4 {
			var ids []string
			payoff := map[string]int64{}
			for i := range 30 {
				inv, err := invoices.CreateInvoice(ctx, domain.InvoiceDraft{ClientID: c.ID, Issue: true, IssueDate: domain.NewDate(2025, 10, 1+i),
					Lines: []domain.LineInput{{Description: "Work", Quantity: "1", UnitAmount: int64(100_000 + 1000*i)}}})
				if err != nil {
					t.Fatal(err)
				}
				q, err := invoices.Quote(ctx, inv.ID, domain.DateOf(now, time.UTC))
				if err != nil {
					t.Fatal(err)
				}
				ids, payoff[inv.ID] = append(ids, inv.ID), q.Payoff
			}
			var wg sync.WaitGroup
			errs := make(chan error, len(ids)+4)
			for range 2 {
				wg.Go(func() {
					_, err := sweeper.Sweep(ctx, "test")
					errs <- err
				})
			}
			for w := range 4 {
				wg.Go(func() {
					for i := w; i < len(ids); i += 4 {
						_, err := invoices.RecordPayment(ctx, ids[i], domain.PaymentInput{Amount: payoff[ids[i]], Method: "bank_transfer",
							Source: domain.PaymentManual, Key: fmt.Sprintf("pay-%d-%s", round, ids[i])})
						if err != nil && domain.ErrorCode(err) != domain.EINVOICEPAID {
							errs <- fmt.Errorf("pay %s: %w", ids[i], err)
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("round %d: %v", round, err)
				}
			}
			checkLedger(t, db, fmt.Sprintf("round %d", round))
		}
	})
}

// TestDeadlockRetriedAsAWhole pays two invoices in opposite orders inside
// two idempotent requests, each holding its first invoice while it asks for
// the second: on PostgreSQL one of them is chosen as a deadlock victim. The
// request's transaction is retried as a whole, handler included, so both
// answer 201 and each payment is recorded once.
func TestDeadlockRetriedAsAWhole(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClient("Two invoices")
		if err := store.NewClientService(db).CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		invoices := store.NewInvoiceService(db)
		var ids []string
		for range 2 {
			inv, err := invoices.CreateInvoice(ctx, domain.InvoiceDraft{ClientID: c.ID, Issue: true, IssueDate: domain.NewDate(2026, 2, 1),
				Lines: []domain.LineInput{{Description: "Work", Quantity: "1", UnitAmount: 100_000}}})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, inv.ID)
		}
		idem := store.NewIdempotencyService(db)
		var wg sync.WaitGroup
		var runs [2]int
		var resps [2]domain.IdempotentResponse
		var errs [2]error
		for r := range 2 {
			wg.Go(func() {
				first, second := ids[r], ids[1-r]
				resps[r], _, errs[r] = idem.Idempotent(ctx, "key_test", fmt.Sprintf("req-%d", r), "fp", func(ctx context.Context) domain.IdempotentResponse {
					runs[r]++
					// As the api's handlers do: an error becomes the response.
					pay := func(id string) error {
						_, err := invoices.RecordPayment(ctx, id, domain.PaymentInput{Amount: 1000, Method: "bank_transfer",
							Source: domain.PaymentManual, Key: fmt.Sprintf("req-%d-%s", r, id)})
						return err
					}
					if err := pay(first); err != nil {
						return domain.IdempotentResponse{Status: 500}
					}
					time.Sleep(300 * time.Millisecond)
					if err := pay(second); err != nil {
						return domain.IdempotentResponse{Status: 500}
					}
					return domain.IdempotentResponse{Status: 201}
				})
			})
		}
		wg.Wait()
		for r := range 2 {
			if errs[r] != nil || resps[r].Status != 201 {
				t.Errorf("request %d: status %d, %v (after %d runs)", r, resps[r].Status, errs[r], runs[r])
			}
		}
		if db.Dialect() == store.Postgres && runs[0]+runs[1] < 3 {
			t.Errorf("the handlers ran %d and %d times: no deadlock was retried", runs[0], runs[1])
		}
		for _, id := range ids {
			pays, err := invoices.FindPayments(ctx, id)
			if err != nil || len(pays) != 2 {
				t.Errorf("invoice %s: %d payments (%v), want 2", id, len(pays), err)
			}
		}
		checkLedger(t, db, "crossed payments")
	})
}

// placeholder is the n-th query parameter in the dialect's spelling.
func placeholder(db *store.DB, n int) string {
	if db.Dialect() == store.Postgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}
