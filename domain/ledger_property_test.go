package domain_test

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/remit/remit/domain"
)

// refCharge is a charge of the reference ledger.
type refCharge struct {
	key          string
	kind         domain.ChargeKind
	amount, paid int64
	waived       int64
	waivedOn     bool
	today        bool // posted this morning: joins a compound base tomorrow
}

func (c *refCharge) postedToday(domain.Date) bool { return c.today }

// referenceLedger computes, straight from the rules and with exact
// fractions, what the facts come to on asOf: a sweep each morning, the
// day's interest on the balance at its start, then refunds of earlier
// payments, payments (smallest first) and refunds of those. It shares no
// code with ComputeLedger; fixed annual rates only.
func referenceLedger(f domain.InvoiceFacts, asOf domain.Date) (map[string]int64, map[string]domain.Allocation, int64) {
	a := f.Agreement
	day1 := f.DueDate.AddDays(a.GraceDays + 1)
	principal := f.Principal
	var charges []*refCharge
	allocs := map[string]domain.Allocation{}
	left := map[string]*domain.Allocation{}
	waived := map[string]bool{}
	month, monthFrom, monthPosts := new(big.Rat), domain.Date{}, map[string]int{}
	open := false
	fees, feeTotal := 0, int64(0)
	round := func(r *big.Rat) int64 { n, _ := domain.RoundHalfAway(r); return n }
	post := func(key string, kind domain.ChargeKind, amount int64) {
		c := &refCharge{key: key, kind: kind, amount: amount, today: true}
		if waived[key] {
			c.waived, c.waivedOn = amount, true
		}
		charges = append(charges, c)
	}
	closeMonth := func() {
		if n := round(month); n != 0 {
			ym := monthFrom.YearMonth()
			key := "interest:" + ym
			if monthPosts[ym] > 0 {
				key = fmt.Sprintf("%s:%d", key, monthPosts[ym]+1)
			}
			monthPosts[ym]++
			post(key, domain.ChargeInterest, n)
		}
		month, open = new(big.Rat), false
	}
	payKinds := func(al *domain.Allocation, rest *int64) {
		for _, kind := range []domain.ChargeKind{domain.ChargeCompensation, domain.ChargeLateFee, domain.ChargeInterest} {
			for _, c := range charges {
				if c.kind != kind || c.waivedOn {
					continue
				}
				n := min(c.amount-c.paid, *rest)
				c.paid += n
				*rest -= n
				switch kind {
				case domain.ChargeCompensation:
					al.Compensation += n
				case domain.ChargeLateFee:
					al.Fees += n
				default:
					al.Interest += n
				}
			}
		}
	}
	payPrincipal := func(al *domain.Allocation, rest *int64) {
		n := min(principal, *rest)
		principal -= n
		*rest -= n
		al.Principal += n
		if n > 0 && principal == 0 && open {
			closeMonth()
		}
	}
	refund := func(r domain.RefundFact) {
		l := left[r.PaymentID]
		amt := r.Amount
		for _, part := range []*int64{&l.Credit, &l.Principal, &l.Interest, &l.Fees, &l.Compensation} {
			n := min(*part, amt)
			*part -= n
			amt -= n
			switch part {
			case &l.Principal:
				principal += n
			case &l.Interest, &l.Fees, &l.Compensation:
				kind := map[*int64]domain.ChargeKind{&l.Interest: domain.ChargeInterest, &l.Fees: domain.ChargeLateFee, &l.Compensation: domain.ChargeCompensation}[part]
				for i := len(charges) - 1; i >= 0 && n > 0; i-- {
					if charges[i].kind == kind {
						m := min(n, charges[i].paid)
						charges[i].paid -= m
						n -= m
					}
				}
			}
		}
	}
	pays := slices.Clone(f.Payments)
	slices.SortStableFunc(pays, func(x, y domain.PaymentFact) int {
		if x.On != y.On {
			if x.On.Before(y.On) {
				return -1
			}
			return 1
		}
		return int(x.Amount - y.Amount)
	})
	for d := d("2026-01-01"); !d.After(asOf); d = d.AddDays(1) {
		if !d.Before(day1) {
			if open && (monthFrom.Month() != d.Month() || monthFrom.Year() != d.Year()) {
				closeMonth()
			}
			if d == day1 && principal > 0 && a.FixedCompensation > 0 {
				post("compensation", domain.ChargeCompensation, a.FixedCompensation)
			}
			if lf := a.LateFee; lf != nil && principal > 0 {
				k := d.DaysSince(day1)
				if (k == 0 || (lf.RepeatEveryDays > 0 && k%lf.RepeatEveryDays == 0)) && (lf.MaxCount == 0 || fees < lf.MaxCount) {
					pct := new(big.Rat)
					if lf.Percent != "" {
						pct.SetString(lf.Percent)
						pct.Quo(pct, big.NewRat(100, 1))
					}
					amt := round(new(big.Rat).Add(big.NewRat(lf.Flat, 1), new(big.Rat).Mul(pct, big.NewRat(principal, 1))))
					if amt > 0 {
						seq := 1
						if lf.RepeatEveryDays > 0 {
							seq = k/lf.RepeatEveryDays + 1
						}
						post(fmt.Sprintf("late_fee:%d", seq), domain.ChargeLateFee, amt)
						fees++
						feeTotal += amt
					}
				}
			}
		}
		for _, w := range f.Waivers {
			if w.On == d {
				waived[w.Key] = true
				for _, c := range charges {
					if c.key == w.Key && !c.waivedOn {
						c.waived, c.waivedOn = c.amount-c.paid, true
					}
				}
			}
		}
		if it := a.Interest; it != nil && !d.Before(day1) && principal > 0 {
			base := principal
			if it.Compound {
				for _, c := range charges {
					if c.kind == domain.ChargeInterest && !c.waivedOn && c.amount > 0 && !c.postedToday(d) {
						base += c.amount - c.paid - c.waived
					}
				}
			}
			year := int64(365)
			if it.DayCount == "act/360" {
				year = 360
			}
			rate, _ := new(big.Rat).SetString(it.AnnualRate)
			if !open {
				monthFrom, open = d, true
			}
			month.Add(month, new(big.Rat).Quo(new(big.Rat).Mul(rate, big.NewRat(base, 1)), big.NewRat(100*year, 1)))
		}
		notes := slices.Clone(f.CreditNotes)
		slices.SortStableFunc(notes, func(x, y domain.CreditNoteFact) int { return strings.Compare(x.ID, y.ID) })
		for _, n := range notes {
			if n.On == d {
				var al domain.Allocation
				rest := n.Amount
				payPrincipal(&al, &rest) // the excess is client credit, not the invoice's
			}
		}
		var later []domain.RefundFact
		for _, r := range f.Refunds {
			if r.On != d {
				continue
			}
			if left[r.PaymentID] == nil {
				later = append(later, r)
				continue
			}
			refund(r)
		}
		for _, p := range pays {
			if p.On != d {
				continue
			}
			var al domain.Allocation
			rest := p.Amount
			if a.Allocation == domain.AllocationPrincipalFirst {
				payPrincipal(&al, &rest)
				payKinds(&al, &rest)
			} else {
				payKinds(&al, &rest)
				payPrincipal(&al, &rest)
				payKinds(&al, &rest)
			}
			al.Credit = rest
			allocs[p.ID] = al
			cp := al
			left[p.ID] = &cp
		}
		for _, r := range later {
			refund(r)
		}
		for _, c := range charges {
			c.today = false
		}
	}
	sums := map[string]int64{}
	balance := principal
	for _, c := range charges {
		sums[c.key] = c.amount
		balance += c.amount - c.paid - c.waived
	}
	return sums, allocs, balance
}

// TestComputeLedgerMatchesReference runs thousands of random invoices with
// random dated payments, refunds and waivers through ComputeLedger and the
// reference computation above, and asks for the same charges, allocations
// and balance.
func TestComputeLedgerMatchesReference(t *testing.T) {
	seed := uint64(20261203)
	rng := rand.New(rand.NewPCG(seed, 3))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := range n {
		f := domain.InvoiceFacts{InvoiceID: fmt.Sprint(i), Currency: "EUR", Principal: int64(1000 + rng.IntN(500000)), DueDate: d("2026-01-31")}
		a := domain.Agreement{GraceDays: rng.IntN(3), FixedCompensation: int64(rng.IntN(2) * 4000),
			Allocation: []string{domain.AllocationChargesFirst, domain.AllocationPrincipalFirst}[rng.IntN(2)]}
		if rng.IntN(4) > 0 {
			a.LateFee = &domain.LateFee{Flat: int64(rng.IntN(3000)), Percent: []string{"", "1.5", "2"}[rng.IntN(3)],
				RepeatEveryDays: []int{0, 7, 15}[rng.IntN(3)], MaxCount: []int{0, 2}[rng.IntN(2)]}
		}
		if rng.IntN(5) > 0 {
			a.Interest = &domain.InterestTerms{AnnualRate: []string{"8", "12", "18.5"}[rng.IntN(3)],
				DayCount: []string{"act/365", "act/360"}[rng.IntN(2)], Compound: rng.IntN(4) == 0}
		}
		f.Agreement = a
		for j := range 1 + rng.IntN(4) {
			f.Payments = append(f.Payments, domain.PaymentFact{ID: fmt.Sprintf("p%d", j), On: d("2026-01-10").AddDays(rng.IntN(120)),
				Amount: int64(100 + rng.IntN(int(f.Principal*6/10))), Order: fmt.Sprintf("k%d", j)})
		}
		if rng.IntN(3) == 0 {
			f.CreditNotes = append(f.CreditNotes, domain.CreditNoteFact{ID: "cn", On: d("2026-01-10").AddDays(rng.IntN(120)),
				Amount: int64(100 + rng.IntN(int(f.Principal/3)))})
		}
		if rng.IntN(3) == 0 {
			p := f.Payments[rng.IntN(len(f.Payments))]
			f.Refunds = append(f.Refunds, domain.RefundFact{ID: "r", PaymentID: p.ID, On: p.On.AddDays(rng.IntN(20)), Amount: 1 + int64(rng.IntN(int(p.Amount)))})
		}
		asOf := d("2026-06-30")
		l, err := domain.ComputeLedger(f, asOf)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if rng.IntN(3) == 0 && len(l.Charges) > 0 {
			c := l.Charges[rng.IntN(len(l.Charges))]
			f.Waivers = []domain.WaiverFact{{Key: c.Key, On: c.PostOn.AddDays(rng.IntN(30))}}
			if l, err = domain.ComputeLedger(f, asOf); err != nil {
				t.Fatal(err)
			}
		}
		sums, allocs, balance := referenceLedger(f, asOf)
		got := map[string]int64{}
		for _, c := range l.Charges {
			got[c.Key] = c.Amount
		}
		if fmt.Sprint(got) != fmt.Sprint(sums) || fmt.Sprint(l.Payments) != fmt.Sprint(allocs) || l.Balance() != balance {
			t.Fatalf("case %d (seed %d), facts %+v agreement %+v %+v %+v:\n charges %v\n    want %v\n allocations %v\n        want %v\n balance %d, want %d",
				i, seed, f, a, a.LateFee, a.Interest, got, sums, l.Payments, allocs, l.Balance(), balance)
		}
	}
}
