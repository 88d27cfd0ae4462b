package domain_test

import (
	"math"
	"testing"

	"github.com/remit/remit/domain"
)

// TestCompoundInterestOverflowStops: compound interest at 1000 % on the
// largest amount grows past int64 within the date bounds; the computation
// stops with an error instead of wrapping (issue 14, item 4).
func TestCompoundInterestOverflowStops(t *testing.T) {
	f := domain.InvoiceFacts{
		InvoiceID: "inv_big", Currency: "EUR", Principal: domain.MaxAmount, DueDate: d("2016-12-31"),
		Agreement: domain.Agreement{PaymentTerms: "net_30", Interest: &domain.InterestTerms{AnnualRate: "1000", Compound: true}},
	}
	charges, err := domain.ChargesDue(f, d("2026-12-01"))
	if domain.ErrorCode(err) != domain.EOVERFLOW {
		var sum int64
		for _, c := range charges {
			sum += c.Amount
		}
		t.Fatalf("ChargesDue = %d charges summing to %d, %v; want an overflow error", len(charges), sum, err)
	}
	if _, err := domain.Accrual(f, d("2026-12-01")); domain.ErrorCode(err) != domain.EOVERFLOW {
		t.Fatalf("Accrual: %v; want an overflow error", err)
	}
}

func TestCheckedArithmetic(t *testing.T) {
	for _, tc := range []struct {
		a, b      int64
		sum, prod int64
		sumOK     bool
		prodOK    bool
	}{
		{2, 3, 5, 6, true, true},
		{math.MaxInt64, 1, 0, math.MaxInt64, false, true},
		{math.MinInt64, -1, 0, 0, false, false},
		{-5, 7, 2, -35, true, true},
		{math.MaxInt64 / 2, 3, math.MaxInt64/2 + 3, 0, true, false},
		{0, math.MinInt64, math.MinInt64, 0, true, true},
	} {
		sum, ok := domain.AddInt64(tc.a, tc.b)
		if ok != tc.sumOK || (ok && sum != tc.sum) {
			t.Errorf("AddInt64(%d, %d) = %d, %v", tc.a, tc.b, sum, ok)
		}
		prod, ok := domain.MulInt64(tc.a, tc.b)
		if ok != tc.prodOK || (ok && prod != tc.prod) {
			t.Errorf("MulInt64(%d, %d) = %d, %v", tc.a, tc.b, prod, ok)
		}
	}
	if _, err := domain.Sum(1, math.MaxInt64); domain.ErrorCode(err) != domain.EOVERFLOW {
		t.Errorf("Sum overflow: %v", err)
	}
	if s, err := domain.Sum(1, 2, 3); s != 6 || err != nil {
		t.Errorf("Sum = %d, %v", s, err)
	}
}
