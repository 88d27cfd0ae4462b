package i18n_test

import (
	"testing"

	"github.com/remit/remit/i18n"
)

func TestAmountDecimalAndCount(t *testing.T) {
	for _, c := range []struct {
		lang, currency string
		minor          int64
		want           string
	}{
		{"en", "EUR", 103454, "1,034.54"},
		{"de", "EUR", 103454, "1.034,54"},
		{"ru", "RUB", 7029622, "70\u00a0296,22"},
		{"bg", "EUR", -5, "-0,05"},
		{"de", "JPY", 120000, "120.000"},
		{"de", "KWD", 1234567, "1.234,567"},
		{"en", "EUR", -9223372036854775808, "-92,233,720,368,547,758.08"},
	} {
		if got := i18n.For(c.lang).Amount(c.minor, c.currency); got != c.want {
			t.Errorf("%s Amount(%d, %s) = %q, want %q", c.lang, c.minor, c.currency, got, c.want)
		}
	}
	for _, c := range []struct{ lang, in, want string }{
		{"en", "2.5", "2.5"}, {"de", "2.5", "2,5"}, {"ru", "10.15", "10,15"}, {"bg", "3", "3"},
		{"de", "0.05/day", "0.05/day"}, {"de", ".5", ".5"},
	} {
		if got := i18n.For(c.lang).Decimal(c.in); got != c.want {
			t.Errorf("%s Decimal(%q) = %q, want %q", c.lang, c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		lang string
		n    int
		want string
	}{
		{"en", 1, "1 day"}, {"en", 2, "2 days"}, {"de", 1, "1 Tag"}, {"de", 31, "31 Tage"},
		{"bg", 1, "1 ден"}, {"bg", 5, "5 дни"}, {"ru", 1, "1 день"}, {"ru", 3, "3 дня"}, {"ru", 5, "5 дней"},
		{"ru", 11, "11 дней"}, {"ru", 21, "21 день"}, {"ru", 22, "22 дня"}, {"ru", 1000, "1000 дней"},
	} {
		if got := i18n.For(c.lang).Count("unit.day", c.n); got != c.want {
			t.Errorf("%s Count(unit.day, %d) = %q, want %q", c.lang, c.n, got, c.want)
		}
	}
}
