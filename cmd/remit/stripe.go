package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/remit/remit/billing"
	"github.com/remit/remit/domain"
	"github.com/remit/remit/payments"
	"github.com/remit/remit/store"
)

// newPayments returns the Stripe gateway on db when STRIPE_SECRET_KEY is set,
// else nil, and then the Stripe routes answer 503 stripe_not_configured.
func (m *Main) newPayments(db *store.DB) domain.PaymentGateway {
	if m.Config.StripeSecretKey == "" {
		return nil
	}
	return payments.New(payments.Config{
		SecretKey:     m.Config.StripeSecretKey,
		WebhookSecret: m.Config.StripeWebhookSecret,
		APIBase:       m.Config.StripeAPIBase,
		SuccessURL:    m.Config.StripeSuccessURL,
		CancelURL:     m.Config.StripeCancelURL,
	}, payments.Deps{
		Ledger:   store.NewStripeService(db),
		Invoices: store.NewInvoiceService(db),
		Clients:  store.NewClientService(db),
		Logger:   m.Logger,
	})
}

// stripeReconcile runs `remit stripe reconcile [-since 72h|RFC 3339]`: it
// records the succeeded Stripe payments that no webhook delivered and prints
// the report as JSON.
func (m *Main) stripeReconcile(ctx context.Context, sinceFlag string) error {
	since, err := parseSince(sinceFlag, m.Now())
	if err != nil {
		return err
	}
	if m.Config.StripeSecretKey == "" {
		return errors.New("STRIPE_SECRET_KEY is not set")
	}
	unlock, err := store.LockForServing(m.Config.DatabaseURL)
	if err != nil {
		return err
	}
	defer unlock()
	db, err := store.Open(ctx, m.Config.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	db.Now = m.Now
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	report, err := m.newPayments(db).Reconcile(ctx, since)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(report)
}

// parseSince reads -since: a duration back from now, or an RFC 3339 time.
func parseSince(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("-since %q: must be a duration such as 72h or an RFC 3339 time", v)
	}
	return t, nil
}

// checkoutURL returns the function that gives an invoice PDF its payment
// link, or nil without Stripe. The gateway's idempotency key (invoice,
// amount, pages) makes Stripe answer the same session, so the same URL,
// while the balance is unchanged and the key is remembered (24 hours).
func checkoutURL(gw domain.PaymentGateway) func(ctx context.Context, invoiceID string) (string, error) {
	if gw == nil {
		return nil
	}
	return func(ctx context.Context, invoiceID string) (string, error) {
		s, err := gw.CreateCheckout(ctx, invoiceID, domain.CheckoutInput{})
		if err != nil {
			return "", err
		}
		return s.URL, nil
	}
}

// cardGateway is the gateway's card side, nil without Stripe.
func cardGateway(gw domain.PaymentGateway) domain.CardGateway {
	cards, _ := gw.(domain.CardGateway)
	return cards
}

// autoChargeStep is the sweep step charging saved cards of auto-charged
// invoices; without Stripe it does nothing.
func (m *Main) autoChargeStep(db *store.DB) billing.Step {
	cards := m.Server.Cards
	if cards == nil {
		return billing.Step{Name: "auto_charge", Run: func(context.Context, time.Time) (int, error) { return 0, nil }}
	}
	a := &billing.AutoCharger{Store: store.NewAutoChargeService(db), Cards: cards, Logger: m.Logger}
	return billing.Step{Name: "auto_charge", Run: a.Run}
}
