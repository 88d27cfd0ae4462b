package domain

import (
	"context"
	"math/big"
	"slices"
	"strconv"
)

// InvoiceDocument is everything an invoice PDF shows: the invoice, its
// client, the agreement its terms come from and its ledger.
type InvoiceDocument struct {
	Invoice Invoice
	Client  Client
	// Agreement is the version stored on the invoice; on a draft, the
	// version in force on its issue date (today when it has none), which
	// issuing it would store.
	Agreement Agreement
	Charges   []Charge  // in posting order, waived ones included
	Payments  []Payment // oldest first
	Refunds   []Refund  // oldest first
}

// InterestPeriod is a run of days charged interest on the same base at the
// same rate, as statements show it. Amount is the period's share, in minor
// units, of its month's posting: the shares of one month add up to the
// posting exactly (each is the rounded running total less the rounded total
// before it, so it is within one minor unit of the exact interest).
// Posted is false for interest accrued through the statement date and not
// yet on the ledger.
type InterestPeriod struct {
	From Date  `json:"from"`
	To   Date  `json:"to"`
	Days int   `json:"days"`
	Base int64 `json:"base"`
	// Rate is the annual rate in percent ("12"); DailyRate replaces it for
	// an agreement that sets a daily rate.
	Rate      string `json:"rate,omitempty"`
	DailyRate string `json:"daily_rate,omitempty"`
	DayCount  string `json:"day_count,omitempty"`
	// CountedDays is what the days count for under 30e/360; absent otherwise.
	CountedDays int   `json:"counted_days,omitempty"`
	Amount      int64 `json:"amount"`
	Posted      bool  `json:"posted"`
}

// StatementInvoice is one open invoice on a statement of account: its
// ledger, the interest behind its charges period by period, and what it
// owes on the statement date. AmountDue = BalanceDue + ChargesUnposted +
// InterestAccruedUnposted.
type StatementInvoice struct {
	ID            string `json:"id"`
	Number        string `json:"number"`
	Status        string `json:"status"`
	IssueDate     Date   `json:"issue_date"`
	DueDate       Date   `json:"due_date"`
	DaysOverdue   int    `json:"days_overdue"`
	Total         int64  `json:"total"`
	ChargesTotal  int64  `json:"charges_total"`
	AmountPaid    int64  `json:"amount_paid"`
	CreditApplied int64  `json:"credit_applied"`
	// Credited is the principal credit notes took off the invoice;
	// CreditNotes are those credit notes, oldest first.
	Credited    int64        `json:"credited"`
	CreditNotes []CreditNote `json:"credit_notes"`
	BalanceDue  int64        `json:"balance_due"`
	Charges     []Charge     `json:"charges"`
	Payments    []Payment    `json:"payments"`
	// InterestPeriods are the periods of every interest charge not waived,
	// then those of the interest accrued and not yet posted.
	InterestPeriods []InterestPeriod `json:"interest_periods"`
	// InterestAccruedUnposted is the interest through the statement date
	// that is not on the ledger yet: the month still open, and any month
	// whose posting day has come but the sweep has not posted.
	InterestAccruedUnposted int64 `json:"interest_accrued_unposted"`
	// ChargesUnposted are late fees and compensation due by the statement
	// date that the sweep has not posted yet (usually 0).
	ChargesUnposted int64 `json:"charges_unposted"`
	AmountDue       int64 `json:"amount_due"`
	// LegalBasis is what the interest and compensation rest on (LegalBasis).
	LegalBasis string `json:"legal_basis"`
	// Agreement is the version the invoice's interest and compensation
	// follow, for documents that word LegalBasis in the client's language.
	Agreement Agreement `json:"-"`
}

// Statement is a client's statement of account on AsOf: every open or
// uncollectible invoice in Currency with a balance, and TotalDue, the sum
// of their AmountDue. It is the content of a demand letter.
type Statement struct {
	Client   Client             `json:"client"`
	Currency string             `json:"currency"`
	AsOf     Date               `json:"as_of"`
	Invoices []StatementInvoice `json:"invoices"`
	TotalDue int64              `json:"total_due"`
}

// Notice event types that have a letter (NoticeDocument).
var noticeEvents = []string{EventAgreementNotice, EventClientSuspensionWarning, EventClientSuspended}

// IsNoticeEvent reports whether events of type t have a notice letter.
func IsNoticeEvent(t string) bool { return slices.Contains(noticeEvents, t) }

// NoticeEventTypes returns the event types that have a notice letter.
func NoticeEventTypes() []string { return slices.Clone(noticeEvents) }

// NoticeDocument is what a notice letter shows: the event it tells the
// client about (agreement.notice, client.suspension_warning or
// client.suspended), the client, the letter's date (the event's day in the
// client's time zone) and, for warnings and suspensions, the client's
// invoices overdue on that date with their balances as the ledger stands.
type NoticeDocument struct {
	Event    Event
	Client   Client
	Date     Date
	Invoices []StatementInvoice
}

// DocumentService gathers what documents show. It only reads.
type DocumentService interface {
	// InvoiceDocument returns the invoice with its client, terms and
	// ledger. Returns ENOTFOUND.
	InvoiceDocument(ctx context.Context, invoiceID string) (*InvoiceDocument, error)
	// Statement returns the client's statement of account in currency
	// (the client's own when "") on asOf (today in the client's time zone
	// when zero). Returns ENOTFOUND (client), EINVALID (as_of before today
	// or more than MaxStatementDaysAhead ahead, bad currency),
	// missing_reference_rate (422).
	Statement(ctx context.Context, clientID, currency string, asOf Date) (*Statement, error)
	// Notice returns a notice event of the client with what its letter
	// shows. Returns ENOTFOUND (no such event of that client, or an event
	// that has no letter).
	Notice(ctx context.Context, clientID, eventID string) (*NoticeDocument, error)
	// Notices lists the client's notice events (those with a letter),
	// newest first, at most limit. Returns ENOTFOUND (client).
	Notices(ctx context.Context, clientID string, limit int) ([]Event, error)
}

// MaxStatementDaysAhead bounds how far ahead of today a statement may be dated.
const MaxStatementDaysAhead = 366

// LegalBasis says what an agreement's late-payment interest and
// compensation rest on, for statements: the statutory preset's law and rate
// rule for a client of kind (InterestLegalBasis), else the agreement
// version itself.
func LegalBasis(a Agreement, kind string) string {
	if a.Interest != nil && a.Interest.Preset != "" {
		if s := InterestLegalBasis(*a.Interest, kind); s != "" {
			return s
		}
	}
	if a.IsDefault() && a.Version == 0 {
		return "our default terms, as printed on the invoice (no agreement was on file)"
	}
	if a.Version == 0 || a.EffectiveFrom.IsZero() {
		return "the late-payment terms of our agreement, as printed on the invoice"
	}
	return "the late-payment terms of our agreement (version " + strconv.Itoa(a.Version) + ", in force from " +
		a.EffectiveFrom.LongString() + "), as printed on the invoice"
}

// ChargePeriods returns the interest periods of a posted interest charge,
// from its breakdown. A charge without a usable breakdown gives one period
// over its whole span with no base or rate.
func ChargePeriods(c Charge) []InterestPeriod {
	if ps, ok := spanPeriods(c.Breakdown, c.Amount); ok {
		for i := range ps {
			ps[i].Posted = true
		}
		return ps
	}
	return []InterestPeriod{{From: c.PeriodFrom, To: c.PeriodTo, Days: c.Days, Amount: c.Amount, Posted: true}}
}

// spanPeriods shares total out over the spans by rounding their running
// sum, so the shares add up to total when total is the rounded sum. It
// reports false when a span has no exact amount or the shares do not add
// up (a breakdown that does not belong to the amount).
func spanPeriods(spans []InterestSpan, total int64) ([]InterestPeriod, bool) {
	if len(spans) == 0 {
		return nil, false
	}
	out := make([]InterestPeriod, 0, len(spans))
	run := new(big.Rat)
	var before, sum int64
	for _, s := range spans {
		if s.Amount == nil {
			return nil, false
		}
		run.Add(run, s.Amount)
		upTo, err := RoundHalfAway(run)
		if err != nil {
			return nil, false
		}
		p := InterestPeriod{From: s.From, To: s.To, Days: s.Days, Base: s.Base, Amount: upTo - before, DayCount: s.DayCount}
		if s.DayCount == DayCount30E360 {
			p.CountedDays = s.counted()
		}
		if s.DailyRate != "" {
			p.DailyRate = s.DailyRate
		} else {
			p.Rate = s.AnnualRate
		}
		out = append(out, p)
		sum += p.Amount
		before = upTo
	}
	return out, sum == total
}

// StatementLine works out one invoice's line of a statement on asOf from
// the invoice, its ledger (charges, payments) and its facts: the interest
// periods of the posted interest charges, what is due and not yet posted
// (ChargesDue less the posted keys, and the month still open), the days
// overdue and the amount due. A reference rate that is not loaded gives
// *MissingRateError.
func StatementLine(inv Invoice, charges []Charge, payments []Payment, f InvoiceFacts, asOf Date) (StatementInvoice, error) {
	line := StatementInvoice{
		ID: inv.ID, Number: inv.Number, Status: inv.Status, IssueDate: inv.IssueDate, DueDate: inv.DueDate,
		Total: inv.Total, ChargesTotal: inv.ChargesTotal, AmountPaid: inv.AmountPaid, CreditApplied: inv.CreditApplied, Credited: inv.Credited,
		BalanceDue: inv.BalanceDue, Charges: charges, Payments: payments, LegalBasis: LegalBasis(f.Agreement, f.ClientKind),
		Agreement: f.Agreement, InterestPeriods: []InterestPeriod{},
	}
	if line.Charges == nil {
		line.Charges = []Charge{}
	}
	if line.Payments == nil {
		line.Payments = []Payment{}
	}
	for _, c := range charges {
		if c.Kind == ChargeInterest && !c.Waived {
			line.InterestPeriods = append(line.InterestPeriods, ChargePeriods(c)...)
		}
	}
	due, open, err := UnpostedCharges(f, charges, asOf)
	if err != nil {
		return line, err
	}
	if open != nil {
		due = append(due, *open)
	}
	for _, d := range due {
		if d.Kind != ChargeInterest {
			line.ChargesUnposted += d.Amount
			continue
		}
		line.InterestAccruedUnposted += d.Amount
		ps, ok := spanPeriods(d.Breakdown, d.Amount)
		if !ok {
			ps = []InterestPeriod{{From: d.From, To: d.To, Days: d.Days, Amount: d.Amount}}
		}
		line.InterestPeriods = append(line.InterestPeriods, ps...)
	}
	line.AmountDue = line.BalanceDue + line.ChargesUnposted + line.InterestAccruedUnposted
	threshold := f.DueDate.AddDays(f.Agreement.GraceDays)
	if f.Principal-reducedThrough(f.PrincipalReductions, asOf) > 0 && asOf.After(threshold) {
		line.DaysOverdue = asOf.DaysSince(threshold)
	}
	return line, nil
}

// UnpostedCharges returns what the rules say an invoice owes by asOf beyond
// its ledger (the posted charges): each charge due whose posted amount
// differs, for the difference, and the interest accrued in the month still
// open on asOf (nil when none). A reference rate that is not loaded gives
// *MissingRateError.
func UnpostedCharges(f InvoiceFacts, posted []Charge, asOf Date) (due []DueCharge, open *DueCharge, err error) {
	l, err := ComputeLedger(f, asOf)
	if err != nil {
		return nil, nil, err
	}
	return ChargeDifferences(l.Charges, posted, f.Currency), l.Open, nil
}

// TermChanges lists what a new agreement version changes for a
// policy-change notice, in English: each clause of the new terms that the
// previous terms lack, then, prefixed "No longer: ", each previous clause
// that the new terms drop (ClauseChanges, without dates).
func TermChanges(previous, next Agreement, currency string) []string {
	added, dropped := ClauseChanges(previous, next, currency, ClientBusiness)
	var out []string
	for _, c := range added {
		out = append(out, c.English())
	}
	for _, c := range dropped {
		out = append(out, "No longer: "+c.English())
	}
	return out
}
