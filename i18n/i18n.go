// Package i18n holds the words of the client-facing pages in each language
// Remit speaks (one catalogue file per language) and formats numbers,
// money and dates the way a reader of that language expects, with
// golang.org/x/text for digit grouping, decimal marks and currency symbols.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	"github.com/remit/remit/domain"
)

// Languages are the languages Remit speaks (domain.Languages), as BCP 47
// tags; the first is the fallback.
var Languages = domain.Languages

//go:embed *.json
var files embed.FS

// Locale is one language's catalogue and formats.
type Locale struct {
	Lang    string
	tag     language.Tag
	msgs    map[string]string
	printer *message.Printer
}

var locales = map[string]*Locale{}

func init() {
	for _, lang := range Languages {
		b, err := files.ReadFile(lang + ".json")
		if err != nil {
			panic(err)
		}
		tag := language.MustParse(lang)
		l := &Locale{Lang: lang, tag: tag, printer: message.NewPrinter(tag)}
		if err := json.Unmarshal(b, &l.msgs); err != nil {
			panic(fmt.Sprintf("i18n: %s.json: %v", lang, err))
		}
		locales[lang] = l
	}
}

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool { _, ok := locales[lang]; return ok }

// For returns the locale of lang, English when Remit does not speak it.
func For(lang string) *Locale {
	if l, ok := locales[lang]; ok {
		return l
	}
	return locales[Languages[0]]
}

// Keys returns the catalogue's keys (for the completeness test).
func (l *Locale) Keys() map[string]string { return l.msgs }

// T returns the message key with {name} placeholders replaced by the
// arguments given in pairs ("number", "INV-1"); a key the catalogue lacks
// comes back as the key itself, which the tests catch.
func (l *Locale) T(key string, pairs ...string) string {
	s, ok := l.msgs[key]
	if !ok {
		if s, ok = locales[Languages[0]].msgs[key]; !ok {
			return key
		}
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		v := pairs[i+1]
		if strings.HasSuffix(v, ".") {
			// A value ending in an abbreviation's period ("1 марта 2026 г.")
			// also ends the sentence: one period, not two.
			s = strings.ReplaceAll(s, "{"+pairs[i]+"}.", v)
		}
		s = strings.ReplaceAll(s, "{"+pairs[i]+"}", v)
	}
	return s
}

// Number writes an integer with the language's digit grouping.
func (l *Locale) Number(n int64) string { return l.printer.Sprint(number.Decimal(n)) }

// Money writes an amount in minor units of currency the language's way:
// €1,034.54 in English, 1.034,54 € in German, 70 296,22 ₽ in Russian. The
// digits come from the exact integer, never a float.
func (l *Locale) Money(minor int64, cur string) string {
	return l.T("money", "amount", l.Amount(minor, cur), "symbol", l.symbol(cur))
}

// decimalMark is the language's decimal separator.
func (l *Locale) decimalMark() string {
	s := l.printer.Sprint(number.Decimal(1.5, number.Scale(1)))
	return strings.Trim(s, "15")
}

// symbol is the currency's narrow symbol in the language (€, ₽, лв.), or its code.
func (l *Locale) symbol(cur string) string {
	u, err := currency.ParseISO(cur)
	if err != nil {
		return cur
	}
	sym := func(f currency.Formatter) string {
		s := l.printer.Sprint(f(u.Amount(0)))
		if i := strings.IndexAny(s, "0123456789"); i > 0 {
			s = s[:i]
		}
		return strings.TrimSpace(s)
	}
	if s := sym(currency.Symbol); s != cur {
		return s
	}
	return sym(currency.NarrowSymbol)
}

// Date writes a date the language's way ("1 March 2026", "1. März 2026",
// "1 марта 2026 г.").
func (l *Locale) Date(d domain.Date) string {
	if d.IsZero() {
		return ""
	}
	return l.T("date", "day", strconv.Itoa(d.Day()), "month", l.T("month."+strconv.Itoa(int(d.Month()))),
		"year", strconv.Itoa(d.Year()))
}
