package domain

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Money in Remit is an int64 count of the currency's minor unit (cents,
// pence, kopecks, yen). Intermediate figures are exact *big.Rat values and are
// rounded once, half away from zero, when an amount is posted.

// Bounds on decimal strings accepted from users.
const (
	maxDecimalLen      = 24 // whole string, digits and point
	maxRateDecimals    = 10 // digits after the point in a rate
	maxQuantityDigits  = 12 // digits before the point in a quantity
	maxQuantityDecimal = 3  // digits after the point in a quantity
)

// CurrencyExponent reports the number of minor-unit digits of an active
// ISO 4217 currency code (0 for JPY, 2 for EUR, 3 for KWD) and whether the code
// is known. Codes are upper case; precious metals, testing and other codes
// without a minor unit are not currencies one can invoice in and are unknown.
func CurrencyExponent(code string) (int, bool) {
	switch code {
	// Zero-decimal currencies.
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
		"UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0, true
	// Three-decimal currencies.
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3, true
	// Units of account with four decimals.
	case "CLF", "UYW":
		return 4, true
	case "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN",
		"BAM", "BBD", "BDT", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
		"CAD", "CDF", "CHE", "CHF", "CHW", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK",
		"DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP",
		"GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF",
		"IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW", "KYD", "KZT",
		"LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP",
		"MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK",
		"NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB",
		"SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN",
		"SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS",
		"UAH", "USD", "USN", "UYU", "UZS", "VED", "VES", "WST", "XCD", "XCG", "YER", "ZAR",
		"ZMW", "ZWG":
		return 2, true
	}
	return 0, false
}

// ValidCurrency reports whether code is an active ISO 4217 currency code that
// Remit can invoice in.
func ValidCurrency(code string) bool {
	_, ok := CurrencyExponent(code)
	return ok
}

// currencyExponentOr2 is the exponent used for formatting: unknown codes are
// shown with two decimals rather than refused.
func currencyExponentOr2(code string) int {
	if e, ok := CurrencyExponent(code); ok {
		return e
	}
	return 2
}

// RoundHalfAway rounds r to the nearest integer, halves away from zero
// (0.5 -> 1, -0.5 -> -1), and returns an EINVALID error when the result does
// not fit in an int64.
func RoundHalfAway(r *big.Rat) (int64, error) {
	abs := new(big.Int).Abs(r.Num())
	q, rem := new(big.Int).QuoRem(abs, r.Denom(), new(big.Int))
	if rem.Lsh(rem, 1).Cmp(r.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if r.Sign() < 0 {
		q.Neg(q)
	}
	if !q.IsInt64() {
		return 0, Errorf(EINVALID, "amount %s is out of range", q)
	}
	return q.Int64(), nil
}

// ParseRate parses a decimal string of percent such as "12", "0.1" or
// "10.15" exactly. It refuses signs, exponents, spaces, empty parts around the
// point, more than 10 decimals and strings longer than 24 characters, and
// returns an EINVALID error saying why.
func ParseRate(s string) (*big.Rat, error) {
	if strings.HasPrefix(s, "-") {
		return nil, Errorf(EINVALID, "rate %q must not be negative", s)
	}
	return parseDecimalString(s, "rate", 0, maxRateDecimals)
}

// ParseQuantity parses a positive decimal quantity with at most three
// decimals ("1", "2.5", "0.125") exactly, and returns an EINVALID error
// saying why otherwise.
func ParseQuantity(s string) (*big.Rat, error) {
	q, err := parseDecimalString(s, "quantity", maxQuantityDigits, maxQuantityDecimal)
	if err != nil {
		return nil, err
	}
	if q.Sign() <= 0 {
		return nil, Errorf(EINVALID, "quantity %q must be greater than 0", s)
	}
	return q, nil
}

// parseDecimalString parses digits[.digits] with at most maxInt integer
// digits (0 = bounded by length only) and maxFrac decimals.
func parseDecimalString(s, what string, maxInt, maxFrac int) (*big.Rat, error) {
	if s == "" {
		return nil, Errorf(EINVALID, "%s is empty", what)
	}
	if len(s) > maxDecimalLen {
		return nil, Errorf(EINVALID, "%s is longer than %d characters", what, maxDecimalLen)
	}
	intPart, frac, hasPoint := strings.Cut(s, ".")
	if !allDigits(intPart) || (hasPoint && !allDigits(frac)) {
		return nil, Errorf(EINVALID, "%s %q is not a plain decimal number such as \"12\" or \"10.15\"", what, s)
	}
	if maxInt > 0 && len(strings.TrimLeft(intPart, "0")) > maxInt {
		return nil, Errorf(EINVALID, "%s %q is too large", what, s)
	}
	if len(frac) > maxFrac {
		return nil, Errorf(EINVALID, "%s %q has more than %d decimals", what, s, maxFrac)
	}
	r, ok := new(big.Rat).SetString(intPart + "." + frac + "0")
	if !ok {
		return nil, Errorf(EINVALID, "%s %q is not a decimal number", what, s)
	}
	return r, nil
}

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatRate writes a rate in its shortest exact decimal form: "12", "10.15",
// "1.5". A rate with no finite decimal form is shown with 10 decimals at most.
// A nil rate is "".
func FormatRate(r *big.Rat) string {
	if r == nil {
		return ""
	}
	scaled := new(big.Rat).Set(r)
	ten := big.NewRat(10, 1)
	for digits := 0; digits <= 18; digits++ {
		if scaled.IsInt() {
			return r.FloatString(digits)
		}
		scaled.Mul(scaled, ten)
	}
	s := strings.TrimRight(r.FloatString(maxRateDecimals), "0")
	return strings.TrimSuffix(s, ".")
}

// FormatAmount writes minor units as a decimal number in the currency's
// exponent with thousands separators: 100000 EUR -> "1,000.00", 1000 JPY ->
// "1,000", -1234567 KWD -> "-1,234.567". Unknown currencies use two decimals.
func FormatAmount(minor int64, currency string) string {
	exp := currencyExponentOr2(currency)
	// Work on the decimal string so math.MinInt64 needs no special case.
	digits := strconv.FormatInt(minor, 10)
	sign := ""
	if strings.HasPrefix(digits, "-") {
		sign, digits = "-", digits[1:]
	}
	if len(digits) <= exp {
		digits = strings.Repeat("0", exp-len(digits)+1) + digits
	}
	whole, frac := digits[:len(digits)-exp], digits[len(digits)-exp:]
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if exp > 0 {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// FormatMoney writes an amount followed by its currency code: "1,000.00 EUR",
// "1,000 JPY".
func FormatMoney(minor int64, currency string) string {
	return FormatAmount(minor, currency) + " " + currency
}

// FormatMoneySymbol writes an amount with its currency symbol in front when
// the currency has one ("€1,000.00", "-£5.00", "¥1,000"), else as FormatMoney
// does ("1,000.00 CHF").
func FormatMoneySymbol(minor int64, currency string) string {
	sym := CurrencySymbol(currency)
	if sym == currency {
		return FormatMoney(minor, currency)
	}
	s := FormatAmount(minor, currency)
	if strings.HasPrefix(s, "-") {
		return "-" + sym + s[1:]
	}
	return sym + s
}

// CurrencySymbol returns the usual symbol of a currency whose symbol is not
// ambiguous in Remit's documents (EUR "€", GBP "£", USD "$", RUB "₽",
// JPY "¥"), else the code itself.
func CurrencySymbol(code string) string {
	switch code {
	case "EUR":
		return "€"
	case "GBP":
		return "£"
	case "USD":
		return "$"
	case "RUB":
		return "₽"
	case "JPY":
		return "¥"
	}
	return code
}

// LineAmounts computes an invoice line: amount = quantity × unitAmount and
// tax = amount × taxRate / 100, each rounded once, half away from zero, to the
// minor unit. An empty taxRate means no tax. It returns an EINVALID error for
// a bad quantity or rate and when a figure does not fit in an int64.
func LineAmounts(quantity string, unitAmount int64, taxRate string) (amount, tax int64, err error) {
	if amount, tax, _, ok := lineAmountsFast(quantity, unitAmount, taxRate); ok {
		return amount, tax, nil
	}
	q, err := ParseQuantity(quantity)
	if err != nil {
		return 0, 0, err
	}
	rate := new(big.Rat)
	if taxRate != "" {
		if rate, err = ParseRate(taxRate); err != nil {
			return 0, 0, err
		}
	}
	amount, err = RoundHalfAway(new(big.Rat).Mul(q, new(big.Rat).SetInt64(unitAmount)))
	if err != nil {
		return 0, 0, err
	}
	t := new(big.Rat).Mul(new(big.Rat).SetInt64(amount), rate)
	tax, err = RoundHalfAway(t.Quo(t, big.NewRat(100, 1)))
	if err != nil {
		return 0, 0, err
	}
	return amount, tax, nil
}

// percentOf returns base × percent / 100 exactly.
func percentOf(base int64, percent *big.Rat) *big.Rat {
	r := new(big.Rat).Mul(new(big.Rat).SetInt64(base), percent)
	return r.Quo(r, big.NewRat(100, 1))
}

// lineAmountsFast is LineAmounts in 128-bit integer arithmetic, with the
// tax rate it read scaled by 10^maxRateDecimals. It computes the same exact
// figures, and reports !ok for anything it does not handle (any invalid
// input, or a figure too large), which the exact big.Rat path then judges.
func lineAmountsFast(quantity string, unitAmount int64, taxRate string) (amount, tax int64, rate uint64, ok bool) {
	if unitAmount < 0 {
		return 0, 0, 0, false
	}
	intPart, _, _ := strings.Cut(quantity, ".")
	q, ok := scaledDecimal(quantity, maxQuantityDecimal)
	if !ok || q == 0 || len(strings.TrimLeft(intPart, "0")) > maxQuantityDigits {
		return 0, 0, 0, false
	}
	if taxRate != "" {
		if rate, ok = scaledDecimal(taxRate, maxRateDecimals); !ok {
			return 0, 0, 0, false
		}
	}
	if q > math.MaxInt64 || rate > math.MaxInt64 {
		return 0, 0, 0, false
	}
	if amount, ok = mulDivRound(int64(q), unitAmount, 1e3); !ok {
		return 0, 0, 0, false
	}
	if tax, ok = mulDivRound(amount, int64(rate), 100*1e10); !ok {
		return 0, 0, 0, false
	}
	return amount, tax, rate, true
}

// scaledDecimal reads s, digits[.digits] with at most frac decimals and at
// most maxDecimalLen characters, as s × 10^frac; !ok for anything else or
// a value that does not fit in a uint64.
func scaledDecimal(s string, frac int) (uint64, bool) {
	if len(s) > maxDecimalLen {
		return 0, false
	}
	intPart, fr, hasPoint := strings.Cut(s, ".")
	if !allDigits(intPart) || (hasPoint && !allDigits(fr)) || len(fr) > frac {
		return 0, false
	}
	var v uint64
	push := func(d uint64) bool {
		if v > (math.MaxUint64-d)/10 {
			return false
		}
		v = v*10 + d
		return true
	}
	for i := 0; i < len(intPart); i++ {
		if !push(uint64(intPart[i] - '0')) {
			return 0, false
		}
	}
	for i := 0; i < frac; i++ {
		d := uint64(0)
		if i < len(fr) {
			d = uint64(fr[i] - '0')
		}
		if !push(d) {
			return 0, false
		}
	}
	return v, true
}
