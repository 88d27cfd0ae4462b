package domain_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/remit/remit/domain"
)

// TestRUPresetAllocatesPrincipalFirst: under art. 395 a payment meets the
// principal before the interest, unless the agreement says charges_first.
func TestRUPresetAllocatesPrincipalFirst(t *testing.T) {
	ru := domain.Agreement{Interest: &domain.InterestTerms{Preset: domain.PresetRUCivilCode395}}
	if got := ru.WithDefaults().Allocation; got != domain.AllocationPrincipalFirst {
		t.Fatalf("ru default allocation %s", got)
	}
	explicit := ru
	explicit.Allocation = domain.AllocationChargesFirst
	if got := explicit.WithDefaults().Allocation; got != domain.AllocationChargesFirst {
		t.Fatalf("explicit allocation %s", got)
	}
	eu := domain.Agreement{Interest: &domain.InterestTerms{Preset: domain.PresetEULatePayment}}
	if got := eu.WithDefaults().Allocation; got != domain.AllocationChargesFirst {
		t.Fatalf("eu default allocation %s", got)
	}
}

// TestUKCompensationFollowsDebtOnDayOne: 1,500.00 GBP with 600.00 paid
// before the due date owes GBP 40, not 70.
func TestUKCompensationFollowsDebtOnDayOne(t *testing.T) {
	f := domain.InvoiceFacts{
		InvoiceID: "inv_uk", Currency: "GBP", Principal: 150000, DueDate: d("2026-02-28"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{Preset: domain.PresetUKLatePayment}},
		Payments:  []domain.PaymentFact{{ID: "pay_1", On: d("2026-02-20"), Amount: 60000}},
		Rates:     domain.RateTable{"BOE_BASE": {{EffectiveFrom: d("2025-08-07"), Rate: "4.00"}}},
	}
	assertBriefs(t, mustCharges(t, f, "2026-03-01"), []brief{{"compensation", "2026-03-01", 4000}})
	f.Payments = nil
	assertBriefs(t, mustCharges(t, f, "2026-03-01"), []brief{{"compensation", "2026-03-01", 7000}})
}

// lawFigures are the figures of docs/RULES.md's examples M onwards that the
// tests of this file assert; TestRulesDocLawFigures checks the page shows them.
var lawFigures = []string{
	"compensation **40.00 GBP**", "66960/73", "**9.17 GBP**",
	"15200000/183", "**830.60 RUB**", "4800000/61", "**786.89 RUB**", "**49,169.40 RUB**",
	"**50.00** a month", "on 2016-07-30, is 50.00", "**350.00**", "1875/2", "**9.38**",
	"205400/73", "**28.14**", "620000/73", "**84.93**", "125400/73", "**17.18**", "372000/73", "**50.96**",
	"90000/73", "**12.33**", "8100/73", "**1.11**", "**13.44**", "CN-2026-0002",
	"60750/73", "**8.32**", "368900/73", "**50.53**", "376650/73", "**51.60**", "306900/73", "**42.04**", "314650/73", "**43.10**",
}

func TestRulesDocLawFigures(t *testing.T) {
	raw, err := os.ReadFile("../docs/RULES.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range lawFigures {
		if !strings.Contains(string(raw), s) {
			t.Errorf("docs/RULES.md does not show %q", s)
		}
	}
}

func TestRulesExampleMUKDebtOnDayOne(t *testing.T) {
	f := domain.InvoiceFacts{
		InvoiceID: "inv_m", Currency: "GBP", Principal: 150000, DueDate: d("2026-02-28"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{Preset: domain.PresetUKLatePayment}},
		Payments:  []domain.PaymentFact{{ID: "pay_m", On: d("2026-02-20"), Amount: 60000}},
		Rates:     domain.RateTable{"BOE_BASE": {{EffectiveFrom: d("2025-08-07"), Rate: "4.00"}}},
	}
	got := mustCharges(t, f, "2026-04-01")
	assertBriefs(t, got, []brief{{"compensation", "2026-03-01", 4000}, {"interest:2026-03", "2026-04-01", 917}})
	assertExact(t, got[1], "66960/73")
}

func TestRulesExampleNRUPrincipalFirst(t *testing.T) {
	f := domain.InvoiceFacts{
		InvoiceID: "inv_n", Currency: "RUB", Principal: 10000000, DueDate: d("2024-02-10"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{Preset: domain.PresetRUCivilCode395}},
		Payments:  []domain.PaymentFact{{ID: "pay_n", On: d("2024-03-05"), Amount: 5000000}},
		Rates:     domain.RateTable{"CBR_KEY": {{EffectiveFrom: d("2023-12-18"), Rate: "16.00"}}},
	}
	l, err := domain.ComputeLedger(f, d("2024-04-01"))
	if err != nil {
		t.Fatal(err)
	}
	var got []domain.DueCharge
	for _, c := range l.Charges {
		got = append(got, c.DueCharge)
	}
	assertBriefs(t, got, []brief{{"interest:2024-02", "2024-03-01", 83060}, {"interest:2024-03", "2024-04-01", 78689}})
	assertExact(t, got[0], "15200000/183")
	assertExact(t, got[1], "4800000/61")
	if a := l.Payments["pay_n"]; a != (domain.Allocation{Principal: 5000000}) {
		t.Fatalf("allocation %+v", a)
	}
	f.Agreement.Allocation = domain.AllocationChargesFirst
	l, err = domain.ComputeLedger(f, d("2024-03-05"))
	if err != nil {
		t.Fatal(err)
	}
	if a := l.Payments["pay_n"]; a != (domain.Allocation{Interest: 83060, Principal: 4916940}) {
		t.Fatalf("charges_first allocation %+v", a)
	}
}

func TestRulesExampleODayCount30E360(t *testing.T) {
	f := domain.InvoiceFacts{
		InvoiceID: "inv_o", Currency: "EUR", Principal: 1000000, DueDate: d("2015-12-31"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{AnnualRate: "6", DayCount: "30e/360"}},
		Payments:  []domain.PaymentFact{{ID: "pay_o", On: d("2016-07-30"), Amount: 1035000}},
	}
	l, err := domain.ComputeLedger(f, d("2016-08-31"))
	if err != nil {
		t.Fatal(err)
	}
	var got []domain.DueCharge
	var sum int64
	for _, c := range l.Charges {
		got = append(got, c.DueCharge)
		sum += c.Amount
	}
	assertBriefs(t, got, []brief{
		{"interest:2016-01", "2016-02-01", 5000}, {"interest:2016-02", "2016-03-01", 5000}, {"interest:2016-03", "2016-04-01", 5000},
		{"interest:2016-04", "2016-05-01", 5000}, {"interest:2016-05", "2016-06-01", 5000}, {"interest:2016-06", "2016-07-01", 5000},
		{"interest:2016-07", "2016-07-30", 5000},
	})
	if sum != 35000 || l.Balance() != 0 {
		t.Fatalf("interest in all %d, balance %d; want 35000 and 0", sum, l.Balance())
	}
	feb := got[1].Breakdown
	if len(feb) != 1 || feb[0].Days != 29 || feb[0].CountedDays != 30 {
		t.Fatalf("February 2016 %+v", feb)
	}
	if jan := got[0].Breakdown[0]; jan.Days != 31 || jan.CountedDays != 30 {
		t.Fatalf("January %+v", jan)
	}
	may := mustCharges(t, exampleC("30e/360"), "2026-07-01")
	assertBriefs(t, may, []brief{{"interest:2026-05", "2026-06-01", 938}, {"interest:2026-06", "2026-07-01", 1875}})
	assertExact(t, may[0], "1875/2")
	// February of a common year: the 28th counts 3.
	feb26 := domain.InvoiceFacts{InvoiceID: "inv_f", Currency: "EUR", Principal: 360000, DueDate: d("2026-01-31"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{AnnualRate: "10", DayCount: "30e/360"}}}
	assertBriefs(t, mustCharges(t, feb26, "2026-03-01"), []brief{{"interest:2026-02", "2026-03-01", 3000}})
}

func TestDayCount30E360Validates(t *testing.T) {
	a := domain.Agreement{Interest: &domain.InterestTerms{AnnualRate: "6", DayCount: "30e/360"}}
	if err := a.Validate("EUR"); err != nil {
		t.Fatal(err)
	}
	a.Interest.DayCount = "30/360"
	if err := a.Validate("EUR"); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("30/360: %v", err)
	}
	prev := domain.Agreement{Interest: &domain.InterestTerms{AnnualRate: "6", DayCount: "act/360"}}
	next := domain.Agreement{Interest: &domain.InterestTerms{AnnualRate: "6", DayCount: "30e/360"}}
	if !domain.RaisesBurden(prev, next) || !domain.RaisesBurden(next, prev) {
		t.Fatal("a change to or from 30e/360 cannot be compared and needs notice")
	}
}

// exampleP is 10,000.00 EUR due 2026-06-20 under de_bgb_288 for a client of kind.
func exampleP(kind string) domain.InvoiceFacts {
	return domain.InvoiceFacts{
		InvoiceID: "inv_p", Currency: "EUR", Principal: 1000000, DueDate: d("2026-06-20"), ClientKind: kind,
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{Preset: domain.PresetDEBGB288}},
		Rates:     domain.RateTable{"DE_BASE": {{EffectiveFrom: d("2026-01-01"), Rate: "1.27"}, {EffectiveFrom: d("2026-07-01"), Rate: "1.00"}}},
	}
}

func TestRulesExamplePGermanBGB288(t *testing.T) {
	business := mustCharges(t, exampleP("business"), "2026-08-01")
	assertBriefs(t, business, []brief{{"compensation", "2026-06-21", 4000}, {"interest:2026-06", "2026-07-01", 2814},
		{"interest:2026-07", "2026-08-01", 8493}})
	assertExact(t, business[1], "205400/73")
	assertExact(t, business[2], "620000/73")
	consumer := mustCharges(t, exampleP("consumer"), "2026-08-01")
	assertBriefs(t, consumer, []brief{{"interest:2026-06", "2026-07-01", 1718}, {"interest:2026-07", "2026-08-01", 5096}})
	assertExact(t, consumer[0], "125400/73")
	assertExact(t, consumer[1], "372000/73")
	if r := consumer[0].Breakdown[0].AnnualRate; r != "6.27" {
		t.Fatalf("consumer rate %s", r)
	}
	basis := domain.LegalBasis(exampleP("consumer").Agreement, "consumer")
	if !strings.Contains(basis, "section 288") || !strings.Contains(basis, "+ 5 percentage points") {
		t.Fatalf("legal basis %q", basis)
	}
}

// exampleQ is 5,000.00 EUR due 2026-06-25 under preset with rate fixing.
func exampleQ(preset, fixing string) domain.InvoiceFacts {
	return domain.InvoiceFacts{
		InvoiceID: "inv_q", Currency: "EUR", Principal: 500000, DueDate: d("2026-06-25"),
		Agreement: domain.Agreement{Interest: &domain.InterestTerms{Preset: preset, RateFixing: fixing}},
		Rates:     domain.RateTable{"ECB_MRO": {{EffectiveFrom: d("2025-06-11"), Rate: "2.15"}, {EffectiveFrom: d("2026-03-18"), Rate: "1.90"}}},
	}
}

func TestRulesExampleQFrenchCodeAndRateFixing(t *testing.T) {
	half := mustCharges(t, exampleQ(domain.PresetFRCodeCommerce, ""), "2026-08-01")
	assertBriefs(t, half, []brief{{"compensation", "2026-06-26", 4000}, {"interest:2026-06", "2026-07-01", 832},
		{"interest:2026-07", "2026-08-01", 5053}})
	assertExact(t, half[1], "60750/73")
	assertExact(t, half[2], "368900/73")
	due := mustCharges(t, exampleQ(domain.PresetFRCodeCommerce, "at_due_date"), "2026-08-01")
	assertBriefs(t, due, []brief{{"compensation", "2026-06-26", 4000}, {"interest:2026-06", "2026-07-01", 832},
		{"interest:2026-07", "2026-08-01", 5160}})
	assertExact(t, due[2], "376650/73")
	eu := mustCharges(t, exampleQ(domain.PresetEULatePayment, "half_year"), "2026-08-01")
	assertExact(t, eu[2], "306900/73")
	euDue := mustCharges(t, exampleQ(domain.PresetEULatePayment, "at_due_date"), "2026-08-01")
	assertExact(t, euDue[2], "314650/73")
	if eu[2].Amount != 4204 || euDue[2].Amount != 4310 {
		t.Fatalf("eu July %d and %d", eu[2].Amount, euDue[2].Amount)
	}
}

func TestRateFixingValidates(t *testing.T) {
	for _, tc := range []struct {
		preset, fixing, currency string
		ok                       bool
	}{
		{"eu_late_payment", "at_due_date", "EUR", true},
		{"fr_code_commerce", "half_year", "EUR", true},
		{"de_bgb_288", "", "EUR", true},
		{"de_bgb_288", "at_due_date", "EUR", false},
		{"uk_late_payment", "at_due_date", "GBP", false},
		{"eu_late_payment", "daily", "EUR", false},
		{"de_bgb_288", "", "GBP", false},
	} {
		a := domain.Agreement{Interest: &domain.InterestTerms{Preset: tc.preset, RateFixing: tc.fixing}}
		if err := a.Validate(tc.currency); (err == nil) != tc.ok {
			t.Errorf("%s %s %s: %v", tc.preset, tc.fixing, tc.currency, err)
		}
	}
	a := domain.Agreement{Interest: &domain.InterestTerms{AnnualRate: "8", RateFixing: "half_year"}}
	if err := a.Validate("EUR"); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("rate_fixing without a preset: %v", err)
	}
}

func TestRulesExampleRCreditNotes(t *testing.T) {
	f := domain.InvoiceFacts{
		InvoiceID: "inv_r", Currency: "EUR", Principal: 200000, DueDate: d("2026-03-31"),
		Agreement:   domain.Agreement{Allocation: "principal_first", Interest: &domain.InterestTerms{AnnualRate: "9"}},
		CreditNotes: []domain.CreditNoteFact{{ID: "cn_1", On: d("2026-04-10"), Amount: 50000}, {ID: "cn_2", On: d("2026-05-05"), Amount: 100000}},
		Payments:    []domain.PaymentFact{{ID: "pay_r", On: d("2026-05-02"), Amount: 100000}},
	}
	l, err := domain.ComputeLedger(f, d("2026-05-05"))
	if err != nil {
		t.Fatal(err)
	}
	var got []domain.DueCharge
	for _, c := range l.Charges {
		got = append(got, c.DueCharge)
	}
	assertBriefs(t, got, []brief{{"interest:2026-04", "2026-05-01", 1233}, {"interest:2026-05", "2026-05-05", 111}})
	assertExact(t, got[0], "90000/73")
	assertExact(t, got[1], "8100/73")
	if l.CreditNotes["cn_1"] != (domain.Allocation{Principal: 50000}) || l.CreditNotes["cn_2"] != (domain.Allocation{Principal: 50000, Credit: 50000}) {
		t.Fatalf("credit notes %+v", l.CreditNotes)
	}
	if l.PrincipalOutstanding != 0 || l.Balance() != 1344 {
		t.Fatalf("principal %d, balance %d", l.PrincipalOutstanding, l.Balance())
	}
}

func TestInvoiceDraftReverseChargeAndSupply(t *testing.T) {
	ok := domain.InvoiceDraft{ClientID: "cli", ReverseCharge: true, SupplyDate: d("2026-02-01"), SupplyEndDate: d("2026-02-28"),
		Lines: []domain.LineInput{{Description: "x", UnitAmount: 100, TaxRate: "0"}, {Description: "y", UnitAmount: 100}}}
	if _, _, tax, err := ok.Validate(); err != nil || tax != 0 {
		t.Fatalf("tax %d, %v", tax, err)
	}
	bad := ok
	bad.Lines = []domain.LineInput{{Description: "x", UnitAmount: 100, TaxRate: "19"}}
	bad.SupplyEndDate = d("2026-01-31")
	_, _, _, err := bad.Validate()
	var e *domain.Error
	if !errors.As(err, &e) || e.Fields["lines[0].tax_rate"] == "" || e.Fields["supply_end_date"] == "" {
		t.Fatalf("error %v", err)
	}
}

func TestSameVATCountry(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{{"DE123456789", "de 987", true}, {"DE123456789", "FR40303265045", false}, {"", "", false}, {"123", "123", false}} {
		if got := domain.SameVATCountry(tc.a, tc.b); got != tc.want {
			t.Errorf("SameVATCountry(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}
