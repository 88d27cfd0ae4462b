package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/internal/ledgercheck"
	"github.com/remit/remit/store"
)

// checkLedger asserts that every invoice's money columns agree with its
// ledger rows, recomputed independently of the store's own code.
func checkLedger(t *testing.T, db *store.DB, step string) {
	t.Helper()
	if err := ledgercheck.Check(db.SQL()); err != nil {
		t.Fatalf("after %s: %v", step, err)
	}
}

// TestLedgerInvariantProperty runs random sequences of issues, payments,
// overpayments, refunds, waivers and voids over two months of days, and
// checks the ledger after every step.
func TestLedgerInvariantProperty(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		day := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return day }
		seed := uint64(time.Now().UnixNano())
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, 7))

		clients := store.NewClientService(db)
		agreements := store.NewAgreementService(db, domain.Business{NoticeDays: 30})
		invoices := store.NewInvoiceService(db)
		var clientIDs []string
		for i, order := range []string{"charges_first", "principal_first"} {
			c := newClient(fmt.Sprintf("client %d", i))
			if err := clients.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
			a := domain.Agreement{EffectiveFrom: domain.NewDate(2025, 1, 1), PaymentTerms: "net_15", Allocation: order,
				LateFee:  &domain.LateFee{Flat: 1500, Percent: "2", RepeatEveryDays: 10, MaxCount: 3},
				Interest: &domain.InterestTerms{AnnualRate: "18"}}
			if _, err := agreements.CreateAgreement(ctx, c.ID, a); err != nil {
				t.Fatal(err)
			}
			clientIDs = append(clientIDs, c.ID)
		}
		var open []string
		var payments []string
		for step := range 400 {
			if step%7 == 6 {
				day = day.Add(24 * time.Hour)
			}
			today := domain.DateOf(day, time.UTC)
			var name string
			var err error
			switch op := rng.IntN(10); {
			case op < 3 || len(open) == 0:
				name = "issue"
				var inv *domain.Invoice
				inv, err = invoices.CreateInvoice(ctx, domain.InvoiceDraft{ClientID: clientIDs[rng.IntN(2)], Issue: true,
					Lines: []domain.LineInput{{Description: "work", Quantity: fmt.Sprintf("%d.%d", 1+rng.IntN(5), rng.IntN(10)), UnitAmount: int64(1000 + rng.IntN(90000)), TaxRate: "20"}}})
				if err == nil {
					open = append(open, inv.ID)
				}
			case op < 7:
				name = "payment"
				id := open[rng.IntN(len(open))]
				var p *domain.Payment
				p, err = invoices.RecordPayment(ctx, id, domain.PaymentInput{Amount: int64(500 + rng.IntN(80000)), PaidOn: today,
					Method: "bank_transfer", Source: domain.PaymentManual, Key: fmt.Sprintf("k%d", step)})
				if err == nil {
					payments = append(payments, p.ID)
				}
			case op < 8 && len(payments) > 0:
				name = "refund"
				_, err = invoices.RefundPayment(ctx, payments[rng.IntN(len(payments))], domain.RefundInput{Amount: int64(1 + rng.IntN(30000)), Key: fmt.Sprintf("r%d", step)})
			case op < 9:
				name = "waive"
				id := open[rng.IntN(len(open))]
				var charges []domain.Charge
				if charges, err = invoices.FindCharges(ctx, id); err == nil && len(charges) > 0 {
					_, err = invoices.WaiveCharge(ctx, id, charges[rng.IntN(len(charges))].ID, "goodwill")
				}
			default:
				name = "void"
				_, err = invoices.VoidInvoice(ctx, open[rng.IntN(len(open))])
			}
			switch domain.ErrorCode(err) {
			case "", domain.EINVALID, domain.EINVOICEPAID, domain.EINVOICEVOID, domain.EINVOICEHASPAYMENTS, domain.EINVOICENOTOPEN:
			default:
				t.Fatalf("step %d %s: %v", step, name, err)
			}
			checkLedger(t, db, fmt.Sprintf("step %d (%s on %s)", step, name, today))
		}
		var charged int
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM charges").Scan(&charged); err != nil || charged == 0 {
			t.Fatalf("the sequence posted no charges (%v); the property test must cover them", err)
		}
	})
}
