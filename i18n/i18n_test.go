package i18n_test

import (
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/i18n"
)

// TestCataloguesComplete fails when a message lacks a translation in any
// language, or a language has a message English does not.
func TestCataloguesComplete(t *testing.T) {
	en := i18n.For("en").Keys()
	for _, lang := range i18n.Languages {
		got := i18n.For(lang).Keys()
		for k := range en {
			if got[k] == "" {
				t.Errorf("%s.json lacks %q", lang, k)
			}
		}
		for k := range got {
			if _, ok := en[k]; !ok {
				t.Errorf("%s.json has %q, which en.json lacks", lang, k)
			}
		}
	}
}

func TestFormats(t *testing.T) {
	day := domain.NewDate(2026, 3, 1)
	for _, c := range []struct {
		lang, currency string
		minor          int64
		money, date    string
	}{
		{"en", "EUR", 103454, "€1,034.54", "1 March 2026"},
		{"de", "EUR", 7029622, "70.296,22\u00a0€", "1. März 2026"},
		{"ru", "RUB", 7029622, "70\u00a0296,22\u00a0₽", "1 марта 2026 г."},
		{"bg", "BGN", 7029622, "70\u00a0296,22\u00a0лв.", "1 март 2026 г."},
		{"en", "JPY", 5000, "¥5,000", "1 March 2026"},
		{"de", "EUR", -2500, "-25,00\u00a0€", "1. März 2026"},
	} {
		l := i18n.For(c.lang)
		if got := l.Money(c.minor, c.currency); got != c.money {
			t.Errorf("%s %s %d: %q, want %q", c.lang, c.currency, c.minor, got, c.money)
		}
		if got := l.Date(day); got != c.date {
			t.Errorf("%s date: %q, want %q", c.lang, got, c.date)
		}
	}
	if i18n.For("fr").Lang != "en" || !i18n.Supported("bg") || i18n.Supported("fr") {
		t.Error("fallback")
	}
}

// TestOnePeriodAfterAnAbbreviation: a date that ends in "г." ends the
// sentence without a second period.
func TestOnePeriodAfterAnAbbreviation(t *testing.T) {
	l := i18n.For("ru")
	if got := l.T("due.due_date", "date", l.Date(domain.NewDate(2026, 3, 1))); got != "Срок оплаты: 1 марта 2026 г." {
		t.Errorf("%q", got)
	}
	if got := i18n.For("en").T("due.due_date", "date", "1 March 2026"); got != "Due date: 1 March 2026." {
		t.Errorf("%q", got)
	}
}
