package domain_test

import (
	"math/rand/v2"
	"testing"

	"github.com/remit/remit/domain"
)

func TestAllocate(t *testing.T) {
	owed := domain.Outstanding{Compensation: 4000, Fees: 2500, Interest: 921, Principal: 100000}
	tests := []struct {
		name   string
		order  string
		amount int64
		want   domain.Allocation
	}{
		{"charges first, partial", domain.AllocationChargesFirst, 5000, domain.Allocation{Compensation: 4000, Fees: 1000}},
		{"charges first, into principal", domain.AllocationChargesFirst, 10000, domain.Allocation{Compensation: 4000, Fees: 2500, Interest: 921, Principal: 2579}},
		{"charges first, overpaid", domain.AllocationChargesFirst, 110000, domain.Allocation{Compensation: 4000, Fees: 2500, Interest: 921, Principal: 100000, Credit: 2579}},
		{"principal first, partial", domain.AllocationPrincipalFirst, 40000, domain.Allocation{Principal: 40000}},
		{"principal first, into charges", domain.AllocationPrincipalFirst, 105000, domain.Allocation{Principal: 100000, Compensation: 4000, Fees: 1000}},
		{"principal first, overpaid", domain.AllocationPrincipalFirst, 107500, domain.Allocation{Principal: 100000, Compensation: 4000, Fees: 2500, Interest: 921, Credit: 79}},
		{"unknown order is charges first", "", 5000, domain.Allocation{Compensation: 4000, Fees: 1000}},
		{"nothing paid", domain.AllocationChargesFirst, 0, domain.Allocation{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.Allocate(tt.order, tt.amount, owed); got != tt.want {
				t.Errorf("Allocate = %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := domain.Allocate(domain.AllocationChargesFirst, 500, domain.Outstanding{Fees: -100, Principal: 300}); got != (domain.Allocation{Principal: 300, Credit: 200}) {
		t.Errorf("negative owed: %+v", got)
	}
}

// TestAllocateProperties checks on random inputs that an allocation always
// sums to the amount, never pays more than is owed of any kind, and only
// leaves credit once everything is paid.
func TestAllocateProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 2))
	owedOf := func(n int64) int64 { return rng.Int64N(n) - n/10 } // some negative
	for i := 0; i < 20000; i++ {
		o := domain.Outstanding{Compensation: owedOf(10000), Fees: owedOf(50000), Interest: owedOf(50000), Principal: owedOf(10000000)}
		amount := rng.Int64N(12000000) - 1000
		order := []string{domain.AllocationChargesFirst, domain.AllocationPrincipalFirst}[rng.IntN(2)]
		a := domain.Allocate(order, amount, o)
		if a.Total() != amount {
			t.Fatalf("Allocate(%s, %d, %+v) = %+v sums to %d", order, amount, o, a, a.Total())
		}
		parts := []struct{ paid, owed int64 }{{a.Compensation, o.Compensation}, {a.Fees, o.Fees}, {a.Interest, o.Interest}, {a.Principal, o.Principal}}
		allPaid := true
		for _, p := range parts {
			if p.paid < 0 || p.paid > max(p.owed, 0) {
				t.Fatalf("Allocate(%s, %d, %+v) = %+v pays a part wrongly", order, amount, o, a)
			}
			allPaid = allPaid && p.paid == max(p.owed, 0)
		}
		if amount > 0 && a.Credit > 0 && !allPaid {
			t.Fatalf("Allocate(%s, %d, %+v) = %+v leaves credit while owing", order, amount, o, a)
		}
	}
}
