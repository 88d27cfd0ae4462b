// Package payments is Remit's Stripe integration: Checkout Sessions for an
// invoice's balance, one Stripe Customer per client, verification and
// decoding of Stripe's webhooks, and reconciliation against Stripe's list of
// PaymentIntents. It talks to Stripe with stripe-go and to the rest of
// Remit only through domain interfaces (the store implements them).
package payments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/remit/remit/domain"
)

// Metadata keys Remit puts on Stripe objects.
const (
	MetaInvoiceID = "remit_invoice_id"
	MetaClientID  = "remit_client_id"
)

// WebhookTolerance is how old a webhook's signed timestamp may be.
const WebhookTolerance = 300 * time.Second

// MaxReconcile bounds how many PaymentIntents one reconciliation reads.
const MaxReconcile = 10_000

// Config is how to reach Stripe.
type Config struct {
	// SecretKey is the API key (sk_...). Required.
	SecretKey string
	// WebhookSecret is the endpoint's signing secret (whsec_...); without
	// it webhooks answer 503 stripe_not_configured.
	WebhookSecret string
	// APIBase replaces https://api.stripe.com (stripe-mock in tests).
	APIBase string
	// SuccessURL and CancelURL are the Checkout return pages used when a
	// request names none.
	SuccessURL string
	CancelURL  string
	// HTTPClient is used for Stripe's API; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// SignatureClock is what webhook signature timestamps are checked
	// against; nil means the real clock (Stripe signs with it).
	SignatureClock func() time.Time
}

// Deps are the parts of Remit the gateway uses.
type Deps struct {
	Ledger   domain.StripeLedger
	Invoices domain.InvoiceService
	Clients  domain.ClientService
	Logger   *slog.Logger
}

// Gateway implements domain.PaymentGateway with Stripe.
type Gateway struct {
	cfg  Config
	api  *client.API
	deps Deps

	// versions remembers the api_version values already logged as mismatches.
	versions sync.Map
}

// New returns a gateway for cfg. It makes no request to Stripe.
func New(cfg Config, d Deps) *Gateway {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	bc := &stripe.BackendConfig{
		HTTPClient:        hc,
		MaxNetworkRetries: stripe.Int64(2),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.APIBase != "" {
		bc.URL = stripe.String(cfg.APIBase)
	}
	return &Gateway{cfg: cfg, api: client.New(cfg.SecretKey, stripe.NewBackendsWithConfig(bc)), deps: d}
}

// CreateCheckout implements domain.PaymentGateway.
func (g *Gateway) CreateCheckout(ctx context.Context, invoiceID string, in domain.CheckoutInput) (*domain.CheckoutSession, error) {
	inv, err := g.deps.Invoices.FindInvoiceByID(ctx, invoiceID)
	if err != nil {
		return nil, err
	}
	switch inv.Status {
	case domain.InvoiceStatusDraft:
		return nil, domain.Conflictf(domain.EINVOICENOTOPEN, "invoice %s is a draft; issue it before asking for payment", inv.ID)
	case domain.InvoiceStatusVoid:
		return nil, domain.Conflictf(domain.EINVOICEVOID, "invoice %s is void", inv.ID)
	case domain.InvoiceStatusPaid:
		return nil, domain.Conflictf(domain.EINVOICEPAID, "invoice %s is already paid", inv.ID)
	}
	if inv.BalanceDue <= 0 {
		return nil, domain.Conflictf(domain.EINVOICEPAID, "invoice %s has nothing due", inv.ID)
	}
	due := inv.BalanceDue
	if in.Amount > 0 {
		due = in.Amount // the payoff the hosted page quoted
	}
	amount, err := StripeAmount(due, inv.Currency)
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
	customer, err := g.customer(ctx, inv.ClientID)
	if err != nil {
		return nil, err
	}
	name := "Invoice " + inv.Number
	p := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		Customer:          stripe.String(customer),
		ClientReferenceID: stripe.String(inv.ID),
		LineItems: []*stripe.CheckoutSessionLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripe.String(strings.ToLower(inv.Currency)),
				UnitAmount:  stripe.Int64(amount),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(name)},
			},
		}},
		// The PaymentIntent carries the invoice too, so its own events
		// (succeeded, processing, failed) name the invoice without the session.
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{
			Description: stripe.String(name),
			Metadata:    map[string]string{MetaInvoiceID: inv.ID, MetaClientID: inv.ClientID},
		},
	}
	if success != "" {
		p.SuccessURL = stripe.String(success)
	}
	if cancel != "" {
		p.CancelURL = stripe.String(cancel)
	}
	keyParts := []string{inv.ID, fmt.Sprint(amount), inv.Currency, customer, success, cancel}
	if !in.ExpiresAt.IsZero() {
		p.ExpiresAt = stripe.Int64(in.ExpiresAt.Unix())
		keyParts = append(keyParts, fmt.Sprint(in.ExpiresAt.Unix()))
	}
	p.AddMetadata(MetaInvoiceID, inv.ID)
	p.AddMetadata(MetaClientID, inv.ClientID)
	p.Context = ctx
	// The same invoice, amount, pages and expiry within Stripe's 24 hours
	// of key memory get the same session back: a double click opens one page.
	sum := sha256.Sum256([]byte(strings.Join(keyParts, "\x00")))
	p.SetIdempotencyKey("remit-checkout-" + hex.EncodeToString(sum[:16]))
	sess, err := g.api.CheckoutSessions.New(p)
	if err != nil {
		return nil, g.stripeError("create a Checkout Session", err)
	}
	return &domain.CheckoutSession{ID: sess.ID, InvoiceID: inv.ID, URL: sess.URL, ExpiresAt: time.Unix(sess.ExpiresAt, 0).UTC(),
		Amount: amount, Currency: inv.Currency, CustomerID: customer}, nil
}

// customer returns the client's Stripe Customer, creating and storing it on
// first need. The idempotency key makes a retry, or a second replica racing
// this one, get the same Customer from Stripe.
func (g *Gateway) customer(ctx context.Context, clientID string) (string, error) {
	id, err := g.deps.Ledger.FindStripeCustomer(ctx, clientID)
	if err != nil || id != "" {
		return id, err
	}
	c, err := g.deps.Clients.FindClientByID(ctx, clientID)
	if err != nil {
		return "", err
	}
	p := &stripe.CustomerParams{Name: stripe.String(c.Name), Email: stripe.String(c.Email)}
	p.AddMetadata(MetaClientID, c.ID)
	p.Context = ctx
	p.SetIdempotencyKey("remit-customer-" + c.ID)
	cus, err := g.api.Customers.New(p)
	if err != nil {
		return "", g.stripeError("create a Customer", err)
	}
	return g.deps.Ledger.SaveStripeCustomer(ctx, clientID, cus.ID)
}

// Reconcile implements domain.PaymentGateway. Each succeeded intent goes
// through the ledger as a payment_intent.succeeded event with the id
// "reconcile:<intent>", so it is recorded once, however often this runs and
// whatever webhooks arrive later.
func (g *Gateway) Reconcile(ctx context.Context, since time.Time) (*domain.ReconcileReport, error) {
	report := &domain.ReconcileReport{Since: since.UTC(), Recorded: []string{}}
	p := &stripe.PaymentIntentListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: since.Unix()}}
	p.Limit = stripe.Int64(100)
	p.Context = ctx
	it := g.api.PaymentIntents.List(p)
	for it.Next() {
		pi := it.PaymentIntent()
		report.Checked++
		if pi.Status == stripe.PaymentIntentStatusSucceeded {
			report.Succeeded++
			if invoiceID := pi.Metadata[MetaInvoiceID]; invoiceID == "" {
				report.Skipped++
			} else {
				recorded, err := g.reconcileIntent(ctx, pi, invoiceID)
				if err != nil {
					return report, err
				}
				if recorded {
					report.Recorded = append(report.Recorded, pi.ID)
				}
			}
		}
		if report.Checked >= MaxReconcile {
			break
		}
	}
	if err := it.Err(); err != nil {
		return report, g.stripeError("list PaymentIntents", err)
	}
	return report, nil
}

func (g *Gateway) reconcileIntent(ctx context.Context, pi *stripe.PaymentIntent, invoiceID string) (bool, error) {
	amount := pi.AmountReceived
	if amount == 0 {
		amount = pi.Amount
	}
	payload, err := json.Marshal(map[string]any{"id": pi.ID, "object": "payment_intent", "status": pi.Status, "amount": pi.Amount,
		"amount_received": pi.AmountReceived, "currency": pi.Currency, "created": pi.Created, "metadata": pi.Metadata})
	if err != nil {
		return false, err
	}
	res, err := g.deps.Ledger.ApplyStripeEvent(ctx, domain.StripeEvent{
		ID: "reconcile:" + pi.ID, Type: "payment_intent.succeeded", APIVersion: stripe.APIVersion, Created: time.Unix(pi.Created, 0).UTC(),
		Payload: payload, IntentID: pi.ID, InvoiceID: invoiceID, Status: domain.IntentSucceeded, Amount: amount,
		Currency: strings.ToUpper(string(pi.Currency)),
	})
	if err != nil {
		return false, err
	}
	if res.PaymentID != "" {
		g.deps.Logger.Info("stripe reconcile recorded a payment no webhook delivered", "payment_intent", pi.ID, "invoice_id", invoiceID, "payment_id", res.PaymentID)
	}
	return res.PaymentID != "", nil
}

// stripeError turns a stripe-go error into a domain error: a request Stripe
// refused as invalid is EINVALID with Stripe's message; anything else
// (network, authentication, Stripe's own outage) is EUNAVAILABLE, logged.
func (g *Gateway) stripeError(what string, err error) error {
	var se *stripe.Error
	if errors.As(err, &se) && se.Type == stripe.ErrorTypeInvalidRequest && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 &&
		se.HTTPStatusCode != http.StatusUnauthorized && se.HTTPStatusCode != http.StatusForbidden && se.HTTPStatusCode != http.StatusTooManyRequests {
		return domain.Errorf(domain.EINVALID, "Stripe refused to %s: %s", what, se.Msg)
	}
	g.deps.Logger.Error("stripe request failed", "action", what, "error", err.Error())
	return domain.Errorf(domain.EUNAVAILABLE, "Stripe could not %s; try again later", what)
}

// notConfigured is the error of a Stripe feature that lacks its setting.
func notConfigured(setting string) error {
	return &domain.Error{Code: domain.ESTRIPENOTCONFIGURED, Kind: domain.EUNAVAILABLE, Message: "Stripe is not configured: set " + setting}
}

// RefundPaymentIntent implements domain.PaymentGateway: it refunds amount
// (minor units) of a PaymentIntent; the idempotency key makes a retry
// return the same refund.
func (g *Gateway) RefundPaymentIntent(ctx context.Context, paymentIntentID string, amount int64, idempotencyKey string) (string, error) {
	p := &stripe.RefundParams{PaymentIntent: stripe.String(paymentIntentID), Amount: stripe.Int64(amount)}
	p.Context = ctx
	p.SetIdempotencyKey(idempotencyKey)
	p.AddMetadata("remit_reason", "offboarding: unearned deposit")
	r, err := g.api.Refunds.New(p)
	if err != nil {
		return "", g.stripeError("refund the PaymentIntent", err)
	}
	return r.ID, nil
}
