package domain

import (
	"context"
	"errors"
	"time"
)

// Notice keys of the sweep, unique per invoice.
const (
	NoticeOverdue           = "overdue"
	NoticeSuspensionWarning = "suspension_warning"
)

// SuspensionDays returns, for an invoice under a, the day its client gets
// the suspension warning and the day the client is suspended; zero dates
// when the agreement never suspends.
func SuspensionDays(a Agreement, due Date) (warn, suspend Date) {
	if a.Suspension == nil || a.Suspension.AfterDays <= 0 || due.IsZero() {
		return Date{}, Date{}
	}
	suspend = due.AddDays(a.GraceDays + a.Suspension.AfterDays)
	warn = suspend.AddDays(-a.Suspension.WarningDays)
	return warn, suspend
}

// NextActionOn returns the first day after asOf on which the sweep has
// something to do for an invoice issued under a and due on due: a reminder,
// day 1 overdue (fees, compensation), a repeated fee, an interest posting or
// a suspension step. paid says the principal is paid in full; a zero date
// means nothing is left to do.
func NextActionOn(a Agreement, due, asOf Date, paid bool) Date {
	if paid || due.IsZero() {
		return Date{}
	}
	a = a.WithDefaults()
	var next Date
	consider := func(d Date) {
		if d.After(asOf) && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	for _, off := range a.ReminderOffsets {
		consider(due.AddDays(off))
	}
	day1 := DayOneOverdue(due, a.GraceDays)
	consider(day1)
	if lf := a.LateFee; lf != nil && lf.RepeatEveryDays > 0 && !asOf.Before(day1) {
		k := asOf.DaysSince(day1)/lf.RepeatEveryDays + 1
		if lf.MaxCount == 0 || k+1 <= lf.MaxCount {
			consider(day1.AddDays(k * lf.RepeatEveryDays))
		}
	}
	if a.Interest != nil {
		if asOf.Before(day1) {
			consider(day1.FirstOfNextMonth())
		} else {
			consider(asOf.FirstOfNextMonth())
		}
	}
	warn, suspend := SuspensionDays(a, due)
	if !warn.IsZero() {
		consider(warn)
		consider(suspend)
	}
	return next
}

// SweepReport is what one enforcement run did.
type SweepReport struct {
	// Examined counts the invoices whose next action day had come in their
	// own time zone.
	Examined       int            `json:"examined"`
	ChargesPosted  map[string]int `json:"charges_posted"`
	AmountPosted   int64          `json:"amount_posted"`
	Reminders      int            `json:"reminders"`
	Overdue        int            `json:"overdue_notices"`
	Warnings       int            `json:"suspension_warnings"`
	Suspensions    int            `json:"suspensions"`
	Reinstatements int            `json:"reinstatements"`
	Milestones     int            `json:"milestone_invoices"`
	// Skipped counts the invoices left alone, by kind (SkipPaused, ...);
	// SkippedDetail names the first 100 and why.
	Skipped       map[string]int   `json:"skipped"`
	SkippedDetail []SkippedInvoice `json:"skipped_detail"`
}

// Posted counts a charge (or correction) of kind posted for amount.
func (r *SweepReport) Posted(kind string, amount int64) {
	if r.ChargesPosted == nil {
		r.ChargesPosted = map[string]int{}
	}
	r.ChargesPosted[kind]++
	r.AmountPosted = SaturatingAdd(r.AmountPosted, amount)
}

// Why the sweep leaves an invoice alone (SkippedInvoice.Kind). Each is
// tried again next run: its next action day stays due.
const (
	// SkipPaused: disputed, or a payment is processing.
	SkipPaused = "paused"
	// SkipMissingRate: a reference rate the invoice needs is not loaded.
	SkipMissingRate = "missing_rate"
	// SkipAwaitingAcceptance: the invoice's agreement version is enforced
	// only once the client accepts it, and it is not accepted: its fees,
	// interest and compensation are held back (reminders still go out).
	SkipAwaitingAcceptance = "awaiting_acceptance"
	// SkipFailed: the invoice could not be processed (a bad stored value, a
	// figure that would overflow, a row the database refused); the reason
	// is the error.
	SkipFailed = "failed"
)

// maxSkipReason bounds the reason of a failed invoice in the run log.
const maxSkipReason = 500

// Add folds other into r.
func (r *SweepReport) Add(other SweepReport) {
	r.Examined += other.Examined
	r.AmountPosted = SaturatingAdd(r.AmountPosted, other.AmountPosted)
	r.Reminders += other.Reminders
	r.Overdue += other.Overdue
	r.Warnings += other.Warnings
	r.Suspensions += other.Suspensions
	r.Reinstatements += other.Reinstatements
	r.Milestones += other.Milestones
	for k, v := range other.ChargesPosted {
		if r.ChargesPosted == nil {
			r.ChargesPosted = map[string]int{}
		}
		r.ChargesPosted[k] += v
	}
	for k, v := range other.Skipped {
		if r.Skipped == nil {
			r.Skipped = map[string]int{}
		}
		r.Skipped[k] += v
	}
	if room := 100 - len(r.SkippedDetail); room > 0 {
		r.SkippedDetail = append(r.SkippedDetail, other.SkippedDetail[:min(room, len(other.SkippedDetail))]...)
	}
}

// Skip records an invoice left alone, of kind (SkipPaused, ...), for reason.
func (r *SweepReport) Skip(invoiceID, kind, reason string) {
	if r.Skipped == nil {
		r.Skipped = map[string]int{}
	}
	r.Skipped[kind]++
	if len(r.SkippedDetail) < 100 {
		r.SkippedDetail = append(r.SkippedDetail, SkippedInvoice{InvoiceID: invoiceID, Kind: kind, Reason: reason})
	}
}

// Fail records an invoice the sweep could not process, with its error: it
// is skipped (SkipFailed) and tried again next run.
func (r *SweepReport) Fail(invoiceID string, err error) {
	reason := err.Error()
	var e *Error
	if errors.As(err, &e) {
		reason = e.Code + ": " + e.Message
	}
	if len(reason) > maxSkipReason {
		reason = reason[:maxSkipReason] + "..."
	}
	r.Skip(invoiceID, SkipFailed, reason)
}

// SweepStore is the database side of the enforcement sweep.
type SweepStore interface {
	// SweepPage enforces the rules, as of now in each invoice's time zone, on
	// up to limit invoices with work due that follow the cursor after ("" to
	// start), in one transaction: it posts due charges, sends due reminders
	// and notices, and suspends clients. It returns the cursor of the last
	// invoice it looked at ("" when there is nothing more).
	SweepPage(ctx context.Context, now time.Time, after string, limit int) (cursor string, r SweepReport, err error)
	// ReinstateClients reinstates the clients the sweep suspended whose
	// invoices past the suspension line are all paid.
	ReinstateClients(ctx context.Context, now time.Time) (int, error)
}
