package i18n

// The sentences a client reads about their terms and charges. Every
// client-facing text about terms or charges comes from here, in the
// locale's language, worded by the catalogue from figures (domain.Clause,
// domain.StatutoryRule, domain.ChargeFacts), never from English text.

import (
	"strconv"
	"strings"

	"golang.org/x/text/feature/plural"

	"github.com/remit/remit/domain"
)

// Terms writes the agreement as plain sentences for an invoice due on due
// in currency, for a client of kind (business or consumer): when payment
// is due, the grace period, late fees, compensation, interest, suspension
// and how payments are applied. A zero due date leaves the dates out. In
// English they are domain.DescribeTermsFor's sentences.
func (l *Locale) Terms(a domain.Agreement, currency, kind string, due domain.Date) []string {
	clauses := domain.TermClauses(a, currency, kind, due)
	out := make([]string, len(clauses))
	for i, c := range clauses {
		out[i] = l.Clause(c)
	}
	return out
}

// TermChanges lists what a new agreement version changes, for a change
// notice: each clause of the new terms the previous ones lack, then each
// previous clause the new terms drop, marked as no longer applying.
func (l *Locale) TermChanges(previous, next domain.Agreement, currency, kind string) []string {
	added, dropped := domain.ClauseChanges(previous, next, currency, kind)
	var out []string
	for _, c := range added {
		out = append(out, l.Clause(c))
	}
	for _, c := range dropped {
		out = append(out, l.T("terms.no_longer", "clause", l.Clause(c)))
	}
	return out
}

// AcceptanceText is the exact text of version a that a client of kind
// billed in currency reads and accepts on the account page: a title line,
// then one sentence of the terms per line. Its SHA-256 is the evidence of
// what was accepted.
func (l *Locale) AcceptanceText(a domain.Agreement, currency, kind string) string {
	title := l.T("acceptance.title", "version", strconv.Itoa(a.Version), "date", l.Date(a.EffectiveFrom))
	return strings.Join(append([]string{title}, l.Terms(a, currency, kind, domain.Date{})...), "\n")
}

// Clause writes one clause of an agreement's terms as a sentence.
func (l *Locale) Clause(c domain.Clause) string {
	key := "terms." + string(c.Kind)
	args := []string{
		"days", l.count("unit.day", c.Days), "days_in", l.count("unit.day.in", c.Days),
		"every", l.count("unit.every_days", c.Days),
		"due", l.Date(c.Due), "from", l.Date(c.From),
		"rate", l.percent(c.Rate), "day_count", l.T("daycount." + c.DayCount),
	}
	dated := !c.From.IsZero() || !c.Due.IsZero()
	switch c.Kind {
	case domain.ClauseLateFee:
		fee := l.termsMoney(c.Amount, c.Currency)
		switch {
		case c.Amount > 0 && c.Rate != "":
			fee = l.T("terms.fee.flat_percent", "flat", fee, "percent", l.percent(c.Rate))
		case c.Amount == 0:
			fee = l.percent(c.Rate)
		}
		args = append(args, "fee", fee)
	case domain.ClauseLateFeeRepeat:
		var limits []string
		if c.Count > 0 {
			limits = append(limits, l.T("terms.limit.count", "times", l.count("unit.time", c.Count)))
		}
		if c.Cap > 0 {
			limits = append(limits, l.T("terms.limit.total", "amount", l.termsMoney(c.Cap, c.Currency)))
		}
		if len(limits) > 0 {
			key += ".limited"
			args = append(args, "limits", strings.Join(limits, ", "))
		}
	case domain.ClauseLateFeeCap:
		args = append(args, "amount", l.termsMoney(c.Cap, c.Currency))
	case domain.ClauseCompensation:
		if c.Preset != "" {
			key += "." + c.Preset
		}
		t := domain.UKCompensationTiers
		args = append(args, "amount", l.termsMoney(c.Amount, c.Currency))
		for i, m := range t {
			args = append(args, "t"+strconv.Itoa(i), l.termsMoney(m, c.Currency))
		}
	case domain.ClauseStatutoryInterest:
		it := domain.InterestTerms{Preset: c.Preset, RateFixing: c.RateFixing}
		args = append(args, "basis", l.InterestBasis(it, c.ClientKind))
	case domain.ClauseSuspension:
		if c.WarningDays > 0 {
			key += ".warning"
			args = append(args, "warning", l.count("unit.day", c.WarningDays))
		}
	}
	switch c.Kind {
	case domain.ClauseDueOnReceipt, domain.ClauseDueWithin, domain.ClauseLateFee, domain.ClauseCompensation,
		domain.ClauseStatutoryInterest, domain.ClauseDailyInterest:
		if dated {
			key += ".dated"
		}
	}
	return l.T(key, args...)
}

// InterestBasis writes the law behind the terms' statutory preset and how
// its rate is set for a client of kind, or "" when the terms name no known
// preset. In English it is domain.InterestLegalBasis.
func (l *Locale) InterestBasis(it domain.InterestTerms, kind string) string {
	r, ok := domain.PresetRule(it, kind)
	if !ok {
		return ""
	}
	series := l.T("series." + r.Series)
	var rule string
	if r.Fixing == domain.FixingDaily {
		rule = l.T("rule.daily", "series", series)
	} else {
		margin := "rule.margin"
		if r.Debtor != "" {
			margin += "." + r.Debtor
		}
		rate := l.T(margin, "series", series, "margin", l.count("unit.point", int(r.Margin)))
		rule = l.T("rule."+r.Fixing, "rate", rate)
	}
	return l.T("basis.law", "law", l.T("law."+r.Preset), "rule", rule)
}

// LegalBasis says what an agreement's late-payment interest and
// compensation rest on, for a client of kind: the statutory preset's law
// and rate rule, else the agreement version itself. In English it is
// domain.LegalBasis.
func (l *Locale) LegalBasis(a domain.Agreement, kind string) string {
	if a.Interest != nil && a.Interest.Preset != "" {
		if s := l.InterestBasis(*a.Interest, kind); s != "" {
			return s
		}
	}
	switch {
	case a.IsDefault() && a.Version == 0:
		return l.T("basis.default")
	case a.Version == 0 || a.EffectiveFrom.IsZero():
		return l.T("basis.agreement")
	}
	return l.T("basis.version", "version", strconv.Itoa(a.Version), "date", l.Date(a.EffectiveFrom))
}

// ChargeDetail says what a posted charge is, after its kind's label
// (T("charge."+kind)): which late fee and how it was worked out, which
// days of interest at what rate on what, under which law compensation is
// due, or what a correction changed; worded from the charge's figures
// (domain.ChargeFacts, its days and breakdown). A charge posted before its
// facts were kept reads in English as it always has (from the words it was
// posted with) and in another language by what its kind and key say.
func (l *Locale) ChargeDetail(c domain.Charge, currency string) string {
	f := c.Facts
	if domain.AdjustedKey(c.Key) != c.Key {
		switch {
		case f == nil:
			return l.legacyDetail(c, "detail.correction.unknown")
		case f.Reversed:
			return l.T("detail.reversal")
		}
		return l.T("detail.correction", "was", l.termsMoney(f.Was, currency), "now", l.termsMoney(f.Now, currency))
	}
	switch c.Kind {
	case domain.ChargeLateFee:
		n := strings.TrimPrefix(c.Key, "late_fee:")
		if f == nil {
			if l.Lang == Languages[0] {
				return l.legacyDetail(c, "")
			}
			return l.T("detail.late_fee", "n", n)
		}
		var parts []string
		if f.Flat > 0 {
			parts = append(parts, l.termsMoney(f.Flat, currency))
		}
		if f.Percent != "" {
			parts = append(parts, l.T("detail.fee.percent", "percent", l.percent(f.Percent),
				"base", l.termsMoney(f.Base, currency)))
		}
		how := strings.Join(parts, " + ")
		if f.Cap > 0 {
			how = l.T("detail.fee.cut", "how", how, "cap", l.termsMoney(f.Cap, currency))
		}
		return l.T("detail.late_fee.how", "n", n, "how", how)
	case domain.ChargeInterest:
		return l.interestDetail(c, currency)
	case domain.ChargeCompensation:
		switch {
		case f != nil && f.Preset != "":
			return l.T("detail.compensation", "law", l.T("law."+f.Preset))
		case f == nil && l.Lang == Languages[0]:
			return l.legacyDetail(c, "")
		}
		return ""
	}
	return ""
}

// legacyDetail is the detail of a charge posted before its facts were
// kept: in English, read from the English description it was posted with;
// in another language, the catalogue's key (none when "").
func (l *Locale) legacyDetail(c domain.Charge, key string) string {
	if l.Lang != Languages[0] {
		if key == "" {
			return ""
		}
		return l.T(key)
	}
	if domain.AdjustedKey(c.Key) != c.Key {
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
	case domain.ChargeCompensation:
		rest := strings.TrimSpace(strings.TrimPrefix(c.Description, "Fixed compensation for recovery costs"))
		if law, ok := strings.CutPrefix(rest, "("); ok {
			return "under " + strings.TrimSuffix(law, ")")
		}
	}
	return ""
}

// interestDetail says which days a month's interest covers and, when one
// base and rate cover them all, on what and at what rate.
func (l *Locale) interestDetail(c domain.Charge, currency string) string {
	from, to := c.PeriodFrom, c.PeriodTo
	var period string
	switch {
	case from.IsZero() || to.IsZero():
		if l.Lang == Languages[0] {
			return c.Description // posted before interest kept its days
		}
		return ""
	case from.Day() == 1 && to == from.LastOfMonth():
		period = l.T("detail.interest.month", "month", l.MonthYear(from), "days", l.count("unit.day", c.Days))
	default:
		period = l.T("detail.interest.range", "range", l.Range(from, to), "days", l.count("unit.day", c.Days))
	}
	switch {
	case len(c.Breakdown) == 1 && c.Breakdown[0].DailyRate != "":
		s := c.Breakdown[0]
		return l.T("detail.interest.daily", "period", period, "rate", l.percent(s.DailyRate),
			"base", l.termsMoney(s.Base, currency))
	case len(c.Breakdown) == 1:
		s := c.Breakdown[0]
		return l.T("detail.interest.annual", "period", period, "rate", l.percent(s.AnnualRate),
			"day_count", l.T("daycount."+s.DayCount), "base", l.termsMoney(s.Base, currency))
	case len(c.Breakdown) > 1:
		return l.T("detail.interest.spans", "period", period, "spans", l.count("unit.span", len(c.Breakdown)))
	}
	return period
}

// MonthYear names the month of d with its year, as a heading or a
// recurring invoice's period says it ("March 2026", "März 2026", "март
// 2026 г.").
func (l *Locale) MonthYear(d domain.Date) string {
	return l.T("month_year", "month", l.T("monthname."+strconv.Itoa(int(d.Month()))), "year", strconv.Itoa(d.Year()))
}

// Range writes the days from..to ("1 March 2026 to 15 March 2026").
func (l *Locale) Range(from, to domain.Date) string {
	return l.T("range", "from", l.Date(from), "to", l.Date(to))
}

// PeriodName is how a recurring invoice prints its period p in place of
// {period} (domain.PeriodPlaceholder): its month for a schedule of one
// month, its year for a calendar year, else its first and last day. In
// English it is domain.Schedule.PeriodName.
func (l *Locale) PeriodName(s domain.Schedule, p domain.BillingPeriod) string {
	switch s.PeriodShape(p) {
	case domain.PeriodMonth:
		return l.MonthYear(p.From)
	case domain.PeriodYear:
		return strconv.Itoa(p.From.Year())
	}
	return l.Range(p.From, p.To)
}

// PeriodMemo is the line a recurring invoice's memo starts with: which
// period it is and its dates.
func (l *Locale) PeriodMemo(p domain.BillingPeriod) string {
	return l.T("recurring.memo", "n", strconv.Itoa(p.Index+1), "from", p.From.String(), "to", p.To.String())
}

// termsMoney writes an amount the way the terms do (the catalogue's
// "money.terms": "40.00 EUR" in English, as the terms have always read;
// the language's own format elsewhere).
func (l *Locale) termsMoney(minor int64, currency string) string {
	return l.T("money.terms", "amount", domain.FormatAmount(minor, currency), "code", currency,
		"money", l.Money(minor, currency))
}

// percent writes a percent string ("1.5") with the language's decimal mark
// and sign ("1,5 %"), "" for none.
func (l *Locale) percent(rate string) string {
	if rate == "" {
		return ""
	}
	return l.T("percent", "rate", strings.Replace(rate, ".", l.decimalMark(), 1))
}

// count writes n with the form of the catalogue's unit key that the
// language's plural rule (CLDR, golang.org/x/text/feature/plural) picks
// for n. A unit is written "one:{n} day|other:{n} days", with the forms
// the language has (zero, one, two, few, many, other); a form for one
// number ("=1:daily") comes before the language's rule.
func (l *Locale) count(key string, n int) string {
	want := formNames[plural.Cardinal.MatchPlural(l.tag, n, 0, 0, 0, 0)]
	exact := "=" + strconv.Itoa(n)
	var text, other string
	for _, f := range strings.Split(l.T(key), "|") {
		name, t, _ := strings.Cut(f, ":")
		if name == exact {
			text = t
			break
		}
		if name == want {
			text = t
		}
		if name == "other" {
			other = t
		}
	}
	if text == "" {
		text = other
	}
	return strings.ReplaceAll(text, "{n}", strconv.Itoa(n))
}

var formNames = map[plural.Form]string{
	plural.Other: "other", plural.Zero: "zero", plural.One: "one",
	plural.Two: "two", plural.Few: "few", plural.Many: "many",
}

// A Locale names recurring invoices' periods in its language.
var _ domain.PeriodWords = (*Locale)(nil)
