package pdf_test

import (
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/pdf"
)

// sampleStatement follows worked example 4 of ENFORCEMENT.md (EU preset,
// 5,000.00 due 2026-03-31) and adds a smaller invoice with a part payment.
func sampleStatement() pdf.Statement {
	eu := domain.PresetLegalBasis(domain.PresetEULatePayment)
	return pdf.Statement{
		Business: business,
		Client:   pdf.Party{Name: "Фирма ЕООД", ContactName: "Иван Петров", Address: "бул. Витоша 1\n1000 София\nБългария"},
		Currency: "EUR",
		AsOf:     day("2026-08-01"),
		PayBy:    day("2026-08-08"),
		TotalDue: 520899 + 84789,
		Invoices: []pdf.StatementInvoice{
			{
				Number: "INV-2026-0001", IssueDate: day("2026-03-01"), DueDate: day("2026-03-31"),
				Total: 500000, Paid: 0, Charges: 20899, Balance: 520899, DaysOverdue: 123,
				ChargeLines: []pdf.ChargeLine{
					{Kind: "compensation", PostedOn: day("2026-04-01"), Amount: 4000},
					{Kind: "interest", Description: "April 2026", PostedOn: day("2026-05-01"), Amount: 4171},
					{Kind: "interest", Description: "May 2026", PostedOn: day("2026-06-01"), Amount: 4310},
					{Kind: "interest", Description: "June 2026", PostedOn: day("2026-07-01"), Amount: 4171},
					{Kind: "interest", Description: "July 2026", PostedOn: day("2026-08-01"), Amount: 4247},
				},
				Interest: []pdf.InterestPeriod{
					{From: day("2026-04-01"), To: day("2026-04-30"), Days: 30, Base: 500000, Rate: "10.15", Amount: 4171},
					{From: day("2026-05-01"), To: day("2026-05-31"), Days: 31, Base: 500000, Rate: "10.15", Amount: 4310},
					{From: day("2026-06-01"), To: day("2026-06-30"), Days: 30, Base: 500000, Rate: "10.15", Amount: 4171},
					{From: day("2026-07-01"), To: day("2026-07-31"), Days: 31, Base: 500000, Rate: "10", Amount: 4247},
				},
				LegalBasis: eu,
			},
			{
				Number: "INV-2026-0007", IssueDate: day("2026-06-01"), DueDate: day("2026-06-30"),
				Total: 100000, Paid: 20000, Charges: 4789, Balance: 84789, DaysOverdue: 32,
				ChargeLines: []pdf.ChargeLine{
					{Kind: "compensation", PostedOn: day("2026-07-01"), Amount: 4000},
					{Kind: "interest", Description: "July 2026", PostedOn: day("2026-08-01"), Amount: 789},
				},
				Payments: []pdf.PaymentLine{{PaidOn: day("2026-07-20"), Method: "card", Reference: "pi_3Nx", Amount: 20000}},
				Interest: []pdf.InterestPeriod{
					{From: day("2026-07-01"), To: day("2026-07-20"), Days: 20, Base: 100000, Rate: "10", Amount: 548},
					{From: day("2026-07-21"), To: day("2026-07-31"), Days: 11, Base: 80000, Rate: "10", Amount: 241},
				},
				LegalBasis: eu,
			},
		},
	}
}

func TestStatementReadsAsADemandLetter(t *testing.T) {
	doc, err := pdf.NewRenderer(0).Statement(sampleStatement())
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, text(t, doc),
		"STATEMENT", "Фирма ЕООД", "Attn: Иван Петров", "1000 София", "Date 1 August 2026",
		"Statement of account and demand for payment",
		"6,056.88 EUR is due as of 1 August 2026", "pay this amount by 8 August 2026",
		"Total due on 1 August 2026 6,056.88 EUR",
		// The summary, one row per open invoice, and its total.
		"INV-2026-0001 1 March 2026 31 March 2026 123 5,000.00 0.00 208.99 5,208.99",
		"INV-2026-0007 1 June 2026 30 June 2026 32 1,000.00 200.00 47.89 847.89",
		"Total due 6,056.88 EUR",
		// Interest by period and rate, with the days counted.
		"Invoice INV-2026-0001: balance 5,208.99 EUR",
		"1 April 2026 30 April 2026 30 5,000.00 10.15 % 41.71",
		"1 May 2026 31 May 2026 31 5,000.00 10.15 % 43.10",
		"1 July 2026 31 July 2026 31 5,000.00 10 % 42.47",
		"Interest 168.99 EUR",
		"21 July 2026 31 July 2026 11 800.00 10 % 2.41",
		"20 July 2026 card pi_3Nx 200.00",
		"1 April 2026 Fixed compensation for recovery costs 40.00",
		// The legal basis of the preset.
		"Legal basis: Directive 2011/7/EU", "Yours faithfully,",
	)
}

func TestStatementTakesAGivenDemand(t *testing.T) {
	s := sampleStatement()
	s.Demand = "Please pay the amount below by return."
	s.PayBy = day("2000-01-01") // ignored once the demand is given
	doc, err := pdf.NewRenderer(0).Statement(s)
	if err != nil {
		t.Fatal(err)
	}
	got := text(t, doc)
	mustContain(t, got, "Please pay the amount below by return.")
	if flat := squash(got); contains(flat, "According to our records") || contains(flat, "1 January 2000") {
		t.Error("the standard demand is printed next to the given one")
	}
}
