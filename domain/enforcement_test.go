package domain_test

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/remit/remit/domain"
)

// d is shorthand for a fixed date in tests.
func d(s string) domain.Date { return domain.MustParseDate(s) }

// brief is the part of a DueCharge a worked example pins down.
type brief struct {
	Key    string
	PostOn string
	Amount int64
}

func briefs(charges []domain.DueCharge) []brief {
	out := make([]brief, 0, len(charges))
	for _, c := range charges {
		out = append(out, brief{c.Key, c.PostOn.String(), c.Amount})
	}
	return out
}

func mustCharges(t *testing.T, f domain.InvoiceFacts, asOf string) []domain.DueCharge {
	t.Helper()
	charges, err := domain.ChargesDue(f, d(asOf))
	if err != nil {
		t.Fatalf("ChargesDue(%s): %v", asOf, err)
	}
	return charges
}

func assertBriefs(t *testing.T, got []domain.DueCharge, want []brief) {
	t.Helper()
	if g := briefs(got); !slices.Equal(g, want) {
		t.Errorf("charges\n got %v\nwant %v", g, want)
	}
}

// simple12 is 12 % a year act/365 on 1,000.00 EUR due 2026-01-31 (examples 2, 3).
func simple12() domain.InvoiceFacts {
	return domain.InvoiceFacts{
		InvoiceID: "inv_1", Currency: "EUR", Principal: 100000, DueDate: d("2026-01-31"),
		Agreement: domain.Agreement{
			PaymentTerms: "net_30",
			Interest:     &domain.InterestTerms{AnnualRate: "12", DayCount: "act/365"},
		},
	}
}

func TestWorkedExample1OneTimeFee(t *testing.T) {
	issued := d("2026-01-01")
	due, err := domain.DueDate("net_30", issued)
	if err != nil || due != d("2026-01-31") {
		t.Fatalf("DueDate = %s, %v; want 2026-01-31", due, err)
	}
	if day1 := domain.DayOneOverdue(due, 0); day1 != d("2026-02-01") {
		t.Fatalf("DayOneOverdue = %s", day1)
	}
	f := domain.InvoiceFacts{
		InvoiceID: "inv_1", Currency: "EUR", Principal: 100000, DueDate: due,
		Agreement: domain.Agreement{PaymentTerms: "net_30", LateFee: &domain.LateFee{Flat: 2500, Percent: "1.5"}},
	}
	want := []brief{{"late_fee:1", "2026-02-01", 4000}}
	assertBriefs(t, mustCharges(t, f, "2026-01-31"), nil)
	first := mustCharges(t, f, "2026-02-01")
	assertBriefs(t, first, want)
	if first[0].Description != "Late fee 1, assessed 1 February 2026: 25.00 EUR + 1.5 % of 1,000.00 EUR" {
		t.Errorf("description = %q", first[0].Description)
	}

	// A second sweep the same day and one on 2026-02-20 want the same
	// single fee, under the same key, so nothing new is posted.
	assertBriefs(t, mustCharges(t, f, "2026-02-01"), want)
	assertBriefs(t, mustCharges(t, f, "2026-02-20"), want)
}

func TestWorkedExample2SimpleInterest(t *testing.T) {
	f := simple12()
	assertBriefs(t, mustCharges(t, f, "2026-02-28"), nil)
	assertBriefs(t, mustCharges(t, f, "2026-03-01"), []brief{{"interest:2026-02", "2026-03-01", 921}})
	got := mustCharges(t, f, "2026-04-01")
	assertBriefs(t, got, []brief{
		{"interest:2026-02", "2026-03-01", 921},
		{"interest:2026-03", "2026-04-01", 1019},
	})
	feb := got[0]
	if feb.Days != 28 || feb.From != d("2026-02-01") || feb.To != d("2026-02-28") || feb.Period != "2026-02" {
		t.Errorf("February posting covers %s..%s (%d days), period %s", feb.From, feb.To, feb.Days, feb.Period)
	}
	wantDesc := "Interest on the overdue principal, 1 February 2026 to 28 February 2026 (28 days) at 12 % a year (act/365) on 1,000.00 EUR"
	if feb.Description != wantDesc {
		t.Errorf("description = %q", feb.Description)
	}
	// 100000 × 12 % × 28 / 365 = 336000/365 exactly.
	if len(feb.Breakdown) != 1 || feb.Breakdown[0].Amount.Cmp(big.NewRat(336000, 365)) != 0 {
		t.Errorf("breakdown = %+v", feb.Breakdown)
	}
}

func TestWorkedExample3PartialPayment(t *testing.T) {
	f := simple12()
	f.Agreement.Allocation = domain.AllocationPrincipalFirst
	alloc := domain.Allocate(f.Agreement.Allocation, 40000, domain.Outstanding{Principal: 100000})
	if alloc.Principal != 40000 {
		t.Fatalf("Allocate = %+v", alloc)
	}
	f.PrincipalReductions = []domain.Reduction{{On: d("2026-02-10"), Amount: alloc.Principal}}
	got := mustCharges(t, f, "2026-03-01")
	assertBriefs(t, got, []brief{{"interest:2026-02", "2026-03-01", 684}})
	spans := got[0].Breakdown
	if len(spans) != 2 || spans[0].Days != 10 || spans[0].Base != 100000 || spans[1].Days != 18 || spans[1].Base != 60000 {
		t.Errorf("breakdown = %+v", spans)
	}
}

func TestWorkedExample4EUPreset(t *testing.T) {
	f := domain.InvoiceFacts{
		InvoiceID: "inv_4", Currency: "EUR", Principal: 500000, DueDate: d("2026-03-31"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{Preset: domain.PresetEULatePayment}},
		Rates: domain.RateTable{domain.SeriesECBMRO: {
			{EffectiveFrom: d("2026-06-15"), Rate: "2.00"},
			{EffectiveFrom: d("2025-06-11"), Rate: "2.15"},
		}},
	}
	assertBriefs(t, mustCharges(t, f, "2026-04-01"), []brief{{"compensation", "2026-04-01", 4000}})

	f.PrincipalReductions = []domain.Reduction{{On: d("2026-08-15"), Amount: 500000}}
	got := mustCharges(t, f, "2026-12-31")
	assertBriefs(t, got, []brief{
		{"compensation", "2026-04-01", 4000},
		{"interest:2026-04", "2026-05-01", 4171},
		{"interest:2026-05", "2026-06-01", 4310},
		{"interest:2026-06", "2026-07-01", 4171},
		{"interest:2026-07", "2026-08-01", 4247},
		{"interest:2026-08", "2026-08-15", 2055},
	})
	if r := got[3].Breakdown[0].AnnualRate; r != "10.15" {
		t.Errorf("June rate = %s, want 10.15 (fixed on 1 January)", r)
	}
	if r := got[4].Breakdown[0].AnnualRate; r != "10" {
		t.Errorf("July rate = %s, want 10", r)
	}
	if last := got[5]; last.From != d("2026-08-01") || last.To != d("2026-08-15") || last.Days != 15 {
		t.Errorf("final posting covers %s..%s (%d days)", last.From, last.To, last.Days)
	}
	if !strings.Contains(got[0].Description, "Directive 2011/7/EU") {
		t.Errorf("compensation description = %q", got[0].Description)
	}
}

func TestWorkedExample5UKPreset(t *testing.T) {
	f := domain.InvoiceFacts{
		InvoiceID: "inv_5", Currency: "GBP", Principal: 250000, DueDate: d("2026-02-28"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{Preset: domain.PresetUKLatePayment}},
		Rates:     domain.RateTable{domain.SeriesBOEBase: {{EffectiveFrom: d("2025-08-07"), Rate: "4.00"}}},
	}
	assertBriefs(t, mustCharges(t, f, "2026-04-01"), []brief{
		{"compensation", "2026-03-01", 7000},
		{"interest:2026-03", "2026-04-01", 2548},
	})
	f.PrincipalReductions = []domain.Reduction{{On: d("2026-04-10"), Amount: 250000}}
	assertBriefs(t, mustCharges(t, f, "2026-05-01"), []brief{
		{"compensation", "2026-03-01", 7000},
		{"interest:2026-03", "2026-04-01", 2548},
		{"interest:2026-04", "2026-04-10", 822},
	})
}

func TestWorkedExample6RussianArt395(t *testing.T) {
	f := domain.InvoiceFacts{
		InvoiceID: "inv_6", Currency: "RUB", Principal: 10000000, DueDate: d("2026-01-15"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{Preset: domain.PresetRUCivilCode395}},
		Rates: domain.RateTable{domain.SeriesCBRKey: {
			{EffectiveFrom: d("2025-10-27"), Rate: "16.5"},
			{EffectiveFrom: d("2026-02-14"), Rate: "16.0"},
		}},
	}
	got := mustCharges(t, f, "2026-03-01")
	assertBriefs(t, got, []brief{
		{"interest:2026-01", "2026-02-01", 72329},
		{"interest:2026-02", "2026-03-01", 124521},
	})
	feb := got[1].Breakdown
	if len(feb) != 2 || feb[0].Days != 13 || feb[0].AnnualRate != "16.5" || feb[1].Days != 15 || feb[1].AnnualRate != "16" || feb[1].DayCount != "act/act" {
		t.Errorf("February breakdown = %+v", feb)
	}
}

// TestChargesDueCatchUp checks that a sweep that missed days posts exactly
// what daily sweeps would have: ChargesDue on day 40 is the union of
// ChargesDue on each day up to it, each run seeing only the payments made by then.
func TestChargesDueCatchUp(t *testing.T) {
	base := domain.InvoiceFacts{
		InvoiceID: "inv_c", Currency: "EUR", Principal: 250000, DueDate: d("2026-01-20"),
		Agreement: domain.Agreement{
			GraceDays:         3,
			LateFee:           &domain.LateFee{Flat: 1000, Percent: "2", RepeatEveryDays: 7, MaxTotal: 20000},
			Interest:          &domain.InterestTerms{AnnualRate: "9.5", Compound: true},
			FixedCompensation: 1500,
		},
		PrincipalReductions: []domain.Reduction{{On: d("2026-02-05"), Amount: 70000}, {On: d("2026-02-25"), Amount: 30000}},
	}
	day1 := domain.DayOneOverdue(base.DueDate, base.Agreement.GraceDays)
	last := day1.AddDays(39)

	seen := map[string]domain.DueCharge{}
	for day := day1; !day.After(last); day = day.AddDays(1) {
		f := base
		f.PrincipalReductions = nil
		for _, r := range base.PrincipalReductions {
			if !r.On.After(day) {
				f.PrincipalReductions = append(f.PrincipalReductions, r)
			}
		}
		for _, c := range mustCharges(t, f, day.String()) {
			if prev, ok := seen[c.Key]; ok {
				if prev.Amount != c.Amount {
					t.Errorf("%s: %s changed from %d to %d", day, c.Key, prev.Amount, c.Amount)
				}
				continue
			}
			if c.PostOn.After(day) {
				t.Errorf("%s: %s due before its posting day %s", day, c.Key, c.PostOn)
			}
			seen[c.Key] = c
		}
	}
	once := mustCharges(t, base, last.String())
	if len(once) != len(seen) {
		t.Errorf("catch-up gives %d charges, daily sweeps %d: %v", len(once), len(seen), briefs(once))
	}
	for _, c := range once {
		if daily, ok := seen[c.Key]; !ok || daily.Amount != c.Amount || daily.PostOn != c.PostOn {
			t.Errorf("catch-up %s = %d on %s; daily sweeps gave %+v", c.Key, c.Amount, c.PostOn, daily)
		}
	}
	// Day 1 is 2026-01-24. Fees on days 1, 8, 15, 22, 29, 36 of 1,000.00 +
	// 2 % of the principal then outstanding, cut at 200.00 in all.
	assertBriefs(t, once, []brief{
		{"compensation", "2026-01-24", 1500},
		{"late_fee:1", "2026-01-24", 6000},
		{"late_fee:2", "2026-01-31", 6000},
		{"interest:2026-01", "2026-02-01", 521}, // 250000 × 9.5 % × 8 / 365 = 520.55
		{"late_fee:3", "2026-02-07", 4600},
		{"late_fee:4", "2026-02-14", 3400},
		// 1 Feb on 250,000, 2-5 Feb on 250,521 (January compounded), 6-25 Feb
		// on 180,521, 26-28 Feb on 150,521: 1383.11.
		{"interest:2026-02", "2026-03-01", 1383},
	})
}

func TestLateFeeRepeatsAndCaps(t *testing.T) {
	facts := func(lf domain.LateFee, waivers ...domain.WaiverFact) domain.InvoiceFacts {
		return domain.InvoiceFacts{
			InvoiceID: "inv_f", Currency: "EUR", Principal: 100000, DueDate: d("2026-01-31"),
			Agreement: domain.Agreement{LateFee: &lf},
			Waivers:   waivers,
		}
	}
	tests := []struct {
		name string
		f    domain.InvoiceFacts
		asOf string
		want []brief
	}{
		{"every 10 days, unlimited", facts(domain.LateFee{Flat: 1000, RepeatEveryDays: 10}), "2026-02-21", []brief{
			{"late_fee:1", "2026-02-01", 1000}, {"late_fee:2", "2026-02-11", 1000}, {"late_fee:3", "2026-02-21", 1000},
		}},
		{"max_count 2", facts(domain.LateFee{Flat: 1000, RepeatEveryDays: 10, MaxCount: 2}), "2026-06-01", []brief{
			{"late_fee:1", "2026-02-01", 1000}, {"late_fee:2", "2026-02-11", 1000},
		}},
		{"max_total cuts the third fee", facts(domain.LateFee{Flat: 1000, RepeatEveryDays: 10, MaxTotal: 2500}), "2026-06-01", []brief{
			{"late_fee:1", "2026-02-01", 1000}, {"late_fee:2", "2026-02-11", 1000}, {"late_fee:3", "2026-02-21", 500},
		}},
		{"max_total below the first fee", facts(domain.LateFee{Flat: 2500, Percent: "1.5", MaxTotal: 3000}), "2026-06-01", []brief{
			{"late_fee:1", "2026-02-01", 3000},
		}},
		{"a waived fee still counts toward the cap", facts(domain.LateFee{Flat: 1000, RepeatEveryDays: 10, MaxTotal: 2500},
			domain.WaiverFact{Key: "late_fee:1", On: d("2026-02-01")}),
			"2026-06-01", []brief{
				{"late_fee:1", "2026-02-01", 1000}, {"late_fee:2", "2026-02-11", 1000}, {"late_fee:3", "2026-02-21", 500},
			}},
		{"no repeat means one fee", facts(domain.LateFee{Flat: 1000}), "2026-12-31", []brief{
			{"late_fee:1", "2026-02-01", 1000},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertBriefs(t, mustCharges(t, tt.f, tt.asOf), tt.want)
		})
	}
}

func TestLateFeeFollowsPrincipal(t *testing.T) {
	f := domain.InvoiceFacts{
		InvoiceID: "inv_p", Currency: "EUR", Principal: 100000, DueDate: d("2026-01-31"),
		Agreement: domain.Agreement{LateFee: &domain.LateFee{Percent: "10", RepeatEveryDays: 10}},
		PrincipalReductions: []domain.Reduction{
			{On: d("2026-02-11"), Amount: 60000}, // counts from 12 February: fee 2 is on 100,000
			{On: d("2026-02-21"), Amount: 40000}, // paid in full on day 21: fee 3 is still assessed
		},
	}
	assertBriefs(t, mustCharges(t, f, "2026-04-01"), []brief{
		{"late_fee:1", "2026-02-01", 10000},
		{"late_fee:2", "2026-02-11", 10000},
		{"late_fee:3", "2026-02-21", 4000},
	})
	// Paid in full the day before day 1 overdue: nothing at all.
	f.PrincipalReductions = []domain.Reduction{{On: d("2026-01-31"), Amount: 100000}}
	assertBriefs(t, mustCharges(t, f, "2026-04-01"), nil)
}

func TestInterestDayCounts(t *testing.T) {
	// 1,000.00 due 2028-01-31 at 12 %: February 2028 has 29 days.
	tests := []struct {
		name string
		it   domain.InterestTerms
		want int64
	}{
		{"act/365 ignores the leap year", domain.InterestTerms{AnnualRate: "12", DayCount: "act/365"}, 953},  // 348000/365 = 953.42
		{"act/360", domain.InterestTerms{AnnualRate: "12", DayCount: "act/360"}, 967},                        // 348000/360 = 966.67
		{"act/act divides by 366 in 2028", domain.InterestTerms{AnnualRate: "12", DayCount: "act/act"}, 951}, // 348000/366 = 950.82
		{"empty day count is act/365", domain.InterestTerms{AnnualRate: "12"}, 953},
		{"daily rate used as given", domain.InterestTerms{DailyRate: "0.05"}, 1450}, // 100000 × 0.0005 × 29
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := tt.it
			f := domain.InvoiceFacts{
				InvoiceID: "inv_d", Currency: "EUR", Principal: 100000, DueDate: d("2028-01-31"),
				Agreement: domain.Agreement{Interest: &it},
			}
			assertBriefs(t, mustCharges(t, f, "2028-03-01"), []brief{{"interest:2028-02", "2028-03-01", tt.want}})
		})
	}
}

func TestInterestActActAcrossYearEnd(t *testing.T) {
	// 10,000.00 at 10 % act/act due 2027-12-30: 2 days of 2027 (/365), 31 of 2028 (/366).
	f := domain.InvoiceFacts{
		InvoiceID: "inv_y", Currency: "EUR", Principal: 1000000, DueDate: d("2027-12-29"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{AnnualRate: "10", DayCount: "act/act"}},
	}
	assertBriefs(t, mustCharges(t, f, "2028-02-01"), []brief{
		{"interest:2027-12", "2028-01-01", 548},  // 100000 × 2 / 365 = 547.95
		{"interest:2028-01", "2028-02-01", 8470}, // 100000 × 31 / 366 = 8469.95
	})
}

func TestCompoundInterest(t *testing.T) {
	f := simple12()
	f.Agreement.Interest.Compound = true
	// February 921 is posted on 1 March and joins the base on 2 March:
	// (100000 × 12 % × 1 + 100921 × 12 % × 30) / 365 = 375315.6 / 365 = 1028.26.
	got := mustCharges(t, f, "2026-04-01")
	assertBriefs(t, got, []brief{
		{"interest:2026-02", "2026-03-01", 921},
		{"interest:2026-03", "2026-04-01", 1028},
	})
	if spans := got[1].Breakdown; len(spans) != 2 || spans[1].Base != 100921 || spans[1].Days != 30 {
		t.Errorf("March breakdown = %+v", spans)
	}
	// Interest paid on 10 March leaves the base from 11 March:
	// (12000 × 1 + 12110.52 × 9 + 12000 × 21) / 365 = 372994.68 / 365 = 1021.9.
	f.Payments = []domain.PaymentFact{{ID: "pay_1", On: d("2026-03-10"), Amount: 921}}
	assertBriefs(t, mustCharges(t, f, "2026-04-01"), []brief{
		{"interest:2026-02", "2026-03-01", 921},
		{"interest:2026-03", "2026-04-01", 1022},
	})
	// Waived interest never joins the base.
	f.Payments = nil
	f.Waivers = []domain.WaiverFact{{Key: "interest:2026-02", On: d("2026-03-01")}}
	assertBriefs(t, mustCharges(t, f, "2026-04-01"), []brief{
		{"interest:2026-02", "2026-03-01", 921},
		{"interest:2026-03", "2026-04-01", 1019},
	})
}

func TestInterestRoundingByCurrency(t *testing.T) {
	tests := []struct {
		name      string
		currency  string
		principal int64
		want      int64
	}{
		// 12 % act/365, 28 days of February 2026, rounded once per posting.
		{"zero-decimal JPY", "JPY", 1000000, 9205},  // ¥1,000,000 × 0.12 × 28/365 = 9205.48 -> ¥9,205
		{"zero-decimal JPY small", "JPY", 543, 5},   // 543 × 0.12 × 28/365 = 4.9986 -> ¥5
		{"three-decimal KWD", "KWD", 1000000, 9205}, // 1,000.000 KWD -> 9.205 KWD
		{"three-decimal KWD half", "KWD", 5475, 50}, // 5475 × 0.12 × 28/365 = 50.4 fils
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := simple12()
			f.Currency, f.Principal = tt.currency, tt.principal
			assertBriefs(t, mustCharges(t, f, "2026-03-01"), []brief{{"interest:2026-02", "2026-03-01", tt.want}})
		})
	}
}

func TestZeroInterestPostingIsLeftOut(t *testing.T) {
	f := simple12()
	f.Principal = 10 // 0.10 EUR × 12 % × 28/365 = 0.092 cents -> 0
	assertBriefs(t, mustCharges(t, f, "2026-03-01"), nil)
}

func TestMissingRate(t *testing.T) {
	f := domain.InvoiceFacts{
		InvoiceID: "inv_m", Currency: "EUR", Principal: 500000, DueDate: d("2026-03-31"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{Preset: domain.PresetEULatePayment}},
		Rates:     domain.RateTable{domain.SeriesECBMRO: {{EffectiveFrom: d("2026-02-01"), Rate: "2.15"}}},
	}
	_, err := domain.ChargesDue(f, d("2026-04-02"))
	var missing *domain.MissingRateError
	if !errors.As(err, &missing) {
		t.Fatalf("err = %v, want *MissingRateError", err)
	}
	if missing.Series != "ECB_MRO" || missing.On != d("2026-01-01") {
		t.Errorf("missing = %+v, want ECB_MRO on 2026-01-01", missing)
	}
	if msg := err.Error(); !strings.Contains(msg, "ECB_MRO") || !strings.Contains(msg, "2026-01-01") {
		t.Errorf("message %q does not name the series and date", msg)
	}
	if _, err := domain.Accrual(f, d("2026-04-02")); !errors.As(err, &missing) {
		t.Errorf("Accrual err = %v, want *MissingRateError", err)
	}
}

func TestAccrual(t *testing.T) {
	f := simple12()
	f.Agreement.LateFee = &domain.LateFee{Flat: 2500, Percent: "1.5"}
	tests := []struct {
		name     string
		payments []domain.PaymentFact
		asOf     string
		want     domain.Quote
	}{
		{"before due", nil, "2026-01-31", domain.Quote{Principal: 100000, PrincipalOutstanding: 100000, Payoff: 100000}},
		{"mid March", nil, "2026-03-15", domain.Quote{
			Principal: 100000, PrincipalOutstanding: 100000, FeesOutstanding: 4000,
			InterestPostedOutstanding: 921, InterestAccruedUnposted: 493, // 12000 × 15 / 365 = 493.15
			Payoff: 105414, DaysOverdue: 43,
		}},
		{"end of February: the month is accrued, not posted", nil, "2026-02-28", domain.Quote{
			Principal: 100000, PrincipalOutstanding: 100000, FeesOutstanding: 4000,
			InterestAccruedUnposted: 921, Payoff: 104921, DaysOverdue: 28,
		}},
		{"charges partly paid, fee first", []domain.PaymentFact{{ID: "p", On: d("2026-03-01"), Amount: 4500}}, "2026-03-15", domain.Quote{
			Principal: 100000, PrincipalOutstanding: 100000,
			InterestPostedOutstanding: 421, InterestAccruedUnposted: 493,
			Payoff: 100914, DaysOverdue: 43,
		}},
		{"paid in full on 10 March", []domain.PaymentFact{{ID: "p", On: d("2026-03-10"), Amount: 104921}}, "2026-03-15", domain.Quote{
			Principal: 100000, InterestPostedOutstanding: 329, // March 1-10: 120000/365 = 328.77
			Payoff: 329,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := f
			f.Payments = tt.payments
			got, err := domain.Accrual(f, d(tt.asOf))
			if err != nil {
				t.Fatal(err)
			}
			tt.want.AsOf = d(tt.asOf)
			if got != tt.want {
				t.Errorf("Accrual\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestAccrualMatchesFinalPosting(t *testing.T) {
	// Quoting on the payoff day gives what the final posting will be.
	f := simple12()
	q, err := domain.Accrual(f, d("2026-04-10"))
	if err != nil {
		t.Fatal(err)
	}
	f.PrincipalReductions = []domain.Reduction{{On: d("2026-04-10"), Amount: q.PrincipalOutstanding}}
	charges := mustCharges(t, f, "2026-04-10")
	final := charges[len(charges)-1]
	if final.Key != "interest:2026-04" || final.Amount != q.InterestAccruedUnposted || final.PostOn != d("2026-04-10") {
		t.Errorf("final posting %+v, quoted %d", final, q.InterestAccruedUnposted)
	}
}

func TestWaivedChargesAreNotOwed(t *testing.T) {
	f := simple12()
	f.Agreement.LateFee = &domain.LateFee{Flat: 2500}
	f.Waivers = []domain.WaiverFact{{Key: "late_fee:1", On: d("2026-02-01")}}
	q, err := domain.Accrual(f, d("2026-03-01"))
	if err != nil {
		t.Fatal(err)
	}
	// 1 March accrues 12000/365 = 32.88 -> 33.
	if q.FeesOutstanding != 0 || q.InterestPostedOutstanding != 921 || q.InterestAccruedUnposted != 33 || q.Payoff != 100954 {
		t.Errorf("quote = %+v", q)
	}
}

func TestRemindersDue(t *testing.T) {
	due := d("2026-01-31")
	tests := []struct {
		asOf string
		want []string
	}{
		{"2026-01-27", nil},
		{"2026-01-28", []string{"reminder:-3@2026-01-28"}},
		{"2026-01-31", []string{"reminder:-3@2026-01-28", "reminder:0@2026-01-31"}},
		{"2026-03-02", []string{"reminder:-3@2026-01-28", "reminder:0@2026-01-31", "reminder:7@2026-02-07", "reminder:14@2026-02-14", "reminder:30@2026-03-02"}},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range domain.RemindersDue([]int{30, 0, -3, 14, 7, 0}, due, d(tt.asOf)) {
			got = append(got, fmt.Sprintf("%s@%s", r.Key, r.On))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("RemindersDue(%s) = %v, want %v", tt.asOf, got, tt.want)
		}
	}
}

func TestChargesDueRefusesMissingDueDate(t *testing.T) {
	f := simple12()
	f.DueDate = domain.Date{}
	if _, err := domain.ChargesDue(f, d("2026-03-01")); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("err = %v, want invalid", err)
	}
}

// BenchmarkChargesDue measures a sweep's work for an invoice three years
// overdue under a preset whose rate is looked up every day.
func BenchmarkChargesDue(b *testing.B) {
	f := domain.InvoiceFacts{
		InvoiceID: "inv_b", Currency: "RUB", Principal: 10000000, DueDate: d("2026-01-15"),
		Agreement: domain.Agreement{
			LateFee:  &domain.LateFee{Flat: 1000, RepeatEveryDays: 30},
			Interest: &domain.InterestTerms{Preset: domain.PresetRUCivilCode395},
		},
		Rates: domain.RateTable{domain.SeriesCBRKey: {
			{EffectiveFrom: d("2025-10-27"), Rate: "16.5"},
			{EffectiveFrom: d("2026-02-14"), Rate: "16.0"},
			{EffectiveFrom: d("2027-06-01"), Rate: "12.0"},
		}},
	}
	for b.Loop() {
		if _, err := domain.ChargesDue(f, d("2029-01-15")); err != nil {
			b.Fatal(err)
		}
	}
}
