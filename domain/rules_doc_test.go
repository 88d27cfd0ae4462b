package domain_test

import (
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/remit/remit/domain"
)

// The worked examples of docs/RULES.md section 13, example by example, to
// the cent, through the functions the server uses. A figure changed here
// must change there too; TestRulesDocFigures checks that the page still
// prints each figure this file asserts.

func TestRulesExampleATermsGraceTimeZone(t *testing.T) {
	due, err := domain.DueDate("net_15", d("2026-04-10"))
	if err != nil || due != d("2026-04-25") {
		t.Fatalf("DueDate = %s, %v; want 2026-04-25", due, err)
	}
	if day1 := domain.DayOneOverdue(due, 3); day1 != d("2026-04-29") {
		t.Fatalf("DayOneOverdue = %s, want 2026-04-29", day1)
	}
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	if got := domain.DateOf(time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC), moscow); got != d("2026-03-02") {
		t.Fatalf("issue date in Moscow = %s, want 2026-03-02", got)
	}
}

// exampleB is 2,400.00 EUR due 2026-04-25 with the capped repeating fee.
func exampleB() domain.InvoiceFacts {
	return domain.InvoiceFacts{
		InvoiceID: "inv_b", Currency: "EUR", Principal: 240000, DueDate: d("2026-04-25"),
		Agreement: domain.Agreement{PaymentTerms: "net_15", GraceDays: 3, Allocation: "charges_first",
			LateFee: &domain.LateFee{Flat: 3000, Percent: "2", RepeatEveryDays: 14, MaxCount: 3, MaxTotal: 18000}},
		PrincipalReductions: []domain.Reduction{{On: d("2026-05-10"), Amount: 90000}},
	}
}

func TestRulesExampleBRepeatedFeesWithACap(t *testing.T) {
	f := exampleB()
	// The 978.00 payment of 2026-05-10 meets the first fee, then principal.
	alloc := domain.Allocate("charges_first", 97800, domain.Outstanding{Fees: 7800, Principal: 240000})
	if alloc != (domain.Allocation{Fees: 7800, Principal: 90000}) {
		t.Fatalf("allocation %+v", alloc)
	}
	assertBriefs(t, mustCharges(t, f, "2026-04-28"), nil)
	assertBriefs(t, mustCharges(t, f, "2026-12-31"), []brief{
		{"late_fee:1", "2026-04-29", 7800},
		{"late_fee:2", "2026-05-13", 6000},
		{"late_fee:3", "2026-05-27", 4200},
	})
}

// exampleC is 2,500.00 EUR due 2026-05-15 at 9 % a year under dayCount.
func exampleC(dayCount string) domain.InvoiceFacts {
	return domain.InvoiceFacts{
		InvoiceID: "inv_c", Currency: "EUR", Principal: 250000, DueDate: d("2026-05-15"),
		Agreement: domain.Agreement{PaymentTerms: "net_30", Allocation: "principal_first",
			Interest: &domain.InterestTerms{AnnualRate: "9", DayCount: dayCount}},
	}
}

func TestRulesExampleCDayCounts(t *testing.T) {
	got := mustCharges(t, exampleC("act/365"), "2026-07-01")
	assertBriefs(t, got, []brief{{"interest:2026-05", "2026-06-01", 986}, {"interest:2026-06", "2026-07-01", 1849}})
	assertExact(t, got[0], "72000/73")
	assertExact(t, got[1], "135000/73")
	if got[0].Days != 16 || got[1].Days != 30 {
		t.Fatalf("days %d and %d, want 16 and 30", got[0].Days, got[1].Days)
	}
	assertBriefs(t, mustCharges(t, exampleC("act/360"), "2026-07-01"),
		[]brief{{"interest:2026-05", "2026-06-01", 1000}, {"interest:2026-06", "2026-07-01", 1875}})

	leap := func(dayCount string) domain.InvoiceFacts {
		return domain.InvoiceFacts{InvoiceID: "inv_leap", Currency: "EUR", Principal: 100000, DueDate: d("2024-01-31"),
			Agreement: domain.Agreement{Interest: &domain.InterestTerms{AnnualRate: "12", DayCount: dayCount}}}
	}
	actact := mustCharges(t, leap("act/act"), "2024-03-01")
	assertBriefs(t, actact, []brief{{"interest:2024-02", "2024-03-01", 951}})
	assertExact(t, actact[0], "58000/61")
	act365 := mustCharges(t, leap("act/365"), "2024-03-01")
	assertBriefs(t, act365, []brief{{"interest:2024-02", "2024-03-01", 953}})
	assertExact(t, act365[0], "69600/73")
}

func TestRulesExampleDPartPaymentQuoteFinalPosting(t *testing.T) {
	f := exampleC("act/365")
	f.PrincipalReductions = []domain.Reduction{{On: d("2026-06-10"), Amount: 100000}}
	june := mustCharges(t, f, "2026-07-01")
	assertBriefs(t, june, []brief{{"interest:2026-05", "2026-06-01", 986}, {"interest:2026-06", "2026-07-01", 1356}})
	assertExact(t, june[1], "99000/73")

	q, err := domain.Accrual(f, d("2026-07-10"))
	if err != nil {
		t.Fatal(err)
	}
	if q.PrincipalOutstanding != 150000 || q.InterestPostedOutstanding != 2342 || q.InterestAccruedUnposted != 370 || q.Payoff != 152712 {
		t.Fatalf("quote on 2026-07-10: %+v", q)
	}

	paid := f
	paid.PrincipalReductions = append(paid.PrincipalReductions, domain.Reduction{On: d("2026-07-20"), Amount: 150000})
	all := mustCharges(t, paid, "2026-07-20")
	assertBriefs(t, all, []brief{{"interest:2026-05", "2026-06-01", 986}, {"interest:2026-06", "2026-07-01", 1356}, {"interest:2026-07", "2026-07-20", 740}})
	assertExact(t, all[2], "54000/73")
	if payment := 150000 + 986 + 1356 + 740; payment != 153082 {
		t.Fatalf("the payment in full is %d", payment)
	}

	// Late facts: June as first posted, before the payment was recorded,
	// and as the dated facts give it.
	unpaid := mustCharges(t, exampleC("act/365"), "2026-07-01")
	if correction := june[1].Amount - unpaid[1].Amount; unpaid[1].Amount != 1849 || correction != -493 {
		t.Fatalf("June first posted %d, correction %d; want 1849 and -493", unpaid[1].Amount, correction)
	}
}

func TestRulesExampleERounding(t *testing.T) {
	for _, tc := range []struct {
		currency  string
		principal int64
		want      int64
	}{{"EUR", 100100, 1502}, {"JPY", 10001, 150}} {
		f := domain.InvoiceFacts{InvoiceID: "inv_e", Currency: tc.currency, Principal: tc.principal, DueDate: d("2026-05-15"),
			Agreement: domain.Agreement{LateFee: &domain.LateFee{Percent: "1.5"}}}
		assertBriefs(t, mustCharges(t, f, "2026-05-16"), []brief{{"late_fee:1", "2026-05-16", tc.want}})
	}
	if got, err := domain.RoundHalfAway(big.NewRat(-3003, 2)); err != nil || got != -1502 {
		t.Fatalf("RoundHalfAway(-1501.5) = %d, %v", got, err)
	}
}

func TestRulesExampleFAllocation(t *testing.T) {
	owed := domain.Outstanding{Fees: 7800, Principal: 240000}
	for _, tc := range []struct {
		order  string
		amount int64
		want   domain.Allocation
	}{
		{"charges_first", 97800, domain.Allocation{Fees: 7800, Principal: 90000}},
		{"principal_first", 97800, domain.Allocation{Principal: 97800}},
		{"charges_first", 250000, domain.Allocation{Fees: 7800, Principal: 240000, Credit: 2200}},
	} {
		if got := domain.Allocate(tc.order, tc.amount, owed); got != tc.want {
			t.Errorf("Allocate(%s, %d) = %+v, want %+v", tc.order, tc.amount, got, tc.want)
		}
	}
}

func TestRulesExampleGEULatePayment(t *testing.T) {
	f := domain.InvoiceFacts{
		InvoiceID: "inv_g", Currency: "EUR", Principal: 800000, DueDate: d("2026-05-20"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{Preset: "eu_late_payment"}},
		Rates:     domain.RateTable{"ECB_MRO": {{EffectiveFrom: d("2025-06-11"), Rate: "2.15"}, {EffectiveFrom: d("2026-03-18"), Rate: "1.90"}}},
	}
	got := mustCharges(t, f, "2026-08-01")
	assertBriefs(t, got, []brief{
		{"compensation", "2026-05-21", 4000},
		{"interest:2026-05", "2026-06-01", 2447},
		{"interest:2026-06", "2026-07-01", 6674},
		{"interest:2026-07", "2026-08-01", 6727},
	})
	assertExact(t, got[1], "178640/73")
	assertExact(t, got[2], "487200/73")
	assertExact(t, got[3], "491040/73")
	if r := got[1].Breakdown[0].AnnualRate; r != "10.15" {
		t.Fatalf("first half-year rate %s", r)
	}
	if r := got[3].Breakdown[0].AnnualRate; r != "9.9" {
		t.Fatalf("second half-year rate %s", r)
	}
}

func TestRulesExampleHUKLatePayment(t *testing.T) {
	f := domain.InvoiceFacts{
		InvoiceID: "inv_h", Currency: "GBP", Principal: 1200000, DueDate: d("2026-08-31"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{Preset: "uk_late_payment"}},
		Rates:     domain.RateTable{"BOE_BASE": {{EffectiveFrom: d("2026-06-18"), Rate: "3.50"}, {EffectiveFrom: d("2026-09-17"), Rate: "3.25"}}},
	}
	got := mustCharges(t, f, "2026-11-01")
	assertBriefs(t, got, []brief{
		{"compensation", "2026-09-01", 10000},
		{"interest:2026-09", "2026-10-01", 11342},
		{"interest:2026-10", "2026-11-01", 11721},
	})
	assertExact(t, got[1], "828000/73")
	assertExact(t, got[2], "855600/73")
}

func TestRulesExampleIRUCivilCode395(t *testing.T) {
	f := domain.InvoiceFacts{
		InvoiceID: "inv_i", Currency: "RUB", Principal: 50000000, DueDate: d("2024-02-10"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{Preset: "ru_civil_code_395"}},
		Rates:     domain.RateTable{"CBR_KEY": {{EffectiveFrom: d("2023-12-18"), Rate: "16.00"}, {EffectiveFrom: d("2024-02-20"), Rate: "15.50"}}},
	}
	got := mustCharges(t, f, "2024-04-01")
	assertBriefs(t, got, []brief{{"interest:2024-02", "2024-03-01", 408470}, {"interest:2024-03", "2024-04-01", 656421}})
	assertExact(t, got[0], "74750000/183")
	assertExact(t, got[1], "120125000/183")
	if n := len(got[0].Breakdown); n != 2 {
		t.Fatalf("February has %d spans, want 2 (the rate changed on the 20th)", n)
	}
}

func TestRulesExampleJRemindersSuspension(t *testing.T) {
	due := d("2026-05-15")
	var on []string
	for _, r := range domain.RemindersDue(domain.DefaultReminderOffsets(), due, d("2026-12-31")) {
		on = append(on, r.On.String())
	}
	if want := "2026-05-12 2026-05-15 2026-05-22 2026-05-29 2026-06-14"; strings.Join(on, " ") != want {
		t.Fatalf("reminders on %v, want %s", on, want)
	}
	a := domain.Agreement{GraceDays: 3, Suspension: &domain.Suspension{AfterDays: 30, WarningDays: 7}}
	if warn, suspend := domain.SuspensionDays(a, due); warn != d("2026-06-10") || suspend != d("2026-06-17") {
		t.Fatalf("warning %s, suspension %s", warn, suspend)
	}
}

func TestRulesExampleKClientDelay(t *testing.T) {
	if got := domain.ClientDelayInvoiceOn(d("2026-06-30"), &domain.MilestoneRules{ClientDelayDays: 10}); got != d("2026-07-11") {
		t.Fatalf("invoiced on %s, want 2026-07-11", got)
	}
}

// assertExact checks a posting's exact, unrounded sum of its spans.
func assertExact(t *testing.T, c domain.DueCharge, want string) {
	t.Helper()
	sum := new(big.Rat)
	for _, s := range c.Breakdown {
		sum.Add(sum, s.Amount)
	}
	w, _ := new(big.Rat).SetString(want)
	if sum.Cmp(w) != 0 {
		t.Errorf("%s: exact sum %s, want %s", c.Key, sum.RatString(), want)
	}
}

func TestRulesExampleLLatePaymentCorrection(t *testing.T) {
	f := domain.InvoiceFacts{InvoiceID: "inv_l", Currency: "EUR", Principal: 200000, DueDate: d("2026-03-31"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{AnnualRate: "9"}}}
	before := mustCharges(t, f, "2026-05-03")
	assertBriefs(t, before, []brief{{"interest:2026-04", "2026-05-01", 1479}})
	assertExact(t, before[0], "108000/73")
	f.Payments = []domain.PaymentFact{{ID: "pay_l", On: d("2026-04-10"), Amount: 80000}}
	l, err := domain.ComputeLedger(f, d("2026-05-03"))
	if err != nil {
		t.Fatal(err)
	}
	after := []domain.DueCharge{l.Charges[0].DueCharge}
	assertBriefs(t, after, []brief{{"interest:2026-04", "2026-05-01", 1085}})
	assertExact(t, after[0], "79200/73")
	posted := []domain.Charge{{Key: "interest:2026-04", Kind: domain.ChargeInterest, Amount: 1479}}
	diff := domain.ChargeDifferences(l.Charges, posted, "EUR")
	if len(diff) != 1 || !diff[0].Correction || diff[0].Key != "interest:2026-04" || diff[0].Amount != -394 {
		t.Fatalf("correction %+v", diff)
	}
	if a := l.Payments["pay_l"]; a != (domain.Allocation{Principal: 80000}) {
		t.Fatalf("allocation %+v", a)
	}
}

// TestRulesDocFigures keeps docs/RULES.md and this file together: every
// figure the tests above assert appears on the page.
func TestRulesDocFigures(t *testing.T) {
	raw, err := os.ReadFile("../docs/RULES.md")
	if err != nil {
		t.Fatal(err)
	}
	page := string(raw)
	for _, s := range []string{
		"due\n2026-04-25, day 1 overdue 2026-04-29", "is issued on 2026-03-02",
		"**78.00**", "**60.00**", "**42.00**",
		"72000/73", "**9.86**", "135000/73", "**18.49**", "**10.00**", "**18.75**", "58000/61", "**9.51**", "69600/73", "**9.53**",
		"99000/73", "**13.56**", "payoff **1,527.12**", "54000/73", "**7.40**", "1,530.82", "**-4.93**",
		"3003/2", "**15.02**", "**150 JPY**", "**22.00**",
		"compensation **40.00**", "178640/73", "**24.47**", "487200/73", "**66.74**", "491040/73", "**67.27**",
		"**100.00 GBP**", "828000/73", "**113.42 GBP**", "855600/73", "**117.21 GBP**",
		"74750000/183", "**4,084.70 RUB**", "120125000/183", "**6,564.21 RUB**",
		"2026-05-12, 05-15, 05-22, 05-29 and\n06-14", "warning on 2026-06-10", "suspension on 2026-06-17", "on 2026-07-11",
		"108000/73", "**14.79**", "79200/73", "**10.85**", "`interest:2026-04:adj:1` of **-3.94**",
	} {
		if !strings.Contains(page, s) {
			t.Errorf("docs/RULES.md does not show %q", s)
		}
	}
}
