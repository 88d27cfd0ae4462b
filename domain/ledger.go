package domain

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// PaymentFact is a payment as the rules see it: Amount received on On.
// Payments are applied in date order and those of one day smallest first,
// then in the order of Order (the payment's unique key), so the result
// never depends on the order they were recorded in.
type PaymentFact struct {
	ID     string
	On     Date
	Amount int64
	Order  string
}

// RefundFact is Amount given back on On out of payment PaymentID. Refunds of
// one day are applied smallest first, then in the order of Order.
type RefundFact struct {
	ID        string
	PaymentID string
	On        Date
	Amount    int64
	Order     string
}

// WaiverFact says that the charge Key was waived on On: what was unpaid of
// it that day (or when it is posted, if later) is forgiven.
type WaiverFact struct {
	Key string
	On  Date
}

// ChargeState is a charge the rules say must be on the ledger, with how much
// of it the payments paid and the waiver forgave.
type ChargeState struct {
	DueCharge
	Paid   int64
	Waived int64
	// WaivedOn is the day the charge was waived; zero if it was not.
	WaivedOn Date
}

// Unpaid returns what is still owed of the charge.
func (c *ChargeState) Unpaid() int64 { return c.Amount - c.Paid - c.Waived }

// Ledger is what an invoice's dated facts come to on AsOf: every charge that
// must exist, how each payment is allocated and each refund reversed, and
// what is still owed. It is the same whatever order the facts were recorded
// in, and equals what a sweep run every day would have posted.
type Ledger struct {
	AsOf    Date
	Charges []ChargeState // in posting order
	// Open is the interest accrued in the month still open on AsOf, not
	// yet a charge; nil when none.
	Open     *DueCharge
	Payments map[string]Allocation // by payment id
	Refunds  map[string]Allocation // the reversal of each refund, by refund id
	// CreditNotes splits each credit note (by id) into the principal it
	// reduced and the client credit it created.
	CreditNotes          map[string]Allocation
	PrincipalOutstanding int64
	// SettledOn is the day the balance last came to zero; zero while
	// something is owed.
	SettledOn Date
}

// Balance returns the principal and the charges still owed.
func (l *Ledger) Balance() int64 {
	b := l.PrincipalOutstanding
	for i := range l.Charges {
		b += l.Charges[i].Unpaid()
	}
	return b
}

// Charge returns the charge under key, if the ledger has it.
func (l *Ledger) Charge(key string) (*ChargeState, bool) {
	for i := range l.Charges {
		if l.Charges[i].Key == key {
			return &l.Charges[i], true
		}
	}
	return nil, false
}

// ComputeLedger works out an invoice's ledger on asOf from its dated facts
// (docs/RULES.md sections 2 to 9). It replays the days from the first fact
// or day 1 overdue to asOf: each morning it posts what falls due that day
// (compensation and late fees on the principal outstanding at the start of
// the day, the previous month's interest on the 1st), then forgives what is
// waived, accrues the day's interest on the balance at the start of the day,
// and applies the day's refunds of earlier payments (each takes back credit,
// principal, interest, fees, compensation, in that order), its payments (in
// the agreement's order, against the charges that exist that day; the day
// the principal is paid in full closes the month's interest, which the rest
// of the payment then meets), and refunds of those payments.
// Facts dated after asOf are not yet facts. A reference rate that is not
// loaded gives *MissingRateError; a refund larger than what is left of its
// payment, EINVALID.
func ComputeLedger(f InvoiceFacts, asOf Date) (*Ledger, error) {
	if f.DueDate.IsZero() {
		return nil, Errorf(EINVALID, "invoice %s has no due date", f.InvoiceID)
	}
	if err := CheckEnforceable(f.InvoiceID, f.DueDate, asOf); err != nil {
		return nil, err
	}
	s := newSimulation(f)
	if err := s.run(asOf); err != nil {
		return nil, err
	}
	return s.ledger(asOf)
}

// simulation replays an invoice's days.
type simulation struct {
	f         InvoiceFacts
	a         Agreement
	day1      Date
	principal int64
	charges   []*ChargeState
	byKey     map[string]*ChargeState
	pending   map[string]Date // waivers of charges not posted yet
	payments  []PaymentFact
	refunds   []RefundFact
	waivers   []WaiverFact
	reduction []Reduction
	notes     []CreditNoteFact
	noteSplit map[string]Allocation
	allocs    map[string]*Allocation // what is left of each payment's allocation
	original  map[string]Allocation
	reversals map[string]Allocation

	feePercent  *big.Rat
	feesCharged int
	feeTotal    int64
	feesEnded   bool
	month       *monthAccrual
	monthKeys   map[string]int // interest postings per month
	rates       map[dayRateKey]dayRate
	settledOn   Date
	owed        bool // whether anything was owed at the end of the last day with news
}

func newSimulation(f InvoiceFacts) *simulation {
	s := &simulation{
		f: f, a: f.Agreement.WithDefaults(), day1: DayOneOverdue(f.DueDate, f.Agreement.GraceDays),
		principal: f.Principal, byKey: map[string]*ChargeState{}, pending: map[string]Date{},
		allocs: map[string]*Allocation{}, original: map[string]Allocation{}, reversals: map[string]Allocation{},
		monthKeys: map[string]int{}, rates: map[dayRateKey]dayRate{}, noteSplit: map[string]Allocation{},
	}
	s.notes = slices.Clone(f.CreditNotes)
	slices.SortStableFunc(s.notes, func(x, y CreditNoteFact) int { return cmp.Or(x.On.compare(y.On), cmp.Compare(x.ID, y.ID)) })
	s.payments = slices.Clone(f.Payments)
	slices.SortStableFunc(s.payments, func(x, y PaymentFact) int {
		return cmp.Or(x.On.compare(y.On), cmp.Compare(x.Amount, y.Amount), cmp.Compare(x.Order, y.Order), cmp.Compare(x.ID, y.ID))
	})
	s.refunds = slices.Clone(f.Refunds)
	slices.SortStableFunc(s.refunds, func(x, y RefundFact) int {
		return cmp.Or(x.On.compare(y.On), cmp.Compare(x.Amount, y.Amount), cmp.Compare(x.Order, y.Order), cmp.Compare(x.ID, y.ID))
	})
	s.waivers = slices.Clone(f.Waivers)
	slices.SortStableFunc(s.waivers, func(x, y WaiverFact) int { return x.On.compare(y.On) })
	s.reduction = sortedReductions(f.PrincipalReductions)
	return s
}

func (s *simulation) run(asOf Date) error {
	if lf := s.a.LateFee; lf != nil && lf.Percent != "" {
		p, err := ParseRate(lf.Percent)
		if err != nil {
			return Errorf(EINVALID, "late_fee.percent: %s", ErrorMessage(err))
		}
		s.feePercent = p
	}
	start := s.day1
	for _, d := range []Date{first(s.payments, func(p PaymentFact) Date { return p.On }),
		first(s.refunds, func(r RefundFact) Date { return r.On }),
		first(s.reduction, func(r Reduction) Date { return r.On }),
		first(s.notes, func(n CreditNoteFact) Date { return n.On })} {
		if !d.IsZero() && d.Before(start) {
			start = d
		}
	}
	s.owed = s.principal > 0
	var np, nr, nw, nred, nn int
	for d := start; !d.After(asOf); d = d.AddDays(1) {
		news := false
		if !d.Before(s.day1) {
			posted, err := s.morning(d)
			if err != nil {
				return err
			}
			news = posted
		}
		for ; nw < len(s.waivers) && !s.waivers[nw].On.After(d); nw++ {
			s.waive(s.waivers[nw].Key, d)
			news = true
		}
		if s.a.Interest != nil && !d.Before(s.day1) && s.principal > 0 {
			if err := s.accrue(d); err != nil {
				return err
			}
		}
		for ; nred < len(s.reduction) && !s.reduction[nred].On.After(d); nred++ {
			if err := s.reducePrincipal(d, s.reduction[nred].Amount); err != nil {
				return err
			}
			news = true
		}
		for ; nn < len(s.notes) && !s.notes[nn].On.After(d); nn++ {
			if err := s.creditNote(d, s.notes[nn]); err != nil {
				return err
			}
			news = true
		}
		// The day's refunds of earlier payments come first (the principal
		// they reopen is what the day's payments meet), then the day's
		// payments, then refunds of those.
		var later []RefundFact
		for ; nr < len(s.refunds) && !s.refunds[nr].On.After(d); nr++ {
			if _, ok := s.allocs[s.refunds[nr].PaymentID]; !ok {
				later = append(later, s.refunds[nr])
				continue
			}
			if err := s.refund(d, s.refunds[nr]); err != nil {
				return err
			}
			news = true
		}
		for ; np < len(s.payments) && !s.payments[np].On.After(d); np++ {
			if err := s.pay(d, s.payments[np]); err != nil {
				return err
			}
			news = true
		}
		for _, r := range later {
			if err := s.refund(d, r); err != nil {
				return err
			}
			news = true
		}
		if news {
			s.noteBalance(d)
		}
		if s.principal <= 0 && s.month == nil && np == len(s.payments) && nr == len(s.refunds) && nw == len(s.waivers) &&
			nred == len(s.reduction) && nn == len(s.notes) {
			break // nothing can change any more
		}
	}
	return nil
}

func first[T any](xs []T, on func(T) Date) Date {
	if len(xs) == 0 {
		return Date{}
	}
	return on(xs[0])
}

// noteBalance records the day the balance comes to zero.
func (s *simulation) noteBalance(d Date) {
	bal := s.principal
	for _, c := range s.charges {
		bal += c.Unpaid()
	}
	switch {
	case bal > 0:
		s.owed, s.settledOn = true, Date{}
	case s.owed:
		s.owed, s.settledOn = false, d
	}
}

// morning posts what falls due on d and reports whether it posted anything.
func (s *simulation) morning(d Date) (bool, error) {
	posted := false
	if s.month != nil && !sameMonth(s.month.charge.From, d) {
		// The month closed yesterday: its interest is posted today.
		if err := s.closeMonth(d); err != nil {
			return false, err
		}
		posted = true
	}
	if d == s.day1 && s.principal > 0 {
		if c, ok := s.compensation(); ok {
			s.post(c)
			posted = true
		}
	}
	if fee, ok, err := s.lateFee(d); err != nil {
		return false, err
	} else if ok {
		s.post(fee)
		posted = true
	}
	return posted, nil
}

// post adds a charge to the ledger; a charge whose waiver came first is
// waived as it is posted.
func (s *simulation) post(c DueCharge) {
	cs := &ChargeState{DueCharge: c}
	s.charges = append(s.charges, cs)
	s.byKey[c.Key] = cs
	if on, ok := s.pending[c.Key]; ok {
		delete(s.pending, c.Key)
		cs.Waived, cs.WaivedOn = cs.Amount, on
	}
}

func (s *simulation) waive(key string, d Date) {
	c, ok := s.byKey[key]
	if !ok {
		s.pending[key] = d
		return
	}
	if c.WaivedOn.IsZero() {
		c.Waived, c.WaivedOn = c.Unpaid(), d
	}
}

// compensation returns the fixed compensation, posted on day 1 overdue: the
// preset's statutory amount, chosen by the principal outstanding at the
// start of that day, else the agreement's fixed compensation.
func (s *simulation) compensation() (DueCharge, bool) {
	c := DueCharge{
		Key: CompensationKey, Kind: ChargeCompensation,
		From: s.day1, To: s.day1, PostOn: s.day1,
		Description: "Fixed compensation for recovery costs",
	}
	if it := s.a.Interest; it != nil {
		c.Amount = presetCompensation(it.Preset, s.f.Currency, s.f.ClientKind, s.principal)
		if c.Amount > 0 {
			c.Description += " (" + PresetLaw(it.Preset) + ")"
			c.Facts = &ChargeFacts{Preset: it.Preset}
		}
	}
	if c.Amount == 0 {
		c.Amount = s.a.FixedCompensation
	}
	return c, c.Amount > 0
}

// lateFee returns the late fee assessed on d, if one is: on day 1 and every
// RepeatEveryDays after while principal is outstanding at the start of the
// day, at most MaxCount of them, the last cut to fit MaxTotal. Its key
// numbers its place in that schedule.
func (s *simulation) lateFee(d Date) (DueCharge, bool, error) {
	lf := s.a.LateFee
	if lf == nil || s.feesEnded || s.principal <= 0 {
		return DueCharge{}, false, nil
	}
	k := d.DaysSince(s.day1)
	var seq int
	switch {
	case lf.RepeatEveryDays > 0 && k%lf.RepeatEveryDays == 0:
		seq = k/lf.RepeatEveryDays + 1
	case k == 0:
		seq = 1
	default:
		return DueCharge{}, false, nil
	}
	if lf.MaxCount > 0 && s.feesCharged >= lf.MaxCount {
		s.feesEnded = true
		return DueCharge{}, false, nil
	}
	percent := s.feePercent
	if percent == nil {
		percent = new(big.Rat)
	}
	base := s.principal
	fee := DueCharge{
		Key: LateFeeKey(seq), Kind: ChargeLateFee, Seq: seq,
		From: d, To: d, PostOn: d,
		Description: s.lateFeeDescription(seq, d, base, percent),
		Facts:       &ChargeFacts{Flat: lf.Flat, Base: base},
	}
	if percent.Sign() > 0 {
		fee.Facts.Percent = FormatRate(percent)
	}
	amount, err := roundCharge(new(big.Rat).Add(new(big.Rat).SetInt64(lf.Flat), percentOf(base, percent)), "a late fee")
	if err != nil {
		return DueCharge{}, false, err
	}
	if sum, ok := AddInt64(s.feeTotal, amount); lf.MaxTotal > 0 && (!ok || sum > lf.MaxTotal) {
		amount = max(lf.MaxTotal-s.feeTotal, 0)
		fee.Description += fmt.Sprintf(", cut to fit the %s cap", FormatMoney(lf.MaxTotal, s.f.Currency))
		fee.Facts.Cap = lf.MaxTotal
	}
	if amount <= 0 {
		s.feesEnded = true
		return DueCharge{}, false, nil
	}
	fee.Amount = amount
	s.feesCharged++
	if s.feeTotal, err = Sum(s.feeTotal, amount); err != nil {
		return DueCharge{}, false, err
	}
	return fee, true, nil
}

func (s *simulation) lateFeeDescription(seq int, day Date, base int64, percent *big.Rat) string {
	return lateFeeDescription(s.a.LateFee, s.f.Currency, seq, day, base, percent)
}

func sameMonth(x, y Date) bool { return x.Year() == y.Year() && x.Month() == y.Month() }

// accrue adds day d's interest to the month open: the principal at the start
// of the day, plus, when compounding, interest posted before d and unpaid.
func (s *simulation) accrue(d Date) error {
	base := s.principal
	if s.a.Interest.Compound {
		var ok bool
		for _, c := range s.charges {
			if c.Kind == ChargeInterest && c.PostOn.Before(d) {
				if base, ok = AddInt64(base, max(c.Unpaid(), 0)); !ok {
					return Overflowf("the compounded interest base of invoice %s on %s exceeds an int64 of minor units", s.f.InvoiceID, d)
				}
			}
		}
	}
	key, rate, err := rateOn(s.a, s.f.ClientKind, s.f.Rates, d, rateFixingDay(*s.a.Interest, s.day1, d), s.rates)
	if err != nil {
		return err
	}
	if s.month == nil {
		s.month = &monthAccrual{charge: DueCharge{Kind: ChargeInterest, Period: d.YearMonth(), From: d}}
	}
	s.month.add(d, base, key, rate)
	return nil
}

// closeMonth posts the open month's interest through the day to, on postOn.
func (s *simulation) closeMonth(postOn Date) error {
	c, err := s.monthCharge(postOn)
	if err != nil {
		return err
	}
	s.month = nil
	if c.Amount != 0 {
		n := s.monthKeys[c.Period]
		s.monthKeys[c.Period] = n + 1
		if n > 0 {
			// The principal was paid, then owed again, in the same month.
			c.Key = fmt.Sprintf("%s:%d", c.Key, n+1)
		}
		s.post(c)
	}
	return nil
}

// monthCharge returns the open month's interest, posted on postOn.
func (s *simulation) monthCharge(postOn Date) (DueCharge, error) {
	m := monthAccrual{charge: s.month.charge, keys: s.month.keys, factors: s.month.factors}
	m.charge.Breakdown = slices.Clone(s.month.charge.Breakdown)
	amount, err := roundCharge(m.close(), "the interest of "+m.charge.Period)
	if err != nil {
		return DueCharge{}, err
	}
	c := m.charge
	last := c.Breakdown[len(c.Breakdown)-1].To
	c.Key, c.To, c.Days, c.PostOn, c.Amount = InterestKey(c.From), last, last.DaysSince(c.From)+1, postOn, amount
	c.Description = interestDescription(c, s.f.Currency)
	return c, nil
}

// reducePrincipal takes amount off the principal on d (client credit).
func (s *simulation) reducePrincipal(d Date, amount int64) error {
	before := s.principal
	s.principal -= amount
	if before > 0 && s.principal <= 0 {
		s.principal = 0
		return s.principalCleared(d)
	}
	return nil
}

// creditNote takes a credit note off the principal on d; what exceeds the
// principal outstanding becomes client credit.
func (s *simulation) creditNote(d Date, n CreditNoteFact) error {
	if n.Amount <= 0 {
		return Errorf(EINVALID, "credit note %s: amount must be positive", n.ID)
	}
	part := min(max(s.principal, 0), n.Amount)
	s.noteSplit[n.ID] = Allocation{Principal: part, Credit: n.Amount - part}
	if part == 0 {
		return nil
	}
	return s.reducePrincipal(d, part)
}

// principalCleared closes the month's interest on the day the principal
// is paid in full.
func (s *simulation) principalCleared(d Date) error {
	if s.month == nil {
		return nil
	}
	return s.closeMonth(d)
}

// pay allocates a payment received on d.
func (s *simulation) pay(d Date, p PaymentFact) error {
	if p.Amount <= 0 {
		return Errorf(EINVALID, "payment %s: amount must be positive", p.ID)
	}
	var a Allocation
	left := p.Amount
	payPrincipal := func() error {
		n := min(max(s.principal, 0), left)
		if n == 0 {
			return nil
		}
		a.Principal += n
		left -= n
		return s.reducePrincipal(d, n)
	}
	if s.a.Allocation == AllocationPrincipalFirst {
		if err := payPrincipal(); err != nil {
			return err
		}
		s.payCharges(&a, &left)
	} else {
		s.payCharges(&a, &left)
		if err := payPrincipal(); err != nil {
			return err
		}
		s.payCharges(&a, &left) // the month's interest closed by this payment
	}
	a.Credit = left
	s.original[p.ID] = a
	rest := a
	s.allocs[p.ID] = &rest
	return nil
}

// payCharges meets the unpaid charges in the order compensation, fees,
// interest, oldest first, from left.
func (s *simulation) payCharges(a *Allocation, left *int64) {
	for _, kind := range []ChargeKind{ChargeCompensation, ChargeLateFee, ChargeInterest} {
		for _, c := range s.charges {
			if *left == 0 {
				return
			}
			if c.Kind != kind || !c.WaivedOn.IsZero() {
				continue
			}
			n := min(max(c.Unpaid(), 0), *left)
			c.Paid += n
			*left -= n
			*kindField(a, kind) += n
		}
	}
}

func kindField(a *Allocation, kind ChargeKind) *int64 {
	switch kind {
	case ChargeCompensation:
		return &a.Compensation
	case ChargeLateFee:
		return &a.Fees
	}
	return &a.Interest
}

// refund gives back part of a payment on d: first the credit it created,
// then principal (owed again from d+1), interest, fees and compensation.
func (s *simulation) refund(d Date, r RefundFact) error {
	rest, ok := s.allocs[r.PaymentID]
	if !ok {
		return Errorf(EINVALID, "refund %s: payment %s was not received by %s", r.ID, r.PaymentID, d)
	}
	if r.Amount <= 0 || r.Amount > rest.Total() {
		return Errorf(EINVALID, "refund %s: %d is more than the %d left of payment %s", r.ID, r.Amount, rest.Total(), r.PaymentID)
	}
	left := r.Amount
	take := func(avail *int64) int64 {
		n := min(left, *avail)
		*avail -= n
		left -= n
		return n
	}
	var rev Allocation
	rev.Credit = take(&rest.Credit)
	rev.Principal = take(&rest.Principal)
	rev.Interest = take(&rest.Interest)
	rev.Fees = take(&rest.Fees)
	rev.Compensation = take(&rest.Compensation)
	s.principal += rev.Principal
	for _, kind := range []ChargeKind{ChargeInterest, ChargeLateFee, ChargeCompensation} {
		back := *kindField(&rev, kind)
		for i := len(s.charges) - 1; i >= 0 && back > 0; i-- {
			c := s.charges[i]
			if c.Kind != kind {
				continue
			}
			n := min(back, c.Paid)
			c.Paid -= n
			back -= n
		}
	}
	s.reversals[r.ID] = rev
	return nil
}

// ledger returns what the simulation came to on asOf.
func (s *simulation) ledger(asOf Date) (*Ledger, error) {
	l := &Ledger{AsOf: asOf, Payments: s.original, Refunds: s.reversals, CreditNotes: s.noteSplit, PrincipalOutstanding: max(s.principal, 0),
		Charges: make([]ChargeState, 0, len(s.charges))}
	for _, c := range s.charges {
		l.Charges = append(l.Charges, *c)
	}
	slices.SortStableFunc(l.Charges, func(x, y ChargeState) int {
		return cmp.Or(x.PostOn.compare(y.PostOn), kindRank(x.Kind)-kindRank(y.Kind), x.Seq-y.Seq)
	})
	if s.month != nil {
		open, err := s.monthCharge(asOf.FirstOfNextMonth())
		if err != nil {
			return nil, err
		}
		l.Open = &open
	}
	if !s.owed {
		l.SettledOn = s.settledOn
	}
	return l, nil
}

// Quote returns the payoff on the ledger's day: what is owed of each kind,
// the interest accrued and not yet posted, and the days overdue.
// A figure that would not fit an int64 gives EOVERFLOW.
func (l *Ledger) Quote(f InvoiceFacts) (Quote, error) {
	q := Quote{AsOf: l.AsOf, Principal: f.Principal, PrincipalOutstanding: l.PrincipalOutstanding}
	var err error
	for i := range l.Charges {
		c := &l.Charges[i]
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
		if *owed, err = Sum(*owed, c.Unpaid()); err != nil {
			return Quote{}, err
		}
	}
	if l.Open != nil {
		q.InterestAccruedUnposted = l.Open.Amount
	}
	if q.Payoff, err = Sum(q.PrincipalOutstanding, q.CompensationOutstanding, q.FeesOutstanding,
		q.InterestPostedOutstanding, q.InterestAccruedUnposted); err != nil {
		return Quote{}, err
	}
	if threshold := f.DueDate.AddDays(f.Agreement.GraceDays); q.PrincipalOutstanding > 0 && l.AsOf.After(threshold) {
		q.DaysOverdue = l.AsOf.DaysSince(threshold)
	}
	return q, nil
}

// AdjustmentKey returns the key of the n-th correction (from 1) of the
// charge posted under key: "interest:2026-02:adj:1".
func AdjustmentKey(key string, n int) string { return key + ":adj:" + strconv.Itoa(n) }

// AdjustedKey returns the key of the charge that key corrects, or key itself
// when it is a charge's own key.
func AdjustedKey(key string) string {
	if i := strings.Index(key, ":adj:"); i >= 0 {
		return key[:i]
	}
	return key
}

// ChargeDifferences compares the charges the rules say must exist with the
// posted ones (each charge and its corrections) and returns what must be
// posted to make them agree: a charge not posted yet, or a correction
// (Correction set, Key the charge's own key) for the difference, which
// reverses a charge the rules no longer hold in full. Amounts are never
// edited in place: a ledger keeps what it posted.
func ChargeDifferences(want []ChargeState, posted []Charge, currency string) []DueCharge {
	sums := map[string]int64{}
	kinds := map[string]ChargeKind{}
	descriptions := map[string]string{}
	var order []string
	for _, p := range posted {
		key := AdjustedKey(p.Key)
		if _, ok := kinds[key]; !ok {
			order = append(order, key)
			kinds[key] = p.Kind
		}
		if p.Key == key {
			descriptions[key] = p.Description
		}
		sums[key] += p.Amount
	}
	var out []DueCharge
	seen := map[string]bool{}
	for _, c := range want {
		seen[c.Key] = true
		have, ok := sums[c.Key]
		switch {
		case !ok:
			out = append(out, c.DueCharge)
		case have != c.Amount:
			d := c.DueCharge
			d.Correction, d.Amount = true, c.Amount-have
			d.Facts = &ChargeFacts{Was: have, Now: c.Amount}
			d.Description = fmt.Sprintf("Correction of %s to %s after dated payments or refunds: %s",
				FormatMoney(have, currency), FormatMoney(c.Amount, currency), c.Description)
			out = append(out, d)
		}
	}
	for _, key := range order {
		if seen[key] || sums[key] == 0 {
			continue
		}
		out = append(out, DueCharge{Key: key, Kind: kinds[key], Correction: true, Amount: -sums[key],
			Facts:       &ChargeFacts{Was: sums[key], Reversed: true},
			Description: "Reversed after dated payments or refunds: the terms no longer give " + key + " (" + descriptions[key] + ")"})
	}
	return out
}
