package domain

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// ChargeKind says what a charge on an invoice is for.
type ChargeKind string

// Charge kinds.
const (
	ChargeLateFee      ChargeKind = "late_fee"
	ChargeInterest     ChargeKind = "interest"
	ChargeCompensation ChargeKind = "compensation"
)

// CompensationKey is the key of an invoice's fixed compensation charge.
const CompensationKey = "compensation"

// LateFeeKey returns the key of the seq-th late fee of an invoice: "late_fee:1".
func LateFeeKey(seq int) string { return fmt.Sprintf("late_fee:%d", seq) }

// InterestKey returns the key of the interest posting for the month of d:
// "interest:2026-02".
func InterestKey(d Date) string { return "interest:" + d.YearMonth() }

// ReminderKey returns the key of the reminder sent offset days from the due
// date: "reminder:-3", "reminder:0".
func ReminderKey(offset int) string { return fmt.Sprintf("reminder:%d", offset) }

// Reduction is an amount taken off a balance on day On; it counts from the
// day after (a payment on day D stops interest from D+1).
type Reduction struct {
	On     Date
	Amount int64
}

// InvoiceFacts is everything the enforcement rules need to know about one
// issued invoice: its principal and due date, the agreement it was issued
// under, the dated facts that change what it owes (payments, refunds,
// waivers, and principal reductions such as client credit applied at
// issue), and the reference rates. What has been posted is not a fact: the
// rules say what must be posted, and the store corrects what differs.
type InvoiceFacts struct {
	InvoiceID           string
	Currency            string
	Principal           int64 // the invoice total, in minor units
	DueDate             Date
	Agreement           Agreement   // the version stored on the invoice
	PrincipalReductions []Reduction // principal paid by other means than a payment (client credit), in any order
	Payments            []PaymentFact
	Refunds             []RefundFact
	Waivers             []WaiverFact
	Rates               RateTable
	// ClientKind is the client's kind (business when empty), which some
	// presets' margin and compensation depend on.
	ClientKind string
	// CreditNotes reduce the principal on their dates; what exceeds the
	// principal outstanding becomes client credit.
	CreditNotes []CreditNoteFact
}

// CreditNoteFact is a credit note as the rules see it: Amount credited on
// the invoice on On. Like a payment, it reduces the principal from the
// day after (the interest of day On is on the principal at its start).
// Credit notes of one day apply in the order of their IDs.
type CreditNoteFact struct {
	ID     string
	On     Date
	Amount int64
}

// DueCharge is a charge the rules say must be on the invoiceLedger: its unique Key,
// its amount in minor units, the day it is posted (PostOn), the days it
// covers (From..To; Days counts interest days), a Description for people,
// and for interest the exact Breakdown by day count, base and rate.
type DueCharge struct {
	Key         string
	Kind        ChargeKind
	Seq         int    // late fee sequence number, from 1
	Period      string // interest month, "2026-02"
	From, To    Date
	Days        int
	PostOn      Date
	Amount      int64
	Description string
	Breakdown   []InterestSpan
	// Facts are the figures the words explaining the charge need.
	Facts *ChargeFacts
	// Correction says the entry corrects what is posted under Key: the
	// store posts it under AdjustmentKey(Key, n).
	Correction bool
}

// ChargeFacts are the figures behind a posted charge that the words
// explaining it need in each language, beyond its kind, key, dates and
// breakdown: a late fee's flat amount, percent, the principal it was a
// percent of and the cap it was cut to fit (0: not cut); the statutory
// preset a compensation is due under; and what a correction (a key
// AdjustmentKey gives) changed: the amount posted before (Was) and after
// (Now), Reversed when the terms no longer give the charge at all.
type ChargeFacts struct {
	Flat     int64  `json:"flat,omitempty"`
	Percent  string `json:"percent,omitempty"`
	Base     int64  `json:"base,omitempty"`
	Cap      int64  `json:"cap,omitempty"`
	Preset   string `json:"preset,omitempty"`
	Was      int64  `json:"was,omitempty"`
	Now      int64  `json:"now,omitempty"`
	Reversed bool   `json:"reversed,omitempty"`
}

// InterestSpan is a run of consecutive days charged interest on the same
// base at the same rate; Amount is their exact, unrounded interest.
type InterestSpan struct {
	From, To   Date
	Days       int
	Base       int64
	AnnualRate string // percent a year, "" with a daily rate
	DailyRate  string // percent a day, "" with an annual rate
	DayCount   string // "" with a daily rate
	// CountedDays is what the days count for under the day count: Days,
	// but under 30e/360 day 31 counts 0 and the last day of February 3
	// (2 in a leap year). Zero means Days (spans stored before it).
	CountedDays int
	Amount      *big.Rat
}

// interestSpanJSON is the JSON form of an InterestSpan, as the API shows a
// charge's breakdown: snake_case, and the exact amount as amount_exact, a
// fraction of minor units in lowest terms ("67200/73", or "920" when
// whole), beside amount_minor, that amount rounded half away from zero.
type interestSpanJSON struct {
	From        Date   `json:"from"`
	To          Date   `json:"to"`
	Days        int    `json:"days"`
	Base        int64  `json:"base"`
	AnnualRate  string `json:"annual_rate,omitempty"`
	DailyRate   string `json:"daily_rate,omitempty"`
	DayCount    string `json:"day_count,omitempty"`
	CountedDays int    `json:"counted_days,omitempty"`
	AmountExact string `json:"amount_exact"`
	AmountMinor int64  `json:"amount_minor"`
}

// MarshalJSON writes the span in its API form (interestSpanJSON).
func (s InterestSpan) MarshalJSON() ([]byte, error) {
	out := interestSpanJSON{From: s.From, To: s.To, Days: s.Days, Base: s.Base,
		AnnualRate: s.AnnualRate, DailyRate: s.DailyRate, DayCount: s.DayCount, AmountExact: "0"}
	if s.DayCount == DayCount30E360 {
		// Only where it differs in kind from days, so other spans read as before.
		out.CountedDays = s.counted()
	}
	if s.Amount != nil {
		out.AmountExact = s.Amount.RatString()
		minor, err := RoundHalfAway(s.Amount)
		if err != nil {
			return nil, err
		}
		out.AmountMinor = minor
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads the API form, and also the form stored before it
// (Go field names, Amount as "p/q"), which older charge rows hold.
func (s *InterestSpan) UnmarshalJSON(b []byte) error {
	var v struct {
		interestSpanJSON
		// The stored form before the API form; From, To, Days and Base
		// match the API keys anyway (encoding/json ignores case).
		AnnualRate string
		DailyRate  string
		DayCount   string
		Amount     *big.Rat
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = InterestSpan{From: v.From, To: v.To, Days: v.Days, Base: v.Base,
		AnnualRate:  cmp.Or(v.interestSpanJSON.AnnualRate, v.AnnualRate),
		DailyRate:   cmp.Or(v.interestSpanJSON.DailyRate, v.DailyRate),
		DayCount:    cmp.Or(v.interestSpanJSON.DayCount, v.DayCount),
		CountedDays: v.CountedDays,
		Amount:      v.Amount}
	if v.AmountExact != "" {
		r, ok := new(big.Rat).SetString(v.AmountExact)
		if !ok {
			return Errorf(EINVALID, "amount_exact %q is not a fraction", v.AmountExact)
		}
		s.Amount = r
	}
	return nil
}

// counted returns the days the span counts for under its day count.
func (s InterestSpan) counted() int {
	if s.CountedDays == 0 && s.DayCount != DayCount30E360 {
		return s.Days
	}
	return s.CountedDays
}

// Quote is what an invoice owes on AsOf (a payoff quote): principal still
// outstanding, compensation, fees and interest posted and not yet paid,
// interest accrued through AsOf but not yet posted, and their sum, Payoff.
// DaysOverdue counts days past due date + grace while principal is unpaid.
type Quote struct {
	AsOf                      Date
	Principal                 int64
	PrincipalOutstanding      int64
	FeesOutstanding           int64
	CompensationOutstanding   int64
	InterestPostedOutstanding int64
	InterestAccruedUnposted   int64
	Payoff                    int64
	DaysOverdue               int
}

// ReminderDue is a reminder whose day has come: Offset days from the due
// date, on On, sent once under Key.
type ReminderDue struct {
	Key    string
	Offset int
	On     Date
}

// DayOneOverdue returns the first day fees and interest can run: the day
// after due + graceDays.
func DayOneOverdue(due Date, graceDays int) Date {
	return due.AddDays(graceDays + 1)
}

// ChargesDue returns every charge that must be on the invoice's ledger by
// asOf, in posting order, with its amount as the facts say (ComputeLedger):
// late fees, the fixed compensation, and one interest posting per month of
// overdue days, posted on the 1st of the next month or on the day the
// principal is paid in full (docs/RULES.md sections 6 to 8). A charge that
// rounds to zero is left out. A reference rate that is not loaded gives
// *MissingRateError.
func ChargesDue(f InvoiceFacts, asOf Date) ([]DueCharge, error) {
	l, err := ComputeLedger(f, asOf)
	if err != nil {
		return nil, err
	}
	out := make([]DueCharge, len(l.Charges))
	for i := range l.Charges {
		out[i] = l.Charges[i].DueCharge
	}
	return out, nil
}

// Accrual quotes what the invoice owes on asOf, interest included through
// asOf, without changing anything.
func Accrual(f InvoiceFacts, asOf Date) (Quote, error) {
	l, err := ComputeLedger(f, asOf)
	if err != nil {
		return Quote{}, err
	}
	return l.Quote(f)
}

// RemindersDue returns the reminders, one per distinct offset, whose day
// (due + offset) is on or before asOf, earliest first. Whether the invoice
// is still unpaid is the caller's concern.
func RemindersDue(offsets []int, due Date, asOf Date) []ReminderDue {
	if due.IsZero() {
		return nil
	}
	sorted := slices.Clone(offsets)
	slices.Sort(sorted)
	var out []ReminderDue
	for _, off := range slices.Compact(sorted) {
		on := due.AddDays(off)
		if on.After(asOf) {
			break
		}
		out = append(out, ReminderDue{Key: ReminderKey(off), Offset: off, On: on})
	}
	return out
}

// reducedThrough sums the reductions made on or before d.
func reducedThrough(reductions []Reduction, d Date) int64 {
	var sum int64
	for _, r := range reductions {
		if !r.On.After(d) {
			sum += r.Amount
		}
	}
	return sum
}

// kindRank orders charges posted on the same day.
func kindRank(k ChargeKind) int {
	switch k {
	case ChargeCompensation:
		return 0
	case ChargeLateFee:
		return 1
	}
	return 2
}

func sortedReductions(rs []Reduction) []Reduction {
	out := slices.Clone(rs)
	slices.SortStableFunc(out, func(x, y Reduction) int { return x.On.compare(y.On) })
	return out
}

func lateFeeDescription(lf *LateFee, currency string, seq int, day Date, base int64, percent *big.Rat) string {
	var parts []string
	if lf.Flat > 0 {
		parts = append(parts, FormatMoney(lf.Flat, currency))
	}
	if percent.Sign() > 0 {
		parts = append(parts, fmt.Sprintf("%s %% of %s", FormatRate(percent), FormatMoney(base, currency)))
	}
	return fmt.Sprintf("Late fee %d, assessed %s: %s", seq, day.LongString(), strings.Join(parts, " + "))
}

// dayRate is the rate of one day's interest: the fraction of the base
// charged (factor) and how it reads.
type dayRate struct {
	factor     *big.Rat
	annualRate string
	dailyRate  string
	dayCount   string
}

// dayRateKey identifies a dayRate: days with equal keys charge the same rate.
type dayRateKey struct {
	source RatePoint // the reference point or agreed rate
	denom  int64     // days in the year; 0 for a daily rate
}

// rateOn returns the rate of day d's interest for a client of kind, the
// reference rate fixed as on fixOn, and its key, reusing rates already
// worked out for the same source and day count.
func rateOn(a Agreement, kind string, rates RateTable, d, fixOn Date, cache map[dayRateKey]dayRate) (dayRateKey, dayRate, error) {
	it := *a.Interest
	var key dayRateKey
	if it.DailyRate != "" && it.Preset == "" && it.AnnualRate == "" {
		key.source.Rate = it.DailyRate
	} else {
		src, err := annualRateSource(it, rates, fixOn)
		if err != nil {
			return key, dayRate{}, err
		}
		key = dayRateKey{source: src, denom: daysInYear(dayCountOf(it), d)}
	}
	if r, ok := cache[key]; ok {
		return key, r, nil
	}
	var r dayRate
	if key.denom == 0 {
		daily, err := ParseRate(it.DailyRate)
		if err != nil {
			return key, r, Errorf(EINVALID, "interest.daily_rate: %s", ErrorMessage(err))
		}
		r = dayRate{factor: new(big.Rat).Quo(daily, big.NewRat(100, 1)), dailyRate: FormatRate(daily)}
	} else {
		annual, err := annualRateFrom(it, kind, key.source)
		if err != nil {
			return key, r, err
		}
		r = dayRate{factor: new(big.Rat).Quo(annual, big.NewRat(100*key.denom, 1)), annualRate: FormatRate(annual), dayCount: dayCountOf(it)}
	}
	cache[key] = r
	return key, r, nil
}

// monthAccrual gathers one month's interest as spans of days with the same
// base and rate; each span is multiplied out once when the month closes.
type monthAccrual struct {
	charge  DueCharge
	keys    []dayRateKey // the rate key of each span in charge.Breakdown
	factors []*big.Rat
}

func (m *monthAccrual) add(d Date, base int64, key dayRateKey, rate dayRate) {
	weight := int(dayWeight(rate.dayCount, d))
	if n := len(m.keys); n > 0 {
		last := &m.charge.Breakdown[n-1]
		if last.Base == base && m.keys[n-1] == key && last.To.AddDays(1) == d {
			last.To, last.Days, last.CountedDays = d, last.Days+1, last.CountedDays+weight
			return
		}
	}
	m.charge.Breakdown = append(m.charge.Breakdown, InterestSpan{
		From: d, To: d, Days: 1, Base: base,
		AnnualRate: rate.annualRate, DailyRate: rate.dailyRate, DayCount: rate.dayCount, CountedDays: weight,
	})
	m.keys = append(m.keys, key)
	m.factors = append(m.factors, rate.factor)
}

// close sets each span's exact interest and returns the month's exact sum.
func (m *monthAccrual) close() *big.Rat {
	sum := new(big.Rat)
	for i := range m.charge.Breakdown {
		span := &m.charge.Breakdown[i]
		baseDays := new(big.Int).Mul(big.NewInt(span.Base), big.NewInt(int64(span.counted())))
		span.Amount = new(big.Rat).SetInt(baseDays)
		span.Amount.Mul(span.Amount, m.factors[i])
		sum.Add(sum, span.Amount)
	}
	return sum
}

func interestDescription(month DueCharge, currency string) string {
	s := fmt.Sprintf("Interest on the overdue principal, %s to %s (%s)",
		month.From.LongString(), month.To.LongString(), withUnit(month.Days, "day"))
	if len(month.Breakdown) != 1 {
		return s
	}
	span := month.Breakdown[0]
	if span.DailyRate != "" {
		return s + fmt.Sprintf(" at %s %% a day on %s", span.DailyRate, FormatMoney(span.Base, currency))
	}
	return s + fmt.Sprintf(" at %s %% a year (%s) on %s", span.AnnualRate, span.DayCount, FormatMoney(span.Base, currency))
}
