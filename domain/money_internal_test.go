package domain

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestLineAmountsFastAgreesWithExact prices random valid lines, halfway
// cases included, with the 128-bit path and with big.Rat: the figures must
// be the same to the minor unit, and a figure too large must send the line
// to the exact path rather than wrap.
func TestLineAmountsFastAgreesWithExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	exact := func(quantity string, unit int64, taxRate string) (int64, int64, error) {
		q, err := ParseQuantity(quantity)
		if err != nil {
			return 0, 0, err
		}
		rate, err := ParseRate(taxRate)
		if err != nil {
			return 0, 0, err
		}
		amount, err := RoundHalfAway(new(big.Rat).Mul(q, new(big.Rat).SetInt64(unit)))
		if err != nil {
			return 0, 0, err
		}
		tax, err := RoundHalfAway(new(big.Rat).Quo(new(big.Rat).Mul(new(big.Rat).SetInt64(amount), rate), big.NewRat(100, 1)))
		return amount, tax, err
	}
	cases := []struct {
		q    string
		unit int64
		rate string
	}{{"0.5", 1, "0"}, {"0.005", 100, "50"}, {"1", 5, "10"}, {"1", 15, "10"}, {"2.5", 3, "20"}, {"999999999999.999", MaxAmount, "100"}}
	for range 200000 {
		q := fmt.Sprintf("%d.%03d", r.Int64N([]int64{10, 1000, 1e6, 1e12}[r.IntN(4)]), r.IntN(1000))
		digits := 1 + r.IntN(10)
		pow := int64(1)
		for range digits {
			pow *= 10
		}
		rate := fmt.Sprintf("%d.%0*d", r.IntN(100), digits, r.Int64N(pow))
		if r.IntN(3) == 0 {
			rate = fmt.Sprint(r.IntN(101))
		}
		cases = append(cases, struct {
			q    string
			unit int64
			rate string
		}{q, 1 + r.Int64N([]int64{100, 1e6, 1e12, MaxAmount}[r.IntN(4)]), rate})
	}
	fast := 0
	for _, c := range cases {
		a, tx, _, ok := lineAmountsFast(c.q, c.unit, c.rate)
		wa, wt, err := exact(c.q, c.unit, c.rate)
		if !ok {
			continue
		}
		fast++
		if err != nil || a != wa || tx != wt {
			t.Fatalf("%q × %d at %q%%: fast %d, %d; exact %d, %d (%v)", c.q, c.unit, c.rate, a, tx, wa, wt, err)
		}
	}
	if fast < len(cases)/2 {
		t.Errorf("only %d of %d lines took the fast path", fast, len(cases))
	}
}
