package domain

import (
	"context"
	"time"
)

// EventPaymentUnapplied tells the business (webhooks, and e-mail to
// REMIT_BUSINESS_EMAIL) that Stripe collected money Remit could not apply
// to an invoice.
const EventPaymentUnapplied = "payment.unapplied"

// Why a collected payment is unapplied.
const (
	UnappliedUnknownInvoice   = "unknown_invoice"   // its metadata names an invoice Remit does not have
	UnappliedCurrencyMismatch = "currency_mismatch" // paid in another currency than the invoice's
)

// Statuses of an unapplied payment.
const (
	UnappliedOpen      = "unapplied" // waiting for an admin
	UnappliedApplied   = "applied"   // recorded as a payment of an invoice
	UnappliedRefunding = "refunding" // a refund through Stripe began; retrying the refund finishes it
	UnappliedRefunded  = "refunded"  // given back through Stripe
)

// EUNAPPLIEDRESOLVED refuses to apply or refund an unapplied payment that
// was applied or refunded already (409).
const EUNAPPLIEDRESOLVED = "unapplied_payment_resolved"

// UnappliedPayment is money Stripe collected that Remit could not apply to
// an invoice: it is kept, listed and announced, never dropped, until an
// admin applies it to an invoice of its currency or refunds it.
type UnappliedPayment struct {
	ID              string `json:"id"`
	PaymentIntentID string `json:"payment_intent_id"`
	// InvoiceID is the invoice the payment's metadata names ("" when none).
	InvoiceID string `json:"invoice_id"`
	// ClientID is that invoice's client, when the invoice exists.
	ClientID string `json:"client_id"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	// Reason is UnappliedUnknownInvoice or UnappliedCurrencyMismatch.
	Reason string `json:"reason"`
	// Status is one of the Unapplied* statuses.
	Status string `json:"status"`
	// AppliedInvoiceID and PaymentID are set once applied; RefundID once refunded.
	AppliedInvoiceID string     `json:"applied_invoice_id,omitempty"`
	PaymentID        string     `json:"payment_id,omitempty"`
	RefundID         string     `json:"refund_id,omitempty"`
	ReceivedAt       time.Time  `json:"received_at"`
	ResolvedAt       *time.Time `json:"resolved_at"`
	CreatedAt        time.Time  `json:"created_at"`
}

// UnappliedFilter selects unapplied payments for a list.
type UnappliedFilter struct {
	Status string // "" for every status
	Page   PageParams
}

// ValidUnappliedStatus reports whether s is a status of an unapplied payment.
func ValidUnappliedStatus(s string) bool {
	switch s {
	case UnappliedOpen, UnappliedApplied, UnappliedRefunding, UnappliedRefunded:
		return true
	}
	return false
}

// UnappliedPaymentService keeps the payments Stripe collected that no
// invoice took.
type UnappliedPaymentService interface {
	// FindUnappliedPayments lists them, newest first. Returns EINVALID.
	FindUnappliedPayments(ctx context.Context, f UnappliedFilter) (Page[UnappliedPayment], error)
	// ApplyUnappliedPayment records the money as a payment of the invoice
	// (allocated as any payment is; an excess becomes client credit).
	// Returns ENOTFOUND, EINVALID (no such invoice, another currency),
	// EUNAPPLIEDRESOLVED, and the payment rules' codes (EINVOICEPAID, ...).
	ApplyUnappliedPayment(ctx context.Context, id, invoiceID string) (*UnappliedPayment, error)
	// RefundUnappliedPayment gives the money back through the payment
	// gateway (Stripe's idempotency key makes a retry return the same
	// refund). Returns ENOTFOUND, EUNAPPLIEDRESOLVED, ESTRIPENOTCONFIGURED,
	// EUNAVAILABLE (Stripe failed: the payment stays refunding; retry).
	RefundUnappliedPayment(ctx context.Context, id string) (*UnappliedPayment, error)
}
