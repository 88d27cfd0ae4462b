package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

// stripeFixture is an overdue invoice (issued 2026-01-01, net 15, a 15.00
// late fee) whose Stripe events the tests apply.
type stripeFixture struct {
	t        *testing.T
	db       *store.DB
	ledger   *store.StripeService
	invoices *store.InvoiceService
	clientID string
}

func newStripeFixture(t *testing.T, db *store.DB) *stripeFixture {
	ctx := context.Background()
	clients := store.NewClientService(db)
	c := newClient("Stripe payer")
	if err := clients.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	ag := domain.Agreement{EffectiveFrom: domain.NewDate(2025, 1, 1), PaymentTerms: "net_15", LateFee: &domain.LateFee{Flat: 1500}}
	if _, err := store.NewAgreementService(db, domain.Business{NoticeDays: 30}).CreateAgreement(ctx, c.ID, ag); err != nil {
		t.Fatal(err)
	}
	return &stripeFixture{t: t, db: db, ledger: store.NewStripeService(db), invoices: store.NewInvoiceService(db), clientID: c.ID}
}

// invoice issues a 100.00 EUR invoice dated 2026-01-01 to a new client
// (so no credit left by another scenario is applied to it).
func (f *stripeFixture) invoice() string {
	f.t.Helper()
	f.clientID = newStripeFixture(f.t, f.db).clientID
	inv, err := f.invoices.CreateInvoice(context.Background(), domain.InvoiceDraft{ClientID: f.clientID, Issue: true, IssueDate: domain.NewDate(2026, 1, 1),
		Lines: []domain.LineInput{{Description: "Design", Quantity: "1", UnitAmount: 10000}}})
	if err != nil {
		f.t.Fatal(err)
	}
	return inv.ID
}

func (f *stripeFixture) apply(ev domain.StripeEvent) domain.StripeEventResult {
	f.t.Helper()
	if ev.Payload == nil {
		ev.Payload = []byte(`{}`)
	}
	res, err := f.ledger.ApplyStripeEvent(context.Background(), ev)
	if err != nil {
		f.t.Fatalf("apply %s %s: %v", ev.ID, ev.Type, err)
	}
	return res
}

// state is what an invoice ends with, to compare orders.
func (f *stripeFixture) state(invoiceID string) string {
	f.t.Helper()
	ctx := context.Background()
	inv, err := f.invoices.FindInvoiceByID(ctx, invoiceID)
	if err != nil {
		f.t.Fatal(err)
	}
	pays, err := f.invoices.FindPayments(ctx, invoiceID)
	if err != nil {
		f.t.Fatal(err)
	}
	var paid, refunded int64
	for _, p := range pays {
		paid += p.Amount
		refunded += p.Refunded
	}
	charges, err := f.invoices.FindCharges(ctx, invoiceID)
	if err != nil {
		f.t.Fatal(err)
	}
	return fmt.Sprintf("status=%s balance=%d paid=%d charges=%d(%d) credit=%d payments=%d received=%d refunded=%d processing=%t disputed=%t",
		inv.Status, inv.BalanceDue, inv.AmountPaid, inv.ChargesTotal, len(charges), inv.CreditCreated, len(pays), paid, refunded,
		inv.PaymentProcessing, inv.Disputed)
}

// at is a moment on 2026-02-20 (UTC), minutes in.
func at(minutes int) time.Time { return time.Date(2026, 2, 20, 10, minutes, 0, 0, time.UTC) }

// stripeScenario is a sequence of events in Stripe's order, and the state
// the invoice must end in.
type stripeScenario struct {
	name   string
	events func(inv, tag string) []domain.StripeEvent
	want   string
}

func intentEvent(id, typ, intent, inv, status string, amount int64, minute int) domain.StripeEvent {
	return domain.StripeEvent{ID: id, Type: typ, Created: at(minute), IntentID: intent, InvoiceID: inv, Status: status, Amount: amount, Currency: "EUR"}
}

var stripeScenarios = []stripeScenario{
	{
		name: "session and intent events record one payment",
		events: func(inv, tag string) []domain.StripeEvent {
			pi := "pi_a" + tag
			return []domain.StripeEvent{
				intentEvent("evt_a1"+tag, "checkout.session.completed", pi, inv, domain.IntentSucceeded, 11500, 1),
				intentEvent("evt_a2"+tag, "payment_intent.succeeded", pi, inv, domain.IntentSucceeded, 11500, 1),
			}
		},
		// 100.00 + the 15.00 late fee posted before the payment: paid in full.
		want: "status=paid balance=0 paid=11500 charges=1500(1) credit=0 payments=1 received=11500 refunded=0 processing=false disputed=false",
	},
	{
		name: "processing, success, two refunds (one event lists its refund)",
		events: func(inv, tag string) []domain.StripeEvent {
			pi, ch := "pi_b"+tag, "ch_b"+tag
			return []domain.StripeEvent{
				intentEvent("evt_b1"+tag, "payment_intent.processing", pi, inv, domain.IntentProcessing, 0, 1),
				intentEvent("evt_b2"+tag, "payment_intent.succeeded", pi, inv, domain.IntentSucceeded, 11500, 2),
				{ID: "evt_b3" + tag, Type: "charge.refunded", Created: at(3), IntentID: pi, ChargeID: ch, Currency: "EUR", AmountRefunded: 500,
					Refunds: []domain.StripeRefund{{ID: "re_b1" + tag, Amount: 500}}},
				{ID: "evt_b4" + tag, Type: "charge.refunded", Created: at(4), IntentID: pi, ChargeID: ch, Currency: "EUR", AmountRefunded: 800},
			}
		},
		want: "status=open balance=800 paid=10700 charges=1500(1) credit=0 payments=1 received=11500 refunded=800 processing=false disputed=false",
	},
	{
		name: "a failure after a success changes nothing",
		events: func(inv, tag string) []domain.StripeEvent {
			pi := "pi_c" + tag
			return []domain.StripeEvent{
				intentEvent("evt_c1"+tag, "payment_intent.succeeded", pi, inv, domain.IntentSucceeded, 5000, 1),
				intentEvent("evt_c2"+tag, "payment_intent.payment_failed", pi, inv, domain.IntentFailed, 0, 2),
			}
		},
		want: "status=open balance=6500 paid=5000 charges=1500(1) credit=0 payments=1 received=5000 refunded=0 processing=false disputed=false",
	},
	{
		name: "processing then failed leaves nothing paused",
		events: func(inv, tag string) []domain.StripeEvent {
			pi := "pi_d" + tag
			return []domain.StripeEvent{
				intentEvent("evt_d1"+tag, "payment_intent.processing", pi, inv, domain.IntentProcessing, 0, 1),
				intentEvent("evt_d2"+tag, "payment_intent.payment_failed", pi, inv, domain.IntentFailed, 0, 2),
			}
		},
		want: "status=open balance=10000 paid=0 charges=0(0) credit=0 payments=0 received=0 refunded=0 processing=false disputed=false",
	},
	{
		name: "a payment still processing pauses the invoice",
		events: func(inv, tag string) []domain.StripeEvent {
			pi := "pi_e" + tag
			return []domain.StripeEvent{
				intentEvent("evt_e1"+tag, "payment_intent.payment_failed", pi, inv, domain.IntentFailed, 0, 1),
				intentEvent("evt_e2"+tag, "payment_intent.processing", pi, inv, domain.IntentProcessing, 0, 2),
			}
		},
		want: "status=open balance=10000 paid=0 charges=0(0) credit=0 payments=0 received=0 refunded=0 processing=true disputed=false",
	},
	{
		name: "dispute opened and won",
		events: func(inv, tag string) []domain.StripeEvent {
			pi := "pi_f" + tag
			return []domain.StripeEvent{
				intentEvent("evt_f1"+tag, "payment_intent.succeeded", pi, inv, domain.IntentSucceeded, 6000, 1),
				{ID: "evt_f2" + tag, Type: "charge.dispute.created", Created: at(2), IntentID: pi, ChargeID: "ch_f" + tag, Currency: "EUR",
					DisputeID: "dp_f" + tag, DisputeStatus: domain.DisputeOpen, DisputeAmount: 6000},
				{ID: "evt_f3" + tag, Type: "charge.dispute.closed", Created: at(3), IntentID: pi, ChargeID: "ch_f" + tag, Currency: "EUR",
					DisputeID: "dp_f" + tag, DisputeStatus: domain.DisputeWon, DisputeAmount: 6000},
			}
		},
		want: "status=open balance=5500 paid=6000 charges=1500(1) credit=0 payments=1 received=6000 refunded=0 processing=false disputed=false",
	},
	{
		name: "dispute still open pauses enforcement",
		events: func(inv, tag string) []domain.StripeEvent {
			pi := "pi_g" + tag
			return []domain.StripeEvent{
				intentEvent("evt_g1"+tag, "payment_intent.succeeded", pi, inv, domain.IntentSucceeded, 6000, 1),
				{ID: "evt_g2" + tag, Type: "charge.dispute.created", Created: at(2), IntentID: pi, ChargeID: "ch_g" + tag, Currency: "EUR",
					DisputeID: "dp_g" + tag, DisputeStatus: domain.DisputeOpen, DisputeAmount: 6000},
			}
		},
		want: "status=open balance=5500 paid=6000 charges=1500(1) credit=0 payments=1 received=6000 refunded=0 processing=false disputed=true",
	},
	{
		name: "a lost dispute takes the payment back",
		events: func(inv, tag string) []domain.StripeEvent {
			pi := "pi_h" + tag
			return []domain.StripeEvent{
				intentEvent("evt_h1"+tag, "checkout.session.completed", pi, inv, domain.IntentSucceeded, 11500, 1),
				{ID: "evt_h2" + tag, Type: "charge.dispute.created", Created: at(2), IntentID: pi, ChargeID: "ch_h" + tag, Currency: "EUR",
					DisputeID: "dp_h" + tag, DisputeStatus: domain.DisputeOpen, DisputeAmount: 11500},
				{ID: "evt_h3" + tag, Type: "charge.dispute.closed", Created: at(3), IntentID: pi, ChargeID: "ch_h" + tag, Currency: "EUR",
					DisputeID: "dp_h" + tag, DisputeStatus: domain.DisputeLost, DisputeAmount: 11500},
			}
		},
		want: "status=open balance=11500 paid=0 charges=1500(1) credit=0 payments=1 received=11500 refunded=11500 processing=false disputed=false",
	},
	{
		name: "a second payment after the invoice is paid becomes credit",
		events: func(inv, tag string) []domain.StripeEvent {
			return []domain.StripeEvent{
				intentEvent("evt_i1"+tag, "payment_intent.succeeded", "pi_i1"+tag, inv, domain.IntentSucceeded, 11500, 1),
				intentEvent("evt_i2"+tag, "payment_intent.succeeded", "pi_i2"+tag, inv, domain.IntentSucceeded, 2000, 2),
			}
		},
		want: "status=paid balance=0 paid=11500 charges=1500(1) credit=2000 payments=2 received=13500 refunded=0 processing=false disputed=false",
	},
}

// TestStripeEventsConverge applies each scenario in Stripe's order, then
// in random orders with every event delivered twice, and requires the same
// end state every time.
func TestStripeEventsConverge(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		f := newStripeFixture(t, db)
		seed := uint64(time.Now().UnixNano())
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, 11))
		for _, sc := range stripeScenarios {
			t.Run(sc.name, func(t *testing.T) {
				f.t = t
				inv := f.invoice()
				for _, ev := range sc.events(inv, "_0") {
					f.apply(ev)
				}
				if got := f.state(inv); got != sc.want {
					t.Fatalf("in order:\n got %s\nwant %s", got, sc.want)
				}
				for run := 1; run <= 6; run++ {
					inv := f.invoice()
					evs := sc.events(inv, fmt.Sprintf("_%d", run))
					evs = append(evs, evs...)
					rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
					dups := 0
					for _, ev := range evs {
						if f.apply(ev).Duplicate {
							dups++
						}
					}
					if dups != len(evs)/2 {
						t.Fatalf("run %d: %d duplicates, want %d", run, dups, len(evs)/2)
					}
					if got := f.state(inv); got != sc.want {
						var order []string
						for _, ev := range evs {
							order = append(order, ev.Type)
						}
						t.Fatalf("run %d, order %v:\n got %s\nwant %s", run, order, got, sc.want)
					}
				}
				checkLedger(t, db, sc.name)
			})
		}
	})
}

// TestStripeEventEdges covers events that cannot apply: they are stored
// with a reason and change no invoice; money that succeeded for an unknown
// invoice or in another currency is kept as an unapplied payment.
func TestStripeEventEdges(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		f := newStripeFixture(t, db)
		inv := f.invoice()
		before := f.state(inv)
		for _, c := range []struct {
			ev      domain.StripeEvent
			outcome string
		}{
			{intentEvent("evt_x1", "payment_intent.succeeded", "", inv, domain.IntentSucceeded, 100, 1), "ignored: no PaymentIntent"},
			{intentEvent("evt_x2", "payment_intent.succeeded", "pi_x2", "inv_nope", domain.IntentSucceeded, 100, 1), "ignored: no invoice inv_nope"},
			{domain.StripeEvent{ID: "evt_x3", Type: "payment_intent.succeeded", Created: at(1), IntentID: "pi_x3", InvoiceID: inv,
				Status: domain.IntentSucceeded, Amount: 100, Currency: "USD"}, "ignored: paid in USD, the invoice is in EUR"},
			{domain.StripeEvent{ID: "evt_x4", Type: "charge.refunded", Created: at(1), ChargeID: "ch_unknown", AmountRefunded: 100}, "ignored: no PaymentIntent"},
		} {
			res := f.apply(c.ev)
			kept := c.ev.ID == "evt_x2" || c.ev.ID == "evt_x3"
			want := c.outcome
			if kept {
				want += "; kept as unapplied payment " + res.UnappliedPaymentID
			}
			if res.Duplicate || !strings.HasPrefix(res.Outcome, want) || res.PaymentID != "" || (res.UnappliedPaymentID != "") != kept {
				t.Errorf("%s: %+v, want outcome %q", c.ev.ID, res, want)
			}
		}
		if got := f.state(inv); got != before {
			t.Fatalf("state changed:\n got %s\nwant %s", got, before)
		}
		// A refund that came before anything named the invoice is applied
		// once the success names it.
		f.apply(domain.StripeEvent{ID: "evt_y1", Type: "charge.refunded", Created: at(5), IntentID: "pi_y", ChargeID: "ch_y", Currency: "EUR", AmountRefunded: 3000})
		res := f.apply(intentEvent("evt_y2", "payment_intent.succeeded", "pi_y", inv, domain.IntentSucceeded, 11500, 1))
		if res.PaymentID == "" || res.Outcome != "payment recorded; refund of 3000 recorded" {
			t.Fatalf("success after refund: %+v", res)
		}
		want := "status=open balance=3000 paid=8500 charges=1500(1) credit=0 payments=1 received=11500 refunded=3000 processing=false disputed=false"
		if got := f.state(inv); got != want {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
		pays, _ := f.invoices.FindPayments(context.Background(), inv)
		if len(pays) != 1 || pays[0].Source != domain.PaymentStripe || pays[0].Method != "card" || pays[0].Reference != "pi_y" ||
			pays[0].PaidOn != domain.NewDate(2026, 2, 20) {
			t.Fatalf("payment %+v", pays)
		}
	})
}

// TestStripeCustomers keeps the first Customer stored for a client.
func TestStripeCustomers(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newStripeFixture(t, db)
		if id, err := f.ledger.FindStripeCustomer(ctx, f.clientID); err != nil || id != "" {
			t.Fatalf("before: %q %v", id, err)
		}
		if id, err := f.ledger.SaveStripeCustomer(ctx, f.clientID, "cus_1"); err != nil || id != "cus_1" {
			t.Fatalf("save: %q %v", id, err)
		}
		if id, err := f.ledger.SaveStripeCustomer(ctx, f.clientID, "cus_2"); err != nil || id != "cus_1" {
			t.Fatalf("second save: %q %v", id, err)
		}
		if id, err := f.ledger.FindStripeCustomer(ctx, f.clientID); err != nil || id != "cus_1" {
			t.Fatalf("find: %q %v", id, err)
		}
		if _, err := f.ledger.SaveStripeCustomer(ctx, "cli_nope", "cus_3"); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("unknown client: %v", err)
		}
	})
}

// TestUnappliedPaymentsGoToTheBusiness: money collected for an unknown
// invoice or in another currency is kept once per PaymentIntent, announced
// by payment.unapplied, mailed to the business (not the client), and
// applied to an invoice of its currency through the payment rules.
func TestUnappliedPaymentsGoToTheBusiness(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newStripeFixture(t, db)
		inv := f.invoice()
		at := time.Date(2026, 2, 27, 10, 0, 0, 0, time.UTC)
		unknown := f.apply(domain.StripeEvent{ID: "evt_1", Type: "payment_intent.succeeded", Created: at, IntentID: "pi_unknown",
			InvoiceID: "inv_gone", Status: domain.IntentSucceeded, Amount: 4000, Currency: "EUR"})
		other := f.apply(domain.StripeEvent{ID: "evt_2", Type: "payment_intent.succeeded", Created: at, IntentID: "pi_gbp",
			InvoiceID: inv, Status: domain.IntentSucceeded, Amount: 3000, Currency: "GBP"})
		again := f.apply(domain.StripeEvent{ID: "evt_3", Type: "payment_intent.succeeded", Created: at, IntentID: "pi_gbp",
			InvoiceID: inv, Status: domain.IntentSucceeded, Amount: 3000, Currency: "GBP"})
		if unknown.UnappliedPaymentID == "" || other.UnappliedPaymentID == "" || again.UnappliedPaymentID != "" {
			t.Fatalf("results %+v %+v %+v", unknown, other, again)
		}

		o := store.NewOutboxService(db)
		o.BusinessEmail = "owner@business.example"
		if _, err := o.FanOut(ctx, 100, true); err != nil {
			t.Fatal(err)
		}
		jobs, err := o.ClaimEmailJobs(ctx, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var mailed []string
		for _, j := range jobs {
			if j.Message.Type == domain.EventPaymentUnapplied {
				mailed = append(mailed, j.Delivery.Recipient)
			}
		}
		if len(mailed) != 2 || mailed[0] != "owner@business.example" || mailed[1] != "owner@business.example" {
			t.Fatalf("payment.unapplied mailed to %v", mailed)
		}

		u := store.NewUnappliedPaymentService(db)
		page, err := u.FindUnappliedPayments(ctx, domain.UnappliedFilter{Status: domain.UnappliedOpen, Page: domain.PageParams{Limit: 10}})
		if err != nil || len(page.Data) != 2 {
			t.Fatalf("list: %+v %v", page, err)
		}
		if _, err := u.ApplyUnappliedPayment(ctx, other.UnappliedPaymentID, inv); domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("apply GBP to a EUR invoice: %v", err)
		}
		applied, err := u.ApplyUnappliedPayment(ctx, unknown.UnappliedPaymentID, inv)
		if err != nil || applied.Status != domain.UnappliedApplied || applied.PaymentID == "" {
			t.Fatalf("apply: %+v %v", applied, err)
		}
		got, err := f.invoices.FindInvoiceByID(ctx, inv)
		if err != nil || got.AmountPaid != 4000 {
			t.Fatalf("invoice after apply: %+v %v", got, err)
		}
		if _, err := u.ApplyUnappliedPayment(ctx, unknown.UnappliedPaymentID, inv); domain.ErrorCode(err) != domain.EUNAPPLIEDRESOLVED {
			t.Fatalf("apply twice: %v", err)
		}
		if _, err := u.RefundUnappliedPayment(ctx, other.UnappliedPaymentID); domain.ErrorCode(err) != domain.ESTRIPENOTCONFIGURED {
			t.Fatalf("refund without Stripe: %v", err)
		}
		// A refund Stripe reports later for the applied intent reaches its payment.
		f.apply(domain.StripeEvent{ID: "evt_4", Type: "charge.refunded", Created: at.Add(time.Hour), IntentID: "pi_unknown",
			ChargeID: "ch_1", AmountRefunded: 1000, Refunds: []domain.StripeRefund{{ID: "re_1", Amount: 1000}}})
		if got, _ := f.invoices.FindInvoiceByID(ctx, inv); got.AmountPaid != 3000 {
			t.Fatalf("after Stripe's refund the invoice has %d paid, want 3000", got.AmountPaid)
		}
	})
}
