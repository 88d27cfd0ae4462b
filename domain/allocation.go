package domain

// Outstanding is what an invoice owes, by kind, in minor units.
type Outstanding struct {
	Compensation int64 `json:"compensation"`
	Fees         int64 `json:"fees"`
	Interest     int64 `json:"interest"`
	Principal    int64 `json:"principal"`
}

// Allocation is how one payment splits across what is owed; Credit is the
// excess that becomes client credit.
type Allocation struct {
	Compensation int64 `json:"compensation"`
	Fees         int64 `json:"fees"`
	Interest     int64 `json:"interest"`
	Principal    int64 `json:"principal"`
	Credit       int64 `json:"credit"`
}

// Total returns the sum of the allocation, which always equals the amount
// allocated.
func (a Allocation) Total() int64 {
	return a.Compensation + a.Fees + a.Interest + a.Principal + a.Credit
}

// Allocate splits a payment of amount over what is owed in the agreement's
// order (docs/RULES.md section 9): principal_first pays principal, then
// compensation, fees and interest; charges_first (also used for any other
// order) pays compensation, fees, interest, then principal. What is left is
// Credit, so the parts always sum to amount. Negative owed figures count as
// nothing owed; a non-positive amount is all Credit, for the caller to refuse.
func Allocate(order string, amount int64, o Outstanding) Allocation {
	var a Allocation
	if amount <= 0 {
		a.Credit = amount
		return a
	}
	left := amount
	take := func(dst *int64, owed int64) {
		n := min(max(owed, 0), left)
		*dst += n
		left -= n
	}
	if order == AllocationPrincipalFirst {
		take(&a.Principal, o.Principal)
	}
	take(&a.Compensation, o.Compensation)
	take(&a.Fees, o.Fees)
	take(&a.Interest, o.Interest)
	if order != AllocationPrincipalFirst {
		take(&a.Principal, o.Principal)
	}
	a.Credit = left
	return a
}
