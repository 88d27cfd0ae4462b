package domain

import (
	"context"
	"time"
)

// AutoChargeRetryDays are the days after the due date on which an
// auto-charged invoice's saved card is charged, while a balance is due:
// each attempt once.
var AutoChargeRetryDays = []int{0, 3, 7}

// EventInvoiceAutoChargeFailed tells the client (e-mail, with the pay link)
// and webhooks that charging the saved card failed: declined, needing the
// cardholder (requires_action), or no card saved. Enforcement goes on.
const EventInvoiceAutoChargeFailed = "invoice.auto_charge_failed"

// Auto-charge attempt statuses.
const (
	AutoChargePending    = "pending"    // its day has not come, or the sweep has not reached it
	AutoChargeAttempting = "attempting" // claimed: the PaymentIntent is being created
	AutoChargeSucceeded  = "succeeded"  // Stripe took it (settled by the webhook)
	AutoChargeProcessing = "processing" // Stripe is processing it (settled by the webhook)
	AutoChargeFailed     = "failed"     // declined, requires_action, or no card
	AutoChargeSkipped    = "skipped"    // a later attempt was due when the sweep came (after downtime)
)

// AutoChargeAttempt is one attempt to charge an invoice's saved card.
type AutoChargeAttempt struct {
	InvoiceID string
	ClientID  string
	Number    string
	Attempt   int // 0, 1, 2: the index in AutoChargeRetryDays
	ChargeOn  Date
	Amount    int64 // the balance due when it was found
	Currency  string
}

// AutoChargeResult is what Stripe made of an attempt.
type AutoChargeResult struct {
	PaymentIntentID string
	// Status is AutoChargeSucceeded, AutoChargeProcessing or AutoChargeFailed.
	Status string
	// Reason says why it failed: card_declined, requires_action, no_saved_card, ...
	Reason string
	// PayURL is a Checkout link for the balance, sent with a failure.
	PayURL string
}

// AutoChargeStore keeps the attempts; the store implements it.
type AutoChargeStore interface {
	// DueAutoCharges returns the attempts whose day has come in the client's
	// time zone, for open invoices with a balance and no payment
	// processing: the latest due attempt of each invoice, at most limit.
	DueAutoCharges(ctx context.Context, now time.Time, limit int) ([]AutoChargeAttempt, error)
	// ClaimAutoCharge marks the attempt as being made, once (earlier
	// attempts still pending are skipped); false when it was claimed before.
	ClaimAutoCharge(ctx context.Context, a AutoChargeAttempt) (bool, error)
	// RecordAutoCharge stores the outcome; a failure sends
	// invoice.auto_charge_failed. A nil result gives the attempt back
	// (Stripe could not be reached: the next sweep tries it again with the
	// same idempotency key).
	RecordAutoCharge(ctx context.Context, a AutoChargeAttempt, r *AutoChargeResult) error
}

// SetupSession is a Stripe-hosted page where a client saves a card for
// automatic payments.
type SetupSession struct {
	ID         string    `json:"id"`
	ClientID   string    `json:"client_id"`
	CustomerID string    `json:"customer_id"`
	URL        string    `json:"url"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// CardGateway saves clients' cards and charges them off-session (Stripe).
type CardGateway interface {
	// CreateSetupSession opens a Checkout Session in setup mode for the
	// client's Customer. Returns ENOTFOUND, EUNAVAILABLE.
	CreateSetupSession(ctx context.Context, clientID string, in CheckoutInput) (*SetupSession, error)
	// ChargeOffSession charges the balance of the attempt to the client's
	// saved card with the idempotency key (invoice, attempt). A refusal by
	// the card is a result, not an error; EUNAVAILABLE when Stripe failed.
	ChargeOffSession(ctx context.Context, a AutoChargeAttempt) (AutoChargeResult, error)
	// CreateCheckout opens a Checkout Session for the invoice's balance (the pay link).
	CreateCheckout(ctx context.Context, invoiceID string, in CheckoutInput) (*CheckoutSession, error)
}
