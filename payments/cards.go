package payments

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/remit/remit/domain"
)

// MetaAutoChargeAttempt names the auto-charge attempt a PaymentIntent makes.
const MetaAutoChargeAttempt = "remit_auto_charge_attempt"

// CreateSetupSession implements domain.CardGateway: a Checkout Session in
// setup mode for the client's Customer; the card saved there is what
// ChargeOffSession charges.
func (g *Gateway) CreateSetupSession(ctx context.Context, clientID string, in domain.CheckoutInput) (*domain.SetupSession, error) {
	customer, err := g.customer(ctx, clientID)
	if err != nil {
		return nil, err
	}
	success, cancel := in.SuccessURL, in.CancelURL
	if success == "" {
		success = g.cfg.SuccessURL
	}
	if cancel == "" {
		cancel = g.cfg.CancelURL
	}
	p := &stripe.CheckoutSessionParams{
		Mode:               stripe.String(string(stripe.CheckoutSessionModeSetup)),
		Customer:           stripe.String(customer),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
		ClientReferenceID:  stripe.String(clientID),
		SetupIntentData: &stripe.CheckoutSessionSetupIntentDataParams{
			Description: stripe.String("Card for automatic payment of invoices"),
			Metadata:    map[string]string{MetaClientID: clientID},
		},
	}
	if success != "" {
		p.SuccessURL = stripe.String(success)
	}
	if cancel != "" {
		p.CancelURL = stripe.String(cancel)
	}
	p.AddMetadata(MetaClientID, clientID)
	p.Context = ctx
	sess, err := g.api.CheckoutSessions.New(p)
	if err != nil {
		return nil, g.stripeError("create a setup Checkout Session", err)
	}
	return &domain.SetupSession{ID: sess.ID, ClientID: clientID, CustomerID: customer, URL: sess.URL,
		ExpiresAt: time.Unix(sess.ExpiresAt, 0).UTC()}, nil
}

// ChargeOffSession implements domain.CardGateway: an off-session
// PaymentIntent, confirmed at once, for the attempt's amount on the
// Customer's most recent card, with the idempotency key (invoice, attempt)
// so a retry of the same attempt never charges twice. Its metadata names
// the invoice, so its webhooks settle the invoice like any other payment.
func (g *Gateway) ChargeOffSession(ctx context.Context, a domain.AutoChargeAttempt) (domain.AutoChargeResult, error) {
	amount, err := StripeAmount(a.Amount, a.Currency)
	if err != nil {
		return domain.AutoChargeResult{}, err
	}
	customer, err := g.customer(ctx, a.ClientID)
	if err != nil {
		return domain.AutoChargeResult{}, err
	}
	lp := &stripe.PaymentMethodListParams{Customer: stripe.String(customer), Type: stripe.String(string(stripe.PaymentMethodTypeCard))}
	lp.Limit = stripe.Int64(1)
	lp.Context = ctx
	it := g.api.PaymentMethods.List(lp)
	card := ""
	if it.Next() {
		card = it.PaymentMethod().ID
	}
	if err := it.Err(); err != nil {
		return domain.AutoChargeResult{}, g.stripeError("list the saved cards", err)
	}
	if card == "" {
		return domain.AutoChargeResult{Status: domain.AutoChargeFailed, Reason: "no_saved_card"}, nil
	}
	p := &stripe.PaymentIntentParams{
		Amount: stripe.Int64(amount), Currency: stripe.String(strings.ToLower(a.Currency)),
		Customer: stripe.String(customer), PaymentMethod: stripe.String(card),
		OffSession: stripe.Bool(true), Confirm: stripe.Bool(true),
		Description: stripe.String("Invoice " + a.Number),
	}
	p.AddMetadata(MetaInvoiceID, a.InvoiceID)
	p.AddMetadata(MetaClientID, a.ClientID)
	p.AddMetadata(MetaAutoChargeAttempt, strconv.Itoa(a.Attempt+1))
	p.Context = ctx
	p.SetIdempotencyKey(fmt.Sprintf("remit-autocharge-%s-%d", a.InvoiceID, a.Attempt))
	pi, err := g.api.PaymentIntents.New(p)
	if err != nil {
		// A card error (declined, authentication required) is an answer
		// about the card; anything else is Stripe failing.
		var se *stripe.Error
		if errors.As(err, &se) && se.Type == stripe.ErrorTypeCard {
			r := domain.AutoChargeResult{Status: domain.AutoChargeFailed, Reason: string(se.Code)}
			if se.PaymentIntent != nil {
				r.PaymentIntentID = se.PaymentIntent.ID
				if se.PaymentIntent.Status == stripe.PaymentIntentStatusRequiresAction {
					r.Reason = "requires_action"
				}
			}
			if r.Reason == "" {
				r.Reason = "card_declined"
			}
			return r, nil
		}
		return domain.AutoChargeResult{}, g.stripeError("charge the saved card", err)
	}
	r := domain.AutoChargeResult{PaymentIntentID: pi.ID}
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		r.Status = domain.AutoChargeSucceeded
	case stripe.PaymentIntentStatusProcessing:
		r.Status = domain.AutoChargeProcessing
	case stripe.PaymentIntentStatusRequiresAction:
		r.Status, r.Reason = domain.AutoChargeFailed, "requires_action"
	default:
		r.Status, r.Reason = domain.AutoChargeFailed, string(pi.Status)
	}
	return r, nil
}
