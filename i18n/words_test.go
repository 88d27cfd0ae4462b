package i18n_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/i18n"
)

// richAgreement has every kind of clause a version without a preset can
// have: terms, grace, a late fee with flat, percent, repeats and both caps,
// compensation, compounding annual interest and suspension with a warning.
func richAgreement() domain.Agreement {
	return domain.Agreement{
		PaymentTerms: "net_30", GraceDays: 5,
		LateFee:           &domain.LateFee{Flat: 4000, Percent: "1.50", RepeatEveryDays: 30, MaxCount: 3, MaxTotal: 20000},
		Interest:          &domain.InterestTerms{AnnualRate: "12.5", DayCount: domain.DayCountAct360, Compound: true},
		FixedCompensation: 2500,
		Suspension:        &domain.Suspension{AfterDays: 60, WarningDays: 7},
	}
}

// termCase is an agreement with the currency its client is billed in.
type termCase struct {
	name     string
	a        domain.Agreement
	currency string
}

func termCases() []termCase {
	preset := func(p, fixing string) *domain.InterestTerms {
		return &domain.InterestTerms{Preset: p, RateFixing: fixing}
	}
	return []termCase{
		{"rich", richAgreement(), "EUR"},
		{"default", domain.DefaultAgreement(), "EUR"},
		{"receipt percent cap daily", domain.Agreement{PaymentTerms: "due_on_receipt",
			LateFee:  &domain.LateFee{Percent: "2", MaxTotal: 5000},
			Interest: &domain.InterestTerms{DailyRate: "0.05", Compound: true}, Suspension: &domain.Suspension{AfterDays: 21}}, "EUR"},
		{"daily once", domain.Agreement{PaymentTerms: "net_21", GraceDays: 1,
			LateFee: &domain.LateFee{Flat: 1000, RepeatEveryDays: 1, MaxCount: 1}, Allocation: domain.AllocationPrincipalFirst}, "USD"},
		{"flat only", domain.Agreement{PaymentTerms: "net_2", LateFee: &domain.LateFee{Flat: 1500, RepeatEveryDays: 14},
			Interest: &domain.InterestTerms{AnnualRate: "8"}}, "EUR"},
		{"eu", domain.Agreement{PaymentTerms: "net_14", Interest: preset(domain.PresetEULatePayment, "")}, "EUR"},
		{"eu at due date", domain.Agreement{PaymentTerms: "net_14", Interest: preset(domain.PresetEULatePayment, domain.RateFixingAtDueDate)}, "EUR"},
		{"uk", domain.Agreement{PaymentTerms: "net_30", Interest: preset(domain.PresetUKLatePayment, "")}, "GBP"},
		{"ru", domain.Agreement{PaymentTerms: "net_10", Interest: preset(domain.PresetRUCivilCode395, "")}, "RUB"},
		{"de", domain.Agreement{PaymentTerms: "net_14", Interest: preset(domain.PresetDEBGB288, ""),
			Suspension: &domain.Suspension{AfterDays: 1}}, "EUR"},
		{"fr", domain.Agreement{PaymentTerms: "net_45", Interest: preset(domain.PresetFRCodeCommerce, domain.RateFixingHalfYear),
			Allocation: domain.AllocationPrincipalFirst}, "EUR"},
		{"30e/360 act/act", domain.Agreement{PaymentTerms: "net_30", Interest: &domain.InterestTerms{AnnualRate: "9", DayCount: domain.DayCountActAct}}, "EUR"},
		{"30e/360", domain.Agreement{PaymentTerms: "net_30", Interest: &domain.InterestTerms{AnnualRate: "9", DayCount: domain.DayCount30E360}}, "EUR"},
	}
}

var due = domain.NewDate(2026, 3, 31)

// The English the catalogue writes is, word for word, the English the
// domain has always written (stored acceptance texts, RULES.md and the
// webhooks' terms depend on it).
func TestTermsInEnglishAreDescribeTerms(t *testing.T) {
	en := i18n.For("en")
	for _, c := range termCases() {
		for _, kind := range []string{domain.ClientBusiness, domain.ClientConsumer} {
			for _, day := range []domain.Date{{}, due} {
				want := domain.DescribeTermsFor(c.a, c.currency, kind, day)
				if got := en.Terms(c.a, c.currency, kind, day); !slices.Equal(got, want) {
					t.Errorf("%s %s %s:\n got %q\nwant %q", c.name, kind, day, got, want)
				}
			}
		}
		a := c.a
		a.Version, a.EffectiveFrom = 3, domain.NewDate(2026, 5, 1)
		if got, want := en.AcceptanceText(a, c.currency, domain.ClientBusiness), domain.AcceptanceText(a, c.currency); got != want {
			t.Errorf("%s acceptance text:\n got %q\nwant %q", c.name, got, want)
		}
		if got, want := en.LegalBasis(a, domain.ClientBusiness), domain.LegalBasis(a, domain.ClientBusiness); got != want {
			t.Errorf("%s legal basis: %q, want %q", c.name, got, want)
		}
	}
	for _, prev := range termCases() {
		for _, next := range termCases() {
			if prev.currency != next.currency {
				continue
			}
			want := domain.TermChanges(prev.a, next.a, next.currency)
			if got := en.TermChanges(prev.a, next.a, next.currency, domain.ClientBusiness); !slices.Equal(got, want) {
				t.Errorf("changes %s -> %s:\n got %q\nwant %q", prev.name, next.name, got, want)
			}
		}
	}
	for _, p := range []string{domain.PresetEULatePayment, domain.PresetUKLatePayment, domain.PresetRUCivilCode395, domain.PresetDEBGB288,
		domain.PresetFRCodeCommerce} {
		for _, kind := range []string{domain.ClientBusiness, domain.ClientConsumer} {
			for _, fixing := range []string{"", domain.RateFixingHalfYear, domain.RateFixingAtDueDate} {
				it := domain.InterestTerms{Preset: p, RateFixing: fixing}
				if got, want := en.InterestBasis(it, kind), domain.InterestLegalBasis(it, kind); got != want {
					t.Errorf("%s %s %s basis: %q, want %q", p, kind, fixing, got, want)
				}
			}
		}
	}
	for _, a := range []domain.Agreement{domain.DefaultAgreement(), {ID: "agr_1"}, {ID: "agr_1", Version: 2, EffectiveFrom: due}} {
		if got, want := en.LegalBasis(a, domain.ClientBusiness), domain.LegalBasis(a, domain.ClientBusiness); got != want {
			t.Errorf("legal basis of %+v: %q, want %q", a, got, want)
		}
	}
}

// englishWords are words that would show English leaking into another
// language's text.
var englishWords = regexp.MustCompile(`\b(Payment|payment|interest|Interest|days?|fee|due|late|principal|applies|charged|under|Service|month|year|percentage|with|from|of|the|at|on|and)\b`)

// officialNames are cited as they are officially called in any language.
var officialNames = strings.NewReplacer("Late Payment of Commercial Debts (Interest) Act 1998", "", "Bank of England", "")

// checkForeign fails when a text in lang is empty, has a placeholder or
// catalogue key left, or English words beyond the official names.
func checkForeign(t *testing.T, lang, what, s string) {
	t.Helper()
	s = officialNames.Replace(s)
	switch {
	case strings.TrimSpace(s) == "":
		t.Errorf("%s %s: empty", lang, what)
	case strings.ContainsAny(s, "{}"), regexp.MustCompile(`\b(terms|unit|law|series|rule|detail|daycount|basis)\.`).MatchString(s):
		t.Errorf("%s %s: placeholder or key left: %q", lang, what, s)
	case englishWords.MatchString(s):
		t.Errorf("%s %s: English words (%q): %q", lang, what, englishWords.FindString(s), s)
	case strings.HasSuffix(s, ".."):
		t.Errorf("%s %s: two full stops: %q", lang, what, s)
	}
}

func TestTermsInOtherLanguages(t *testing.T) {
	for _, lang := range []string{"ru", "bg", "de"} {
		l := i18n.For(lang)
		for _, c := range termCases() {
			for _, kind := range []string{domain.ClientBusiness, domain.ClientConsumer} {
				for _, day := range []domain.Date{{}, due} {
					got := l.Terms(c.a, c.currency, kind, day)
					if n := len(domain.TermClauses(c.a, c.currency, kind, day)); len(got) != n {
						t.Errorf("%s %s: %d sentences for %d clauses", lang, c.name, len(got), n)
					}
					for _, s := range got {
						checkForeign(t, lang, c.name, s)
					}
				}
			}
			if b := l.LegalBasis(c.a, domain.ClientConsumer); c.a.Interest != nil && c.a.Interest.Preset != "" {
				checkForeign(t, lang, c.name+" basis", b)
			}
			for _, s := range l.TermChanges(domain.DefaultAgreement(), c.a, c.currency, domain.ClientBusiness) {
				checkForeign(t, lang, c.name+" changes", s)
			}
		}
	}
}

// One rich agreement, word for word, in each language.
func TestTermsGolden(t *testing.T) {
	want := map[string][]string{
		"ru": {
			"Оплата производится в течение 30 дней с даты выставления счёта (не позднее 31 марта 2026 г.).",
			"Льготный период после срока оплаты — 5 дней.",
			"С 6 апреля 2026 г. начисляется штраф за просрочку в размере 40,00\u00a0€ плюс 1,5 %.",
			"Процент считается от суммы основного долга, не оплаченной на день начисления штрафа.",
			"Штраф начисляется повторно каждые 30 дней, пока основной долг не погашен, всего не более 3 раз, в сумме не более 200,00\u00a0€.",
			"С 6 апреля 2026 г. подлежит уплате фиксированная компенсация в размере 25,00\u00a0€.",
			"На просроченный основной долг ежедневно начисляются проценты по ставке 12,5 % годовых (факт./360).",
			"Проценты начисляются с 6 апреля 2026 г.",
			"Начисленные и неоплаченные проценты включаются в базу начисления со дня, следующего за днём их начисления.",
			"Проценты начисляются в первый день каждого месяца за предыдущий месяц, а также в день полного погашения основного долга.",
			"Обслуживание может быть приостановлено, если счёт просрочен на 60 дней; предупреждение направляется за 7 дней до этого.",
			"Платежи зачисляются сначала в счёт компенсации, штрафов и процентов, затем — в счёт основного долга.",
		},
		"bg": {
			"Плащането е дължимо в срок от 30 дни от датата на издаване (не по-късно от 31 март 2026 г.).",
			"След падежа се прилага гратисен период от 5 дни.",
			"От 6 април 2026 г. се дължи неустойка за забава в размер на 40,00\u00a0€ плюс 1,5 %.",
			"Процентът се изчислява върху неплатената главница към деня на начисляване на неустойката.",
			"Тя се начислява отново на всеки 30 дни, докато главницата остава неплатена, най-много 3 пъти, общо не повече от 200,00\u00a0€.",
			"От 6 април 2026 г. се дължи фиксирано обезщетение в размер на 25,00\u00a0€.",
			"Върху просрочената главница ежедневно се начислява лихва от 12,5 % годишно (реални дни/360).",
			"Лихвата тече от 6 април 2026 г.",
			"Начислената и неплатена лихва се добавя към основата от деня след начисляването ѝ.",
			"Лихвата се начислява на първия ден от всеки месец за предходния месец, както и в деня, в който главницата бъде изплатена изцяло.",
			"Услугата може да бъде спряна, когато фактура е просрочена с 60 дни, след предупреждение 7 дни по-рано.",
			"Плащанията се отнасят първо за обезщетения, неустойки и лихви, а след това за главницата.",
		},
		"de": {
			"Die Zahlung ist innerhalb von 30 Tagen ab Rechnungsdatum fällig (spätestens am 31. März 2026).",
			"Nach dem Fälligkeitstag gilt eine Nachfrist von 5 Tagen.",
			"Ab dem 6. April 2026 wird eine Mahngebühr von 40,00\u00a0€ zuzüglich 1,5 % erhoben.",
			"Der Prozentsatz bezieht sich auf die Hauptforderung, die bei Erhebung der Gebühr offen ist.",
			"Sie wird alle 30 Tage erneut erhoben, solange die Hauptforderung offen ist, höchstens 3-mal, insgesamt nie mehr als 200,00\u00a0€.",
			"Ab dem 6. April 2026 ist eine Pauschale von 25,00\u00a0€ zu zahlen.",
			"Auf die überfällige Hauptforderung fallen täglich Zinsen von 12,5 % pro Jahr an (act/360).",
			"Die Zinsen laufen ab dem 6. April 2026.",
			"Berechnete und unbezahlte Zinsen werden ab dem Tag nach ihrer Berechnung der Zinsbasis zugeschlagen.",
			"Die Zinsen werden am ersten Tag jedes Monats für den Vormonat berechnet sowie an dem Tag, an dem die Hauptforderung vollständig bezahlt ist.",
			"Die Leistung kann ausgesetzt werden, wenn eine Rechnung 60 Tage überfällig ist, nach einer Warnung 7 Tage vorher.",
			"Zahlungen werden zuerst auf Pauschalen, Gebühren und Zinsen, dann auf die Hauptforderung angerechnet.",
		},
	}
	for lang, w := range want {
		got := i18n.For(lang).Terms(richAgreement(), "EUR", domain.ClientBusiness, due)
		if !slices.Equal(got, w) {
			t.Errorf("%s:\n got %q\nwant %q", lang, got, w)
		}
	}
	// The statutory presets cite the law as a reader of each language does.
	basis := map[string]string{
		"ru": "§ 288 Германского гражданского уложения (BGB): базовая ставка Бундесбанка + 5 процентных пунктов (должник — потребитель); " +
			"ставка фиксируется на каждое полугодие по значению на 1 января и на 1 июля",
		"de": "§ 288 BGB: Basiszinssatz der Bundesbank + 5 Prozentpunkte (Schuldner ist Verbraucher), " +
			"für jedes Halbjahr festgelegt nach dem Stand am 1. Januar und am 1. Juli",
		"bg": "§ 288 от Германския граждански законник (BGB): основният лихвен процент на Бундесбанк + 5 процентни пункта (за длъжник потребител), " +
			"фиксиран за всяко полугодие според стойността към 1 януари и към 1 юли",
	}
	for lang, w := range basis {
		if got := i18n.For(lang).InterestBasis(domain.InterestTerms{Preset: domain.PresetDEBGB288}, domain.ClientConsumer); got != w {
			t.Errorf("%s basis:\n got %q\nwant %q", lang, got, w)
		}
	}
	if got := i18n.For("ru").InterestBasis(domain.InterestTerms{Preset: domain.PresetRUCivilCode395}, domain.ClientBusiness); got !=
		"ст. 395 ГК РФ: ключевая ставка Банка России, действующая в каждый день просрочки" {
		t.Errorf("ru 395: %q", got)
	}
}

// Counts take the plural form the language's CLDR rule gives.
func TestPluralForms(t *testing.T) {
	want := map[string][]string{
		"ru": {"1 день", "2 дня", "5 дней", "11 дней", "21 день", "22 дня", "112 дней"},
		"bg": {"1 ден", "2 дни", "5 дни", "11 дни", "21 дни", "22 дни", "112 дни"},
		"de": {"1 Tag", "2 Tage", "5 Tage", "11 Tage", "21 Tage", "22 Tage", "112 Tage"},
		"en": {"1 day", "2 days", "5 days", "11 days", "21 days", "22 days", "112 days"},
	}
	for lang, forms := range want {
		l := i18n.For(lang)
		for i, n := range []int{1, 2, 5, 11, 21, 22, 112} {
			s := l.Clause(domain.Clause{Kind: domain.ClauseSuspension, Days: n})
			if !regexp.MustCompile(" " + forms[i] + "[ .]").MatchString(s) {
				t.Errorf("%s %d: %q lacks %q", lang, n, s, forms[i])
			}
		}
	}
	every := map[string]string{"en": "It is charged again every 1 day while", "de": "Sie wird täglich erneut erhoben",
		"bg": "Тя се начислява отново всеки ден,", "ru": "Штраф начисляется повторно каждый 21 день,"}
	for lang, want := range every {
		days := 1
		if lang == "ru" {
			days = 21
		}
		if s := i18n.For(lang).Clause(domain.Clause{Kind: domain.ClauseLateFeeRepeat, Days: days}); !strings.Contains(s, want) {
			t.Errorf("%s every %d days: %q lacks %q", lang, days, s, want)
		}
	}
	for n, want := range map[int]string{1: "повторно ежедневно,", 2: "повторно каждые 2 дня,", 5: "повторно каждые 5 дней,"} {
		if s := i18n.For("ru").Clause(domain.Clause{Kind: domain.ClauseLateFeeRepeat, Days: n}); !strings.Contains(s, want) {
			t.Errorf("ru every %d days: %q lacks %q", n, s, want)
		}
	}
	times := map[string][]string{"ru": {"не более 1 раза", "не более 3 раз", "не более 5 раз"},
		"de": {"höchstens einmal", "höchstens 3-mal", "höchstens 5-mal"}, "bg": {"най-много 1 път", "най-много 3 пъти", "най-много 5 пъти"}}
	for lang, forms := range times {
		for i, n := range []int{1, 3, 5} {
			s := i18n.For(lang).Clause(domain.Clause{Kind: domain.ClauseLateFeeRepeat, Days: 30, Count: n})
			if !strings.Contains(s, forms[i]) {
				t.Errorf("%s %d times: %q lacks %q", lang, n, s, forms[i])
			}
		}
	}
}
