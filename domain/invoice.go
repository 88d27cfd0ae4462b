package domain

import (
	"context"
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Invoice statuses.
const (
	InvoiceStatusDraft         = "draft"
	InvoiceStatusOpen          = "open"
	InvoiceStatusPaid          = "paid"
	InvoiceStatusVoid          = "void"
	InvoiceStatusUncollectible = "uncollectible"
)

// Limits on invoices.
const (
	MaxInvoiceLines = 500
	// MaxAmount bounds every amount a caller sends, in minor units, so sums of
	// many lines and charges stay far from int64 overflow.
	MaxAmount = 1_000_000_000_000_000
)

// InvoiceLine is one line: quantity (a decimal string, up to 3 decimals)
// times unit amount, and its tax; Amount and Tax are each rounded once.
type InvoiceLine struct {
	Description string `json:"description"`
	Quantity    string `json:"quantity"`
	UnitAmount  int64  `json:"unit_amount"`
	TaxRate     string `json:"tax_rate"`
	Amount      int64  `json:"amount"`
	Tax         int64  `json:"tax"`
}

// Invoice is a bill to a client. Its money fields always agree with its
// ledger rows: BalanceDue = Total + ChargesTotal - AmountPaid - CreditApplied.
type Invoice struct {
	ID       string        `json:"id"`
	ClientID string        `json:"client_id"`
	Number   string        `json:"number"`
	Status   string        `json:"status"`
	Currency string        `json:"currency"`
	Lines    []InvoiceLine `json:"lines"`
	Memo     string        `json:"memo"`

	IssueDate   Date `json:"issue_date"`
	DueDate     Date `json:"due_date"`
	DaysOverdue int  `json:"days_overdue"`
	PaidOn      Date `json:"paid_on"`

	Subtotal      int64 `json:"subtotal"`
	Tax           int64 `json:"tax"`
	Total         int64 `json:"total"`
	ChargesTotal  int64 `json:"charges_total"`
	AmountPaid    int64 `json:"amount_paid"`
	CreditApplied int64 `json:"credit_applied"`
	CreditCreated int64 `json:"credit_created"`
	BalanceDue    int64 `json:"balance_due"`
	// Credited is the principal that credit notes took off the invoice.
	Credited int64 `json:"credited"`
	// SupplyDate and SupplyEndDate are the date or period of supply (zero
	// when not given); ReverseCharge marks an EU reverse-charge service.
	SupplyDate    Date `json:"supply_date"`
	SupplyEndDate Date `json:"supply_end_date"`
	ReverseCharge bool `json:"reverse_charge"`

	// Agreement is the version in force on the issue date, kept for good;
	// nil on a draft. For a client with no version in force it is
	// DefaultAgreement (IsDefault), which the JSON form shows as
	// default_terms, never as an agreement (see MarshalJSON).
	Agreement *Agreement `json:"agreement"`
	// Timezone is the client's zone when the invoice was created; its dates are in it.
	Timezone string `json:"timezone"`

	Disputed          bool `json:"disputed"`
	PaymentProcessing bool `json:"payment_processing"`

	// HostedInvoiceURL is the page the client opens to see and pay the
	// invoice; the api sets it on issued invoices when hosted pages are on
	// (null while the link is revoked).
	HostedInvoiceURL PageLink `json:"hosted_invoice_url,omitzero"`

	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	IssuedAt  *time.Time `json:"issued_at"`
}

// Where an issued invoice's terms come from (its JSON terms_source).
const (
	TermsSourceAgreement = "agreement" // a version of the client's agreement
	TermsSourceDefault   = "default"   // DefaultAgreement: the client had none in force
)

// TermsSource returns TermsSourceAgreement or TermsSourceDefault for an
// issued invoice, and "" for a draft (whose terms are chosen at issue).
func (inv Invoice) TermsSource() string {
	switch {
	case inv.Agreement == nil:
		return ""
	case inv.Agreement.IsDefault():
		return TermsSourceDefault
	}
	return TermsSourceAgreement
}

// MarshalJSON writes the invoice with its terms told apart: `agreement` is
// the client's agreement version it was issued under, or null (a draft, or
// a client with no agreement); `terms_source` is "agreement", "default" or
// null (a draft); `default_terms` holds the terms of DefaultAgreement when
// they apply, else null. A placeholder never poses as an agreement.
func (inv Invoice) MarshalJSON() ([]byte, error) {
	type plain Invoice // without this method
	out := struct {
		plain
		Agreement    *Agreement `json:"agreement"`
		TermsSource  *string    `json:"terms_source"`
		DefaultTerms *Terms     `json:"default_terms"`
	}{plain: plain(inv)}
	if src := inv.TermsSource(); src != "" {
		out.TermsSource = &src
		if src == TermsSourceDefault {
			t := inv.Agreement.Terms()
			out.DefaultTerms = &t
		} else {
			out.Agreement = inv.Agreement
		}
	}
	return json.Marshal(out)
}

// LineInput is a line as a caller sends it.
type LineInput struct {
	Description string `json:"description"`
	Quantity    string `json:"quantity"`
	UnitAmount  int64  `json:"unit_amount"`
	TaxRate     string `json:"tax_rate"`
}

// PriceLines computes each line's amount and tax (rounded once each) and
// the invoice totals as sums of the rounded lines. Problems are reported
// per field (lines[2].quantity).
func PriceLines(in []LineInput, f FieldErrors) (lines []InvoiceLine, subtotal, tax int64) {
	if len(in) == 0 {
		f.Add("lines", "at least one line is required")
	}
	if len(in) > MaxInvoiceLines {
		f.Add("lines", "at most %d lines", MaxInvoiceLines)
		return nil, 0, 0
	}
	for i, l := range in {
		field := "lines[" + strconv.Itoa(i) + "]"
		checkLines(f, field+".description", l.Description, MaxTextLen, true)
		if l.UnitAmount <= 0 || l.UnitAmount > MaxAmount {
			f.Add(field+".unit_amount", "must be a positive integer in minor units, at most %d", int64(MaxAmount))
			continue
		}
		if l.Quantity == "" {
			l.Quantity = "1"
		}
		if l.TaxRate == "" {
			l.TaxRate = "0"
		}
		// The common case, a valid line, is priced without big.Rat;
		// anything else takes the exact path, which says what is wrong.
		amount, lineTax, rate, ok := lineAmountsFast(l.Quantity, l.UnitAmount, l.TaxRate)
		if !ok || rate > 100*1e10 {
			if _, err := ParseQuantity(l.Quantity); err != nil {
				f.Add(field+".quantity", "%s", ErrorMessage(err))
				continue
			}
			if r, err := ParseRate(l.TaxRate); err != nil || r.Cmp(big.NewRat(100, 1)) > 0 {
				f.Add(field+".tax_rate", "must be a percent from 0 to 100 as a decimal string, such as \"20\"")
				continue
			}
			var err error
			if amount, lineTax, err = LineAmounts(l.Quantity, l.UnitAmount, l.TaxRate); err != nil {
				f.Add(field, "line total is too large")
				continue
			}
		}
		if amount > MaxAmount {
			f.Add(field, "line total is too large")
			continue
		}
		subtotal += amount
		tax += lineTax
		if subtotal > MaxAmount || tax > MaxAmount {
			f.Add("lines", "invoice total is too large")
			return nil, 0, 0
		}
		lines = append(lines, InvoiceLine{Description: l.Description, Quantity: l.Quantity, UnitAmount: l.UnitAmount, TaxRate: l.TaxRate, Amount: amount, Tax: lineTax})
	}
	return lines, subtotal, tax
}

// InvoiceDraft is what creating an invoice takes.
type InvoiceDraft struct {
	ClientID         string
	Currency         string
	CurrencyOverride bool
	Lines            []LineInput
	IssueDate        Date
	DueDate          Date
	Memo             string
	Issue            bool
	// SupplyDate (and SupplyEndDate, for a period) is when the service was
	// supplied, printed when it differs from the issue date.
	SupplyDate    Date
	SupplyEndDate Date
	// ReverseCharge marks a cross-border EU service whose VAT the client
	// owes (Directive 2006/112/EC, art. 196): every line's tax rate is 0.
	ReverseCharge bool
}

// InvoiceUpdate changes a draft; nil fields stay.
type InvoiceUpdate struct {
	Lines         *[]LineInput
	Memo          *string
	IssueDate     *Date
	DueDate       *Date
	SupplyDate    *Date
	SupplyEndDate *Date
	ReverseCharge *bool
}

// InvoiceFilter selects invoices for a list.
type InvoiceFilter struct {
	Status     string
	ClientID   string
	Overdue    bool
	IssuedFrom Date
	IssuedTo   Date
	DueFrom    Date
	DueTo      Date
	Page       PageParams
}

// Payment is money received for an invoice, with how it was allocated.
type Payment struct {
	ID         string     `json:"id"`
	InvoiceID  string     `json:"invoice_id"`
	ClientID   string     `json:"client_id"`
	Amount     int64      `json:"amount"`
	Currency   string     `json:"currency"`
	PaidOn     Date       `json:"paid_on"`
	Method     string     `json:"method"`
	Reference  string     `json:"reference"`
	Source     string     `json:"source"` // manual or stripe
	Allocation Allocation `json:"allocation"`
	Refunded   int64      `json:"refunded"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Payment sources.
const (
	PaymentManual = "manual"
	PaymentStripe = "stripe"
)

// PaymentInput is a payment to record. Key makes it unique: a manual
// payment's Idempotency-Key, a Stripe payment's PaymentIntent id.
type PaymentInput struct {
	Amount int64
	// PaidOn is the day the money arrived; zero means today in the
	// invoice's time zone.
	PaidOn    Date
	Method    string
	Reference string
	Source    string
	Key       string
}

// Validate checks the amount, method and reference.
func (p PaymentInput) Validate() error {
	f := FieldErrors{}
	if p.Amount <= 0 || p.Amount > MaxAmount {
		f.Add("amount", "must be a positive integer in minor units")
	}
	switch p.Method {
	case "bank_transfer", "card", "cash", "check", "stripe", "other":
	default:
		f.Add("method", "must be bank_transfer, card, cash, check, stripe or other")
	}
	checkText(f, "reference", p.Reference, MaxNameLen, false)
	return f.Err()
}

// Refund is money given back from a payment; it reopens what it reverses.
type Refund struct {
	ID         string     `json:"id"`
	PaymentID  string     `json:"payment_id"`
	InvoiceID  string     `json:"invoice_id"`
	Amount     int64      `json:"amount"`
	RefundedOn Date       `json:"refunded_on"`
	Reason     string     `json:"reason"`
	Reversal   Allocation `json:"reversal"`
	CreatedAt  time.Time  `json:"created_at"`
}

// RefundInput is a refund to record; Key makes it unique.
type RefundInput struct {
	Amount     int64
	RefundedOn Date
	Reason     string
	Key        string
}

// Charge is a fee, interest posting or compensation on an invoice.
type Charge struct {
	ID           string         `json:"id"`
	InvoiceID    string         `json:"invoice_id"`
	Kind         ChargeKind     `json:"kind"`
	Key          string         `json:"key"`
	Amount       int64          `json:"amount"`
	PostedOn     Date           `json:"posted_on"`
	PeriodFrom   Date           `json:"period_from"`
	PeriodTo     Date           `json:"period_to"`
	Days         int            `json:"days"`
	Description  string         `json:"description"`
	Paid         int64          `json:"paid"`
	Waived       bool           `json:"waived"`
	WaivedAmount int64          `json:"waived_amount"`
	WaiveReason  string         `json:"waive_reason"`
	Breakdown    []InterestSpan `json:"breakdown,omitempty"`
	// Facts are the figures the words explaining it need (nil on charges
	// posted before they were kept).
	Facts     *ChargeFacts `json:"-"`
	CreatedAt time.Time    `json:"created_at"`
}

// Event is one entry of the audit trail: what changed, who did it, when.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	ClientID  string          `json:"client_id"`
	InvoiceID string          `json:"invoice_id,omitempty"`
	Actor     string          `json:"actor"`
	ActorKey  string          `json:"actor_key_id,omitempty"`
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
}

// InvoiceService stores invoices, their lines, payments, refunds and events.
type InvoiceService interface {
	// CreateInvoice stores a draft (and issues it when d.Issue). Returns
	// EINVALID, ENOTFOUND (client), ECLIENTOFFBOARDED.
	CreateInvoice(ctx context.Context, d InvoiceDraft) (*Invoice, error)
	// FindInvoiceByID returns the invoice. Returns ENOTFOUND.
	FindInvoiceByID(ctx context.Context, id string) (*Invoice, error)
	// FindInvoices lists invoices, newest first. Returns EINVALID.
	FindInvoices(ctx context.Context, f InvoiceFilter) (Page[Invoice], error)
	// UpdateInvoice changes a draft. Returns EINVOICENOTDRAFT, EINVALID, ENOTFOUND.
	UpdateInvoice(ctx context.Context, id string, u InvoiceUpdate) (*Invoice, error)
	// IssueInvoice numbers and opens a draft. Returns EINVOICENOTDRAFT, ENOTFOUND.
	IssueInvoice(ctx context.Context, id string) (*Invoice, error)
	// VoidInvoice voids a draft or an open invoice without payments.
	// Returns EINVOICEPAID, EINVOICEHASPAYMENTS, EINVOICEVOID, ENOTFOUND.
	VoidInvoice(ctx context.Context, id string) (*Invoice, error)
	// MarkUncollectible writes off an open invoice. Returns EINVOICENOTOPEN, ENOTFOUND.
	MarkUncollectible(ctx context.Context, id string) (*Invoice, error)
	// RecordPayment posts the charges due by the payment day, allocates the
	// payment in the agreement's order and turns any excess into client
	// credit. A second call with the same Key returns the first payment.
	// Returns EINVALID, EINVOICENOTOPEN, EINVOICEPAID, EINVOICEVOID, ENOTFOUND.
	RecordPayment(ctx context.Context, invoiceID string, p PaymentInput) (*Payment, error)
	// FindPayments lists an invoice's payments, oldest first.
	FindPayments(ctx context.Context, invoiceID string) ([]Payment, error)
	// RefundPayment gives back part or all of a payment. Returns EINVALID
	// (more than is left), ENOTFOUND.
	RefundPayment(ctx context.Context, paymentID string, r RefundInput) (*Refund, error)
	// FindCharges lists an invoice's charges, in posting order.
	FindCharges(ctx context.Context, invoiceID string) ([]Charge, error)
	// WaiveCharge waives what is unpaid of a charge, for a reason. Returns ENOTFOUND, EINVALID.
	WaiveCharge(ctx context.Context, invoiceID, chargeID, reason string) (*Charge, error)
	// FindEvents lists an invoice's audit trail, oldest first.
	FindEvents(ctx context.Context, invoiceID string, p PageParams) (Page[Event], error)
	// ClientCredit returns the client's unused credit.
	ClientCredit(ctx context.Context, clientID string) (int64, error)
	// Quote returns what the invoice owes on asOf (the payoff), writing
	// nothing. Returns ENOTFOUND, EINVOICENOTOPEN (draft), EINVALID (as_of
	// before the issue date), missing_reference_rate (422).
	Quote(ctx context.Context, invoiceID string, asOf Date) (Quote, error)
}

// EINVOICEHASPAYMENTS refuses to void an invoice that has received money.
const EINVOICEHASPAYMENTS = "invoice_has_payments"

// CheckMemo records a problem with an invoice memo in f.
func CheckMemo(f FieldErrors, memo string) {
	checkLines(f, "memo", memo, MaxTextLen, false)
}

// Validate checks a draft's fields that need no database: lines, dates, memo.
// It returns the priced lines and totals.
func (d InvoiceDraft) Validate() (lines []InvoiceLine, subtotal, tax int64, err error) {
	f := FieldErrors{}
	if d.ClientID == "" {
		f.Add("client_id", "is required")
	}
	lines, subtotal, tax = PriceLines(d.Lines, f)
	if !d.IssueDate.IsZero() && !d.DueDate.IsZero() && d.DueDate.Before(d.IssueDate) {
		f.Add("due_date", "must not be before issue_date")
	}
	if d.IssueDate.IsZero() && !d.DueDate.IsZero() {
		f.Add("due_date", "give issue_date too, or leave due_date to the payment terms")
	}
	CheckMemo(f, d.Memo)
	CheckSupply(f, d.SupplyDate, d.SupplyEndDate)
	if d.ReverseCharge {
		rates := make([]string, len(d.Lines))
		for i, l := range d.Lines {
			rates[i] = l.TaxRate
		}
		CheckReverseChargeRates(f, rates)
	}
	return lines, subtotal, tax, f.Err()
}

// SameVATCountry reports whether two VAT numbers carry the same country
// prefix (two letters, "DE123456789"): a supply between them is not
// cross-border, so the reverse charge does not apply.
func SameVATCountry(a, b string) bool {
	country := func(s string) string {
		s = strings.ToUpper(strings.TrimSpace(s))
		if len(s) < 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
			return ""
		}
		return s[:2]
	}
	ca := country(a)
	return ca != "" && ca == country(b)
}

// CheckSupply records a problem with a supply period: an end without a
// start, or an end before the start.
func CheckSupply(f FieldErrors, from, to Date) {
	switch {
	case !to.IsZero() && from.IsZero():
		f.Add("supply_end_date", "give supply_date too: the period runs from supply_date to supply_end_date")
	case !to.IsZero() && to.Before(from):
		f.Add("supply_end_date", "must not be before supply_date")
	}
}

// CheckReverseChargeRates records each line whose tax rate is not 0 or
// empty: under the reverse charge the client owes the VAT.
func CheckReverseChargeRates(f FieldErrors, rates []string) {
	for i, rate := range rates {
		if r, err := ParseRate(rate); rate != "" && (err != nil || r.Sign() != 0) {
			f.Add("lines["+strconv.Itoa(i)+"].tax_rate", "must be 0 or empty under reverse_charge: the client owes the VAT")
		}
	}
}

// CheckReason validates the reason of a refund or a waiver: multi-line
// text of at most MaxTextLen characters (required when required).
func CheckReason(reason string, required bool) error {
	f := FieldErrors{}
	checkLines(f, "reason", reason, MaxTextLen, required)
	return f.Err()
}
