package i18n

// The sentences a client reads about their terms and charges. Every
// client-facing text about terms or charges comes from here, in the
// locale's language.

import (
	"fmt"
	"strings"

	"github.com/remit/remit/domain"
)

// Terms writes the agreement as plain sentences for an invoice due on due
// in currency, for a client of kind (business or consumer): when payment
// is due, the grace period, late fees, compensation, interest, suspension
// and how payments are applied. A zero due date leaves the dates out.
func (l *Locale) Terms(a domain.Agreement, currency, kind string, due domain.Date) []string {
	return domain.DescribeTermsFor(a, currency, kind, due)
}

// TermChanges lists what a new agreement version changes, for a change
// notice: each sentence of the new terms the previous ones lack, then each
// previous sentence the new terms drop, marked as no longer applying.
func (l *Locale) TermChanges(previous, next domain.Agreement, currency, kind string) []string {
	return domain.TermChanges(previous, next, currency)
}

// ChargeDetail says what a posted charge is, after its kind's label
// (T("charge."+kind)): which late fee and how it was worked out, which
// days of interest at what rate on what, under which law compensation is
// due, or what a correction corrects.
func (l *Locale) ChargeDetail(c domain.Charge, currency string) string {
	if domain.AdjustedKey(c.Key) != c.Key {
		// A correction after a late-recorded fact says what it corrects, in
		// the words it was posted with (up to the charge it restates).
		s, _, _ := strings.Cut(c.Description, ": ")
		return s
	}
	switch c.Kind {
	case domain.ChargeLateFee:
		s := "no. " + strings.TrimPrefix(c.Key, "late_fee:")
		if _, how, ok := strings.Cut(c.Description, ": "); ok {
			s += ", " + how
		}
		return s
	case domain.ChargeInterest:
		return interestText(c, currency)
	case domain.ChargeCompensation:
		rest := strings.TrimSpace(strings.TrimPrefix(c.Description, "Fixed compensation for recovery costs"))
		if law, ok := strings.CutPrefix(rest, "("); ok {
			return "under " + strings.TrimSuffix(law, ")")
		}
		return ""
	}
	return c.Description
}

// interestText says which days a month's interest covers and, when one
// base and rate cover them all, on what and at what rate.
func interestText(c domain.Charge, currency string) string {
	from, to := c.PeriodFrom, c.PeriodTo
	var text string
	switch {
	case from.IsZero() || to.IsZero():
		return c.Description
	case from.Day() == 1 && to == from.LastOfMonth():
		text = fmt.Sprintf("%s %d, %s", from.Month(), from.Year(), days(c.Days))
	default:
		text = fmt.Sprintf("%s to %s, %s", from.LongString(), to.LongString(), days(c.Days))
	}
	if len(c.Breakdown) == 1 {
		s := c.Breakdown[0]
		if s.DailyRate != "" {
			text += fmt.Sprintf(" at %s %% a day on %s", s.DailyRate, domain.FormatMoney(s.Base, currency))
		} else {
			text += fmt.Sprintf(" at %s %% a year (%s) on %s", s.AnnualRate, s.DayCount, domain.FormatMoney(s.Base, currency))
		}
	} else if len(c.Breakdown) > 1 {
		text += fmt.Sprintf(", %d periods of base and rate", len(c.Breakdown))
	}
	return text
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}
