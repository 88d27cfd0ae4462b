package domain_test

// Fuzz targets for the parsers of user input and the money formatter. The
// seed corpora under testdata/fuzz/<Name>/ run as ordinary tests in
// `go test`; `make fuzz` explores further for a bounded time. No input may
// panic, and whatever parses must format and parse back to the same value.

import (
	"math/big"
	"regexp"
	"testing"

	"github.com/remit/remit/domain"
)

// plainDecimal is the only shape a quantity or rate may have.
var plainDecimal = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// decimals returns the number of digits after the point of a plain decimal.
func decimals(s string) int {
	for i := range len(s) {
		if s[i] == '.' {
			return len(s) - i - 1
		}
	}
	return 0
}

// FuzzParseQuantity: a quantity parses only from a plain positive decimal
// of at most 12 integer digits and 3 decimals, and round-trips.
func FuzzParseQuantity(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		q, err := domain.ParseQuantity(s)
		if err != nil {
			if q != nil || domain.ErrorCode(err) != domain.EINVALID {
				t.Fatalf("ParseQuantity(%q) = %v, %v: want nil and an invalid error", s, q, err)
			}
			return
		}
		if !plainDecimal.MatchString(s) || len(s) > 24 || decimals(s) > 3 {
			t.Fatalf("ParseQuantity(%q) accepted a string that is not a plain decimal of at most 3 decimals", s)
		}
		thousandths := new(big.Rat).Mul(q, big.NewRat(1000, 1))
		if q.Sign() <= 0 || !thousandths.IsInt() || q.Cmp(big.NewRat(1_000_000_000_000, 1)) >= 0 {
			t.Fatalf("ParseQuantity(%q) = %s, out of bounds", s, q.RatString())
		}
		formatted := domain.FormatRate(q)
		back, err := domain.ParseQuantity(formatted)
		if err != nil || back.Cmp(q) != 0 {
			t.Fatalf("ParseQuantity(%q) = %s formats as %q, which parses as %v, %v", s, q.RatString(), formatted, back, err)
		}
		if again := domain.FormatRate(back); again != formatted {
			t.Fatalf("%q formats as %q, then as %q", s, formatted, again)
		}
	})
}

// FuzzParseRate: a rate parses only from a plain decimal of at most 10
// decimals (a reference rate may also be negative), and round-trips.
func FuzzParseRate(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		r, err := domain.ParseRate(s)
		if err != nil {
			if r != nil || domain.ErrorCode(err) != domain.EINVALID {
				t.Fatalf("ParseRate(%q) = %v, %v: want nil and an invalid error", s, r, err)
			}
		} else {
			if !plainDecimal.MatchString(s) || len(s) > 24 || decimals(s) > 10 || r.Sign() < 0 {
				t.Fatalf("ParseRate(%q) = %s accepted a string that is not a plain decimal of at most 10 decimals", s, r.RatString())
			}
			formatted := domain.FormatRate(r)
			back, err := domain.ParseRate(formatted)
			if err != nil || back.Cmp(r) != 0 || domain.FormatRate(back) != formatted {
				t.Fatalf("ParseRate(%q) = %s formats as %q, which parses as %v, %v", s, r.RatString(), formatted, back, err)
			}
		}

		ref, err := domain.ParseReferenceRate(s)
		if err != nil {
			if domain.ErrorCode(err) != domain.EINVALID {
				t.Fatalf("ParseReferenceRate(%q): %v", s, err)
			}
			return
		}
		formatted := domain.FormatRate(ref)
		back, err := domain.ParseReferenceRate(formatted)
		if err != nil || back.Cmp(ref) != 0 {
			t.Fatalf("ParseReferenceRate(%q) = %s formats as %q, which parses as %v, %v", s, ref.RatString(), formatted, back, err)
		}
	})
}

// roundHalfAway is the test's own rounding of an exact value, for
// comparing with domain.LineAmounts.
func roundHalfAway(r *big.Rat) *big.Int {
	num := new(big.Int).Abs(r.Num())
	// floor((2|n| + d) / 2d) is |n|/d rounded half up.
	twice := new(big.Int).Lsh(num, 1)
	q := new(big.Int).Quo(twice.Add(twice, r.Denom()), new(big.Int).Lsh(r.Denom(), 1))
	if r.Sign() < 0 {
		q.Neg(q)
	}
	return q
}

// FuzzLineAmounts: LineAmounts agrees with exact arithmetic, and refuses,
// rather than wraps, a figure that does not fit in an int64.
func FuzzLineAmounts(f *testing.F) {
	f.Fuzz(func(t *testing.T, quantity string, unit int64, taxRate string) {
		amount, tax, err := domain.LineAmounts(quantity, unit, taxRate)

		q, qerr := domain.ParseQuantity(quantity)
		rate, rerr := new(big.Rat), error(nil)
		if taxRate != "" {
			rate, rerr = domain.ParseRate(taxRate)
		}
		if qerr != nil || rerr != nil {
			if err == nil {
				t.Fatalf("LineAmounts(%q, %d, %q) accepted bad input", quantity, unit, taxRate)
			}
			return
		}
		wantAmount := roundHalfAway(new(big.Rat).Mul(q, new(big.Rat).SetInt64(unit)))
		if !wantAmount.IsInt64() {
			if err == nil {
				t.Fatalf("LineAmounts(%q, %d, %q) = %d: the amount %s does not fit in an int64", quantity, unit, taxRate, amount, wantAmount)
			}
			return
		}
		t100 := new(big.Rat).Mul(new(big.Rat).SetInt(wantAmount), rate)
		wantTax := roundHalfAway(t100.Quo(t100, big.NewRat(100, 1)))
		if !wantTax.IsInt64() {
			if err == nil {
				t.Fatalf("LineAmounts(%q, %d, %q) tax = %d: the tax %s does not fit in an int64", quantity, unit, taxRate, tax, wantTax)
			}
			return
		}
		if err != nil {
			t.Fatalf("LineAmounts(%q, %d, %q): %v; want %s and %s", quantity, unit, taxRate, err, wantAmount, wantTax)
		}
		if amount != wantAmount.Int64() || tax != wantTax.Int64() {
			t.Fatalf("LineAmounts(%q, %d, %q) = %d, %d; want %s, %s", quantity, unit, taxRate, amount, tax, wantAmount, wantTax)
		}
	})
}

// FuzzParseDate: a date parses only from a real YYYY-MM-DD, writes back as
// the same string, and survives JSON; JSON decoding of any input is safe.
func FuzzParseDate(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		var fromJSON domain.Date
		_ = fromJSON.UnmarshalJSON([]byte(s)) // must not panic on any bytes

		d, err := domain.ParseDate(s)
		if err != nil {
			if !d.IsZero() || domain.ErrorCode(err) != domain.EINVALID {
				t.Fatalf("ParseDate(%q) = %v, %v: want the zero date and an invalid error", s, d, err)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDate(%q) writes back as %q", s, d.String())
		}
		if d.Month() < 1 || d.Month() > 12 || d.Day() < 1 || d.Day() > 31 || d.Year() < 1 || d.Year() > 9999 {
			t.Fatalf("ParseDate(%q) = %d-%d-%d", s, d.Year(), d.Month(), d.Day())
		}
		j, err := d.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back domain.Date
		if err := back.UnmarshalJSON(j); err != nil || back != d {
			t.Fatalf("%q: JSON %s reads back as %v, %v", s, j, back, err)
		}
		if got := d.AddDays(400).DaysSince(d); got != 400 {
			t.Fatalf("%q: 400 days later is %d days later", s, got)
		}
	})
}

// FuzzFormatAmount: any amount in any currency code formats with the
// currency's decimals, and its digits read back as the amount.
func FuzzFormatAmount(f *testing.F) {
	f.Fuzz(func(t *testing.T, minor int64, currency string) {
		s := domain.FormatAmount(minor, currency)
		exp, ok := domain.CurrencyExponent(currency)
		if !ok {
			exp = 2
		}
		if got := decimals(s); got != exp {
			t.Fatalf("FormatAmount(%d, %q) = %q has %d decimals, want %d", minor, currency, s, got, exp)
		}
		digits := make([]byte, 0, len(s))
		for i := range len(s) {
			if s[i] != ',' && s[i] != '.' {
				digits = append(digits, s[i])
			}
		}
		back, ok := new(big.Int).SetString(string(digits), 10)
		if !ok || !back.IsInt64() || back.Int64() != minor {
			t.Fatalf("FormatAmount(%d, %q) = %q reads back as %v", minor, currency, s, back)
		}
		if m := domain.FormatMoney(minor, currency); m != s+" "+currency {
			t.Fatalf("FormatMoney(%d, %q) = %q", minor, currency, m)
		}
		_ = domain.FormatMoneySymbol(minor, currency) // must not panic
	})
}
