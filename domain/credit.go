package domain

import "time"

// Kinds of client credit entries (the client's credit ledger).
const (
	// CreditOverpayment: a payment beyond an invoice's balance (+).
	CreditOverpayment = "overpayment"
	// CreditApplied: credit used to pay down a newly issued invoice (-).
	CreditApplied = "applied"
	// CreditReleased: credit applied to an invoice that was voided, given back (+).
	CreditReleased = "released"
	// CreditRefund: credit paid back to the client with a refund (-).
	CreditRefund = "refund"
	// CreditAdjusted: a correction of the credit ledger (+ or -).
	CreditAdjusted = "adjusted"
	// CreditCreditNote: what a credit note credits beyond the principal it
	// reduced (+), or a change of it after a late fact (+ or -).
	CreditCreditNote = "credit_note"
)

// CreditEntry is one line of a client's credit ledger: Amount is added to
// (positive) or taken from (negative) the client's credit in Currency. The
// credit balance is the sum of the entries in the client's currency.
type CreditEntry struct {
	ID        string    `json:"id"`
	ClientID  string    `json:"client_id"`
	Kind      string    `json:"kind"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	InvoiceID string    `json:"invoice_id,omitempty"`
	PaymentID string    `json:"payment_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}
