package domain

import (
	"math"
	"math/big"
)

// EOVERFLOW is the code of a money computation whose result does not fit in
// an int64 of minor units (422): it stops with this error, never wraps.
const EOVERFLOW = "amount_overflow"

// Overflowf returns an EOVERFLOW error.
func Overflowf(format string, args ...any) *Error {
	return Unprocessablef(EOVERFLOW, format, args...)
}

// AddInt64 returns a + b and whether it fits in an int64.
func AddInt64(a, b int64) (int64, bool) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, false
	}
	return a + b, true
}

// MulInt64 returns a × b and whether it fits in an int64.
func MulInt64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return p, true
}

// Sum adds amounts of minor units, or returns an EOVERFLOW error when the
// sum (or any partial sum) does not fit in an int64.
func Sum(amounts ...int64) (int64, error) {
	var total int64
	for _, a := range amounts {
		var ok bool
		if total, ok = AddInt64(total, a); !ok {
			return 0, Overflowf("a sum of amounts exceeds %d minor units", int64(math.MaxInt64))
		}
	}
	return total, nil
}

// SaturatingAdd returns a + b, held at the int64 bounds instead of
// wrapping; for counters that report, never for balances.
func SaturatingAdd(a, b int64) int64 {
	s, ok := AddInt64(a, b)
	switch {
	case ok:
		return s
	case b > 0:
		return math.MaxInt64
	}
	return math.MinInt64
}

// roundCharge rounds the exact figure of a charge (what names it) to minor
// units, or returns an EOVERFLOW error when it does not fit in an int64.
func roundCharge(r *big.Rat, what string) (int64, error) {
	n, err := RoundHalfAway(r)
	if err != nil {
		return 0, Overflowf("%s does not fit in an int64 of minor units", what)
	}
	return n, nil
}
