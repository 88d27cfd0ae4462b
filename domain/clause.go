package domain

import (
	"fmt"
	"slices"
	"strings"
)

// ClauseKind names one sentence of an agreement's terms as a client reads
// them; each language words it from the clause's figures.
type ClauseKind string

// The clauses of an agreement's terms, in the order they are told.
const (
	ClauseDueOnReceipt ClauseKind = "due_on_receipt" // Due
	ClauseDueWithin    ClauseKind = "due_within"     // Days, Due
	ClauseGrace        ClauseKind = "grace"          // Days
	// ClauseLateFee is the fee (Amount flat, Rate percent), from From.
	ClauseLateFee ClauseKind = "late_fee"
	// ClauseLateFeeBase says what the fee's percentage is of.
	ClauseLateFeeBase ClauseKind = "late_fee_base"
	// ClauseLateFeeRepeat repeats it every Days, at most Count times (0:
	// no limit), never past Cap in all (0: no limit).
	ClauseLateFeeRepeat ClauseKind = "late_fee_repeat"
	// ClauseLateFeeCap caps a fee charged once at Cap.
	ClauseLateFeeCap ClauseKind = "late_fee_cap"
	// ClauseCompensation is a fixed compensation of Amount due from From,
	// the statutory one of Preset, or the agreement's own when Preset is "".
	// Under uk_late_payment the amount depends on the debt (UKCompensationTiers).
	ClauseCompensation ClauseKind = "compensation"
	// ClauseStatutoryInterest is the interest of Interest.Preset for a
	// client of ClientKind (PresetRule), from From, counted by DayCount.
	ClauseStatutoryInterest ClauseKind = "statutory_interest"
	ClauseDailyInterest     ClauseKind = "daily_interest"  // Rate a day, from From
	ClauseAnnualInterest    ClauseKind = "annual_interest" // Rate a year, DayCount
	ClauseInterestFrom      ClauseKind = "interest_from"   // From
	ClauseCompound          ClauseKind = "compound"
	ClauseInterestPosting   ClauseKind = "interest_posting"
	// ClauseSuspension suspends an invoice Days overdue, after a warning
	// WarningDays before (0: none).
	ClauseSuspension     ClauseKind = "suspension"
	ClauseChargesFirst   ClauseKind = "charges_first"
	ClausePrincipalFirst ClauseKind = "principal_first"
)

// Clause is one sentence of an agreement's terms as figures: the fields its
// kind uses are set, the others are zero. Clauses compare with ==.
type Clause struct {
	Kind        ClauseKind
	Days        int
	WarningDays int
	Count       int
	Amount      int64  // minor units of Currency
	Cap         int64  // minor units of Currency
	Rate        string // percent, in its shortest form ("1.5")
	DayCount    string
	Preset      string
	RateFixing  string
	ClientKind  string
	Currency    string
	Due         Date // the invoice's due date, when told
	From        Date // day 1 overdue, when the due date is told
}

// UKCompensationTiers are the fixed compensation of uk_late_payment in
// pence: 40.00 below 1,000.00, 70.00 below 10,000.00, 100.00 from
// 10,000.00, as {40, 1000, 70, 10000, 100}.
var UKCompensationTiers = [5]int64{4000, 100000, 7000, 1000000, 10000}

// TermClauses returns the clauses of agreement a for an invoice due on due
// in currency, for a client of kind: when payment is due, the grace
// period, late fees, fixed compensation, interest, suspension and how
// payments are applied. A zero due date leaves the dates out.
func TermClauses(a Agreement, currency, kind string, due Date) []Clause {
	a = a.WithDefaults()
	var out []Clause
	var from Date
	if !due.IsZero() {
		from = DayOneOverdue(due, a.GraceDays)
	}
	if days, err := ParseTerms(a.PaymentTerms); err == nil {
		if days == 0 {
			out = append(out, Clause{Kind: ClauseDueOnReceipt, Due: due})
		} else {
			out = append(out, Clause{Kind: ClauseDueWithin, Days: days, Due: due})
		}
	}
	if a.GraceDays > 0 {
		out = append(out, Clause{Kind: ClauseGrace, Days: a.GraceDays})
	}
	if lf := a.LateFee; lf != nil {
		percent := displayRate(lf.Percent)
		out = append(out, Clause{Kind: ClauseLateFee, Amount: lf.Flat, Rate: percent, Currency: currency, From: from})
		if percent != "" {
			out = append(out, Clause{Kind: ClauseLateFeeBase})
		}
		switch {
		case lf.RepeatEveryDays > 0:
			out = append(out, Clause{Kind: ClauseLateFeeRepeat, Days: lf.RepeatEveryDays, Count: lf.MaxCount, Cap: lf.MaxTotal,
				Currency: currency})
		case lf.MaxTotal > 0:
			out = append(out, Clause{Kind: ClauseLateFeeCap, Cap: lf.MaxTotal, Currency: currency})
		}
	}
	if c, ok := compensationClause(a, currency, kind, from); ok {
		out = append(out, c)
	}
	if it := a.Interest; it != nil {
		switch {
		case it.Preset != "":
			out = append(out, Clause{Kind: ClauseStatutoryInterest, Preset: it.Preset, RateFixing: it.RateFixing,
				ClientKind: kind,
				DayCount:   dayCountOf(*it), From: from})
		case it.DailyRate != "":
			out = append(out, Clause{Kind: ClauseDailyInterest, Rate: displayRate(it.DailyRate), From: from})
		default:
			out = append(out, Clause{Kind: ClauseAnnualInterest, Rate: displayRate(it.AnnualRate), DayCount: dayCountOf(*it)})
			if !from.IsZero() {
				out = append(out, Clause{Kind: ClauseInterestFrom, From: from})
			}
		}
		if it.Compound {
			out = append(out, Clause{Kind: ClauseCompound})
		}
		out = append(out, Clause{Kind: ClauseInterestPosting})
	}
	if s := a.Suspension; s != nil && s.AfterDays > 0 {
		out = append(out, Clause{Kind: ClauseSuspension, Days: s.AfterDays, WarningDays: s.WarningDays})
	}
	if a.Allocation == AllocationPrincipalFirst {
		out = append(out, Clause{Kind: ClausePrincipalFirst})
	} else {
		out = append(out, Clause{Kind: ClauseChargesFirst})
	}
	return out
}

// compensationClause returns the fixed compensation a's terms grant, if any:
// the statutory preset's when it grants one in currency to a client of
// kind, else the agreement's own.
func compensationClause(a Agreement, currency, kind string, from Date) (Clause, bool) {
	c := Clause{Kind: ClauseCompensation, Currency: currency, From: from}
	if a.Interest != nil {
		switch p := a.Interest.Preset; {
		case p == PresetDEBGB288 && currency == "EUR" && kind != ClientConsumer,
			(p == PresetFRCodeCommerce || p == PresetEULatePayment) && currency == "EUR":
			c.Preset, c.Amount = p, 4000
			return c, true
		case p == PresetUKLatePayment && currency == "GBP":
			c.Preset = p
			return c, true
		}
	}
	c.Amount = a.FixedCompensation
	return c, a.FixedCompensation > 0
}

// ClauseChanges compares the clauses (without dates) of two agreement
// versions for a client of kind billed in currency: the clauses of next
// that previous lacks, and those of previous that next drops.
func ClauseChanges(previous, next Agreement, currency, kind string) (added, dropped []Clause) {
	before := TermClauses(previous, currency, kind, Date{})
	after := TermClauses(next, currency, kind, Date{})
	for _, c := range after {
		if !slices.Contains(before, c) {
			added = append(added, c)
		}
	}
	for _, c := range before {
		if !slices.Contains(after, c) {
			dropped = append(dropped, c)
		}
	}
	return added, dropped
}

// English writes the clause as the plain English sentence DescribeTerms
// gives.
func (c Clause) English() string {
	by, from := "", ""
	if !c.Due.IsZero() {
		by = " (by " + c.Due.LongString() + ")"
	}
	if !c.From.IsZero() {
		from = " from " + c.From.LongString()
	}
	money := func(m int64) string { return FormatMoney(m, c.Currency) }
	switch c.Kind {
	case ClauseDueOnReceipt:
		return "Payment is due on receipt" + by + "."
	case ClauseDueWithin:
		return fmt.Sprintf("Payment is due within %s of the issue date%s.", withUnit(c.Days, "day"), by)
	case ClauseGrace:
		return fmt.Sprintf("A grace period of %s applies after the due date.", withUnit(c.Days, "day"))
	case ClauseLateFee:
		var what string
		switch {
		case c.Amount > 0 && c.Rate != "":
			what = fmt.Sprintf("%s plus %s %%", money(c.Amount), c.Rate)
		case c.Amount > 0:
			what = money(c.Amount)
		default:
			what = c.Rate + " %"
		}
		return "A late fee of " + what + " applies" + from + "."
	case ClauseLateFeeBase:
		return "The percentage is of the principal outstanding when the fee is assessed."
	case ClauseLateFeeRepeat:
		var limits []string
		if c.Count > 0 {
			limits = append(limits, fmt.Sprintf("at most %s in all", withUnit(c.Count, "time")))
		}
		if c.Cap > 0 {
			limits = append(limits, fmt.Sprintf("never more than %s in total", money(c.Cap)))
		}
		s := fmt.Sprintf("It is charged again every %s while the principal remains unpaid", withUnit(c.Days, "day"))
		if len(limits) > 0 {
			s += ", " + strings.Join(limits, ", ")
		}
		return s + "."
	case ClauseLateFeeCap:
		return fmt.Sprintf("It is never more than %s in total.", money(c.Cap))
	case ClauseCompensation:
		switch c.Preset {
		case PresetDEBGB288:
			return fmt.Sprintf("A flat sum of %s is due%s (German Civil Code, section 288(5)).", money(c.Amount), from)
		case PresetFRCodeCommerce:
			return fmt.Sprintf("A fixed indemnity of %s for recovery costs is due%s "+
				"(French Commercial Code, art. L441-10 and D441-5).",
				money(c.Amount), from)
		case PresetEULatePayment:
			return fmt.Sprintf("A fixed compensation of %s for recovery costs is due%s (Directive 2011/7/EU, art. 6).",
				money(c.Amount), from)
		case PresetUKLatePayment:
			t := UKCompensationTiers
			return fmt.Sprintf("A fixed compensation for recovery costs is due%s "+
				"(Late Payment of Commercial Debts (Interest) Act 1998, s. 5A): "+
				"%s on a debt under %s, %s under %s, %s from %s.", from,
				money(t[0]), money(t[1]), money(t[2]), money(t[3]), money(t[4]), money(t[3]))
		}
		return fmt.Sprintf("A fixed compensation of %s is due%s.", money(c.Amount), from)
	case ClauseStatutoryInterest:
		return fmt.Sprintf("Statutory interest accrues daily on the overdue principal%s under %s (%s).",
			from, InterestLegalBasis(InterestTerms{Preset: c.Preset, RateFixing: c.RateFixing}, c.ClientKind), c.DayCount)
	case ClauseDailyInterest:
		return fmt.Sprintf("Interest at %s %% a day accrues on the overdue principal%s.", c.Rate, from)
	case ClauseAnnualInterest:
		return fmt.Sprintf("Interest at %s %% a year accrues daily on the overdue principal (%s).", c.Rate, c.DayCount)
	case ClauseInterestFrom:
		return "Interest runs" + from + "."
	case ClauseCompound:
		return "Interest charged and left unpaid is added to the base from the day after it is charged."
	case ClauseInterestPosting:
		return "Interest is charged on the first day of each month for the month before, " +
			"and on the day the principal is paid in full."
	case ClauseSuspension:
		s := fmt.Sprintf("Service may be suspended when an invoice is %s overdue", withUnit(c.Days, "day"))
		if c.WarningDays > 0 {
			s += fmt.Sprintf(", after a warning %s before", withUnit(c.WarningDays, "day"))
		}
		return s + "."
	case ClausePrincipalFirst:
		return "Payments are applied first to the principal, then to compensation, fees and interest."
	case ClauseChargesFirst:
		return "Payments are applied first to compensation, fees and interest, then to the principal."
	}
	return ""
}
