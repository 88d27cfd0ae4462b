package domain

import (
	"context"
	"time"
)

// CreditNote corrects an issued invoice (EU practice: an issued invoice is
// never edited or deleted). It has its own gapless number series,
// CN-YYYY-NNNN per year of its issue date, names the invoice it corrects,
// and reduces that invoice's principal from its IssueDate like a payment
// that day; what exceeds the principal then outstanding becomes client
// credit (AppliedToInvoice and CreditCreated, as the dated facts stand).
type CreditNote struct {
	ID               string        `json:"id"`
	Number           string        `json:"number"`
	InvoiceID        string        `json:"invoice_id"`
	InvoiceNumber    string        `json:"invoice_number"`
	ClientID         string        `json:"client_id"`
	Currency         string        `json:"currency"`
	IssueDate        Date          `json:"issue_date"`
	Reason           string        `json:"reason"`
	Lines            []InvoiceLine `json:"lines"`
	Subtotal         int64         `json:"subtotal"`
	Tax              int64         `json:"tax"`
	Amount           int64         `json:"amount"`
	AppliedToInvoice int64         `json:"applied_to_invoice"`
	CreditCreated    int64         `json:"credit_created"`
	CreatedAt        time.Time     `json:"created_at"`
}

// CreditNoteInput is a request to credit an invoice: Lines (priced like an
// invoice's) or an Amount in minor units, never both, and a Reason. A zero
// IssueDate means today in the client's time zone.
type CreditNoteInput struct {
	Lines     []LineInput
	Amount    int64
	Reason    string
	IssueDate Date
}

// Validate prices the lines and checks the input; it returns the lines (nil
// for an amount), subtotal, tax and the amount credited, or one EINVALID
// error naming each bad field.
func (in CreditNoteInput) Validate() (lines []InvoiceLine, subtotal, tax, amount int64, err error) {
	f := FieldErrors{}
	switch {
	case len(in.Lines) > 0 && in.Amount != 0:
		f.Add("amount", "give lines or an amount, not both")
	case len(in.Lines) > 0:
		lines, subtotal, tax = PriceLines(in.Lines, f)
		amount = subtotal + tax
	case in.Amount <= 0 || in.Amount > MaxAmount:
		f.Add("amount", "give lines, or an amount: a positive integer in minor units, at most %d", int64(MaxAmount))
	default:
		subtotal, amount = in.Amount, in.Amount
	}
	checkLines(f, "reason", in.Reason, MaxTextLen, true)
	return lines, subtotal, tax, amount, f.Err()
}

// CreditNoteFilter selects credit notes for a list: by client, invoice and
// issue date (From and To inclusive; zero means open).
type CreditNoteFilter struct {
	ClientID  string
	InvoiceID string
	From, To  Date
	Page      PageParams
}

// CreditNoteService issues and finds credit notes.
type CreditNoteService interface {
	// IssueCreditNote credits an issued invoice. Returns EINVALID (bad
	// input, more than the invoice's total not yet credited, a date before
	// the invoice's issue date), EINVOICENOTOPEN (a draft), EINVOICEVOID,
	// ECONFLICT (credit the client already spent), ENOTFOUND.
	IssueCreditNote(ctx context.Context, invoiceID string, in CreditNoteInput) (*CreditNote, error)
	// FindCreditNoteByID returns a credit note. Returns ENOTFOUND.
	FindCreditNoteByID(ctx context.Context, id string) (*CreditNote, error)
	// FindCreditNotes lists credit notes, newest number first.
	FindCreditNotes(ctx context.Context, f CreditNoteFilter) (Page[CreditNote], error)
}
