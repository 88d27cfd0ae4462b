package i18n

// Formats the documents need besides Money and Date: an amount without its
// currency (table columns), a currency's symbol on its own, a decimal
// string with the language's mark, and counted words ("1 day", "5 дней").

import (
	"strconv"
	"strings"

	"github.com/remit/remit/domain"
)

// Amount writes minor units of cur with the currency's decimals and the
// language's grouping and decimal mark, without a symbol: "1,034.54" in
// English, "1.034,54" in German, "70 296,22" (no-break space) in Russian.
// The digits come from the exact integer, never a float.
func (l *Locale) Amount(minor int64, cur string) string {
	digits, ok := domain.CurrencyExponent(cur)
	if !ok {
		digits = 2
	}
	// Work on the decimal string so that math.MinInt64 needs no special case.
	s := strconv.FormatInt(minor, 10)
	sign := ""
	if rest, neg := strings.CutPrefix(s, "-"); neg {
		sign, s = "-", rest
	}
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	whole, frac := s[:len(s)-digits], s[len(s)-digits:]
	n, _ := strconv.ParseInt(whole, 10, 64) // at most 19 digits: fits
	out := sign + l.Number(n)
	if digits > 0 {
		out += l.decimalMark() + frac
	}
	return out
}

// Symbol is the currency's symbol in the language (€, ₽, лв.), or its ISO
// code when the language has none.
func (l *Locale) Symbol(cur string) string { return l.symbol(cur) }

// Decimal rewrites a decimal string such as a quantity or a rate ("2.5",
// "10.15") with the language's decimal mark ("2,5" in German). Anything
// that is not a plain decimal comes back as given.
func (l *Locale) Decimal(s string) string {
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || whole == "" || frac == "" || strings.Trim(whole+frac, "-0123456789") != "" {
		return s
	}
	return whole + l.decimalMark() + frac
}

// Count writes n with the form of the catalogue's unit ("unit.day":
// "1 day", "3 дня", "5 дней") that the language's plural rule picks.
func (l *Locale) Count(unit string, n int) string { return l.count(unit, n) }
