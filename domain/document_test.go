package domain_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/remit/remit/domain"
)

// posted turns a due charge into the charge the store keeps, its breakdown
// through the JSON the store writes.
func posted(t *testing.T, c domain.DueCharge) domain.Charge {
	t.Helper()
	raw, err := json.Marshal(c.Breakdown)
	if err != nil {
		t.Fatal(err)
	}
	out := domain.Charge{Key: c.Key, Kind: c.Kind, Amount: c.Amount, PostedOn: c.PostOn, PeriodFrom: c.From, PeriodTo: c.To, Days: c.Days}
	if err := json.Unmarshal(raw, &out.Breakdown); err != nil {
		t.Fatal(err)
	}
	return out
}

func periodBriefs(ps []domain.InterestPeriod) []string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s..%s %d on %d at %s%s %s = %d posted=%v", p.From, p.To, p.Days, p.Base, p.Rate, p.DailyRate, p.DayCount, p.Amount, p.Posted))
	}
	return out
}

// TestChargePeriodsAddUp shares each posting over its periods so that the
// shares add up to the posting to the cent.
func TestChargePeriodsAddUp(t *testing.T) {
	art395 := domain.InvoiceFacts{
		InvoiceID: "inv_6", Currency: "RUB", Principal: 10000000, DueDate: d("2026-01-15"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{Preset: domain.PresetRUCivilCode395}},
		Rates: domain.RateTable{domain.SeriesCBRKey: {
			{EffectiveFrom: d("2025-10-27"), Rate: "16.5"},
			{EffectiveFrom: d("2026-02-14"), Rate: "16.0"},
		}},
	}
	partial := simple12()
	partial.PrincipalReductions = []domain.Reduction{{On: d("2026-02-10"), Amount: 40000}}
	tests := []struct {
		name string
		f    domain.InvoiceFacts
		want []string
	}{
		// ENFORCEMENT.md 10.2: one period, the whole posting.
		{"example 2", simple12(), []string{"2026-02-01..2026-02-28 28 on 100000 at 12 act/365 = 921 posted=true"}},
		// 10.3: 1,000.00 for 10 days (3.2877) and 600.00 for 18 (3.5507): 6.84 in all.
		{"example 3", partial, []string{
			"2026-02-01..2026-02-10 10 on 100000 at 12 act/365 = 329 posted=true",
			"2026-02-11..2026-02-28 18 on 60000 at 12 act/365 = 355 posted=true",
		}},
		// 10.6: 13 days at 16.5 (587.6712) and 15 at 16.0 (657.5342): 1,245.21 in all,
		// so the second share is 1,245.21 - 587.67 = 657.54.
		{"example 6", art395, []string{
			"2026-02-01..2026-02-13 13 on 10000000 at 16.5 act/act = 58767 posted=true",
			"2026-02-14..2026-02-28 15 on 10000000 at 16 act/act = 65754 posted=true",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			charges := mustCharges(t, tc.f, "2026-03-01")
			feb := charges[len(charges)-1]
			got := domain.ChargePeriods(posted(t, feb))
			if g := periodBriefs(got); !slices.Equal(g, tc.want) {
				t.Fatalf("periods\n got %q\nwant %q", g, tc.want)
			}
			var sum int64
			for _, p := range got {
				sum += p.Amount
			}
			if sum != feb.Amount {
				t.Fatalf("periods add up to %d, posting is %d", sum, feb.Amount)
			}
		})
	}
}

func TestChargePeriodsWithoutBreakdown(t *testing.T) {
	c := domain.Charge{Kind: domain.ChargeInterest, Amount: 921, PeriodFrom: d("2026-02-01"), PeriodTo: d("2026-02-28"), Days: 28}
	want := []string{"2026-02-01..2026-02-28 28 on 0 at   = 921 posted=true"}
	if g := periodBriefs(domain.ChargePeriods(c)); !slices.Equal(g, want) {
		t.Fatalf("got %q", g)
	}
}

// TestStatementLine is example 2 on 2026-03-10 twice: with nothing posted
// (the sweep has not run: February's 9.21 is due and unposted, March has
// accrued 10 days, 3.29), and with February posted and 10.00 paid on
// 2026-03-01 (9.21 interest, 0.79 principal), so March runs 1 day on
// 1,000.00 and 9 on 999.21.
func TestStatementLine(t *testing.T) {
	asOf := d("2026-03-10")
	inv := domain.Invoice{ID: "inv_1", Number: "INV-2026-0001", Status: domain.InvoiceStatusOpen, IssueDate: d("2026-01-01"), DueDate: d("2026-01-31"),
		Total: 100000, BalanceDue: 100000}
	f := simple12()
	f.Agreement.Version, f.Agreement.EffectiveFrom = 1, d("2026-01-01")

	line, err := domain.StatementLine(inv, nil, nil, f, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if line.InterestAccruedUnposted != 921+329 || line.ChargesUnposted != 0 || line.AmountDue != 101250 || line.DaysOverdue != 38 {
		t.Fatalf("unposted %d, fees %d, due %d, days %d", line.InterestAccruedUnposted, line.ChargesUnposted, line.AmountDue, line.DaysOverdue)
	}
	want := []string{
		"2026-02-01..2026-02-28 28 on 100000 at 12 act/365 = 921 posted=false",
		"2026-03-01..2026-03-10 10 on 100000 at 12 act/365 = 329 posted=false",
	}
	if g := periodBriefs(line.InterestPeriods); !slices.Equal(g, want) {
		t.Fatalf("periods\n got %q\nwant %q", g, want)
	}
	if line.LegalBasis != "the late-payment terms of our agreement (version 1, in force from 1 January 2026), as printed on the invoice" {
		t.Fatalf("legal basis %q", line.LegalBasis)
	}

	feb := mustCharges(t, f, "2026-03-01")[0]
	f.Payments = []domain.PaymentFact{{ID: "pay_1", On: d("2026-03-01"), Amount: 1000}} // 921 interest, 79 principal
	inv.ChargesTotal, inv.AmountPaid, inv.BalanceDue = 921, 1000, 99921
	line, err = domain.StatementLine(inv, []domain.Charge{posted(t, feb)}, nil, f, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if line.InterestAccruedUnposted != 329 || line.AmountDue != 100250 || line.DaysOverdue != 38 {
		t.Fatalf("unposted %d, due %d, days %d", line.InterestAccruedUnposted, line.AmountDue, line.DaysOverdue)
	}
	want = []string{
		"2026-02-01..2026-02-28 28 on 100000 at 12 act/365 = 921 posted=true",
		"2026-03-01..2026-03-01 1 on 100000 at 12 act/365 = 33 posted=false",
		"2026-03-02..2026-03-10 9 on 99921 at 12 act/365 = 296 posted=false",
	}
	if g := periodBriefs(line.InterestPeriods); !slices.Equal(g, want) {
		t.Fatalf("periods\n got %q\nwant %q", g, want)
	}

	// A waived posting is not claimed.
	waived := posted(t, feb)
	waived.Waived = true
	line, err = domain.StatementLine(inv, []domain.Charge{waived}, nil, f, asOf)
	if err != nil || len(line.InterestPeriods) != 2 || line.InterestPeriods[0].Posted {
		t.Fatalf("waived posting: %q, %v", periodBriefs(line.InterestPeriods), err)
	}
}

func TestStatementLineFeesNotYetPosted(t *testing.T) {
	f := domain.InvoiceFacts{InvoiceID: "inv_1", Currency: "EUR", Principal: 100000, DueDate: d("2026-01-31"),
		Agreement: domain.Agreement{LateFee: &domain.LateFee{Flat: 2500, Percent: "1.5"}, Interest: &domain.InterestTerms{Preset: domain.PresetEULatePayment}},
		Rates:     domain.RateTable{domain.SeriesECBMRO: {{EffectiveFrom: d("2025-06-11"), Rate: "2.15"}}}}
	inv := domain.Invoice{ID: "inv_1", Total: 100000, BalanceDue: 100000, DueDate: d("2026-01-31")}
	line, err := domain.StatementLine(inv, nil, nil, f, d("2026-02-01"))
	if err != nil {
		t.Fatal(err)
	}
	// Day 1: the 40.00 compensation and the 25.00 + 15.00 fee; 1 day at 10.15 % on 1,000.00 = 0.2781.
	if line.ChargesUnposted != 4000+4000 || line.InterestAccruedUnposted != 28 || line.AmountDue != 108028 || line.DaysOverdue != 1 {
		t.Fatalf("fees %d, interest %d, due %d, days %d", line.ChargesUnposted, line.InterestAccruedUnposted, line.AmountDue, line.DaysOverdue)
	}
	if line.LegalBasis != domain.PresetLegalBasis(domain.PresetEULatePayment) {
		t.Fatalf("legal basis %q", line.LegalBasis)
	}
	// A rate that is not loaded is reported, not guessed.
	f.Rates = nil
	if _, err := domain.StatementLine(inv, nil, nil, f, d("2026-02-01")); err == nil {
		t.Fatal("no error without the ECB rate")
	}
}

func TestTermChanges(t *testing.T) {
	prev := domain.Agreement{PaymentTerms: "net_30"}
	next := domain.Agreement{PaymentTerms: "net_15", LateFee: &domain.LateFee{Flat: 2500}}
	want := []string{
		"Payment is due within 15 days of the issue date.",
		"A late fee of 25.00 EUR applies.",
		"No longer: Payment is due within 30 days of the issue date.",
	}
	if got := domain.TermChanges(prev, next, "EUR"); !slices.Equal(got, want) {
		t.Fatalf("changes\n got %q\nwant %q", got, want)
	}
}
