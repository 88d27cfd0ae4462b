package pdf

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/remit/remit/domain"
)

// AgreementTerms is the part of an agreement version that an invoice prints:
// what the client was told about when to pay and what lateness costs.
// Amounts are minor units; rates are decimal strings of percent.
type AgreementTerms struct {
	EffectiveFrom     domain.Date   `json:"effective_from"`
	PaymentTerms      string        `json:"payment_terms"` // due_on_receipt, net_15, net_30, net_N
	GraceDays         int           `json:"grace_days"`
	LateFee           LateFeeTerms  `json:"late_fee"`
	Interest          InterestTerms `json:"interest"`
	FixedCompensation int64         `json:"fixed_compensation"` // for this invoice; 0 for none
	Allocation        string        `json:"allocation"`         // charges_first (default), principal_first
	SuspendAfterDays  int           `json:"suspend_after_days"` // 0 = never
}

// LateFeeTerms is the late fee of an agreement version.
type LateFeeTerms struct {
	Flat            int64  `json:"flat"`
	Percent         string `json:"percent"`
	RepeatEveryDays int    `json:"repeat_every_days"`
	MaxCount        int    `json:"max_count"`
	MaxTotal        int64  `json:"max_total"`
}

// InterestTerms is the interest on late payment of an agreement version:
// a statutory preset, or an annual or daily rate.
type InterestTerms struct {
	Preset     string `json:"preset"` // eu_late_payment, uk_late_payment, ru_civil_code_395
	AnnualRate string `json:"annual_rate"`
	DailyRate  string `json:"daily_rate"`
	DayCount   string `json:"day_count"` // act/365 (default), act/360, act/act
	Compound   bool   `json:"compound"`
}

// Statutory interest presets (ENFORCEMENT.md section 6).
const (
	PresetEU = "eu_late_payment"
	PresetUK = "uk_late_payment"
	PresetRU = "ru_civil_code_395"
)

// presetWords says in plain words what each preset charges.
var presetWords = map[string]string{
	PresetEU: "Interest on late payment under Directive 2011/7/EU: the European Central Bank main " +
		"refinancing rate plus 8 percentage points a year, fixed for each half-year at the rate in " +
		"force on 1 January and on 1 July, counted daily on the unpaid amount (actual/365) and charged monthly.",
	PresetUK: "Statutory interest under the Late Payment of Commercial Debts (Interest) Act 1998: the " +
		"Bank of England base rate plus 8 percentage points a year, fixed for each half-year at the rate " +
		"in force on 31 December and on 30 June, counted daily on the unpaid amount (actual/365) and charged monthly.",
	PresetRU: "Interest under article 395 of the Civil Code of the Russian Federation: the Bank of " +
		"Russia key rate in force on each day, counted daily on the unpaid amount (actual/actual) and charged monthly.",
}

// legalBases names the law behind each preset, for statements and demand letters.
var legalBases = map[string]string{
	PresetEU: "Directive 2011/7/EU of the European Parliament and of the Council on combating late payment " +
		"in commercial transactions (interest: article 3; compensation for recovery costs: article 6)",
	PresetUK: "Late Payment of Commercial Debts (Interest) Act 1998 (statutory interest: section 1; " +
		"fixed sum compensation: section 5A)",
	PresetRU: "Civil Code of the Russian Federation, article 395 (liability for failure to perform a monetary obligation)",
}

// LegalBasis names the law that a statutory interest preset applies, or
// returns "" for a preset it does not know (contractual interest).
func LegalBasis(preset string) string {
	return legalBases[preset]
}

var dayCounts = map[string]string{
	"":        "actual/365",
	"act/365": "actual/365",
	"act/360": "actual/360",
	"act/act": "actual/actual",
}

// TermsText says an agreement version's terms in plain words, one sentence
// per rule, for Invoice.Terms. Amounts are formatted in currency.
func TermsText(t AgreementTerms, currency string) []string {
	money := func(minor int64) string { return domain.FormatMoney(minor, currency) }
	var out []string
	if !t.EffectiveFrom.IsZero() {
		out = append(out, fmt.Sprintf("These terms are those of our agreement in force from %s.", t.EffectiveFrom.LongString()))
	}

	switch days, ok := netDays(t.PaymentTerms); {
	case t.PaymentTerms == "due_on_receipt" || (ok && days == 0):
		out = append(out, "Payment is due on receipt of this invoice.")
	case ok:
		out = append(out, fmt.Sprintf("Payment is due within %d days of the issue date.", days))
	case t.PaymentTerms != "":
		out = append(out, fmt.Sprintf("Payment terms: %s.", t.PaymentTerms))
	}

	overdue := "the day after the due date"
	if t.GraceDays > 0 {
		overdue = fmt.Sprintf("the day after the due date and a grace period of %s", plural(t.GraceDays, "day"))
	}

	if fee := t.LateFee; fee.Flat > 0 || isPositive(fee.Percent) {
		var what string
		switch {
		case fee.Flat > 0 && isPositive(fee.Percent):
			what = fmt.Sprintf("%s plus %s %% of the amount still unpaid", money(fee.Flat), fee.Percent)
		case fee.Flat > 0:
			what = money(fee.Flat)
		default:
			what = fmt.Sprintf("%s %% of the amount still unpaid", fee.Percent)
		}
		s := fmt.Sprintf("If this invoice is not paid in time, a late fee of %s is charged on %s", what, overdue)
		if fee.RepeatEveryDays > 0 {
			s += fmt.Sprintf(", and again every %s while it remains unpaid", plural(fee.RepeatEveryDays, "day"))
		}
		var limits []string
		if fee.MaxCount > 0 {
			limits = append(limits, "at most "+plural(fee.MaxCount, "fee"))
		}
		if fee.MaxTotal > 0 {
			limits = append(limits, "no more than "+money(fee.MaxTotal)+" in all")
		}
		if len(limits) > 0 {
			s += " (" + strings.Join(limits, ", ") + ")"
		}
		out = append(out, s+". No fee is charged on fees or on interest.")
	}

	in := t.Interest
	switch {
	case presetWords[in.Preset] != "":
		out = append(out, presetWords[in.Preset])
	case isPositive(in.DailyRate):
		out = append(out, fmt.Sprintf("Interest of %s %% a day is charged on the unpaid amount from %s, posted monthly.", in.DailyRate, overdue))
	case isPositive(in.AnnualRate):
		dc, ok := dayCounts[in.DayCount]
		if !ok {
			dc = in.DayCount
		}
		out = append(out, fmt.Sprintf("Interest of %s %% a year is charged on the unpaid amount from %s, counted daily (%s) and posted monthly.", in.AnnualRate, overdue, dc))
	}
	if in.Preset != "" || isPositive(in.DailyRate) || isPositive(in.AnnualRate) {
		if in.Compound {
			out = append(out, "Interest once posted is itself charged interest from the next day.")
		} else {
			out = append(out, "Interest is simple: it is never charged on fees or on earlier interest.")
		}
	}

	if t.FixedCompensation > 0 {
		out = append(out, fmt.Sprintf("A fixed compensation of %s for recovery costs is charged once, on %s.", money(t.FixedCompensation), overdue))
	}
	switch t.Allocation {
	case "principal_first":
		out = append(out, "Payments are applied to the invoice amount first, then to charges.")
	case "", "charges_first":
		if len(out) > 0 {
			out = append(out, "Payments are applied first to compensation and late fees, then to interest, then to the invoice amount.")
		}
	}
	if t.SuspendAfterDays > 0 {
		out = append(out, fmt.Sprintf("Our services may be suspended when an invoice is %s overdue, after a written warning.", plural(t.SuspendAfterDays, "day")))
	}
	return out
}

// netDays reads "net_30" as 30.
func netDays(terms string) (int, bool) {
	n, ok := strings.CutPrefix(terms, "net_")
	if !ok {
		return 0, false
	}
	days, err := strconv.Atoi(n)
	return days, err == nil && days >= 0
}

// isPositive reports whether a decimal string of percent is above zero.
func isPositive(rate string) bool {
	r := strings.TrimSpace(rate)
	return !strings.HasPrefix(r, "-") && strings.ContainsAny(r, "123456789")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
