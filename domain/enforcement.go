package domain

import (
	"cmp"
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

// PostedCharge is a charge already on an invoice's invoiceLedger, waived or not.
type PostedCharge struct {
	Key      string
	Kind     ChargeKind
	Amount   int64
	PostedOn Date
	Waived   bool
}

// InvoiceFacts is everything the enforcement rules need to know about one
// open invoice: its principal and due date, the agreement it was issued
// under, what has reduced its principal (payments, credits, waivers) and
// interest, what is already posted, and the reference rates. The principal
// counts as paid in full from the first day the reductions add up to it;
// enforcement of the invoice ends that day.
type InvoiceFacts struct {
	InvoiceID           string
	Currency            string
	Principal           int64 // the invoice total, in minor units
	DueDate             Date
	Agreement           Agreement      // the version stored on the invoice
	PrincipalReductions []Reduction    // in any order
	InterestPaid        []Reduction    // only matters with compound interest
	Posted              []PostedCharge // charges on the invoiceLedger, waived ones included
	Rates               RateTable
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
	Amount     *big.Rat
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

// ChargesDue returns every charge that must be on the invoice's invoiceLedger by
// asOf, in posting order: late fees, the fixed compensation, and one
// interest posting per month of overdue days, posted on the 1st of the next
// month or on the day the principal is paid in full (ENFORCEMENT.md sections
// 4 to 6). It depends only on its inputs, so running it for every day up to
// asOf gives the same charges as running it once on asOf. A charge whose key
// is already posted comes back with the posted amount; a charge that rounds
// to zero is left out. A reference rate that is not loaded gives
// *MissingRateError.
func ChargesDue(f InvoiceFacts, asOf Date) ([]DueCharge, error) {
	charges, _, err := chargeSchedule(f, asOf)
	return charges, err
}

// Accrual quotes what the invoice owes on asOf, interest included through
// asOf, without changing anything. chargesPaid is the total paid so far
// toward charges; it settles compensation, then fees, then posted interest.
func Accrual(f InvoiceFacts, chargesPaid int64, asOf Date) (Quote, error) {
	charges, open, err := chargeSchedule(f, asOf)
	if err != nil {
		return Quote{}, err
	}
	q := Quote{AsOf: asOf, Principal: f.Principal}
	q.PrincipalOutstanding = max(0, f.Principal-reducedThrough(f.PrincipalReductions, asOf))
	waived := map[string]bool{}
	for _, p := range f.Posted {
		waived[p.Key] = p.Waived
	}
	for _, c := range charges {
		if waived[c.Key] {
			continue
		}
		var owed *int64
		switch c.Kind {
		case ChargeCompensation:
			owed = &q.CompensationOutstanding
		case ChargeLateFee:
			owed = &q.FeesOutstanding
		case ChargeInterest:
			owed = &q.InterestPostedOutstanding
		default:
			continue
		}
		if *owed, err = Sum(*owed, c.Amount); err != nil {
			return Quote{}, err
		}
	}
	paid := max(chargesPaid, 0)
	for _, owed := range []*int64{&q.CompensationOutstanding, &q.FeesOutstanding, &q.InterestPostedOutstanding} {
		settled := min(*owed, paid)
		*owed -= settled
		paid -= settled
	}
	if open != nil {
		q.InterestAccruedUnposted = open.Amount
	}
	if q.Payoff, err = Sum(q.PrincipalOutstanding, q.CompensationOutstanding, q.FeesOutstanding,
		q.InterestPostedOutstanding, q.InterestAccruedUnposted); err != nil {
		return Quote{}, err
	}
	if threshold := f.DueDate.AddDays(f.Agreement.GraceDays); q.PrincipalOutstanding > 0 && asOf.After(threshold) {
		q.DaysOverdue = asOf.DaysSince(threshold)
	}
	return q, nil
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

// invoiceLedger is the reading of one invoice's facts that every rule shares.
type invoiceLedger struct {
	f          InvoiceFacts
	a          Agreement
	day1       Date
	paidOn     Date        // the day the principal is paid in full; zero if not
	reductions []Reduction // principal reductions by day
	interestPd []Reduction // interest paid by day
	posted     map[string]PostedCharge
}

// chargeSchedule returns the charges due by asOf in posting order and, when the
// month of asOf is still open, its interest accrued so far (not yet due).
func chargeSchedule(f InvoiceFacts, asOf Date) ([]DueCharge, *DueCharge, error) {
	if f.DueDate.IsZero() {
		return nil, nil, Errorf(EINVALID, "invoice %s has no due date", f.InvoiceID)
	}
	if err := CheckEnforceable(f.InvoiceID, f.DueDate, asOf); err != nil {
		return nil, nil, err
	}
	l := newLedger(f)
	if f.Principal <= 0 || asOf.Before(l.day1) || l.paidBefore(l.day1) {
		return nil, nil, nil
	}
	var charges []DueCharge
	if c, ok := l.compensation(); ok {
		charges = append(charges, c)
	}
	fees, err := l.lateFees(asOf)
	if err != nil {
		return nil, nil, err
	}
	charges = append(charges, fees...)
	postings, open, err := l.interest(asOf)
	if err != nil {
		return nil, nil, err
	}
	charges = append(charges, postings...)
	slices.SortStableFunc(charges, func(x, y DueCharge) int {
		return cmp.Or(x.PostOn.compare(y.PostOn), kindRank(x.Kind)-kindRank(y.Kind), x.Seq-y.Seq)
	})
	return charges, open, nil
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

func newLedger(f InvoiceFacts) *invoiceLedger {
	l := &invoiceLedger{
		f:          f,
		a:          f.Agreement.WithDefaults(),
		day1:       DayOneOverdue(f.DueDate, f.Agreement.GraceDays),
		reductions: sortedReductions(f.PrincipalReductions),
		interestPd: sortedReductions(f.InterestPaid),
		posted:     map[string]PostedCharge{},
	}
	for _, p := range f.Posted {
		l.posted[p.Key] = p
	}
	var reduced int64
	for _, r := range l.reductions {
		reduced += r.Amount
		if reduced >= f.Principal {
			l.paidOn = r.On
			break
		}
	}
	return l
}

func sortedReductions(rs []Reduction) []Reduction {
	out := slices.Clone(rs)
	slices.SortStableFunc(out, func(x, y Reduction) int { return x.On.compare(y.On) })
	return out
}

// paidBefore reports whether the principal was paid in full before d.
func (l *invoiceLedger) paidBefore(d Date) bool {
	return !l.paidOn.IsZero() && l.paidOn.Before(d)
}

// principalAtStart returns the principal outstanding at the start of day d.
func (l *invoiceLedger) principalAtStart(d Date) int64 {
	return l.f.Principal - reducedThrough(l.reductions, d.AddDays(-1))
}

// postedAmount returns the amount on the invoiceLedger under key, if any.
func (l *invoiceLedger) postedAmount(key string) (int64, bool) {
	p, ok := l.posted[key]
	return p.Amount, ok
}

// compensation returns the fixed compensation, posted on day 1 overdue: the
// preset's statutory amount, else the agreement's fixed compensation.
func (l *invoiceLedger) compensation() (DueCharge, bool) {
	c := DueCharge{
		Key: CompensationKey, Kind: ChargeCompensation,
		From: l.day1, To: l.day1, PostOn: l.day1,
		Description: "Fixed compensation for recovery costs",
	}
	if it := l.a.Interest; it != nil {
		c.Amount = PresetCompensation(it.Preset, l.f.Currency, l.f.Principal)
		if c.Amount > 0 {
			c.Description += " (" + PresetLaw(it.Preset) + ")"
		}
	}
	if c.Amount == 0 {
		c.Amount = l.a.FixedCompensation
	}
	if posted, ok := l.postedAmount(c.Key); ok {
		c.Amount = posted
		return c, true
	}
	return c, c.Amount > 0
}

// lateFees returns the late fees assessed through asOf: on day 1 and every
// RepeatEveryDays after while principal is outstanding at the start of the
// day, at most MaxCount of them, the last cut to fit MaxTotal.
func (l *invoiceLedger) lateFees(asOf Date) ([]DueCharge, error) {
	lf := l.a.LateFee
	if lf == nil {
		return nil, nil
	}
	percent := new(big.Rat)
	if lf.Percent != "" {
		var err error
		if percent, err = ParseRate(lf.Percent); err != nil {
			return nil, Errorf(EINVALID, "late_fee.percent: %s", ErrorMessage(err))
		}
	}
	var (
		fees  []DueCharge
		total int64
		err   error
	)
	for seq, day := 1, l.day1; !day.After(asOf) && !l.paidBefore(day); seq, day = seq+1, day.AddDays(lf.RepeatEveryDays) {
		if lf.MaxCount > 0 && seq > lf.MaxCount {
			break
		}
		base := l.principalAtStart(day)
		fee := DueCharge{
			Key: LateFeeKey(seq), Kind: ChargeLateFee, Seq: seq,
			From: day, To: day, PostOn: day,
			Description: l.lateFeeDescription(seq, day, base, percent),
		}
		if posted, ok := l.postedAmount(fee.Key); ok {
			// Waived fees count as assessed: they stay within the cap.
			fee.Amount = posted
		} else {
			amount, err := roundCharge(new(big.Rat).Add(new(big.Rat).SetInt64(lf.Flat), percentOf(base, percent)), "a late fee")
			if err != nil {
				return nil, err
			}
			if sum, ok := AddInt64(total, amount); lf.MaxTotal > 0 && (!ok || sum > lf.MaxTotal) {
				amount = max(lf.MaxTotal-total, 0)
				fee.Description += fmt.Sprintf(", cut to fit the %s cap", FormatMoney(lf.MaxTotal, l.f.Currency))
			}
			if amount <= 0 {
				break
			}
			fee.Amount = amount
		}
		if total, err = Sum(total, fee.Amount); err != nil {
			return nil, err
		}
		fees = append(fees, fee)
		if lf.RepeatEveryDays <= 0 {
			break
		}
	}
	return fees, nil
}

func (l *invoiceLedger) lateFeeDescription(seq int, day Date, base int64, percent *big.Rat) string {
	var parts []string
	if l.a.LateFee.Flat > 0 {
		parts = append(parts, FormatMoney(l.a.LateFee.Flat, l.f.Currency))
	}
	if percent.Sign() > 0 {
		parts = append(parts, fmt.Sprintf("%s %% of %s", FormatRate(percent), FormatMoney(base, l.f.Currency)))
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

// rateOn returns the rate of day d's interest and its key, reusing rates
// already worked out for the same source and day count.
func (l *invoiceLedger) rateOn(d Date, cache map[dayRateKey]dayRate) (dayRateKey, dayRate, error) {
	it := *l.a.Interest
	var key dayRateKey
	if it.DailyRate != "" && it.Preset == "" && it.AnnualRate == "" {
		key.source.Rate = it.DailyRate
	} else {
		src, err := annualRateSource(it, l.f.Rates, d)
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
		annual, err := annualRateFrom(it, key.source)
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
	if n := len(m.keys); n > 0 {
		last := &m.charge.Breakdown[n-1]
		if last.Base == base && m.keys[n-1] == key && last.To.AddDays(1) == d {
			last.To, last.Days = d, last.Days+1
			return
		}
	}
	m.charge.Breakdown = append(m.charge.Breakdown, InterestSpan{
		From: d, To: d, Days: 1, Base: base,
		AnnualRate: rate.annualRate, DailyRate: rate.dailyRate, DayCount: rate.dayCount,
	})
	m.keys = append(m.keys, key)
	m.factors = append(m.factors, rate.factor)
}

// close sets each span's exact interest and returns the month's exact sum.
func (m *monthAccrual) close() *big.Rat {
	sum := new(big.Rat)
	for i := range m.charge.Breakdown {
		span := &m.charge.Breakdown[i]
		baseDays := new(big.Int).Mul(big.NewInt(span.Base), big.NewInt(int64(span.Days)))
		span.Amount = new(big.Rat).SetInt(baseDays)
		span.Amount.Mul(span.Amount, m.factors[i])
		sum.Add(sum, span.Amount)
	}
	return sum
}

// interest returns the interest postings due by asOf and the month still
// open on asOf, if any. Each day from day 1 overdue to asOf (or to the day
// the principal is paid in full) is charged base × rate, the base being the
// principal outstanding at the start of the day plus, when compounding,
// interest posted before that day and not yet paid.
func (l *invoiceLedger) interest(asOf Date) ([]DueCharge, *DueCharge, error) {
	if l.a.Interest == nil {
		return nil, nil, nil
	}
	end := asOf
	if !l.paidOn.IsZero() && l.paidOn.Before(end) {
		end = l.paidOn
	}
	var (
		postings     []DueCharge
		month        *monthAccrual
		principal    = l.f.Principal
		nextRed      int
		compounded   int64 // unwaived interest posted before the day
		nextPosting  int   // postings[nextPosting:] have not joined the base
		interestPaid int64
		nextPaid     int
		cache        = map[dayRateKey]dayRate{}
	)
	for d := l.day1; !d.After(end); d = d.AddDays(1) {
		for ; nextRed < len(l.reductions) && l.reductions[nextRed].On.Before(d); nextRed++ {
			principal -= l.reductions[nextRed].Amount
		}
		base := max(principal, 0)
		if l.a.Interest.Compound {
			var err error
			for ; nextPosting < len(postings) && postings[nextPosting].PostOn.Before(d); nextPosting++ {
				if !l.posted[postings[nextPosting].Key].Waived {
					if compounded, err = Sum(compounded, postings[nextPosting].Amount); err != nil {
						return nil, nil, err
					}
				}
			}
			for ; nextPaid < len(l.interestPd) && l.interestPd[nextPaid].On.Before(d); nextPaid++ {
				interestPaid += l.interestPd[nextPaid].Amount
			}
			if base, err = Sum(base, max(compounded-interestPaid, 0)); err != nil {
				return nil, nil, Overflowf("the compounded interest base of invoice %s on %s exceeds an int64 of minor units", l.f.InvoiceID, d)
			}
		}
		key, rate, err := l.rateOn(d, cache)
		if err != nil {
			return nil, nil, err
		}
		if month == nil {
			month = &monthAccrual{charge: DueCharge{Key: InterestKey(d), Kind: ChargeInterest, Period: d.YearMonth(), From: d}}
		}
		month.add(d, base, key, rate)

		paidToday := d == l.paidOn
		if d != d.LastOfMonth() && !paidToday && d != end {
			continue
		}
		c := &month.charge
		c.To, c.Days = d, d.DaysSince(c.From)+1
		c.PostOn = d.FirstOfNextMonth()
		if paidToday {
			c.PostOn = d
		}
		if c.Amount, err = roundCharge(month.close(), "the interest of "+c.Period); err != nil {
			return nil, nil, err
		}
		c.Description = l.interestDescription(c)
		if c.PostOn.After(asOf) {
			// Still accruing: quoted by Accrual, not yet a charge.
			return postings, c, nil
		}
		if posted, ok := l.postedAmount(c.Key); ok {
			c.Amount = posted
		}
		if c.Amount != 0 {
			postings = append(postings, *c)
		}
		month = nil
	}
	return postings, nil, nil
}

func (l *invoiceLedger) interestDescription(month *DueCharge) string {
	s := fmt.Sprintf("Interest on the overdue principal, %s to %s (%s)",
		month.From.LongString(), month.To.LongString(), withUnit(month.Days, "day"))
	if len(month.Breakdown) != 1 {
		return s
	}
	span := month.Breakdown[0]
	if span.DailyRate != "" {
		return s + fmt.Sprintf(" at %s %% a day on %s", span.DailyRate, FormatMoney(span.Base, l.f.Currency))
	}
	return s + fmt.Sprintf(" at %s %% a year (%s) on %s", span.AnnualRate, span.DayCount, FormatMoney(span.Base, l.f.Currency))
}
