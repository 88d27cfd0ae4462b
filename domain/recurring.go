package domain

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Recurring invoice statuses. Ended is reached by the sweep once the last
// period (end date or number of invoices) has been issued.
const (
	RecurringActive    = "active"
	RecurringPaused    = "paused"
	RecurringCancelled = "cancelled"
	RecurringEnded     = "ended"
)

// Recurring intervals.
const (
	IntervalWeekly    = "weekly"
	IntervalMonthly   = "monthly"
	IntervalQuarterly = "quarterly"
	IntervalYearly    = "yearly"
)

// Recurring invoice events (sent to webhooks only; the client is e-mailed
// the invoice itself through invoice.issued).
const (
	EventRecurringInvoiceIssued = "recurring_invoice.issued"
	EventRecurringInvoiceEnded  = "recurring_invoice.ended"
)

// ERECURRINGSTATE refuses a pause, resume, cancel or change that the
// template's status does not allow (409).
const ERECURRINGSTATE = "recurring_invoice_state"

// PeriodPlaceholder in a line's description is replaced by the period's
// name ("November 2026") on each invoice.
const PeriodPlaceholder = "{period}"

// Limits on recurring invoices.
const (
	MaxIntervalCount   = 12
	MaxIssueDaysBefore = 60
	MaxRecurringCount  = 1000
	MaxPreviewCount    = 100
)

// RecurringInvoice is a template the sweep issues an ordinary invoice from
// once per period, on the period's issue day in the client's time zone.
type RecurringInvoice struct {
	ID       string      `json:"id"`
	ClientID string      `json:"client_id"`
	Status   string      `json:"status"`
	Currency string      `json:"currency"`
	Lines    []LineInput `json:"lines"`
	Memo     string      `json:"memo"`
	// AutoCharge charges the client's saved card on each invoice's due
	// date (and AutoChargeRetryDays after it) while a balance is due.
	AutoCharge bool `json:"auto_charge"`
	Schedule

	// IssueFrom is the first day on which a period may be issued: the
	// start, or the day of the last resume (periods due while paused are
	// skipped, not caught up).
	IssueFrom      Date `json:"-"`
	InvoicesIssued int  `json:"invoices_issued"`
	// LastPeriod is the index of the last period issued, -1 before the first.
	LastPeriod int `json:"last_period"`
	// NextIssueDate is the issue day of the next period to issue, zero when
	// none is left (or while paused or cancelled).
	NextIssueDate Date `json:"next_issue_date"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Schedule says when a recurring invoice's periods fall. Periods start on
// the anchor day (clamped to the month's last day) of every IntervalCount
// months (or weeks), from the first anchor date on or after StartDate; each
// ends the day before the next starts. It ends after Count invoices or
// with the last period starting on or before EndDate, whichever is set.
type Schedule struct {
	Interval        string `json:"interval"`
	IntervalCount   int    `json:"interval_count"`
	AnchorDay       int    `json:"anchor_day"`
	StartDate       Date   `json:"start_date"`
	EndDate         Date   `json:"end_date"`
	Count           int    `json:"count"`
	IssueDaysBefore int    `json:"issue_days_before"`
}

// BillingPeriod is one period of a schedule and the day its invoice is issued.
type BillingPeriod struct {
	Index   int  `json:"index"`
	From    Date `json:"period_from"`
	To      Date `json:"period_to"`
	IssueOn Date `json:"issue_date"`
}

// IssuedPeriod is a period a template has issued, with its invoice.
type IssuedPeriod struct {
	BillingPeriod
	InvoiceID string `json:"invoice_id"`
}

// PreviewPeriod is a period to come with the due date its invoice would
// have under the agreement known today.
type PreviewPeriod struct {
	BillingPeriod
	DueDate Date `json:"due_date"`
}

// RecurringInput is what creating a recurring invoice takes.
type RecurringInput struct {
	ClientID   string
	Lines      []LineInput
	Memo       string
	AutoCharge bool
	Schedule   Schedule
}

// RecurringUpdate changes a template from its next period on; nil fields stay.
type RecurringUpdate struct {
	Lines           *[]LineInput
	Memo            *string
	AutoCharge      *bool
	EndDate         *Date
	Count           *int
	IssueDaysBefore *int
}

// RecurringFilter selects recurring invoices for a list.
type RecurringFilter struct {
	ClientID string
	Status   string
	Page     PageParams
}

// RecurringService stores recurring invoice templates and issues their periods.
type RecurringService interface {
	// CreateRecurringInvoice stores an active template. Returns EINVALID,
	// ECLIENTOFFBOARDED.
	CreateRecurringInvoice(ctx context.Context, in RecurringInput) (*RecurringInvoice, error)
	// FindRecurringInvoiceByID returns a template. Returns ENOTFOUND.
	FindRecurringInvoiceByID(ctx context.Context, id string) (*RecurringInvoice, error)
	// FindRecurringInvoices lists templates, newest first.
	FindRecurringInvoices(ctx context.Context, f RecurringFilter) (Page[RecurringInvoice], error)
	// UpdateRecurringInvoice changes what the next periods issue. Returns
	// EINVALID, ENOTFOUND, ERECURRINGSTATE (cancelled or ended).
	UpdateRecurringInvoice(ctx context.Context, id string, u RecurringUpdate) (*RecurringInvoice, error)
	// PauseRecurringInvoice stops issuing. Returns ENOTFOUND, ERECURRINGSTATE.
	PauseRecurringInvoice(ctx context.Context, id string) (*RecurringInvoice, error)
	// ResumeRecurringInvoice issues again from the client's today on;
	// periods due while paused are skipped. Returns ENOTFOUND, ERECURRINGSTATE.
	ResumeRecurringInvoice(ctx context.Context, id string) (*RecurringInvoice, error)
	// CancelRecurringInvoice stops it for good. Returns ENOTFOUND, ERECURRINGSTATE.
	CancelRecurringInvoice(ctx context.Context, id string) (*RecurringInvoice, error)
	// FindIssuedPeriods lists the periods issued, oldest first, each with
	// its invoice. Returns ENOTFOUND.
	FindIssuedPeriods(ctx context.Context, id string) ([]IssuedPeriod, error)
	// PreviewRecurringInvoice lists the next count periods to issue with
	// their issue and due dates, writing nothing. Returns ENOTFOUND.
	PreviewRecurringInvoice(ctx context.Context, id string, count int) ([]PreviewPeriod, error)
	// IssueRecurringInvoices issues every period whose day has come, each
	// once, in its own transaction (a sweep step).
	IssueRecurringInvoices(ctx context.Context, now time.Time) (int, error)
}

// Validate checks the schedule's fields.
func (s Schedule) Validate(f FieldErrors) {
	switch s.Interval {
	case IntervalWeekly, IntervalMonthly, IntervalQuarterly, IntervalYearly:
	case "":
		f.Add("interval", "is required: weekly, monthly, quarterly or yearly")
	default:
		f.Add("interval", "must be weekly, monthly, quarterly or yearly")
	}
	if s.IntervalCount < 1 || s.IntervalCount > MaxIntervalCount {
		f.Add("interval_count", "must be from 1 to %d", MaxIntervalCount)
	}
	switch {
	case s.Interval == IntervalWeekly && s.AnchorDay != 0:
		f.Add("anchor_day", "is not used with a weekly interval (periods start on start_date's weekday)")
	case s.AnchorDay < 0 || s.AnchorDay > 31:
		f.Add("anchor_day", "must be a day of the month from 1 to 31 (31 falls on a short month's last day)")
	}
	if s.StartDate.IsZero() {
		f.Add("start_date", "is required")
	}
	if !s.EndDate.IsZero() && s.Count != 0 {
		f.Add("end_date", "give end_date or count, not both")
	}
	if !s.EndDate.IsZero() && !s.StartDate.IsZero() && s.EndDate.Before(s.StartDate) {
		f.Add("end_date", "must not be before start_date")
	}
	if s.Count < 0 || s.Count > MaxRecurringCount {
		f.Add("count", "must be from 1 to %d, or absent", MaxRecurringCount)
	}
	if s.IssueDaysBefore < 0 || s.IssueDaysBefore > MaxIssueDaysBefore {
		f.Add("issue_days_before", "must be from 0 to %d", MaxIssueDaysBefore)
	}
}

// Validate checks a new template's fields that need no database.
func (in RecurringInput) Validate() error {
	f := FieldErrors{}
	if in.ClientID == "" {
		f.Add("client_id", "is required")
	}
	checkRecurringLines(f, in.Lines)
	checkRecurringMemo(f, in.Memo)
	in.Schedule.Validate(f)
	return f.Err()
}

// checkRecurringLines prices the lines as an invoice would, with a long
// period name in place of the placeholder, so a line valid here is valid
// on every invoice.
func checkRecurringLines(f FieldErrors, lines []LineInput) {
	priced := make([]LineInput, len(lines))
	for i, l := range lines {
		l.Description = strings.ReplaceAll(l.Description, PeriodPlaceholder, "September 2026")
		priced[i] = l
	}
	PriceLines(priced, f)
}

// checkRecurringMemo checks a template's memo, leaving room for the line
// with the period's dates each invoice's memo starts with.
func checkRecurringMemo(f FieldErrors, memo string) {
	checkLines(f, "memo", memo, MaxTextLen-100, false)
}

// Validate checks a change against the template it changes.
func (u RecurringUpdate) Validate(r RecurringInvoice) error {
	f := FieldErrors{}
	if u.Lines != nil {
		checkRecurringLines(f, *u.Lines)
	}
	if u.Memo != nil {
		checkRecurringMemo(f, *u.Memo)
	}
	s := r.Schedule
	if u.EndDate != nil {
		s.EndDate, s.Count = *u.EndDate, 0
	}
	if u.Count != nil {
		s.Count = *u.Count
		if u.EndDate == nil {
			s.EndDate = Date{}
		}
		if s.Count < 1 {
			f.Add("count", "must be from 1 to %d", MaxRecurringCount)
		}
	}
	if u.IssueDaysBefore != nil {
		s.IssueDaysBefore = *u.IssueDaysBefore
	}
	s.Validate(f)
	if s.Count > 0 && s.Count < r.InvoicesIssued {
		f.Add("count", "is less than the %d invoices already issued", r.InvoicesIssued)
	}
	return f.Err()
}

// Apply returns the template with the change made.
func (u RecurringUpdate) Apply(r RecurringInvoice) RecurringInvoice {
	if u.Lines != nil {
		r.Lines = *u.Lines
	}
	if u.Memo != nil {
		r.Memo = *u.Memo
	}
	if u.AutoCharge != nil {
		r.AutoCharge = *u.AutoCharge
	}
	if u.EndDate != nil {
		r.EndDate, r.Count = *u.EndDate, 0
	}
	if u.Count != nil {
		r.Count = *u.Count
		if u.EndDate == nil {
			r.EndDate = Date{}
		}
	}
	if u.IssueDaysBefore != nil {
		r.IssueDaysBefore = *u.IssueDaysBefore
	}
	return r
}

// anchor returns the schedule's anchor day, the start date's by default.
func (s Schedule) anchor() int {
	if s.AnchorDay != 0 {
		return s.AnchorDay
	}
	return s.StartDate.Day()
}

// months returns how many months one period spans (0 for weekly).
func (s Schedule) months() int {
	switch s.Interval {
	case IntervalMonthly:
		return s.IntervalCount
	case IntervalQuarterly:
		return 3 * s.IntervalCount
	case IntervalYearly:
		return 12 * s.IntervalCount
	}
	return 0
}

// anchoredIn returns the anchor day in the month offset months after
// year/month, clamped to that month's last day.
func anchoredIn(year int, month time.Month, offset, anchor int) Date {
	first := NewDate(year, month+time.Month(offset), 1)
	return NewDate(first.Year(), first.Month(), min(anchor, first.LastOfMonth().Day()))
}

// PeriodStart returns the first day of period k (from 0).
func (s Schedule) PeriodStart(k int) Date {
	if s.Interval == IntervalWeekly {
		return s.StartDate.AddDays(7 * s.IntervalCount * k)
	}
	anchor, start := s.anchor(), s.StartDate
	skip := 0
	if anchoredIn(start.Year(), start.Month(), 0, anchor).Before(start) {
		skip = 1 // this month's anchor day has passed: the first period starts next month
	}
	return anchoredIn(start.Year(), start.Month(), skip+k*s.months(), anchor)
}

// Period returns period k (from 0).
func (s Schedule) Period(k int) BillingPeriod {
	from := s.PeriodStart(k)
	return BillingPeriod{Index: k, From: from, To: s.PeriodStart(k + 1).AddDays(-1), IssueOn: from.AddDays(-s.IssueDaysBefore)}
}

// Within reports whether period k is part of the schedule (not past its
// end date or count).
func (s Schedule) Within(k int) bool {
	if s.Count > 0 && k >= s.Count {
		return false
	}
	return s.EndDate.IsZero() || !s.EndDate.Before(s.PeriodStart(k))
}

// maxPeriods bounds any walk over a schedule (weekly for 100 years).
const maxPeriods = 5300

// Periods returns the schedule's periods whose issue day falls from from to
// to (both included), in order. The schedule is a pure function of the
// template: the same template gives the same periods whenever it is asked.
func Periods(s Schedule, from, to Date) []BillingPeriod {
	var out []BillingPeriod
	for k := 0; k < maxPeriods && s.Within(k); k++ {
		p := s.Period(k)
		if p.IssueOn.After(to) {
			break
		}
		if !p.IssueOn.Before(from) {
			out = append(out, p)
		}
	}
	return out
}

// NextPeriods returns up to n periods after period last (an index, -1 for
// none) whose issue day is on or after from.
func NextPeriods(s Schedule, last int, from Date, n int) []BillingPeriod {
	var out []BillingPeriod
	for k := last + 1; k < maxPeriods && len(out) < n && s.Within(k); k++ {
		if p := s.Period(k); !p.IssueOn.Before(from) {
			out = append(out, p)
		}
	}
	return out
}

// Next returns up to n periods the template has still to issue: after its
// last period, issued on or after IssueFrom, and no more than Count less
// the invoices issued (periods skipped while paused do not count as
// invoices). None means the template is done.
func (r RecurringInvoice) Next(n int) []BillingPeriod {
	s := r.Schedule
	if s.Count > 0 {
		n, s.Count = min(n, s.Count-r.InvoicesIssued), 0
	}
	if n <= 0 {
		return nil
	}
	return NextPeriods(s, r.LastPeriod, r.IssueFrom, n)
}

// The shapes of a billing period (Schedule.PeriodShape).
const (
	PeriodMonth = "month" // one calendar month
	PeriodYear  = "year"  // one calendar year
	PeriodDays  = "days"  // anything else: told by its first and last day
)

// PeriodShape says how period p is told: as its first month for a period
// of one month, its year for a calendar year, else by its first and last
// day.
func (s Schedule) PeriodShape(p BillingPeriod) string {
	switch {
	case s.Interval == IntervalMonthly && s.IntervalCount == 1:
		return PeriodMonth
	case s.Interval == IntervalYearly && s.IntervalCount == 1 && p.From.Day() == 1 && p.From.Month() == time.January:
		return PeriodYear
	}
	return PeriodDays
}

// PeriodName returns how period p is printed in place of {period} in
// English (PeriodShape): "November 2026", "2026", or "2 November 2026 to 8
// November 2026".
func (s Schedule) PeriodName(p BillingPeriod) string {
	switch s.PeriodShape(p) {
	case PeriodMonth:
		return p.From.Month().String() + " " + fmt.Sprint(p.From.Year())
	case PeriodYear:
		return fmt.Sprint(p.From.Year())
	}
	return p.From.LongString() + " to " + p.To.LongString()
}

// PeriodWords names a recurring invoice's period in a client's language:
// the text that replaces {period}, and the line the invoice's memo starts
// with.
type PeriodWords interface {
	PeriodName(s Schedule, p BillingPeriod) string
	PeriodMemo(p BillingPeriod) string
}

// EnglishPeriods are PeriodWords in English.
type EnglishPeriods struct{}

// PeriodName implements PeriodWords.
func (EnglishPeriods) PeriodName(s Schedule, p BillingPeriod) string { return s.PeriodName(p) }

// PeriodMemo implements PeriodWords: "Period 3: 2026-03-01 to 2026-03-31.".
func (EnglishPeriods) PeriodMemo(p BillingPeriod) string {
	return fmt.Sprintf("Period %d: %s to %s.", p.Index+1, p.From, p.To)
}

// InvoiceLines returns the template's lines for period p, {period}
// replaced in English.
func (r RecurringInvoice) InvoiceLines(p BillingPeriod) []LineInput {
	return r.InvoiceLinesIn(p, EnglishPeriods{})
}

// InvoiceLinesIn returns the template's lines for period p, {period}
// replaced in the words of w.
func (r RecurringInvoice) InvoiceLinesIn(p BillingPeriod, w PeriodWords) []LineInput {
	name := w.PeriodName(r.Schedule, p)
	out := make([]LineInput, len(r.Lines))
	for i, l := range r.Lines {
		l.Description = strings.ReplaceAll(l.Description, PeriodPlaceholder, name)
		out[i] = l
	}
	return out
}

// InvoiceMemo returns the memo of period p's invoice in English: the
// period's dates, then the template's memo.
func (r RecurringInvoice) InvoiceMemo(p BillingPeriod) string {
	return r.InvoiceMemoIn(p, EnglishPeriods{})
}

// InvoiceMemoIn is InvoiceMemo in the words of w.
func (r RecurringInvoice) InvoiceMemoIn(p BillingPeriod, w PeriodWords) string {
	memo := w.PeriodMemo(p)
	if r.Memo != "" {
		memo += "\n" + strings.ReplaceAll(r.Memo, PeriodPlaceholder, w.PeriodName(r.Schedule, p))
	}
	return memo
}
