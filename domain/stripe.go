package domain

import (
	"context"
	"time"
)

// EBADSIGNATURE refuses a Stripe webhook whose Stripe-Signature header is
// missing, malformed, wrong or too old (400).
const EBADSIGNATURE = "invalid_signature"

// PaymentIntent statuses as Remit tracks them. Stripe's other statuses
// (requires_payment_method, requires_action, ...) leave nothing to do.
const (
	IntentProcessing = "processing"
	IntentFailed     = "failed"
	IntentCanceled   = "canceled"
	IntentSucceeded  = "succeeded"
)

// Dispute statuses as Remit tracks them: open until Stripe closes it.
const (
	DisputeOpen = "open"
	DisputeWon  = "won"
	DisputeLost = "lost"
	// DisputeClosed is a closed dispute with any other outcome
	// (warning_closed, charge_refunded): the money stays as it was.
	DisputeClosed = "closed"
)

// CheckoutInput is what a caller may add to a Checkout Session request.
type CheckoutInput struct {
	// SuccessURL and CancelURL are where Stripe sends the payer afterwards;
	// empty means the configured defaults.
	SuccessURL string
	CancelURL  string
	// Amount, when set, is what the session charges, in minor units: the
	// hosted page's payoff quote (CheckoutWindow). Zero means the
	// invoice's posted balance due.
	Amount int64
	// ExpiresAt, when set, is when the session closes (Stripe takes 30
	// minutes to 24 hours from now); zero means Stripe's default, 24 hours.
	ExpiresAt time.Time
}

// CheckoutSession is a Stripe-hosted payment page for an invoice's balance.
type CheckoutSession struct {
	ID         string    `json:"id"`
	InvoiceID  string    `json:"invoice_id"`
	URL        string    `json:"url"`
	ExpiresAt  time.Time `json:"expires_at"`
	Amount     int64     `json:"amount"`
	Currency   string    `json:"currency"`
	CustomerID string    `json:"customer_id"`
}

// StripeEvent is a verified Stripe event reduced to the facts Remit acts on.
// The fields read are ones Stripe has kept stable across API versions.
type StripeEvent struct {
	ID         string
	Type       string
	APIVersion string
	Created    time.Time
	// Payload is the body as received, kept with the event id.
	Payload []byte

	// IntentID is the PaymentIntent the event is about ("" when none).
	IntentID string
	// InvoiceID is the remit_invoice_id metadata, when the object carries it.
	InvoiceID string
	// Status is the PaymentIntent status the event shows (Intent*), or "".
	Status string
	// Amount is what the payment brought in, in minor units of Currency.
	Amount int64
	// Currency is upper case (EUR), as Remit stores it.
	Currency string
	// ChargeID is the charge of charge.* events.
	ChargeID string
	// AmountRefunded is the charge's refunded total so far (charge.refunded).
	AmountRefunded int64
	// Refunds are the refunds the charge lists, newest first, when it lists them.
	Refunds []StripeRefund
	// DisputeID, DisputeStatus (Dispute*) and DisputeAmount describe a dispute event.
	DisputeID     string
	DisputeStatus string
	DisputeAmount int64
}

// StripeRefund is one refund of a charge.
type StripeRefund struct {
	ID     string
	Amount int64
}

// StripeEventResult is what applying a Stripe event did.
type StripeEventResult struct {
	// Duplicate is true when the event id was seen before; nothing changed.
	Duplicate bool `json:"duplicate"`
	// Outcome says what the event changed, for logs and the stored row.
	Outcome string `json:"outcome"`
	// PaymentID is the payment recorded by this event, if one was.
	PaymentID string `json:"payment_id,omitempty"`
	// UnappliedPaymentID is the unapplied payment this event recorded: money
	// collected for an unknown invoice or in another currency.
	UnappliedPaymentID string `json:"unapplied_payment_id,omitempty"`
}

// ReconcileReport is what a reconciliation with Stripe found and did.
type ReconcileReport struct {
	Since time.Time `json:"since"`
	// Checked counts the PaymentIntents listed; Succeeded those that succeeded.
	Checked   int `json:"checked"`
	Succeeded int `json:"succeeded"`
	// Recorded are the PaymentIntent ids whose payment no webhook had delivered.
	Recorded []string `json:"recorded"`
	// Skipped counts succeeded intents that are not Remit's (no remit_invoice_id).
	Skipped int `json:"skipped"`
}

// StripeLedger keeps what Remit knows from Stripe: the events applied, the
// state of each PaymentIntent and each client's Customer. The store
// implements it; the payments package uses it.
type StripeLedger interface {
	// ApplyStripeEvent stores the event id and applies the event in one
	// transaction: a payment recorded once per PaymentIntent, refunds,
	// processing and disputes, converging to the same state in any order.
	// A known event id changes nothing and returns Duplicate. An event that
	// cannot apply is stored with its outcome and returns no error, so
	// Stripe stops retrying it; money that succeeded for an unknown invoice
	// or in another currency than the invoice's is kept as an unapplied
	// payment (UnappliedPaymentID), never dropped.
	ApplyStripeEvent(ctx context.Context, ev StripeEvent) (StripeEventResult, error)
	// FindStripeCustomer returns the client's Stripe Customer id, or "".
	FindStripeCustomer(ctx context.Context, clientID string) (string, error)
	// SaveStripeCustomer stores the client's Customer id unless one is
	// stored already, and returns the one stored. Returns ENOTFOUND (client).
	SaveStripeCustomer(ctx context.Context, clientID, customerID string) (string, error)
}

// PaymentGateway is Remit's Stripe integration as the API uses it.
type PaymentGateway interface {
	// CreateCheckout opens a Checkout Session for the invoice's balance due
	// now, or for in.Amount when set. Returns ENOTFOUND, EINVOICENOTOPEN, EINVOICEPAID, EINVOICEVOID,
	// EINVALID (a currency Stripe cannot take), EUNAVAILABLE (Stripe failed).
	CreateCheckout(ctx context.Context, invoiceID string, in CheckoutInput) (*CheckoutSession, error)
	// HandleWebhook verifies a webhook body against its Stripe-Signature
	// header and applies the event once. An event type Remit does not act on
	// returns a zero result and writes nothing. Returns EBADSIGNATURE,
	// EINVALID (malformed JSON), ESTRIPENOTCONFIGURED (no signing secret).
	HandleWebhook(ctx context.Context, payload []byte, signature string) (StripeEventResult, error)
	// Reconcile lists the PaymentIntents created since and records every
	// succeeded one of Remit's that no webhook delivered. Returns EUNAVAILABLE.
	Reconcile(ctx context.Context, since time.Time) (*ReconcileReport, error)
	// RefundPaymentIntent refunds amount of a PaymentIntent and returns the
	// Stripe refund id; the same idempotency key returns the same refund.
	// Returns EUNAVAILABLE (Stripe failed).
	RefundPaymentIntent(ctx context.Context, paymentIntentID string, amount int64, idempotencyKey string) (string, error)
}
