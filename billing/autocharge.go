package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/remit/remit/domain"
)

// AutoCharger is the sweep step that charges saved cards on the due date
// of auto-charged invoices and on the retry days after it. Each attempt
// is claimed in the store before Stripe is called, so it is made once
// however many sweeps or replicas run; the Stripe idempotency key
// (invoice, attempt) makes a retry after a failed call the same request.
type AutoCharger struct {
	Store  domain.AutoChargeStore
	Cards  domain.CardGateway
	Logger *slog.Logger
	// Batch bounds the attempts one run makes (default 200); the rest wait
	// for the next run.
	Batch int
}

// Run makes every attempt that is due and returns how many it made.
func (a *AutoCharger) Run(ctx context.Context, now time.Time) (int, error) {
	batch := a.Batch
	if batch <= 0 {
		batch = 200
	}
	due, err := a.Store.DueAutoCharges(ctx, now, batch)
	if err != nil {
		return 0, err
	}
	made := 0
	var errs []error
	for _, at := range due {
		if err := ctx.Err(); err != nil {
			return made, errors.Join(append(errs, err)...)
		}
		ok, err := a.Store.ClaimAutoCharge(ctx, at)
		if err != nil || !ok {
			errs = append(errs, err)
			continue
		}
		res, err := a.Cards.ChargeOffSession(ctx, at)
		if err != nil {
			// Stripe failed: give the attempt back for the next run.
			errs = append(errs, fmt.Errorf("auto-charge of invoice %s: %w", at.InvoiceID, err),
				a.Store.RecordAutoCharge(context.WithoutCancel(ctx), at, nil))
			continue
		}
		if res.Status == domain.AutoChargeFailed {
			// The client gets the invoice with a link to pay it by hand.
			if sess, err := a.Cards.CreateCheckout(ctx, at.InvoiceID, domain.CheckoutInput{}); err == nil {
				res.PayURL = sess.URL
			} else {
				a.Logger.Warn("auto-charge failed and no pay link could be made", "invoice_id", at.InvoiceID, "error", err)
			}
		}
		made++
		errs = append(errs, a.Store.RecordAutoCharge(context.WithoutCancel(ctx), at, &res))
		a.Logger.Info("auto-charge", "invoice_id", at.InvoiceID, "attempt", at.Attempt+1, "status", res.Status, "reason", res.Reason,
			"payment_intent", res.PaymentIntentID)
	}
	return made, errors.Join(errs...)
}
