package domain

import (
	"cmp"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Payment terms.
const (
	TermsDueOnReceipt = "due_on_receipt"
	TermsNet15        = "net_15"
	TermsNet30        = "net_30"
	MaxTermsDays      = 120 // the largest N in net_N
)

// Payment allocation orders (docs/RULES.md section 9).
const (
	AllocationChargesFirst   = "charges_first"
	AllocationPrincipalFirst = "principal_first"
)

// Interest day counts (docs/RULES.md section 7).
const (
	DayCountAct365 = "act/365"
	DayCountAct360 = "act/360"
	DayCountActAct = "act/act"
	// DayCount30E360 counts every whole month as 30 days of a 360-day year.
	DayCount30E360 = "30e/360"
)

// Bounds that keep agreements sane; anything past them is a typo.
const (
	maxAgreementAmount = 1_000_000_000_000 // minor units, for fees, caps and compensation
	maxAgreementDays   = 365               // grace, repeat, warning, client delay
	maxSuspendAfter    = 3650
	maxFeeCount        = 1000
	maxFeePercent      = 100
	maxAnnualRate      = 1000
	maxDailyRate       = 3 // percent a day, about the annual bound
	minReminderOffset  = -90
	maxReminderOffset  = 365
	maxReminders       = 20
)

// DefaultReminderOffsets returns the reminder days, relative to the due date,
// used when an agreement names none: -3, 0, 7, 14, 30.
func DefaultReminderOffsets() []int { return []int{-3, 0, 7, 14, 30} }

// Agreement is one version of what a client was told about payment: terms,
// late fee, interest, compensation, reminders, suspension, allocation and
// milestone rules, in force from EffectiveFrom (docs/RULES.md section 5).
// An invoice keeps the version in force on its issue date. A zero
// EffectiveFrom means in force since always (DefaultAgreement).
type Agreement struct {
	ID                string          `json:"id"`
	ClientID          string          `json:"client_id"`
	Version           int             `json:"version"`
	EffectiveFrom     Date            `json:"effective_from"`
	PaymentTerms      string          `json:"payment_terms"`
	GraceDays         int             `json:"grace_days"`
	LateFee           *LateFee        `json:"late_fee"`
	Interest          *InterestTerms  `json:"interest"`
	FixedCompensation int64           `json:"fixed_compensation"`
	ReminderOffsets   []int           `json:"reminder_offsets"`
	Suspension        *Suspension     `json:"suspension"`
	Allocation        string          `json:"allocation"`
	Milestones        *MilestoneRules `json:"milestones"`
	// RequireAcceptance asks the client to accept this version on the
	// account page; EnforceOnlyIfAccepted (which needs it) holds its fees,
	// interest and compensation back until the client has.
	RequireAcceptance     bool `json:"require_acceptance"`
	EnforceOnlyIfAccepted bool `json:"enforce_only_if_accepted"`
	// Acceptance is the client's acceptance of this version, nil until
	// then (and on the copy an invoice keeps).
	Acceptance *Acceptance `json:"acceptance"`
	CreatedAt  time.Time   `json:"created_at"`
}

// Acceptance is the evidence that the client accepted an agreement
// version: when, the full name typed, from which address and browser, and
// the exact text shown with its SHA-256 (hex).
type Acceptance struct {
	AcceptedAt  time.Time `json:"accepted_at"`
	Name        string    `json:"name"`
	IPAddress   string    `json:"ip_address"`
	UserAgent   string    `json:"user_agent"`
	TermsSHA256 string    `json:"terms_sha256"`
	TermsText   string    `json:"terms_text"`
}

// AcceptanceText is the exact text of version a that the client reads and
// accepts, for a client billed in currency: a title line, then one plain
// sentence per line (DescribeTerms).
func AcceptanceText(a Agreement, currency string) string {
	title := fmt.Sprintf("Payment terms, version %d, in force from %s.", a.Version, a.EffectiveFrom.LongString())
	return strings.Join(append([]string{title}, DescribeTerms(a, currency, Date{})...), "\n")
}

// HeldBack returns the terms the ledger applies: a itself, or, for a
// version enforced only once accepted and not accepted, a without its late
// fee, interest and fixed compensation.
func (a Agreement) HeldBack(accepted bool) Agreement {
	if !a.EnforceOnlyIfAccepted || accepted {
		return a
	}
	a.LateFee, a.Interest, a.FixedCompensation = nil, nil, 0
	return a
}

// AwaitsAcceptance reports whether a asks for an acceptance it does not have.
func (a Agreement) AwaitsAcceptance() bool { return a.RequireAcceptance && a.Acceptance == nil }

// LateFee is a flat amount and/or a percent of the principal outstanding,
// assessed on day 1 overdue and, with RepeatEveryDays > 0, again every that
// many days, at most MaxCount times (0 = no limit) and never past MaxTotal
// minor units in all (0 = no limit).
type LateFee struct {
	Flat            int64  `json:"flat"`
	Percent         string `json:"percent"`
	RepeatEveryDays int    `json:"repeat_every_days"`
	MaxCount        int    `json:"max_count"`
	MaxTotal        int64  `json:"max_total"`
}

// InterestTerms is a statutory Preset, or an AnnualRate with a DayCount, or a
// DailyRate; all rates are decimal strings of percent. With Compound, posted
// interest joins the base from the day after it is posted.
type InterestTerms struct {
	Preset     string `json:"preset,omitempty"`
	AnnualRate string `json:"annual_rate,omitempty"`
	DailyRate  string `json:"daily_rate,omitempty"`
	DayCount   string `json:"day_count,omitempty"`
	Compound   bool   `json:"compound"`
	// RateFixing is half_year (the default) or at_due_date, for the presets
	// that take it (eu_late_payment, fr_code_commerce).
	RateFixing string `json:"rate_fixing,omitempty"`
}

// Suspension suspends the client when one of its invoices is AfterDays
// overdue (0 = never), after a warning WarningDays before.
type Suspension struct {
	AfterDays   int `json:"after_days"`
	WarningDays int `json:"warning_days"`
}

// MilestoneRules are the agreement's project rules (docs/RULES.md section 11).
type MilestoneRules struct {
	GateNextOnPayment bool `json:"gate_next_on_payment"`
	ClientDelayDays   int  `json:"client_delay_days"`
	// DepositRefundable says an unearned deposit (no later milestone of its
	// project delivered) is refunded when the relationship ends; otherwise
	// the deposit is kept.
	DepositRefundable bool `json:"deposit_refundable"`
}

// Terms are an agreement's payment and late-payment terms without the
// version's identity: what DefaultAgreement gives a client with no
// agreement, shown on its invoices as default_terms.
type Terms struct {
	PaymentTerms      string          `json:"payment_terms"`
	GraceDays         int             `json:"grace_days"`
	LateFee           *LateFee        `json:"late_fee"`
	Interest          *InterestTerms  `json:"interest"`
	FixedCompensation int64           `json:"fixed_compensation"`
	ReminderOffsets   []int           `json:"reminder_offsets"`
	Suspension        *Suspension     `json:"suspension"`
	Allocation        string          `json:"allocation"`
	Milestones        *MilestoneRules `json:"milestones"`
}

// Terms returns a's terms.
func (a Agreement) Terms() Terms {
	return Terms{
		PaymentTerms: a.PaymentTerms, GraceDays: a.GraceDays, LateFee: a.LateFee, Interest: a.Interest,
		FixedCompensation: a.FixedCompensation, ReminderOffsets: a.ReminderOffsets, Suspension: a.Suspension,
		Allocation: a.Allocation, Milestones: a.Milestones,
	}
}

// IsDefault reports whether a is DefaultAgreement's terms standing in for
// an agreement the client never made: it has no id.
func (a Agreement) IsDefault() bool { return a.ID == "" }

// DefaultAgreement returns the agreement of a client that has none: net 30,
// no grace, no fees or interest, the default reminders, charges first.
func DefaultAgreement() Agreement {
	return Agreement{
		PaymentTerms:    TermsNet30,
		ReminderOffsets: DefaultReminderOffsets(),
		Allocation:      AllocationChargesFirst,
	}
}

// WithDefaults returns a copy with empty settings filled in: payment terms
// net_30, allocation charges_first (principal_first under
// ru_civil_code_395, whose interest is repaid after the principal), the
// interest day count (the preset's, else
// act/365; none for a daily rate) and, when ReminderOffsets is nil (absent,
// not an empty list), the default reminder offsets.
func (a Agreement) WithDefaults() Agreement {
	if a.PaymentTerms == "" {
		a.PaymentTerms = TermsNet30
	}
	if a.Allocation == "" {
		a.Allocation = AllocationChargesFirst
		if a.Interest != nil && a.Interest.Preset == PresetRUCivilCode395 {
			a.Allocation = AllocationPrincipalFirst
		}
	}
	if a.ReminderOffsets == nil {
		a.ReminderOffsets = DefaultReminderOffsets()
	}
	if a.Interest != nil && a.Interest.DayCount == "" && a.Interest.DailyRate == "" {
		it := *a.Interest
		it.DayCount = dayCountOf(it)
		a.Interest = &it
	}
	return a
}

// Validate checks the agreement, with defaults applied, for a client billed
// in clientCurrency, and returns one EINVALID error naming every bad field by
// its JSON path ("late_fee.percent", "reminder_offsets[2]").
func (a Agreement) Validate(clientCurrency string) error {
	if a.EnforceOnlyIfAccepted && !a.RequireAcceptance {
		return &Error{Code: EINVALID, Message: "enforce_only_if_accepted: needs require_acceptance",
			Fields: map[string]string{"enforce_only_if_accepted": "needs \"require_acceptance\": true"}}
	}
	a = a.WithDefaults()
	f := FieldErrors{}
	if _, err := ParseTerms(a.PaymentTerms); err != nil {
		f.Add("payment_terms", "%s", ErrorMessage(err))
	}
	fieldInRange(f, "grace_days", int64(a.GraceDays), 0, maxAgreementDays)
	fieldInRange(f, "fixed_compensation", a.FixedCompensation, 0, maxAgreementAmount)
	if a.LateFee != nil {
		a.LateFee.validate(f)
	}
	if a.Interest != nil {
		a.Interest.validate(f, clientCurrency)
		if PresetCompensation(a.Interest.Preset, clientCurrency, 1) > 0 && a.FixedCompensation > 0 {
			f.Add("fixed_compensation", "the %s preset sets the fixed compensation; leave it 0", a.Interest.Preset)
		}
	}
	validateReminderOffsets(f, a.ReminderOffsets)
	if s := a.Suspension; s != nil {
		fieldInRange(f, "suspension.after_days", int64(s.AfterDays), 0, maxSuspendAfter)
		fieldInRange(f, "suspension.warning_days", int64(s.WarningDays), 0, maxAgreementDays)
		if s.AfterDays > 0 && s.WarningDays >= s.AfterDays {
			f.Add("suspension.warning_days", "must be less than after_days (%d) so the warning comes after the invoice is overdue", s.AfterDays)
		}
	}
	if a.Allocation != AllocationChargesFirst && a.Allocation != AllocationPrincipalFirst {
		f.Add("allocation", "must be %s or %s", AllocationChargesFirst, AllocationPrincipalFirst)
	}
	if m := a.Milestones; m != nil {
		fieldInRange(f, "milestones.client_delay_days", int64(m.ClientDelayDays), 0, maxAgreementDays)
	}
	return f.Err()
}

func (lf *LateFee) validate(f FieldErrors) {
	fieldInRange(f, "late_fee.flat", lf.Flat, 0, maxAgreementAmount)
	percent := fieldRate(f, "late_fee.percent", lf.Percent, maxFeePercent)
	if lf.Flat == 0 && (percent == nil || percent.Sign() == 0) {
		f.Add("late_fee", "needs a flat amount or a percent")
	}
	fieldInRange(f, "late_fee.repeat_every_days", int64(lf.RepeatEveryDays), 0, maxAgreementDays)
	fieldInRange(f, "late_fee.max_count", int64(lf.MaxCount), 0, maxFeeCount)
	fieldInRange(f, "late_fee.max_total", lf.MaxTotal, 0, maxAgreementAmount)
}

func (it *InterestTerms) validate(f FieldErrors, clientCurrency string) {
	given := 0
	for _, s := range []string{it.Preset, it.AnnualRate, it.DailyRate} {
		if s != "" {
			given++
		}
	}
	switch {
	case given == 0:
		f.Add("interest", "needs a preset, an annual_rate or a daily_rate")
	case given > 1 && it.Preset != "":
		f.Add("interest.preset", "a preset sets the rate; leave annual_rate and daily_rate empty")
	case given > 1:
		f.Add("interest.daily_rate", "give an annual_rate or a daily_rate, not both")
	}
	if it.Preset != "" {
		p, ok := presetFor(it.Preset)
		switch {
		case !ok:
			f.Add("interest.preset", "must be %s, %s, %s, %s or %s", PresetEULatePayment, PresetUKLatePayment, PresetRUCivilCode395,
				PresetDEBGB288, PresetFRCodeCommerce)
		case p.currency != clientCurrency:
			f.Add("interest.preset", "%s applies to debts in %s (%s); this client is billed in %s",
				it.Preset, p.currency, p.law, clientCurrency)
		case it.DayCount != "" && it.DayCount != p.dayCount:
			f.Add("interest.day_count", "%s uses %s; leave day_count empty", it.Preset, p.dayCount)
		case it.Compound:
			f.Add("interest.compound", "statutory interest under %s is simple interest", it.Preset)
		case it.RateFixing != "" && !p.rateFixing:
			f.Add("interest.rate_fixing", "%s fixes its rate by law; leave rate_fixing empty", it.Preset)
		case it.RateFixing != "" && it.RateFixing != RateFixingHalfYear && it.RateFixing != RateFixingAtDueDate:
			f.Add("interest.rate_fixing", "must be %s or %s", RateFixingHalfYear, RateFixingAtDueDate)
		}
	} else if it.RateFixing != "" {
		f.Add("interest.rate_fixing", "applies to the %s and %s presets only", PresetEULatePayment, PresetFRCodeCommerce)
	}
	if rate := fieldRate(f, "interest.annual_rate", it.AnnualRate, maxAnnualRate); rate != nil && rate.Sign() == 0 {
		f.Add("interest.annual_rate", "must be greater than 0; leave interest out for none")
	}
	if rate := fieldRate(f, "interest.daily_rate", it.DailyRate, maxDailyRate); rate != nil && rate.Sign() == 0 {
		f.Add("interest.daily_rate", "must be greater than 0; leave interest out for none")
	}
	switch {
	case it.DailyRate != "" && it.DayCount != "":
		f.Add("interest.day_count", "a daily_rate is used as given; leave day_count empty")
	case it.DayCount != "" && it.DayCount != DayCountAct365 && it.DayCount != DayCountAct360 && it.DayCount != DayCountActAct &&
		it.DayCount != DayCount30E360:
		f.Add("interest.day_count", "must be %s, %s, %s or %s", DayCountAct365, DayCountAct360, DayCountActAct, DayCount30E360)
	}
}

func validateReminderOffsets(f FieldErrors, offsets []int) {
	if len(offsets) > maxReminders {
		f.Add("reminder_offsets", "at most %d reminders", maxReminders)
		return
	}
	seen := map[int]bool{}
	for i, off := range offsets {
		field := fmt.Sprintf("reminder_offsets[%d]", i)
		switch {
		case off < minReminderOffset || off > maxReminderOffset:
			f.Add(field, "must be between %d and %d days from the due date", minReminderOffset, maxReminderOffset)
		case seen[off]:
			f.Add(field, "%d is listed twice", off)
		}
		seen[off] = true
	}
}

// fieldInRange records a problem when v is outside [lo, hi].
func fieldInRange(f FieldErrors, field string, v, lo, hi int64) {
	switch {
	case v < lo && lo == 0:
		f.Add(field, "must not be negative")
	case v < lo || v > hi:
		f.Add(field, "must be between %d and %d", lo, hi)
	}
}

// fieldRate parses an optional percent string and records a problem when it
// is malformed or above max; it returns the rate, or nil when absent or bad.
func fieldRate(f FieldErrors, field, s string, max int64) *big.Rat {
	if s == "" {
		return nil
	}
	r, err := ParseRate(s)
	if err != nil {
		f.Add(field, "%s", ErrorMessage(err))
		return nil
	}
	if r.Cmp(big.NewRat(max, 1)) > 0 {
		f.Add(field, "must be at most %d", max)
		return nil
	}
	return r
}

// ParseTerms returns the number of days payment terms give after the issue
// date: due_on_receipt 0, net_15 15, net_N N for N in 0..120. Anything else is
// an EINVALID error.
func ParseTerms(s string) (int, error) {
	if s == TermsDueOnReceipt {
		return 0, nil
	}
	digits, ok := strings.CutPrefix(s, "net_")
	if ok && allDigits(digits) && len(digits) <= 3 && (digits == "0" || digits[0] != '0') {
		if n, err := strconv.Atoi(digits); err == nil && n <= MaxTermsDays {
			return n, nil
		}
	}
	return 0, Errorf(EINVALID, "payment terms %q must be due_on_receipt or net_N with N from 0 to %d", s, MaxTermsDays)
}

// DueDate returns the due date of an invoice issued on issued under terms.
// It never precedes the issue date.
func DueDate(terms string, issued Date) (Date, error) {
	days, err := ParseTerms(terms)
	if err != nil {
		return Date{}, err
	}
	if issued.IsZero() {
		return Date{}, Errorf(EINVALID, "an issue date is needed to work out the due date")
	}
	return issued.AddDays(days), nil
}

// RaisesBurden reports whether next, replacing prev, adds or raises a late
// fee (flat, percent, more frequent repeats, higher or removed caps),
// interest (none to any, a higher rate, a shorter day count, another preset,
// compounding turned on), the fixed compensation, or suspension (added, or
// after fewer days). Such a version needs notice (docs/RULES.md section 5).
// A rate that cannot be compared counts as raised.
func RaisesBurden(prev, next Agreement) bool {
	prev, next = prev.WithDefaults(), next.WithDefaults()
	return lateFeeRaised(prev.LateFee, next.LateFee) ||
		interestRaised(prev.Interest, next.Interest) ||
		next.FixedCompensation > prev.FixedCompensation ||
		suspensionRaised(prev.Suspension, next.Suspension)
}

func lateFeeRaised(prev, next *LateFee) bool {
	switch {
	case next == nil:
		return false
	case prev == nil:
		return true
	}
	return next.Flat > prev.Flat ||
		rateRaised(prev.Percent, next.Percent) ||
		(next.RepeatEveryDays > 0 && (prev.RepeatEveryDays == 0 || next.RepeatEveryDays < prev.RepeatEveryDays)) ||
		capRaised(int64(prev.MaxCount), int64(next.MaxCount)) ||
		capRaised(prev.MaxTotal, next.MaxTotal)
}

// capRaised compares limits where 0 means no limit.
func capRaised(prev, next int64) bool {
	return prev > 0 && (next == 0 || next > prev)
}

func interestRaised(prev, next *InterestTerms) bool {
	switch {
	case next == nil:
		return false
	case prev == nil:
		return true
	case next.Preset != prev.Preset:
		return true
	case next.Compound && !prev.Compound:
		return true
	case next.Preset != "":
		// The fixing at the due date can charge more than the half-year one.
		return cmp.Or(next.RateFixing, RateFixingHalfYear) != cmp.Or(prev.RateFixing, RateFixingHalfYear)
	case (next.DailyRate != "") != (prev.DailyRate != ""):
		return true
	case next.DailyRate != "":
		return rateRaised(prev.DailyRate, next.DailyRate)
	}
	return rateRaised(prev.AnnualRate, next.AnnualRate) ||
		dayCountRank(next.DayCount) > dayCountRank(prev.DayCount) ||
		// 30e/360 charges more than the actual days in some months and less
		// in others: a change to or from it cannot be compared.
		(next.DayCount != prev.DayCount && (next.DayCount == DayCount30E360 || prev.DayCount == DayCount30E360))
}

// dayCountRank orders day counts by how much interest they charge: act/360
// divides by the fewest days.
func dayCountRank(dc string) int {
	switch dc {
	case DayCountAct360:
		return 2
	case DayCountActAct:
		return 0
	}
	return 1
}

// rateRaised compares two optional percent strings ("" = 0).
func rateRaised(prev, next string) bool {
	if next == "" {
		return false
	}
	n, err := ParseRate(next)
	if err != nil {
		return true
	}
	p := new(big.Rat)
	if prev != "" {
		if p, err = ParseRate(prev); err != nil {
			return true
		}
	}
	return n.Cmp(p) > 0
}

func suspensionRaised(prev, next *Suspension) bool {
	if next == nil || next.AfterDays == 0 {
		return false
	}
	return prev == nil || prev.AfterDays == 0 || next.AfterDays < prev.AfterDays
}

// DescribeTerms writes the agreement as plain English sentences for an
// invoice due on due in currency (the terms webhook events carry; a
// client reads them in its language through i18n): when payment is due, the grace
// period, late fees, fixed compensation, interest, suspension and how
// payments are applied. A zero due date leaves the dates out.
func DescribeTerms(a Agreement, currency string, due Date) []string {
	return DescribeTermsFor(a, currency, ClientBusiness, due)
}

// DescribeTermsFor is DescribeTerms for a client of kind (business or
// consumer), which some statutory presets' rate and compensation depend on:
// the English sentence of each of TermClauses.
func DescribeTermsFor(a Agreement, currency, kind string, due Date) []string {
	clauses := TermClauses(a, currency, kind, due)
	out := make([]string, len(clauses))
	for i, c := range clauses {
		out[i] = c.English()
	}
	return out
}

// displayRate writes a percent string in its shortest form ("1.50" -> "1.5"),
// "" for none, or the string as given when it does not parse.
func displayRate(s string) string {
	if s == "" {
		return ""
	}
	r, err := ParseRate(s)
	if err != nil {
		return s
	}
	if r.Sign() == 0 {
		return ""
	}
	return FormatRate(r)
}

// withUnit writes "1 day" or "30 days".
func withUnit(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
