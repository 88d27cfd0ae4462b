package i18n_test

import (
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/i18n"
)

// posted turns what the rules say is due into charges as the store posts
// them: a correction under its adjustment key, with its facts.
func posted(due []domain.DueCharge) []domain.Charge {
	out := make([]domain.Charge, len(due))
	for i, d := range due {
		key := d.Key
		if d.Correction {
			key = domain.AdjustmentKey(d.Key, 1)
		}
		out[i] = domain.Charge{Kind: d.Kind, Key: key, Amount: d.Amount, PostedOn: d.PostOn, PeriodFrom: d.From, PeriodTo: d.To,
			Days: d.Days, Description: d.Description, Breakdown: d.Breakdown, Facts: d.Facts}
	}
	return out
}

// ledgerCharges works an invoice's charges out with the real rules, and
// the corrections a late payment of paid on payOn brings.
func ledgerCharges(t *testing.T, f domain.InvoiceFacts, asOf domain.Date, paid int64, payOn domain.Date) (charges, corrections []domain.Charge) {
	t.Helper()
	l, err := domain.ComputeLedger(f, asOf)
	if err != nil {
		t.Fatal(err)
	}
	charges = posted(domain.ChargeDifferences(l.Charges, nil, f.Currency))
	if paid == 0 {
		return charges, nil
	}
	f.Payments = []domain.PaymentFact{{ID: "pay_1", On: payOn, Amount: paid}}
	if l, err = domain.ComputeLedger(f, asOf); err != nil {
		t.Fatal(err)
	}
	return charges, posted(domain.ChargeDifferences(l.Charges, charges, f.Currency))
}

func TestChargeDetail(t *testing.T) {
	d := domain.NewDate
	fee := domain.InvoiceFacts{InvoiceID: "inv_1", Currency: "EUR", Principal: 100000, DueDate: d(2026, 1, 31),
		Agreement: domain.Agreement{PaymentTerms: "net_30", Allocation: domain.AllocationPrincipalFirst,
			LateFee:  &domain.LateFee{Flat: 2500, Percent: "1.5", RepeatEveryDays: 30, MaxTotal: 6000},
			Interest: &domain.InterestTerms{AnnualRate: "12", DayCount: domain.DayCountAct365}}}
	feeCharges, feeCorrections := ledgerCharges(t, fee, d(2026, 4, 2), 100000, d(2026, 2, 10))
	eu := domain.InvoiceFacts{InvoiceID: "inv_2", Currency: "EUR", Principal: 500000, DueDate: d(2026, 3, 31),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{Preset: domain.PresetEULatePayment}},
		Rates:     domain.RateTable{domain.SeriesECBMRO: {{EffectiveFrom: d(2025, 6, 11), Rate: "2.15"}}}}
	euCharges, _ := ledgerCharges(t, eu, d(2026, 5, 1), 0, domain.Date{})
	daily := domain.InvoiceFacts{InvoiceID: "inv_3", Currency: "EUR", Principal: 100000, DueDate: d(2026, 3, 10),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{DailyRate: "0.05"}},
		Payments:  []domain.PaymentFact{{ID: "p", On: d(2026, 3, 20), Amount: 40000}}}
	dailyCharges, _ := ledgerCharges(t, daily, d(2026, 4, 1), 0, domain.Date{})

	for _, list := range [][]domain.Charge{feeCharges, feeCorrections, euCharges, dailyCharges} {
		for _, c := range list {
			if c.Facts == nil && c.Kind != domain.ChargeInterest {
				t.Errorf("%s has no facts", c.Key)
			}
		}
	}
	find := func(list []domain.Charge, key string) domain.Charge {
		for _, c := range list {
			if c.Key == key {
				return c
			}
		}
		t.Fatalf("no charge %s in %+v", key, list)
		return domain.Charge{}
	}
	cases := []struct {
		c    domain.Charge
		want map[string]string
	}{
		{find(feeCharges, "late_fee:1"), map[string]string{
			"en": "no. 1, 25.00 EUR + 1.5 % of 1,000.00 EUR",
			"ru": "№ 1, 25,00\u00a0€ + 1,5 % от 1\u00a0000,00\u00a0€",
			"bg": "№ 1, 25,00\u00a0€ + 1,5 % от 1\u00a0000,00\u00a0€",
			"de": "Nr. 1, 25,00\u00a0€ + 1,5 % von 1.000,00\u00a0€",
		}},
		{find(feeCharges, "late_fee:2"), map[string]string{
			"en": "no. 2, 25.00 EUR + 1.5 % of 1,000.00 EUR, cut to fit the 60.00 EUR cap",
			"ru": "№ 2, 25,00\u00a0€ + 1,5 % от 1\u00a0000,00\u00a0€, уменьшено с учётом предельной суммы 60,00\u00a0€",
			"bg": "№ 2, 25,00\u00a0€ + 1,5 % от 1\u00a0000,00\u00a0€, намалена до тавана от 60,00\u00a0€",
			"de": "Nr. 2, 25,00\u00a0€ + 1,5 % von 1.000,00\u00a0€, gekürzt auf die Obergrenze von 60,00\u00a0€",
		}},
		{find(feeCharges, "interest:2026-02"), map[string]string{
			"en": "February 2026, 28 days at 12 % a year (act/365) on 1,000.00 EUR",
			"ru": "февраль 2026 г., 28 дней, 12 % годовых (факт./365) от 1\u00a0000,00\u00a0€",
			"bg": "февруари 2026 г., 28 дни, 12 % годишно (реални дни/365) върху 1\u00a0000,00\u00a0€",
			"de": "Februar 2026, 28 Tage, 12 % pro Jahr (act/365) auf 1.000,00\u00a0€",
		}},
		{find(feeCorrections, "interest:2026-02:adj:1"), map[string]string{
			"en": "Correction of 9.21 EUR to 3.29 EUR after dated payments or refunds",
			"ru": "исправлено с 9,21\u00a0€ на 3,29\u00a0€ после платежей или возвратов, учтённых задним числом",
			"bg": "корекция от 9,21\u00a0€ на 3,29\u00a0€ след плащания или възстановявания с по-ранна дата",
			"de": "Berichtigung von 9,21\u00a0€ auf 3,29\u00a0€ nach rückdatierten Zahlungen oder Erstattungen",
		}},
		{find(feeCorrections, "late_fee:2:adj:1"), map[string]string{
			"en": "Reversed after dated payments or refunds",
			"ru": "сторнировано после платежей или возвратов, учтённых задним числом",
			"bg": "сторнирано след плащания или възстановявания с по-ранна дата",
			"de": "Storniert nach rückdatierten Zahlungen oder Erstattungen",
		}},
		{find(euCharges, "compensation"), map[string]string{
			"en": "under Directive 2011/7/EU",
			"ru": "основание — Директива 2011/7/ЕС",
			"bg": "основание: Директива 2011/7/ЕС",
			"de": "nach Richtlinie 2011/7/EU",
		}},
		{find(euCharges, "interest:2026-04"), map[string]string{
			"en": "April 2026, 30 days at 10.15 % a year (act/365) on 5,000.00 EUR",
			"ru": "апрель 2026 г., 30 дней, 10,15 % годовых (факт./365) от 5\u00a0000,00\u00a0€",
			"bg": "април 2026 г., 30 дни, 10,15 % годишно (реални дни/365) върху 5\u00a0000,00\u00a0€",
			"de": "April 2026, 30 Tage, 10,15 % pro Jahr (act/365) auf 5.000,00\u00a0€",
		}},
		{find(dailyCharges, "interest:2026-03"), map[string]string{
			"en": "11 March 2026 to 31 March 2026, 21 days, 2 periods of base and rate",
			"ru": "с 11 марта 2026 г. по 31 марта 2026 г., 21 день, 2 периода со своей базой и ставкой",
			"bg": "от 11 март 2026 г. до 31 март 2026 г., 21 дни, 2 периода със собствена основа и лихвен процент",
			"de": "11. März 2026 bis 31. März 2026, 21 Tage, 2 Zeiträume mit eigener Basis und eigenem Zinssatz",
		}},
	}
	for _, c := range cases {
		for lang, want := range c.want {
			if got := i18n.For(lang).ChargeDetail(c.c, "EUR"); got != want {
				t.Errorf("%s %s:\n got %q\nwant %q", lang, c.c.Key, got, want)
			}
		}
		// A charge posted before its facts were kept reads in English as
		// it always has, from the words it was posted with.
		old := c.c
		old.Facts = nil
		if got, want := i18n.For("en").ChargeDetail(old, "EUR"), c.want["en"]; got != want {
			t.Errorf("en %s without facts: %q, want %q", c.c.Key, got, want)
		}
	}
	if got := i18n.For("ru").ChargeDetail(domain.Charge{Kind: domain.ChargeLateFee, Key: "late_fee:3", Description: "Late fee 3, assessed ..."}, "EUR"); got != "№ 3" {
		t.Errorf("ru late fee without facts: %q", got)
	}
	single := domain.Charge{Kind: domain.ChargeInterest, Key: "interest:2026-03", PeriodFrom: d(2026, 3, 11), PeriodTo: d(2026, 3, 20), Days: 10,
		Breakdown: []domain.InterestSpan{{From: d(2026, 3, 11), To: d(2026, 3, 20), Days: 10, Base: 100000, DailyRate: "0.05"}}}
	for lang, want := range map[string]string{
		"en": "11 March 2026 to 20 March 2026, 10 days at 0.05 % a day on 1,000.00 EUR",
		"ru": "с 11 марта 2026 г. по 20 марта 2026 г., 10 дней, 0,05 % в день от 1\u00a0000,00\u00a0€",
		"de": "11. März 2026 bis 20. März 2026, 10 Tage, 0,05 % pro Tag auf 1.000,00\u00a0€",
	} {
		if got := i18n.For(lang).ChargeDetail(single, "EUR"); got != want {
			t.Errorf("%s daily: %q, want %q", lang, got, want)
		}
	}
}
