package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

// lateFixture is one client with one agreement and helpers to move the
// store's clock, issue, pay and sweep.
type lateFixture struct {
	t        *testing.T
	db       *store.DB
	invoices *store.InvoiceService
	clientID string
	now      time.Time
}

func newLateFixture(t *testing.T, db *store.DB, a domain.Agreement) *lateFixture {
	t.Helper()
	f := &lateFixture{t: t, db: db, invoices: store.NewInvoiceService(db), now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	db.Now = func() time.Time { return f.now }
	c := newClient("Late facts GmbH")
	c.Timezone = "UTC"
	if err := store.NewClientService(db).CreateClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if _, err := store.NewAgreementService(db, domain.Business{NoticeDays: 30}).CreateAgreement(context.Background(), c.ID, a); err != nil {
		t.Fatal(err)
	}
	f.clientID = c.ID
	return f
}

func (f *lateFixture) at(day string) {
	d := domain.MustParseDate(day)
	f.now = time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, time.UTC)
}

func (f *lateFixture) issue(issued string, amount int64) *domain.Invoice {
	f.t.Helper()
	inv, err := f.invoices.CreateInvoice(context.Background(), domain.InvoiceDraft{ClientID: f.clientID, Issue: true,
		IssueDate: domain.MustParseDate(issued), Lines: []domain.LineInput{{Description: "work", Quantity: "1", UnitAmount: amount}}})
	if err != nil {
		f.t.Fatal(err)
	}
	return inv
}

func (f *lateFixture) pay(id string, amount int64, on, key string) *domain.Payment {
	f.t.Helper()
	p, err := f.invoices.RecordPayment(context.Background(), id, domain.PaymentInput{Amount: amount, PaidOn: domain.MustParseDate(on),
		Method: "bank_transfer", Source: domain.PaymentManual, Key: key})
	if err != nil {
		f.t.Fatalf("pay %d on %s: %v", amount, on, err)
	}
	return p
}

func (f *lateFixture) sweep() {
	f.t.Helper()
	sw := store.NewSweepService(f.db)
	after := ""
	for {
		next, _, err := sw.SweepPage(context.Background(), f.now, after, 500)
		if err != nil {
			f.t.Fatal(err)
		}
		if next == "" {
			return
		}
		after = next
	}
}

// chargeSums adds up each charge with its corrections, by the charge's key.
func (f *lateFixture) chargeSums(id string) map[string]int64 {
	f.t.Helper()
	charges, err := f.invoices.FindCharges(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, c := range charges {
		out[domain.AdjustedKey(c.Key)] += c.Amount
	}
	return out
}

func (f *lateFixture) invoice(id string) *domain.Invoice {
	f.t.Helper()
	inv, err := f.invoices.FindInvoiceByID(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return inv
}

// TestLatePaymentCorrectsPostedInterest is the case of the money-correctness
// issue: a bank transfer dated 15 February recorded after the sweep of 5
// March posted February's interest on the whole principal.
func TestLatePaymentCorrectsPostedInterest(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		f := newLateFixture(t, db, domain.Agreement{EffectiveFrom: domain.NewDate(2025, 1, 1), PaymentTerms: "net_30",
			Interest: &domain.InterestTerms{AnnualRate: "12"}})
		inv := f.issue("2026-01-01", 100000)
		f.at("2026-03-05")
		f.sweep()
		if got := f.chargeSums(inv.ID); got["interest:2026-02"] != 921 {
			t.Fatalf("February before the late payment: %v", got)
		}
		p := f.pay(inv.ID, 50000, "2026-02-15", "sepa-1")
		// 15 days on 1,000.00 and 13 on 500.00 at 12 % act/365 = 7.07.
		if got := f.chargeSums(inv.ID); got["interest:2026-02"] != 707 || len(got) != 1 {
			t.Fatalf("February after the late payment: %v", got)
		}
		if p.Allocation != (domain.Allocation{Principal: 50000}) {
			t.Fatalf("allocated %+v, want all to principal as of 15 February", p.Allocation)
		}
		charges, _ := f.invoices.FindCharges(context.Background(), inv.ID)
		if len(charges) != 2 || charges[1].Key != "interest:2026-02:adj:1" || charges[1].Amount != -214 || charges[0].Amount != 921 {
			t.Fatalf("the posting stays and a correction reverses the difference: %+v", charges)
		}
		q, err := f.invoices.Quote(context.Background(), inv.ID, domain.MustParseDate("2026-03-31"))
		if err != nil || q.Payoff != 51217 {
			t.Fatalf("payoff on 31 March %+v %v, want 512.17", q, err)
		}
		if got := f.invoice(inv.ID); got.BalanceDue != 50707 || got.ChargesTotal != 707 {
			t.Fatalf("invoice %+v", got)
		}
		checkLedger(t, db, "late payment")
		f.sweep() // nothing more to correct
		if got := f.chargeSums(inv.ID); got["interest:2026-02"] != 707 {
			t.Fatalf("a second sweep changed February: %v", got)
		}
	})
}

// TestLatePaymentReversesFeeThatNeverApplied: a payment dated before day 1
// overdue, recorded after the fee was posted, takes the fee back.
func TestLatePaymentReversesFeeThatNeverApplied(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		f := newLateFixture(t, db, domain.Agreement{EffectiveFrom: domain.NewDate(2025, 1, 1), PaymentTerms: "net_30",
			LateFee: &domain.LateFee{Flat: 2500}})
		inv := f.issue("2026-01-01", 100000)
		f.at("2026-02-03")
		f.sweep()
		if got := f.chargeSums(inv.ID); got["late_fee:1"] != 2500 {
			t.Fatalf("fee %v", got)
		}
		f.pay(inv.ID, 100000, "2026-01-30", "early")
		if got := f.chargeSums(inv.ID); got["late_fee:1"] != 0 {
			t.Fatalf("the fee whose condition never held stays: %v", got)
		}
		if got := f.invoice(inv.ID); got.Status != domain.InvoiceStatusPaid || got.BalanceDue != 0 || got.PaidOn != domain.MustParseDate("2026-01-30") {
			t.Fatalf("invoice %+v", got)
		}
		checkLedger(t, db, "fee reversed")
	})
}

// TestPartialPaymentKeepsEnforcement: a part-payment dated before the due
// date, recorded months later, must not move the invoice out of the sweep's
// sight: the fee and interest it owes are still posted.
func TestPartialPaymentKeepsEnforcement(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		f := newLateFixture(t, db, domain.Agreement{EffectiveFrom: domain.NewDate(2025, 1, 1), PaymentTerms: "net_30",
			LateFee: &domain.LateFee{Flat: 2500}, Interest: &domain.InterestTerms{AnnualRate: "12"}})
		inv := f.issue("2026-01-01", 100000)
		f.at("2026-12-03")
		f.pay(inv.ID, 50000, "2026-01-20", "part")
		f.sweep()
		got := f.chargeSums(inv.ID)
		if got["late_fee:1"] != 2500 || got["interest:2026-02"] != 460 || got["interest:2026-11"] != 493 {
			t.Fatalf("charges after a partial payment: %v", got)
		}
		checkLedger(t, db, "partial payment")
	})
}

// TestFinalInterestWhateverThePaymentSize: the last month's interest is
// posted on the day the principal is paid in full, even when the payment
// does not cover it; what it leaves stays owed (10,000.00 at 6 % act/360,
// due 2015-12-31, 10,350.00 paid on 2016-07-30).
func TestFinalInterestWhateverThePaymentSize(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		f := newLateFixture(t, db, domain.Agreement{EffectiveFrom: domain.NewDate(2015, 1, 1), PaymentTerms: "net_30",
			Interest: &domain.InterestTerms{AnnualRate: "6", DayCount: "act/360"}})
		f.at("2015-12-01")
		inv := f.issue("2015-12-01", 1000000)
		f.at("2016-07-30")
		f.sweep()
		p := f.pay(inv.ID, 1035000, "2016-07-30", "final")
		got := f.chargeSums(inv.ID)
		// January to June: 5166.67, 4833.33, 5166.67, 5000, 5166.67, 5000 -> 303.34; July 1-30: 50.00.
		if got["interest:2016-07"] != 5000 || got["interest:2016-01"] != 5167 || got["interest:2016-06"] != 5000 {
			t.Fatalf("interest %v", got)
		}
		if p.Allocation != (domain.Allocation{Interest: 30334 + 4666, Principal: 1000000}) {
			t.Fatalf("allocation %+v", p.Allocation)
		}
		if inv := f.invoice(inv.ID); inv.Status != domain.InvoiceStatusOpen || inv.BalanceDue != 334 || inv.CreditCreated != 0 {
			t.Fatalf("invoice %+v, want open with 3.34 owed and no credit", inv)
		}
		checkLedger(t, db, "final interest")
	})
}
